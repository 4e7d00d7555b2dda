"""Judge a weekly risk history against an agency's ground truth (who churned when, who
degraded), for the new score (`at_risk`) and the earlier three-threshold rule
(`threshold_rule_flagged`) side by side.

* recall at 4 weeks: churned clients flagged at least 4 weeks before they left, and
  flagged every week from then until they left (or were found lost); when the truth
  dates each decline (`decline_start`), only churners whose decline began 6 or more
  weeks before they left count (an unforeseeable churn cannot be warned of);
* precision: flagged active client-weeks that belong to a client who churned within 12
  weeks after, or to a degraded one;
* median lead: weeks from the start of that last unbroken flagged run to the churn (0
  when not flagged the week before leaving);
* false alarms: flagged weeks per healthy client, and per healthy client per year of
  judged weeks (flagged healthy client-weeks / healthy client-weeks × 52).

`since` judges only the weeks from that date on: a replay's first weeks, while the
score's windows still reach back before the data begins, say more about where the data
starts than about the score.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import duckdb

from clientpulse.pipeline.calibration import lead_weeks

CHURN_HORIZON = timedelta(weeks=12)
OBSERVABLE_DECLINE = timedelta(weeks=6)


@dataclass(frozen=True)
class Backtest:
    recall_4w: float
    precision: float | None
    median_lead_weeks: float
    false_alarms_per_healthy: float
    false_alarms_per_healthy_year: float


def weekly_flags(
    warehouse: Path, flag_column: str, since: date | None = None
) -> dict[str, dict[date, bool]]:
    """Client → week → flagged (and active) from marts.client_risk_weekly."""
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        rows = con.execute(
            f"SELECT client_id, week_start, coalesce({flag_column}, false) AND status = 'active' "
            "FROM marts.client_risk_weekly WHERE week_start >= coalesce(?, week_start)",
            [since],
        ).fetchall()
    finally:
        con.close()
    flags: dict[str, dict[date, bool]] = {}
    for client, week, flagged in rows:
        flags.setdefault(client, {})[week] = flagged
    return flags


def judge(warehouse: Path, truth: dict, flag_column: str, since: date | None = None) -> Backtest:
    flags = weekly_flags(warehouse, flag_column, since)
    churned = {c: date.fromisoformat(d) for c, d in truth["churned"].items()}
    degraded = set(truth["at_risk"])
    leads = [lead_weeks(flags.get(c, {}), on) for c, on in churned.items()]
    declines = truth.get("decline_start", {})
    observable = [
        lead_weeks(flags.get(c, {}), on)
        for c, on in churned.items()
        if c not in declines or on - date.fromisoformat(declines[c]) >= OBSERVABLE_DECLINE
    ]
    flagged_weeks = [(c, w) for c, weeks in flags.items() for w, f in weeks.items() if f]
    deserved = [
        (c, w)
        for c, w in flagged_weeks
        if c in degraded or (c in churned and w <= churned[c] <= w + CHURN_HORIZON)
    ]
    healthy = truth["healthy"]
    false_alarms = sum(1 for c, _ in flagged_weeks if c in healthy)
    healthy_weeks = sum(len(weeks) for c, weeks in flags.items() if c in healthy)
    return Backtest(
        recall_4w=sum(lead >= 4 for lead in observable) / len(observable) if observable else 0.0,
        precision=len(deserved) / len(flagged_weeks) if flagged_weeks else None,
        median_lead_weeks=statistics.median(leads) if leads else 0.0,
        false_alarms_per_healthy=false_alarms / len(healthy) if healthy else 0.0,
        false_alarms_per_healthy_year=false_alarms / healthy_weeks * 52 if healthy_weeks else 0.0,
    )
