"""Render deliveries from the marts into the outbox, once per (kind, recipient, period).

A build whose quality gate failed holds every digest back: nothing is rendered from
numbers that did not pass.
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from datetime import datetime
from typing import Any

import duckdb

from clientpulse.config import AgencyConfig, Client, policy_name
from clientpulse.periods import iso_week, month_label
from clientpulse.reports.account_manager_alerts import Playbook
from clientpulse.reports.client_status import compose_client_status
from clientpulse.reports.leadership_digest import compose_digest
from clientpulse.reports.monthly_report import compose_monthly_report, report_months
from warehouse.db import open_writer, transaction
from warehouse.outbox import Delivery, enqueue, enqueue_draft
from warehouse.quality import last_gate_failures
from warehouse.runlog import run_step

LEADERSHIP_DIGEST = "leadership_digest"
DIGEST_CHART = "leadership_digest_chart"  # its own delivery: uploaded at most once
DIGEST_KINDS = (LEADERSHIP_DIGEST, DIGEST_CHART)  # what the digest's DAG sends
CLIENT_WEEKLY_STATUS = "client_weekly_status"
CLIENT_MONTHLY_REPORT = "client_monthly_report"
MAX_EMAIL_BYTES = 1_000_000


class QualityGateFailed(RuntimeError):
    """The latest build failed its quality gate; digests are held back."""


def _require_passed_gate(con: duckdb.DuckDBPyConnection) -> None:
    failures = last_gate_failures(con)
    if failures is None:
        raise QualityGateFailed("no gated build yet: run build_signals before composing digests")
    if failures:
        raise QualityGateFailed("digests held back; failed expectations: " + "; ".join(failures))


def lost_clients(con: duckdb.DuckDBPyConnection) -> set[str]:
    """Clients whose relationship has ended, as of the latest risk week: they get no
    status email."""
    rows = con.execute(
        """SELECT client_id FROM marts.client_risk_weekly
           WHERE status = 'lost'
               AND week_start = (SELECT max(week_start) FROM marts.client_risk_weekly)"""
    ).fetchall()
    return {r[0] for r in rows}


def _message_id(config: AgencyConfig, kind: str, client_id: str, period: str) -> str:
    domain = config.agency.internal_domains[0]
    return f"<{kind}.{client_id}.{period}@clientpulse.{domain}>"


def _chart_delivery(channel: str, period: str, chart: dict[str, Any]) -> Delivery:
    """The chart as a file upload into the digest's channel, with its alt text and its
    numbers as the message that introduces it."""
    payload = {
        "channel": channel,
        "filename": f"clientpulse-digest-{period}.png",
        "title": chart["title"],
        "alt_text": chart["alt_text"],
        "initial_comment": chart["text_fallback"],
        "data": chart["data"],
        "png_base64": base64.b64encode(chart["png"]).decode("ascii"),
    }
    return Delivery(DIGEST_CHART, "slack_file", channel, period, payload)


def compose_leadership_digest(config: AgencyConfig, as_of: datetime, run_id: str) -> dict[str, Any]:
    """Queue the digest and, after it, its chart: two deliveries, each sent at most once
    (a rerun queues neither again)."""
    period = iso_week(as_of, config.agency.timezone)
    channel = config.delivery.slack.leadership_channel
    with (
        open_writer(config.warehouse.path) as con,
        run_step(con, run_id, LEADERSHIP_DIGEST) as stats,
    ):
        _require_passed_gate(con)
        playbook = Playbook.load(config.alerts.playbook, config.agency.currency)
        message = compose_digest(
            con, as_of, config.agency.timezone, period, config.leadership_digest, playbook
        )
        chart = message.pop("chart")
        with transaction(con):
            added = enqueue(
                con,
                Delivery(
                    LEADERSHIP_DIGEST, "slack", channel, period, {**message, "channel": channel}
                ),
            )
        chart_added = False
        if chart is not None:
            # queued after the digest (a later created_at), so it is posted after it
            with transaction(con):
                chart_added = enqueue(con, _chart_delivery(channel, period, chart))
        stats.update(
            period=period,
            enqueued=int(added),
            already_queued=int(not added),
            chart_enqueued=int(chart_added),
        )
        return dict(stats)


def email_problems(email: dict[str, Any]) -> list[str]:
    """Why a composed client email must not be offered for approval (empty)."""
    problems = []
    if not email.get("to"):
        problems.append("no recipients: the client's report_recipients is empty")
    for part in ("subject", "text", "html"):
        if not str(email.get(part) or "").strip():
            problems.append(f"empty {part}")
    if len(email.get("text", "")) + len(email.get("html", "")) > MAX_EMAIL_BYTES:
        problems.append("over 1 MB")
    return problems


def _compose_client_emails(
    config: AgencyConfig,
    run_id: str,
    kind: str,
    period: str,
    render: Callable[[duckdb.DuckDBPyConnection, Client], dict[str, Any]],
) -> dict[str, Any]:
    """Render one email per active client into the outbox as a draft for its account
    manager (approval policy per client); lost clients get none. One that cannot go out
    (no recipients, an empty part) is `held` by name, and the send task tells ops."""
    with open_writer(config.warehouse.path) as con, run_step(con, run_id, kind) as stats:
        _require_passed_gate(con)
        added = skipped = held = 0
        lost = lost_clients(con)
        for client in config.clients:
            if client.id in lost:
                continue
            email = render(con, client)
            email["message_id"] = _message_id(config, kind, client.id, period)
            recipient = ",".join(email["to"])
            delivery = Delivery(kind, "email", recipient, period, email, client.id)
            problems = email_problems(email)
            policy = policy_name(client.approval)
            if enqueue_draft(con, delivery, client.account_manager, policy, problems):
                added += 1
                held += bool(problems)
            else:
                skipped += 1
        stats.update(
            period=period,
            enqueued=added,
            already_queued=skipped,
            held=held,
            lost_not_sent=sorted(lost),
        )
        return dict(stats)


def compose_client_statuses(config: AgencyConfig, as_of: datetime, run_id: str) -> dict[str, Any]:
    period = iso_week(as_of, config.agency.timezone)
    return _compose_client_emails(
        config,
        run_id,
        CLIENT_WEEKLY_STATUS,
        period,
        lambda con, client: compose_client_status(con, config, client, as_of, period),
    )


class StaleMonthlyMarts(RuntimeError):
    """The monthly marts were built for another month than the run's."""


def compose_client_monthly_reports(
    config: AgencyConfig, as_of: datetime, run_id: str
) -> dict[str, Any]:
    """One PDCA report per active client for the month of `as_of` (agency calendar),
    from marts built in that month (else it fails rather than report another month)."""
    period = month_label(as_of, config.agency.timezone)

    def render(con: duckdb.DuckDBPyConnection, client: Client) -> dict[str, Any]:
        months = report_months(con, client.id)
        if months is None or f"{months[0]:%Y-%m}" != period:
            raise StaleMonthlyMarts(
                f"marts.client_monthly_* are for {months and f'{months[0]:%Y-%m}'}, the run "
                f"for {period}: run build_signals first"
            )
        return compose_monthly_report(con, config, client, as_of)

    return _compose_client_emails(config, run_id, CLIENT_MONTHLY_REPORT, period, render)
