"""Hypotheses for the monthly report (marts.client_monthly_hypotheses), on hand-made Asana
tasks of the small agency: as of 2026-11-16 the report covers October 2026 (Kyiv)."""

from __future__ import annotations

from datetime import datetime, timedelta

from clientpulse.pipeline.build_signals import build_models
from tests.factories import AS_OF, small_config, story, task
from tests.factories import hypothesis as make
from warehouse.db import open_writer
from warehouse.load import upsert

OCTOBER = datetime.fromisoformat("2026-10-10T09:00:00+00:00")


def hypothesis(
    gid, status, *, completed_at=None, created=OCTOBER - timedelta(days=40), section=None, due=None
):
    return make(
        gid, "100", status, created=created, completed_at=completed_at, section=section, due=due
    )


TASKS = [
    hypothesis("1", "Confirmed", completed_at=OCTOBER),  # decided in October
    hypothesis("2", "спростована", completed_at=OCTOBER + timedelta(days=3)),  # any case, uk
    hypothesis("3", "Testing"),  # still open: being tested
    hypothesis("4", None, section="Hypotheses", completed_at=OCTOBER),  # no verdict recorded
    hypothesis("5", "Confirmed", completed_at=OCTOBER - timedelta(days=20)),  # September
    hypothesis("6", "Testing", created=datetime.fromisoformat("2026-11-03T09:00:00+00:00")),
    task("7", "100", created=OCTOBER),  # an ordinary task
    task("8", "100", created=OCTOBER, completed=True),  # ordinary, done on 2026-10-11
]


def built(folder, *queries: str, tasks=TASKS, stories=()) -> list[list[tuple]]:
    """The small agency with `tasks` and `stories`, built as of AS_OF: each query's rows."""
    config = small_config(folder)
    with open_writer(config.warehouse.path) as con:
        upsert(con, "raw.asana_tasks", tasks, ["gid"])
        if stories:
            upsert(con, "raw.asana_stories", list(stories), ["gid"])
        build_models(con, config, AS_OF)
        return [con.execute(q).fetchall() for q in queries]


def test_the_months_hypotheses_and_their_states(tmp_path):
    [got] = built(
        tmp_path,
        "SELECT task_gid, month_start::VARCHAR, state, decided_on::VARCHAR "
        "FROM marts.client_monthly_hypotheses ORDER BY task_gid",
    )
    # 5 was decided in September and 6 set in November: neither is October's
    assert got == [
        ("1", "2026-10-01", "confirmed", "2026-10-10"),
        ("2", "2026-10-01", "refuted", "2026-10-13"),
        ("3", "2026-10-01", "testing", None),
        ("4", "2026-10-01", "tested", "2026-10-10"),
    ]


def test_a_hypothesis_is_told_once_not_also_as_delivered_work(tmp_path):
    flagged, delivered, completed = built(
        tmp_path,
        "SELECT task_gid FROM staging.asana_tasks WHERE is_hypothesis ORDER BY task_gid",
        "SELECT task_gid, completed_on::VARCHAR FROM marts.client_monthly_delivered",
        "SELECT completed_tasks FROM marts.client_monthly_check WHERE client_id = 'acme'",
    )
    # completed in October: 1, 2 (the field says so), 4 (the Hypotheses section) and 8;
    # only 8 is delivered work, and the Check counts it alone
    assert flagged == [("1",), ("2",), ("3",), ("4",), ("5",), ("6",)]
    assert delivered == [("8", "2026-10-11")]
    assert completed == [(1,)]


# Twins, one a hypothesis (h) and one ordinary work (o), as of Monday 2026-11-16 (Kyiv):
# * h1 / o1, set on 2026-09-01, due 2026-10-15, moved on 2026-10-20 (after it passed: a
#   silent slip in October) to 2026-11-20: open, due in November;
# * h2 / o2, created 2026-10-02 (new in October), done 10-05, reopened 10-12: a revision
#   round in October; open since, undated.
SEPTEMBER_1 = datetime.fromisoformat("2026-09-01T09:00:00+00:00")
OCTOBER_2 = datetime.fromisoformat("2026-10-02T09:00:00+00:00")
TWINS = [
    hypothesis("h1", "Testing", created=SEPTEMBER_1, due="2026-11-20"),
    task("o1", "100", created=SEPTEMBER_1, due="2026-11-20"),
    hypothesis("h2", None, section="Hypotheses", created=OCTOBER_2),
    task("o2", "100", created=OCTOBER_2),
]
TWIN_STORIES = [
    story(f"{t}-{n}", t, at, subtype, old, new)
    for t in ("h1", "o1", "h2", "o2")
    for n, (at, subtype, old, new) in enumerate(
        [("2026-10-20T09:00:00+00:00", "due_date_changed", "2026-10-15", "2026-11-20")]
        if t.endswith("1")
        else [
            ("2026-10-05T09:00:00+00:00", "marked_complete", None, None),
            ("2026-10-12T09:00:00+00:00", "marked_incomplete", None, None),
        ]
    )
]


