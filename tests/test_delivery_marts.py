"""Delivery marts on a hand-made week, every expected figure worked out by hand.

Agency time zone Europe/Kyiv (UTC+2 in November); as of Monday 2026-11-16 09:00 local,
so the report week is 2026-11-09 .. 2026-11-15. Client acme owns project 100, beta 200.

  A  due 11-10, moved on 11-06 to 11-13 (announced), done 11-12: on time
  B  due 11-05, moved on 11-07 to 11-11 (silent: after it passed), done 11-12 (silent)
  C  due 11-11, never moved, still open: one silent slip, counted 11-12
  D  due 11-20, done 11-03, reopened 11-04, done 11-05, reopened 11-10: two reopenings
  E  in Backlog with a status reason: not started
  F  in Cancelled with a reason, no due date, last changed 11-10
  G  created 11-10, with a justification: new
  H  created 11-10 but deleted (tombstoned): nowhere
  I  a subtask of D created 11-10: not in the weekly figures or the lists
  J  beta's task, overdue: never in acme's figures
"""

from __future__ import annotations

import json
from datetime import date, datetime
from typing import Any

import pytest

from clientpulse.pipeline.build_signals import model_variables
from clientpulse.pipeline.config_seeds import config_seeds
from clientpulse.reports.client_status import LISTS, compose_client_status
from clientpulse.reports.i18n import STRINGS
from tests.factories import AS_OF, small_config, story
from transforms.runner import build
from warehouse.db import open_writer
from warehouse.load import upsert

CREATED = "2026-11-02T08:00:00.000Z"


def _task(
    gid: str,
    project: str,
    *,
    due: str | None,
    created: str = CREATED,
    completed_at: str | None = None,
    section: str = "In progress",
    fields: dict[str, str] | None = None,
    parent: str | None = None,
    modified: str | None = None,
    deleted: bool = False,
) -> dict[str, Any]:
    payload = {
        "gid": gid,
        "name": f"Task {gid}",
        "completed": completed_at is not None,
        "completed_at": completed_at,
        "created_at": created,
        "modified_at": modified or created,
        "due_on": due,
        "assignee": {"gid": "1", "name": "Ana"},
        "parent": {"gid": parent} if parent else None,
        "memberships": [{"project": {"gid": project}, "section": {"name": section}}],
        "custom_fields": [
            {"gid": f"cf-{name}", "name": name, "display_value": value}
            for name, value in (fields or {}).items()
        ]
        + [{"gid": "cf-priority", "name": "Priority", "display_value": None}],
    }
    return {
        "gid": gid,
        "project_gid": project,
        "parent_gid": parent,
        "modified_at": datetime.fromisoformat(payload["modified_at"]),
        "payload": json.dumps(payload),
        "extracted_at": AS_OF,
        "deleted_at": AS_OF if deleted else None,
    }


TASKS = [
    _task("A", "100", due="2026-11-13", completed_at="2026-11-12T12:00:00.000Z"),
    _task("B", "100", due="2026-11-11", completed_at="2026-11-12T12:00:00.000Z"),
    _task("C", "100", due="2026-11-11"),
    _task("D", "100", due="2026-11-20"),
    _task(
        "E",
        "100",
        due="2026-11-30",
        section="Backlog",
        fields={"Status reason": "Waiting for <client> assets"},
    ),
    _task(
        "F",
        "100",
        due=None,
        section="Cancelled",
        fields={"Reason": "Client paused", "Status reason": ""},
        modified="2026-11-10T09:00:00.000Z",
    ),
    _task(
        "G",
        "100",
        due="2026-11-25",
        created="2026-11-10T09:00:00.000Z",
        fields={"Why needed": "Launch requires it"},
    ),
    _task("H", "100", due="2026-11-25", created="2026-11-10T09:00:00.000Z", deleted=True),
    _task("I", "100", due=None, created="2026-11-10T09:00:00.000Z", parent="D"),
    _task("J", "200", due="2026-11-03"),
]
STORIES = [
    story("s1", "A", "2026-11-06T10:00:00.000Z", "due_date_changed", "2026-11-10", "2026-11-13"),
    story("s2", "A", "2026-11-12T12:00:00.000Z", "marked_complete"),
    story("s3", "B", "2026-11-07T10:00:00.000Z", "due_date_changed", "2026-11-05", "2026-11-11"),
    story("s4", "D", "2026-11-03T10:00:00.000Z", "marked_complete"),
    story("s5", "D", "2026-11-04T10:00:00.000Z", "marked_incomplete"),
    story("s6", "D", "2026-11-05T10:00:00.000Z", "marked_complete"),
    story("s7", "D", "2026-11-10T10:00:00.000Z", "marked_incomplete"),
    story("s8", "H", "2026-11-10T10:00:00.000Z", "marked_incomplete"),
    story("s9", "D", "2026-11-10T11:00:00.000Z", "comment_added"),
]


@pytest.fixture(scope="module")
def con(tmp_path_factory):
    config = small_config(tmp_path_factory.mktemp("delivery"))
    with open_writer(config.warehouse.path) as con:
        upsert(con, "raw.asana_tasks", TASKS, ["gid"])
        upsert(con, "raw.asana_stories", STORIES, ["gid"])
        build(con, AS_OF, model_variables(config), config_seeds(config))
        yield con


