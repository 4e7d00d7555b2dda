"""Last week's email SLA figures for the reports, selected from the weekly marts:
marts.client_sla_weekly for one client, marts.portfolio_sla_weekly for all of them.

Every figure is a column of those marts; this module picks the row of the report's
week (the client's calendar week for a client) and formats it.
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb

from clientpulse.periods import ReportWeek

METRICS = ("first_reply", "next_reply")
_FIGURES = (
    "measurements, achieved, breached, pending, no_reply_needed, decided, compliance, "
    "median_business_minutes, p90_business_minutes"
)


@dataclass(frozen=True)
class SlaFigures:
    measurements: int = 0
    achieved: int = 0
    breached: int = 0
    pending: int = 0
    no_reply_needed: int = 0
    decided: int = 0
    compliance: float | None = None  # achieved / decided; None when nothing was decided
    median_minutes: float | None = None
    p90_minutes: float | None = None


@dataclass(frozen=True)
class SlaWeek:
    iso_week: str
    figures: dict[str, SlaFigures]


def _select(
    con: duckdb.DuckDBPyConnection, week: ReportWeek, table: str, where: str, args: list
) -> SlaWeek:
    rows = con.execute(
        f"SELECT metric, {_FIGURES} FROM {table} WHERE week_start = ? {where}",
        [week.start, *args],
    ).fetchall()
    found = {row[0]: SlaFigures(*row[1:]) for row in rows}
    return SlaWeek(week.label, {m: found.get(m, SlaFigures()) for m in METRICS})


def client_sla_week(con: duckdb.DuckDBPyConnection, client_id: str, week: ReportWeek) -> SlaWeek:
    """One client's figures for `week` (marts.client_sla_weekly)."""
    return _select(con, week, "marts.client_sla_weekly", "AND client_id = ?", [client_id])


def portfolio_sla_week(con: duckdb.DuckDBPyConnection, week: ReportWeek) -> SlaWeek:
    """All clients' figures for `week` (marts.portfolio_sla_weekly)."""
    return _select(con, week, "marts.portfolio_sla_weekly", "", [])
