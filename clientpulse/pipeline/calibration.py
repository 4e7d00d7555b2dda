"""The alarm budget's trade-off on the agency's own history (`make calibrate`).

The weekly build already judges each week by a threshold calibrated on the history
before it (intermediate.client_risk_calibrated). This replays that history under a
range of fixed thresholds and reports what each would have given: the share of the
agency's own lost clients flagged 4 or more weeks before they left (unbroken until
then), and flagged weeks per retained client per year — the curve an agency reads to
choose its `signals.risk.false_alarm_budget`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import duckdb

from clientpulse.config import RiskScore

LEAD_WEEKS = 4


@dataclass(frozen=True)
class Point:
    at_risk_at: float
    recall_4w: float | None  # None without a lost client in the history
    false_alarms_per_year: float | None  # None without a retained client-week


@dataclass(frozen=True)
class History:
    """Each client's weeks: week → (active, score, critical); and the lost clients'
    end dates."""

    weeks: dict[str, dict[date, tuple[bool, float | None, bool]]]
    lost_on: dict[str, date]


def warm_up_end(con: duckdb.DuckDBPyConnection, risk: RiskScore) -> date | None:
    """The first Monday whose windows (reply compliance, recent contact) lie wholly after
    the first message: before it the score's windows reach back before the data, and
    nearly every client is flagged for want of it. None without mail."""
    first = con.execute("SELECT min(sent_at) FROM raw.email_messages").fetchone()[0]
    if first is None:
        return None
    ready = first.date() + timedelta(
        days=max(risk.reply_window_days, 7 * risk.contact_recent_weeks)
    )
    return ready + timedelta(days=-ready.weekday() % 7)


def load_history(con: duckdb.DuckDBPyConnection, since: date) -> History:
    """The history's weeks from `since` on."""
    rows = con.execute(
        "SELECT w.client_id, w.week_start, w.status = 'active', w.score, c.critical, w.lost_on "
        "FROM marts.client_risk_weekly AS w "
        "JOIN intermediate.client_risk_calibrated AS c USING (client_id, week_start) "
        "WHERE w.week_start >= ?",
        [since],
    ).fetchall()
    weeks: dict[str, dict[date, tuple[bool, float | None, bool]]] = {}
    lost_on: dict[str, date] = {}
    for client, week, active, score, critical, lost in rows:
        weeks.setdefault(client, {})[week] = (active, score, critical)
        if lost is not None:
            lost_on[client] = lost
    return History(weeks, lost_on)


def lead_weeks(flags: dict[date, bool], left_on: date) -> float:
    """Weeks of the unbroken flagged run that reaches the last week before `left_on`."""
    lead_from = None
    for week in sorted((w for w in flags if w < left_on), reverse=True):
        if not flags[week]:
            break
        lead_from = week
    return 0.0 if lead_from is None else (left_on - lead_from).days / 7


def point(history: History, at_risk_at: float) -> Point:
    """Recall at 4 weeks of the lost clients and false alarms of the retained ones, had
    every week been judged at `at_risk_at`."""
    flags = {
        client: {
            week: active and score is not None and (critical or score >= at_risk_at)
            for week, (active, score, critical) in weeks.items()
        }
        for client, weeks in history.weeks.items()
    }
    leads = [lead_weeks(flags[c], on) for c, on in history.lost_on.items() if c in flags]
    retained = [c for c in flags if c not in history.lost_on]
    active_weeks = sum(1 for c in retained for active, _, _ in history.weeks[c].values() if active)
    flagged = sum(1 for c in retained for f in flags[c].values() if f)
    return Point(
        at_risk_at,
        sum(lead >= LEAD_WEEKS for lead in leads) / len(leads) if leads else None,
        flagged / active_weeks * 52 if active_weeks else None,
    )


def tradeoff(history: History, thresholds: list[float]) -> list[Point]:
    return [point(history, t) for t in thresholds]


def latest_threshold(con: duckdb.DuckDBPyConnection) -> tuple[date, float, bool] | None:
    """The latest week, the threshold it is judged by, and whether it was calibrated."""
    return con.execute(
        "SELECT week_start, any_value(at_risk_at), bool_or(calibrated) "
        "FROM intermediate.client_risk_calibrated GROUP BY week_start "
        "ORDER BY week_start DESC LIMIT 1"
    ).fetchone()
