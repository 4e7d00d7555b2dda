"""Account-manager alerts: pick what changed from the marts, drop what was already said,
snoozed or marked "not a risk", and queue one Slack DM per manager per run.

Each alert has a key (manager, client, reason, the episode/week/wait it is about). The
keys of the alerts a DM carries are written to `ops.alert_log` in the same transaction
that puts the DM in the outbox, and the outbox sends it at most once: a rerun, a retry
or a second demo finds the keys and queues nothing. Only the current risk week alerts:
a run whose week is older than the newest week the warehouse holds (a backfill) sends
nothing, and an Airflow backfill run is told so by its DAG.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import duckdb

from clientpulse.config import AgencyConfig
from clientpulse.periods import iso_week
from clientpulse.reports.account_manager_alerts import (
    RISK_REASONS,
    Alert,
    Playbook,
    alert_message,
    portfolio_message,
)
from warehouse.db import open_writer, transaction
from warehouse.outbox import Delivery, enqueue
from warehouse.runlog import run_step

ACCOUNT_MANAGER_ALERTS = "account_manager_alerts"
PORTFOLIO_VIEW = "account_manager_portfolio"
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def _rows(con: duckdb.DuckDBPyConnection, sql: str, params: list[Any]) -> list[dict[str, Any]]:
    cursor = con.execute(sql, params)
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


@dataclass
class AlertState:
    """What was sent and what the managers said, as of one run's local day."""

    today: date
    sent: set[str] = field(default_factory=set)
    last_risk_alert: dict[tuple[str, str], date] = field(default_factory=dict)
    snoozed: set[str] = field(default_factory=set)
    not_a_risk: set[tuple[str, date]] = field(default_factory=set)
    called: dict[str, date] = field(default_factory=dict)  # client -> the last call's day

    @classmethod
    def load(cls, con: duckdb.DuckDBPyConnection, today: date) -> AlertState:
        state = cls(today)
        for key, manager, client, reason, on in con.execute(
            "SELECT alert_key, account_manager_id, client_id, reason, alerted_on FROM ops.alert_log"
        ).fetchall():
            state.remember(key, manager, client, reason, on)
        feedback = con.execute(
            "SELECT client_id, action, until_on, episode_week FROM ops.alert_feedback"
        ).fetchall()
        state.snoozed = {c for c, a, until, _ in feedback if a == "snooze" and until >= today}
        state.not_a_risk = {(c, w) for c, a, _, w in feedback if a == "not_a_risk"}
        for client, action, on, _ in feedback:  # a call's until_on is the day of the call
            if action == "called" and on <= today:
                state.called[client] = max(on, state.called.get(client, on))
        return state

    def remember(self, key: str, manager: str, client: str, reason: str, on: date) -> None:
        """Count an alert as sent (from the log, or in a replay)."""
        self.sent.add(key)
        if reason in RISK_REASONS:
            last = self.last_risk_alert.get((manager, client), on)
            self.last_risk_alert[(manager, client)] = max(on, last)


def risk_alert(row: dict[str, Any], state: AlertState, cooldown_days: int) -> Alert | None:
    manager, client, change = row["account_manager_id"], row["client_id"], row["change"]
    if client in state.snoozed:
        return None
    if change in RISK_REASONS and (client, row["at_risk_since"]) in state.not_a_risk:
        return None
    last = state.last_risk_alert.get((manager, client))
    if change == "newly_at_risk":
        subject = f"episode {row['at_risk_since']}"
    elif change == "risk_up":
        subject = f"week {row['week_start']}"
    elif change == "still_at_risk":  # a call the manager logged counts as a reminder
        latest = max(filter(None, (last, state.called.get(client))), default=None)
        if latest is not None and (state.today - latest).days < cooldown_days:
            return None
        subject = f"reminder {state.today}"
    else:  # recovered: once, and only to a manager who was told the client was at risk
        if last is None:
            return None
        subject = f"week {row['week_start']}"
    alert = Alert(manager, client, change, subject, row, reminder=last is not None)
    return None if alert.key in state.sent else alert


