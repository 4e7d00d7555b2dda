"""Hypotheses for the monthly report (marts.client_monthly_hypotheses), on hand-made Asana
tasks of the small agency: as of 2026-11-16 the report covers October 2026 (Kyiv)."""

from __future__ import annotations

from datetime import datetime, timedelta

from clientpulse.pipeline.build_signals import build_models
from tests.factories import AS_OF, small_config, task
from tests.factories import hypothesis as make
from warehouse.db import open_writer
from warehouse.load import upsert

OCTOBER = datetime.fromisoformat("2026-10-10T09:00:00+00:00")


def hypothesis(
    gid, status, *, completed_at=None, created=OCTOBER - timedelta(days=40), section=None
):
    return make(gid, "100", status, created=created, completed_at=completed_at, section=section)


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


def built(folder, *queries: str) -> list[list[tuple]]:
    """The small agency with TASKS, built as of AS_OF: each query's rows."""
    config = small_config(folder)
    with open_writer(config.warehouse.path) as con:
        upsert(con, "raw.asana_tasks", TASKS, ["gid"])
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
