"""Fill the weekly risk history for past weeks from the data already ingested.

Each week is built as of its Monday at the build hour (agency-local), so every factor
sees only what was known then; only the models the history reads are built, and
nothing is sent. The build_signals DAG does the same for one week when Airflow runs it
for a past logical date (`airflow backfill create`); `make backfill`
(tooling/backfill.py) and the demo call this for a range of weeks.

A week is built only where the data reaches (clientpulse/pipeline/risk_history.py):
a week after it would be a guess (everything "overdue", nobody in touch) that becomes
the digest's "latest week".
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import duckdb

from clientpulse.config import AgencyConfig
from clientpulse.pipeline.build_signals import build_settings
from clientpulse.pipeline.risk_history import BUILD_HOUR, data_weeks, history_exists
from transforms.runner import build
from warehouse.db import open_writer
from warehouse.runlog import run_step

HISTORY = "marts.client_risk_weekly"  # with the history it reads


class BackfillOutOfRange(ValueError):
    """Weeks asked for that the data does not reach; the message names those it does."""


def weekly_instants(first: date, last: date, timezone: str) -> Iterator[datetime]:
    """Monday at the build hour of every week from `first`'s to `last`'s, in order."""
    monday = first - timedelta(days=first.weekday())
    while monday <= last:
        yield datetime.combine(monday, BUILD_HOUR, ZoneInfo(timezone))
        monday += timedelta(days=7)


def backfill(
    config: AgencyConfig, first: date, last: date, run_id: str, *, missing_only: bool = False
) -> dict[str, object]:
    """Build the risk history for every week from `first` to `last` (with `missing_only`,
    the weeks it has no rows for yet); return figures."""
    settings = build_settings(config)
    weeks = 0
    with open_writer(config.warehouse.path) as con:
        _refuse_weeks_outside_the_data(con, first, last, config.agency.timezone)
    with open_writer(config.warehouse.path) as con, run_step(con, run_id, "risk_backfill") as stats:
        done = _weeks_held(con) if missing_only else set()
        for as_of in weekly_instants(first, last, config.agency.timezone):
            if as_of.date() not in done:
                build(con, as_of, settings["variables"], settings["seeds"], select=[HISTORY])
                weeks += 1
        stats.update(weeks=weeks, first=first.isoformat(), last=last.isoformat())
        return dict(stats)


def _weeks_held(con: duckdb.DuckDBPyConnection) -> set[date]:
    if not history_exists(con):
        return set()
    rows = con.execute("SELECT DISTINCT week_start FROM intermediate.client_risk_history")
    return {r[0] for r in rows.fetchall()}


def _refuse_weeks_outside_the_data(
    con: duckdb.DuckDBPyConnection, first: date, last: date, timezone: str
) -> None:
    mondays = [w.date() for w in weekly_instants(first, last, timezone)]
    reach = data_weeks(con, timezone)
    if reach is None:
        raise BackfillOutOfRange(
            f"no data ingested yet: nothing to backfill for {first} to {last}; "
            "run the ingests first"
        )
    outside = [m for m in mondays if not reach[0] <= m <= reach[1]]
    if outside:
        raise BackfillOutOfRange(
            f"weeks {outside[0]} to {outside[-1]} are outside the data: a backfill accepts "
            f"the weeks from {reach[0]} to {reach[1]} (the oldest record's week to the "
            "newest week whose Monday build came after the last fetch)"
        )