def _risk_alerts(
    con: duckdb.DuckDBPyConnection, config: AgencyConfig, week: date, state: AlertState
) -> list[Alert]:
    rows = _rows(
        con,
        "SELECT * FROM marts.client_risk_alerts WHERE week_start = ? AND change <> 'none' "
        "ORDER BY client_id",
        [week],
    )
    found = (risk_alert(r, state, config.alerts.cooldown_days) for r in rows)
    return [a for a in found if a is not None]


def _unsent(
    rows: list[dict[str, Any]], reason: str, subject: str, state: AlertState, lost: set[str]
) -> list[Alert]:
    """An alert per row (its key's subject formatted from the row) not sent before, for
    clients not lost."""
    alerts = (
        Alert(r["account_manager_id"], r["client_id"], reason, subject.format(**r), r)
        for r in rows
        if r["client_id"] not in lost
    )
    return [a for a in alerts if a.key not in state.sent]


def _early_warnings(
    con: duckdb.DuckDBPyConnection, state: AlertState, lost: set[str]
) -> list[Alert]:
    rows = _rows(
        con,
        "SELECT * FROM marts.client_sla_early_warnings WHERE due_for_warning "
        "ORDER BY breach_at NULLS LAST, client_id, inbound_message_id",
        [],
    )
    return _unsent(rows, "early_warning", "{metric}:{inbound_message_id}", state, lost)


def _conflicts(
    con: duckdb.DuckDBPyConnection, state: AlertState, lost: set[str], timezone: str
) -> list[Alert]:
    """Open conflicts in client threads (intermediate.client_conflicts): one alert per
    thread, keyed by its conversation, on the first run that sees it open."""
    rows = _rows(
        con,
        "SELECT f.*, CAST(timezone(?, f.started_at) AS DATE) AS started_on, "
        "c.client_name, c.account_manager_id "
        "FROM intermediate.client_conflicts AS f JOIN core.dim_client AS c USING (client_id) "
        "WHERE f.is_open ORDER BY f.started_at, f.conversation_id",
        [timezone],
    )
    return _unsent(rows, "conflict", "{conversation_id}", state, lost)


def _greetings(
    con: duckdb.DuckDBPyConnection, state: AlertState, lost: set[str], days: int
) -> list[Alert]:
    """Dates worth a greeting (marts.client_upcoming_dates) `days` ahead or fewer: one
    reminder per occasion (client, occasion, who or which holiday, date)."""
    rows = _rows(
        con,
        "SELECT d.*, coalesce(d.who, d.holiday_name_en) AS named, "
        "c.client_name, c.account_manager_id "
        "FROM marts.client_upcoming_dates AS d JOIN core.dim_client AS c USING (client_id) "
        "WHERE d.days_until <= ? ORDER BY d.occurs_on, d.client_id, d.occasion, d.who",
        [days],
    )
    return _unsent(rows, "greeting", "{occasion}:{named}:{occurs_on}", state, lost)


def _latest_week(con: duckdb.DuckDBPyConnection) -> date | None:
    return con.execute("SELECT max(week_start) FROM marts.client_risk_weekly").fetchone()[0]


def _lost(con: duckdb.DuckDBPyConnection, week: date | None) -> set[str]:
    rows = con.execute(
        "SELECT client_id FROM marts.client_risk_weekly WHERE week_start = ? AND status = 'lost'",
        [week],
    ).fetchall()
    return {r[0] for r in rows}


def capped(alerts: list[Alert], manager_id: str, cap: int) -> tuple[list[Alert], int]:
    """The manager's alerts this run, most urgent first, up to `cap`; and how many more."""
    mine = sorted((a for a in alerts if a.manager_id == manager_id), key=lambda a: a.rank)
    return mine[:cap], max(0, len(mine) - cap)


def _recipient(config: AgencyConfig, manager: Any) -> dict[str, Any]:
    """A DM to the manager, else the fallback channel (the message names them)."""
    if manager.slack_user_id:
        return {"user": manager.slack_user_id, "channel": None}
    return {"user": None, "channel": config.alerts.fallback_channel}


