"""Fill the weekly risk history for past weeks from the data already ingested.

Each week is built as of its Monday at the build hour (agency-local), so every factor
sees only what was known then; only the models the history reads are built, and
nothing is sent. The build_signals DAG does the same for one week when Airflow runs it
for a past logical date (`airflow backfill create`); `make backfill`
(tooling/backfill.py) and the demo call this for a range of weeks.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import duckdb

from clientpulse.config import AgencyConfig
from clientpulse.pipeline.build_signals import build_settings
from transforms.runner import build
from warehouse.db import open_writer
from warehouse.runlog import run_step

HISTORY = "marts.client_risk_weekly"  # with the history it reads
BUILD_HOUR = time(6, 0)  # build_signals' daily run, agency-local


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
    with open_writer(config.warehouse.path) as con, run_step(con, run_id, "risk_backfill") as stats:
        done = _weeks_held(con) if missing_only else set()
        for as_of in weekly_instants(first, last, config.agency.timezone):
            if as_of.date() not in done:
                build(con, as_of, settings["variables"], settings["seeds"], select=[HISTORY])
                weeks += 1
        stats.update(weeks=weeks, first=first.isoformat(), last=last.isoformat())
        return dict(stats)


def _weeks_held(con: duckdb.DuckDBPyConnection) -> set[date]:
    exists = con.execute(
        "SELECT count(*) FROM duckdb_tables() WHERE schema_name = 'intermediate' "
        "AND table_name = 'client_risk_history'"
    ).fetchone()[0]
    if not exists:
        return set()
    rows = con.execute("SELECT DISTINCT week_start FROM intermediate.client_risk_history")
    return {r[0] for r in rows.fetchall()}
