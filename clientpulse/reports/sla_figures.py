"""Email SLA figures for the reports, read from marts.client_sla_weekly (and, for the
portfolio's median and P90, which do not add up across clients, marts.fct_email_sla)
for the full agency-local week before the report's."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

import duckdb

from clientpulse.periods import previous_week_bounds

METRICS = ("first_reply", "next_reply")


@dataclass(frozen=True)
class SlaFigures:
    measurements: int = 0
    achieved: int = 0
    breached: int = 0
    pending: int = 0
    no_reply_needed: int = 0
    median_minutes: float | None = None
    p90_minutes: float | None = None

    @property
    def decided(self) -> int:
        return self.achieved + self.breached

    @property
    def compliance(self) -> float | None:
        """achieved / (achieved + breached), None when nothing was decided."""
        return self.achieved / self.decided if self.decided else None


@dataclass(frozen=True)
class SlaWeek:
    iso_week: str
    figures: dict[str, SlaFigures]


def _week(as_of: datetime, timezone: str) -> tuple[datetime, datetime, date, str]:
    start, end = previous_week_bounds(as_of, timezone)
    local = start.astimezone(ZoneInfo(timezone)).date()
    year, week, _ = local.isocalendar()
    return start, end, local, f"{year}-W{week:02d}"


def client_sla_week(
    con: duckdb.DuckDBPyConnection, client_id: str, as_of: datetime, timezone: str
) -> SlaWeek:
    """One client's rows of marts.client_sla_weekly for last week."""
    _, _, week_start, label = _week(as_of, timezone)
    rows = con.execute(
        """SELECT metric, measurements, achieved, breached, pending, no_reply_needed,
                  median_business_minutes, p90_business_minutes
           FROM marts.client_sla_weekly WHERE client_id = ? AND week_start = ?""",
        [client_id, week_start],
    ).fetchall()
    found = {row[0]: SlaFigures(*row[1:]) for row in rows}
    return SlaWeek(label, {m: found.get(m, SlaFigures()) for m in METRICS})


def portfolio_sla_week(con: duckdb.DuckDBPyConnection, as_of: datetime, timezone: str) -> SlaWeek:
    """All clients last week: counts summed from marts.client_sla_weekly, median and P90
    over the same week's answered measurements in marts.fct_email_sla."""
    start, end, week_start, label = _week(as_of, timezone)
    counts = {
        row[0]: row[1:]
        for row in con.execute(
            """SELECT metric, sum(measurements), sum(achieved), sum(breached), sum(pending),
                      sum(no_reply_needed)
               FROM marts.client_sla_weekly WHERE week_start = ? GROUP BY metric""",
            [week_start],
        ).fetchall()
    }
    spread = {
        row[0]: row[1:]
        for row in con.execute(
            """SELECT metric, median(business_minutes), quantile_cont(business_minutes, 0.9)
               FROM marts.fct_email_sla
               WHERE inbound_at >= ? AND inbound_at < ? AND replied_at IS NOT NULL
                   AND status <> 'no_reply_needed'
               GROUP BY metric""",
            [start, end],
        ).fetchall()
    }
    figures = {
        m: SlaFigures(*(int(n) for n in counts[m]), *spread.get(m, (None, None)))
        if m in counts
        else SlaFigures()
        for m in METRICS
    }
    return SlaWeek(label, figures)


def hours(minutes: float | None) -> str:
    """Business minutes as hours with one decimal, or a dash."""
    return "—" if minutes is None else f"{minutes / 60:.1f}"


def percent(share: float | None) -> str:
    return "—" if share is None else f"{share:.0%}"
