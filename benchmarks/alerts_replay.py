"""`make alerts-replay`: how many alerts each account manager would have received over
the last weeks of an agency's history (default 8) had `account_manager_alerts` run on
every working day, against the number of at-risk client-weeks in their portfolio.

Reads a built warehouse (after `make demo`: the demo's) read-only and replays the DAG's
own rules (`clientpulse.pipeline.alerts.risk_alert`, cooldown, cap) day by day over the
weekly rows of marts.client_risk_alerts, from an empty alert log. Early warnings are
counted from core.fct_email_sla: every wait of the period that reached
alerts.early_warning_share of its target before its reply (or by now) is warned once.
Snoozes and "not a risk" are not replayed (none are recorded on the demo).
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter, defaultdict
from datetime import date, timedelta
from pathlib import Path

import duckdb

from clientpulse.config import load_config
from clientpulse.pipeline.alerts import AlertState, capped, risk_alert

WORKDAYS = {"mon": 0, "tue": 1, "wed": 2, "thu": 3, "fri": 4, "sat": 5, "sun": 6}


def _rows(con: duckdb.DuckDBPyConnection, sql: str, params: list) -> list[dict]:
    cursor = con.execute(sql, params)
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, r, strict=True)) for r in cursor.fetchall()]


def replay(config_path: Path | None, weeks: int) -> dict:
    config = load_config(config_path)
    workdays = {WORKDAYS[d] for d in config.agency.business_hours.days}
    con = duckdb.connect(str(config.warehouse.path), read_only=True)
    try:
        last = con.execute("SELECT max(week_start) FROM marts.client_risk_alerts").fetchone()[0]
        first = last - timedelta(days=7 * (weeks - 1))
        by_week: dict[date, list[dict]] = defaultdict(list)
        for row in _rows(
            con,
            "SELECT * FROM marts.client_risk_alerts WHERE week_start BETWEEN ? AND ? "
            "AND change <> 'none' ORDER BY client_id",
            [first, last],
        ):
            by_week[row["week_start"]].append(row)
        at_risk_weeks = dict(
            con.execute(
                "SELECT account_manager_id, count(*) FILTER (WHERE at_risk) "
                "FROM marts.client_risk_alerts WHERE week_start BETWEEN ? AND ? GROUP BY 1",
                [first, last],
            ).fetchall()
        )
        share = config.alerts.early_warning_share
        warnings = dict(
            con.execute(
                "SELECT c.account_manager_id, count(*) FROM core.fct_email_sla s "
                "JOIN staging.cfg_clients c USING (client_id) "
                "WHERE s.inbound_at >= ? AND s.status <> 'no_reply_needed' "
                "AND s.business_minutes >= ? * s.target_minutes GROUP BY 1",
                [first, share],
            ).fetchall()
        )
    finally:
        con.close()

    state = AlertState(first)
    counts: dict[str, Counter] = defaultdict(Counter)
    dm_days: Counter = Counter()
    day = first
    while day <= last:  # the newest week: its Monday only (the build's as_of)
        if day.weekday() in workdays:
            week = day - timedelta(days=day.weekday())
            state.today = day
            found = [risk_alert(r, state, config.alerts.cooldown_days) for r in by_week[week]]
            alerts = [a for a in found if a is not None]
            for manager in config.account_managers:
                shown, more = capped(alerts, manager.id, config.alerts.max_per_message)
                for alert in shown:
                    state.remember(alert.key, manager.id, alert.client_id, alert.reason, day)
                    counts[manager.id][alert.reason] += 1
                counts[manager.id]["held_by_cap"] += more
                dm_days[manager.id] += bool(shown)
        day += timedelta(days=1)
    return {
        "first": first,
        "last": last,
        "managers": [m.id for m in config.account_managers],
        "counts": counts,
        "dm_days": dm_days,
        "at_risk_weeks": at_risk_weeks,
        "warnings": warnings,
    }


REASONS = ("newly_at_risk", "risk_up", "still_at_risk", "recovered")


def report(figures: dict) -> str:
    weeks = (figures["last"] - figures["first"]).days // 7 + 1
    header = (
        f"Alert replay, weeks {figures['first']} .. {figures['last']} ({weeks} weeks, "
        "daily on working days)"
    )
    columns = (
        "manager",
        "at-risk client-weeks",
        *REASONS,
        "risk alerts",
        "early warn.",
        "risk DM days",
    )
    lines = [header, " | ".join(columns)]
    totals: Counter = Counter()
    for manager in figures["managers"]:
        c = figures["counts"][manager]
        risk = sum(c[r] for r in REASONS)
        row = {
            "at_risk": figures["at_risk_weeks"].get(manager, 0),
            **{r: c[r] for r in REASONS},
            "risk": risk,
            "warnings": figures["warnings"].get(manager, 0),
            "dm_days": figures["dm_days"][manager],
        }
        totals.update(row)
        lines.append(" | ".join([manager, *(str(v) for v in row.values())]))
    lines.append(" | ".join(["all", *(str(v) for v in totals.values())]))
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--config", type=Path, default=None)
    parser.add_argument("--weeks", type=int, default=8)
    args = parser.parse_args(argv)
    print(report(replay(args.config, args.weeks)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
