"""Render deliveries from the marts into the outbox, once per (kind, recipient, period).

A build whose quality gate failed holds every digest back: nothing is rendered from
numbers that did not pass.
"""

from __future__ import annotations

import base64
from datetime import datetime
from typing import Any

import duckdb

from clientpulse.config import AgencyConfig
from clientpulse.periods import iso_week
from clientpulse.pipeline.runlog import run_step
from clientpulse.reports.client_status import compose_client_status
from clientpulse.reports.leadership_digest import compose_digest
from warehouse.db import open_writer, transaction
from warehouse.outbox import Delivery, enqueue
from warehouse.quality import last_gate_failures

LEADERSHIP_DIGEST = "leadership_digest"
DIGEST_CHART = "leadership_digest_chart"  # its own delivery: uploaded at most once
DIGEST_KINDS = (LEADERSHIP_DIGEST, DIGEST_CHART)  # what the digest's DAG sends
CLIENT_WEEKLY_STATUS = "client_weekly_status"


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
        "title": f"{chart['title']} ({period})",
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
        message = compose_digest(
            con, as_of, config.agency.timezone, period, config.leadership_digest
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


def compose_client_statuses(config: AgencyConfig, as_of: datetime, run_id: str) -> dict[str, Any]:
    period = iso_week(as_of, config.agency.timezone)
    with (
        open_writer(config.warehouse.path) as con,
        run_step(con, run_id, CLIENT_WEEKLY_STATUS) as stats,
    ):
        _require_passed_gate(con)
        added = skipped = 0
        lost = lost_clients(con)
        for client in config.clients:
            if not client.report_recipients or client.id in lost:
                continue
            email = compose_client_status(con, config, client, as_of, period)
            email["message_id"] = _message_id(config, CLIENT_WEEKLY_STATUS, client.id, period)
            recipient = ",".join(email["to"])
            delivery = Delivery(CLIENT_WEEKLY_STATUS, "email", recipient, period, email, client.id)
            with transaction(con):
                if enqueue(con, delivery):
                    added += 1
                else:
                    skipped += 1
        stats.update(
            period=period, enqueued=added, already_queued=skipped, lost_not_sent=sorted(lost)
        )
        return dict(stats)