def _queue(
    con: duckdb.DuckDBPyConnection,
    config: AgencyConfig,
    alerts: list[Alert],
    period: str,
    today: date,
    playbook: Playbook,
) -> dict[str, int]:
    """Group by manager, cap, and queue one DM each with its alert keys logged."""
    cap = config.alerts.max_per_message
    figures = {"dms": 0, "alerts": 0, "held_by_cap": 0}
    for manager in config.account_managers:
        shown, more = capped(alerts, manager.id, cap)
        if not shown:
            continue
        to = _recipient(config, manager)
        message = alert_message(manager, shown, more, playbook, named=to["user"] is None)
        delivery = Delivery(ACCOUNT_MANAGER_ALERTS, "slack", manager.id, period, {**to, **message})
        with transaction(con):
            if not enqueue(con, delivery):
                continue
            con.executemany(
                "INSERT INTO ops.alert_log VALUES (?, ?, ?, ?, ?, ?, ?, now()) "
                "ON CONFLICT (alert_key) DO NOTHING",
                [
                    [a.key, a.manager_id, a.client_id, a.reason, a.subject, delivery.key, today]
                    for a in shown
                ],
            )
        figures["dms"] += 1
        figures["alerts"] += len(shown)
        figures["held_by_cap"] += more
    return figures


def _playbook_rows(
    con: duckdb.DuckDBPyConnection, clients: list[str]
) -> dict[str, dict[str, list[dict[str, Any]]]]:
    """Per client: its overdue receivables (core.client_receivables, one row a currency)
    and its NPS (intermediate.client_nps), for the portfolio DM's lines."""
    found: dict[str, dict[str, list[dict[str, Any]]]] = {c: {} for c in clients}
    for name, sql in (
        (
            "overdue",
            "SELECT * FROM core.client_receivables WHERE overdue_amount > 0 "
            "AND list_contains(?, client_id) ORDER BY client_id, currency",
        ),
        (
            "nps",
            "SELECT *, CAST(recent_detractor_at AS DATE) AS recent_detractor_on "
            "FROM intermediate.client_nps WHERE list_contains(?, client_id)",
        ),
    ):
        for row in _rows(con, sql, [clients]):
            found[row["client_id"]].setdefault(name, []).append(row)
    return found


def _queue_portfolios(
    con: duckdb.DuckDBPyConnection,
    config: AgencyConfig,
    week: date,
    period: str,
    playbook: Playbook,
) -> int:
    queued = 0
    for manager in config.account_managers:
        clients = _rows(
            con,
            "SELECT * FROM marts.client_risk_alerts WHERE week_start = ? "
            "AND account_manager_id = ? AND status = 'active' "
            "ORDER BY score DESC NULLS LAST, client_name",
            [week, manager.id],
        )
        figures = _rows(
            con,
            "SELECT * FROM marts.manager_portfolio WHERE account_manager_id = ?",
            [manager.id],
        )
        if not clients or not figures:
            continue
        to = _recipient(config, manager)
        message = portfolio_message(
            manager,
            clients,
            figures[0],
            playbook,
            named=to["user"] is None,
            playbook_rows=_playbook_rows(con, [c["client_id"] for c in clients]),
        )
        delivery = Delivery(PORTFOLIO_VIEW, "slack", manager.id, period, {**to, **message})
        with transaction(con):
            queued += int(enqueue(con, delivery))
    return queued


def compose_alerts(
    config: AgencyConfig,
    as_of: datetime,
    run_id: str,
    *,
    early_warnings_only: bool = False,
    backfill: bool = False,
) -> dict[str, Any]:
    """Queue this run's DMs: risk alerts, greeting reminders and the portfolio view on the
    daily run, open conflicts and early warnings on every run. A backfill (or a run for a
    week older than the warehouse's newest) queues nothing."""
    local = as_of.astimezone(ZoneInfo(config.agency.timezone))
    today, week = local.date(), local.date() - timedelta(days=local.weekday())
    period = local.strftime("%Y-%m-%dT%H:%M")
    playbook = Playbook.load(config.alerts.playbook, config.agency.currency)
    with open_writer(config.warehouse.path) as con, run_step(con, run_id, "alerts") as stats:
        latest = _latest_week(con)
        if backfill or latest is None or week < latest:
            stats.update(skipped="past week: a backfill never alerts", week=str(week))
            return dict(stats)
        state = AlertState.load(con, today)
        lost = _lost(con, latest)
        alerts = _conflicts(con, state, lost, config.agency.timezone) + _early_warnings(
            con, state, lost
        )
        if not early_warnings_only:
            alerts = _risk_alerts(con, config, week, state) + alerts
            alerts += _greetings(con, state, lost, config.alerts.greeting_reminder_days)
        stats.update(_queue(con, config, alerts, period, today, playbook))
        weekly = not early_warnings_only and WEEKDAYS[local.weekday()] == (
            config.alerts.portfolio_weekday
        )
        if weekly:
            stats["portfolio_dms"] = _queue_portfolios(
                con, config, week, iso_week(as_of, config.agency.timezone), playbook
            )
        stats.update(period=period, week=str(week))
        return dict(stats)