def test_a_hypothesis_is_neither_planned_work_nor_a_slip_nor_a_change(tmp_path):
    hypotheses, plan, check, changes, weekly = built(
        tmp_path,
        "SELECT task_gid, state FROM marts.client_monthly_hypotheses ORDER BY task_gid",
        "SELECT task_gid, month_start::VARCHAR, due_on::VARCHAR FROM marts.client_monthly_plan",
        "SELECT announced_slips, silent_slips, revision_rounds FROM marts.client_monthly_check "
        "WHERE client_id = 'acme'",
        "SELECT change, task_gid, changed_on::VARCHAR FROM marts.client_monthly_changes "
        "ORDER BY change",
        "SELECT list, task_gid FROM marts.client_status_lists ORDER BY task_gid",
        tasks=TWINS,
        stories=TWIN_STORIES,
    )
    # told once, under Hypotheses: both still being tested at October's end
    assert hypotheses == [("h1", "testing"), ("h2", "testing")]
    # Plan (November): o1 is due in it, h1 is due in it too but is a hypothesis
    assert plan == [("o1", "2026-11-01", "2026-11-20")]
    # Check (October): o1's silent slip and o2's reopening, not h1's nor h2's
    assert check == [(0, 1, 1)]
    # Act (October): o1's date moved, o2 created; h1 and h2 are not changes to the plan
    assert changes == [("date_moved", "o1", "2026-10-20"), ("new_task", "o2", "2026-10-02")]
    # the weekly status (week of 2026-11-09): both open twins carry over, no hypothesis
    assert weekly == [("carry_over", "o1"), ("carry_over", "o2")]


# As they stood at October's end (Kyiv, UTC+2 after 25 October): what happened since, here
# in November, is not October's. Each was set on 2026-09-01; `modified` is the task's last
# change (Asana's modified_at).
def at(iso: str) -> datetime:
    return datetime.fromisoformat(iso)


def changed(row: dict, modified: str) -> dict:
    return row | {"modified_at": at(modified)}


NOVEMBER_5 = "2026-11-05T09:00:00+00:00"
AFTER_THE_FACT = [
    # a: "Testing" at the end of October; confirmed and completed on 5 November (stories)
    changed(
        hypothesis("a", "Confirmed", created=SEPTEMBER_1, completed_at=at(NOVEMBER_5)), NOVEMBER_5
    ),
    # b: the same, with no stories stored: completed_at alone says it was open in October
    changed(
        hypothesis("b", "Confirmed", created=SEPTEMBER_1, completed_at=at(NOVEMBER_5)), NOVEMBER_5
    ),
    # c: completed on 20 October with "Testing"; refuted on 3 November
    changed(
        hypothesis(
            "c", "Refuted", created=SEPTEMBER_1, completed_at=at("2026-10-20T09:00:00+00:00")
        ),
        "2026-11-03T09:00:00+00:00",
    ),
    # d: open; confirmed on 25 October, turned to refuted on 2 November
    changed(hypothesis("d", "Refuted", created=SEPTEMBER_1), "2026-11-02T09:00:00+00:00"),
    # e: completed on 15 October with no verdict, reopened on 4 November
    changed(hypothesis("e", "Testing", created=SEPTEMBER_1), "2026-11-04T09:00:00+00:00"),
    # f: open, "Confirmed" now, no stories and modified in November: not known in October
    changed(hypothesis("f", "Confirmed", created=SEPTEMBER_1), "2026-11-06T09:00:00+00:00"),
    # g: open, confirmed at 00:30 on 1 November in Kyiv (22:30 UTC on 31 October)
    changed(hypothesis("g", "Confirmed", created=SEPTEMBER_1), "2026-10-31T22:30:00+00:00"),
]
AFTER_THE_FACT_STORIES = [
    story("a1", "a", NOVEMBER_5, "enum_custom_field_changed", "Testing", "Confirmed"),
    story("a2", "a", NOVEMBER_5, "marked_complete"),
    story("c1", "c", "2026-10-20T09:00:00+00:00", "marked_complete"),
    story(
        "c2", "c", "2026-11-03T09:00:00+00:00", "enum_custom_field_changed", "Testing", "Refuted"
    ),
    story(
        "d1", "d", "2026-10-25T09:00:00+00:00", "enum_custom_field_changed", "Testing", "Confirmed"
    ),
    story(
        "d2", "d", "2026-11-02T09:00:00+00:00", "enum_custom_field_changed", "Confirmed", "Refuted"
    ),
    story("e1", "e", "2026-10-15T09:00:00+00:00", "marked_complete"),
    story("e2", "e", "2026-11-04T09:00:00+00:00", "marked_incomplete"),
    story(
        "g1", "g", "2026-10-31T22:30:00+00:00", "enum_custom_field_changed", "Testing", "Confirmed"
    ),
]


def test_a_past_month_shows_each_hypothesis_as_it_stood_at_the_months_end(tmp_path):
    [got] = built(
        tmp_path,
        "SELECT task_gid, state, decided_on::VARCHAR FROM marts.client_monthly_hypotheses "
        "ORDER BY task_gid",
        tasks=AFTER_THE_FACT,
        stories=AFTER_THE_FACT_STORIES,
    )
    assert got == [
        ("a", "testing", None),  # the November verdict and completion are not October's
        ("b", "testing", None),  # completed_at in November: open at October's end
        ("c", "tested", "2026-10-20"),  # done in October, its verdict came in November
        ("d", "confirmed", "2026-10-25"),  # October's verdict, not November's
        ("e", "tested", "2026-10-15"),  # done in October, reopened since
        ("f", "testing", None),  # a verdict recorded some time after October: not October's
        ("g", "testing", None),  # 00:30 on 1 November in Kyiv is November
    ]