def test_each_task_has_its_dates_slips_reopenings_and_status(con):
    got = {
        row[0]: row[1:]
        for row in con.execute(
            """SELECT task_gid, first_due_on, current_due_on, slip_count, announced_slips,
                      silent_slips, reopen_count, on_time, status
               FROM core.fct_task_delivery WHERE client_id = 'acme'"""
        ).fetchall()
    }
    d = date.fromisoformat
    assert got == {
        "A": (d("2026-11-10"), d("2026-11-13"), 1, 1, 0, 0, True, "done"),
        "B": (d("2026-11-05"), d("2026-11-11"), 2, 0, 2, 0, False, "done"),
        "C": (d("2026-11-11"), d("2026-11-11"), 1, 0, 1, 0, None, "overdue"),
        "D": (d("2026-11-20"), d("2026-11-20"), 0, 0, 0, 2, None, "open"),
        "E": (d("2026-11-30"), d("2026-11-30"), 0, 0, 0, 0, None, "not_started"),
        "F": (None, None, 0, 0, 0, 0, None, "cancelled"),
        "G": (d("2026-11-25"), d("2026-11-25"), 0, 0, 0, 0, None, "open"),
        "I": (None, None, 0, 0, 0, 0, None, "open"),
    }


def test_slips_are_dated_when_they_happened(con):
    slips = con.execute(
        "SELECT task_gid, slipped_on, kind FROM core.fct_task_slips ORDER BY task_gid, slipped_on"
    ).fetchall()
    d = date.fromisoformat
    assert slips == [
        ("A", d("2026-11-06"), "announced"),
        ("B", d("2026-11-07"), "silent"),
        ("B", d("2026-11-12"), "silent"),
        ("C", d("2026-11-12"), "silent"),
        ("J", d("2026-11-04"), "silent"),
    ]


def test_weekly_delivery_per_client(con):
    weeks = con.execute(
        """SELECT week_start, completed_tasks, on_time_rate, open_overdue, announced_slips,
                  silent_slips, revision_rounds, new_tasks, open_at_week_end
           FROM core.client_delivery_weekly WHERE client_id = 'acme' ORDER BY week_start"""
    ).fetchall()
    d = date.fromisoformat
    assert weeks == [
        (d("2026-11-02"), 0, None, 0, 1, 1, 1, 6, 6),
        (d("2026-11-09"), 2, 0.5, 1, 0, 2, 1, 1, 5),
        (d("2026-11-16"), 0, None, 1, 0, 0, 0, 0, 5),
    ]


def test_the_four_lists_of_the_weekly_status(con):
    lists = con.execute(
        """SELECT list, task_gid, reason_code, reason FROM marts.client_status_lists
           WHERE client_id = 'acme' ORDER BY list, task_gid"""
    ).fetchall()
    assert lists == [
        ("carry_over", "C", "overdue", None),
        ("carry_over", "D", "open", None),
        ("carry_over", "G", "open", None),
        ("new", "G", "open", "Launch requires it"),
        ("not_carried_over", "A", "done", None),
        ("not_carried_over", "B", "done", None),
        ("not_carried_over", "F", "cancelled", "Client paused"),
        ("not_started", "E", "not_started", "Waiting for <client> assets"),
    ]
    beta = con.execute(
        "SELECT list, task_gid FROM marts.client_status_lists WHERE client_id = 'beta'"
    ).fetchall()
    assert beta == [("carry_over", "J")]


def test_the_client_email_carries_the_four_lists(con, tmp_path_factory):
    config = small_config(tmp_path_factory.mktemp("email"))
    acme = compose_client_status(con, config, config.client("acme"), AS_OF, "2026-W47")
    beta = compose_client_status(con, config, config.client("beta"), AS_OF, "2026-W47")

    text = acme["text"]
    sections = [STRINGS["en"][name] for name in LISTS]
    assert [text.index(title) for title in sections] == sorted(text.index(t) for t in sections)
    starts = [text.index(title) for title in sections]
    # The four lists come before the email SLA section, which closes the last one.
    ends = [*starts[1:], text.index(STRINGS["en"]["sla_heading"].split("{")[0])]
    carry, gone, not_started, new = (text[a:b] for a, b in zip(starts, ends, strict=True))
    assert "Task C (5 days late)" in carry and "Task G (due 25 Nov 2026)" in carry
    assert "Task A (done 12 Nov 2026)" in gone and "Task F (cancelled: Client paused)" in gone
    assert "Task E (Waiting for <client> assets)" in not_started
    assert new.count("- ") == 1 and "Task G (Launch requires it)" in new
    assert "Waiting for &lt;client&gt; assets" in acme["html"]
    assert "<client>" not in acme["html"]
    assert "Task J" not in text + acme["html"]
    assert "Task J" in beta["text"] and "Task A" not in beta["text"] + beta["html"]
    assert STRINGS["uk"]["carry_over"] in beta["text"]