FEEDBACK_ACTIONS = ("snooze", "not_a_risk", "called")


class FeedbackError(ValueError):
    """A snooze or "not a risk" that cannot be recorded (unknown client, no date …)."""


def record_feedback(
    config: AgencyConfig,
    action: str,
    client_id: str,
    reason: str,
    by: str,
    until: date | None = None,
    *,
    today: date | None = None,
    acting_user: str | None = None,
) -> dict[str, Any]:
    """Store a manager's snooze (until a date), "not a risk" (for the client's current
    at-risk episode) or call to the client, with who and why; later runs suppress that
    client's risk alerts (a call: the still-at-risk reminder, for the cooldown).

    `by` must be someone the agency knows: an account manager (id or Airflow user), or
    `acting_user`, the Airflow user who asked (an admin answering from Slack). A snooze
    must end `today` (agency-local; default: now) or later: one already over would be
    stored and mute nothing."""
    if action not in FEEDBACK_ACTIONS:
        raise FeedbackError(f"action must be one of {FEEDBACK_ACTIONS}, not {action!r}")
    if client_id not in {c.id for c in config.clients}:
        raise FeedbackError(f"unknown client {client_id!r}")
    if not reason.strip() or not by.strip():
        raise FeedbackError("a reason and who records it (by) are required")
    known = {m.id for m in config.account_managers} | {m.approver for m in config.account_managers}
    if by not in known | ({acting_user} if acting_user else set()):
        raise FeedbackError(
            f"by {by!r} is not an account manager (known: {', '.join(sorted(known))}) nor "
            "the Airflow user who asked: who recorded it must be someone the agency knows"
        )
    if action in ("snooze", "called") and until is None:
        raise FeedbackError(f"{action} needs a date (snooze: the last day; called: the call's)")
    today = today or datetime.now(ZoneInfo(config.agency.timezone)).date()
    if action == "snooze" and until < today:
        raise FeedbackError(
            f"snooze until {until} is in the past (today is {today}, "
            f"{config.agency.timezone}): it would mute nothing; give its last day, today or later"
        )
    with open_writer(config.warehouse.path) as con:
        episode = None
        if action == "not_a_risk":
            episode = con.execute(
                "SELECT at_risk_since FROM marts.client_risk_alerts WHERE client_id = ? "
                "ORDER BY week_start DESC LIMIT 1",
                [client_id],
            ).fetchone()
            if episode is None or episode[0] is None:
                raise FeedbackError(f"{client_id} is not at risk this week: nothing to mark")
            episode = episode[0]
        feedback_id = str(uuid.uuid4())
        with transaction(con):
            con.execute(
                "INSERT INTO ops.alert_feedback VALUES (?, ?, ?, ?, ?, ?, ?, now())",
                [feedback_id, client_id, action, until, episode, reason, by],
            )
    return {
        "feedback_id": feedback_id,
        "client_id": client_id,
        "action": action,
        "until": str(until) if until else None,
        "episode_week": str(episode) if episode else None,
    }


def record_feedback_conf(
    config: AgencyConfig,
    conf: dict[str, Any],
    *,
    today: date | None = None,
    acting_user: str | None = None,
) -> dict[str, Any]:
    """`record_feedback` for an account_manager_feedback run's conf (as the Slack listener
    or `airflow dags trigger --conf` sends it: action, client, reason, by, until)."""
    until = date.fromisoformat(conf["until"]) if conf.get("until") else None
    return record_feedback(
        config,
        conf["action"],
        conf["client"],
        conf["reason"],
        conf["by"],
        until,
        today=today,
        acting_user=acting_user,
    )
