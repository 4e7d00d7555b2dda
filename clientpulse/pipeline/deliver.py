"""Send what the outbox holds: Slack messages and emails, or files in dry-run mode.

Each delivery is marked `sending` before it leaves and `sent` (with a sent-log row)
after, so a rerun never sends it twice. Anything raised before the receiver could
have accepted it (no connection defined, a relay that is down, a message that cannot
be built) marks it `failed`: it is retried next run and the task fails, so ops hears
of it. Only a send that broke off after the receiver may have accepted it is
`unknown`; ops is told in Slack, once, what to check (as for `expired` deliveries).
Senders are built lazily, so dry-run needs no connections at all.
"""

from __future__ import annotations

import base64
import json
import re
import shlex
from collections.abc import Callable, Iterable
from datetime import timedelta
from pathlib import Path
from typing import Any

import duckdb

from clientpulse.config import AgencyConfig
from clientpulse.pipeline.recipients import resolve
from connectors.clip import MAX_SUBJECT_CHARS, clip
from connectors.errors import DeliveryUncertain
from connectors.slack import MAX_MESSAGE_TEXT, SlackPoster, escape_mrkdwn, fit_blocks
from connectors.smtp import SmtpSender, build_message
from warehouse.db import open_writer, transaction
from warehouse.outbox import (
    Delivery,
    OutboxItem,
    Unresolved,
    claim_pending,
    enqueue,
    mark_alerted,
    mark_failed,
    mark_sending,
    mark_sent,
    unalerted,
)
from warehouse.runlog import run_step


def _safe_name(key: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", key).strip("_")


def _email(config: AgencyConfig, payload: dict[str, Any]):
    return build_message(
        from_addr=config.delivery.email.from_address,
        to=payload["to"],
        subject=clip(payload["subject"], MAX_SUBJECT_CHARS),
        text=payload["text"],
        html=payload["html"],
        message_id=payload["message_id"],
    )


def _write_dry_run(config: AgencyConfig, item: OutboxItem) -> str:
    folder = Path(config.delivery.dry_run_dir) / item.kind / item.period / (item.client_id or "")
    folder.mkdir(parents=True, exist_ok=True)
    if item.channel == "email":
        path = folder / f"{_safe_name(item.recipient)}.eml"
        path.write_bytes(_email(config, item.payload).as_bytes())
    elif item.channel == "slack_file":
        path = folder / f"{_safe_name(item.recipient)}.png"
        path.write_bytes(base64.b64decode(item.payload["png_base64"]))
        meta = {k: v for k, v in item.payload.items() if k != "png_base64"}
        path.with_suffix(".json").write_text(
            json.dumps(meta, ensure_ascii=False, indent=2), encoding="utf-8"
        )
    else:
        path = folder / f"{_safe_name(item.recipient)}.json"
        path.write_text(json.dumps(item.payload, ensure_ascii=False, indent=2), encoding="utf-8")
    return str(path)


class Senders:
    """Builds each sender on first use (from Airflow Connections in a DAG)."""

    def __init__(self, slack: Callable[[], SlackPoster], smtp: Callable[[], SmtpSender]) -> None:
        self._factories = {"slack": slack, "email": smtp}
        self._built: dict[str, Any] = {}

    def get(self, channel: str):
        channel = "slack" if channel == "slack_file" else channel
        if channel not in self._built:
            self._built[channel] = self._factories[channel]()
        return self._built[channel]


def _send(config: AgencyConfig, senders: Senders, item: OutboxItem) -> str:
    if item.channel == "slack":
        slack = senders.get("slack")
        # A DM (account-manager alerts) opens the conversation with the user first.
        user = item.payload.get("user")
        channel = slack.open_dm(user) if user else item.payload["channel"]
        blocks = item.payload["blocks"]  # fitted again: a payload queued before the limits
        text = clip(item.payload["text"], MAX_MESSAGE_TEXT)
        posted = slack.post(channel, text, fit_blocks(blocks) if blocks else blocks)
        return f"{posted.channel_id}:{posted.ts}" + (f" to {user}" if user else "")
    if item.channel == "slack_file":
        payload = item.payload
        uploaded = senders.get("slack").upload(
            payload["channel"],
            base64.b64decode(payload["png_base64"]),
            filename=payload["filename"],
            title=payload["title"],
            alt_text=payload["alt_text"],
            initial_comment=payload["initial_comment"],
        )
        return f"{uploaded.channel_id}:{uploaded.file_id}"
    refused = senders.get("email").send(_email(config, item.payload))
    to = f" to {', '.join(item.payload['to'])}"
    if refused:  # delivered to the others: recorded, never re-sent to them
        return f"{item.payload['message_id']}{to} refused: {', '.join(sorted(refused))}"
    return item.payload["message_id"] + to


def deliver(
    config: AgencyConfig, senders: Senders, run_id: str, kinds: Iterable[str]
) -> dict[str, Any]:
    """Send pending deliveries of the given kinds; raise if any failed (after trying all)."""
    max_age = timedelta(days=config.delivery.max_age_days)
    with open_writer(config.warehouse.path) as con, run_step(con, run_id, "deliver") as stats:
        sent, failed = _send_pending(config, senders, con, set(kinds), max_age)
        alerted = _queue_ops_alert(con, config, run_id)
        # Every run sends pending ops alerts, so one that failed to post is retried.
        more_sent, more_failed = _send_pending(config, senders, con, {DELIVERY_ALERT}, max_age)
        sent, failed = sent + more_sent, failed + more_failed
        stats.update(sent=len(sent), failed=failed, dry_run=config.delivery.dry_run)
        stats.update(
            alerted=alerted, unknown=_count(con, "unknown"), expired=_count(con, "expired")
        )
        if failed:
            raise DeliveryFailed(f"{len(failed)} deliveries failed: " + "; ".join(failed))
        return dict(stats)


def _send_pending(
    config: AgencyConfig,
    senders: Senders,
    con: duckdb.DuckDBPyConnection,
    kinds: set[str],
    max_age: timedelta,
) -> tuple[list[str], list[str]]:
    dry_run = config.delivery.dry_run
    sent, failed = [], []
    for item in (i for i in claim_pending(con, max_age) if i.kind in kinds):
        mark_sending(con, item.key)
        try:
            addressed = resolve(config, item)  # from the config as it is now
            ref = (
                _write_dry_run(config, addressed) if dry_run else _send(config, senders, addressed)
            )
        except Exception as exc:  # whatever it was, the item is kept for a person or a retry
            error = f"{type(exc).__name__}: {exc}"
            mark_failed(con, item.key, error, unknown=isinstance(exc, DeliveryUncertain))
            failed.append(f"{item.key}: {error}")
            continue
        mark_sent(con, item, ref, dry_run)
        sent.append(item.key)
    return sent, failed


DELIVERY_ALERT = "delivery_alert"
_WHAT_TO_CHECK = {
    "unknown": "may or may not have arrived: check the relay's log (or the Slack channel) "
    "for it before re-sending",
    "expired": "was held back as too old to send unasked: re-send it on purpose if it "
    "still matters",
    "held": "was held, never offered for approval or sent: fix what it lacks in the config, "
    "then rerun its DAG for that period",
}


def alert_text(items: list[Unresolved]) -> str:
    """The ops message for deliveries a person has to look at, escaped for mrkdwn."""
    lines = [":warning: ClientPulse deliveries that need a person:"]
    for item in items:
        error = f" ({escape_mrkdwn(item.last_error)})" if item.last_error else ""
        lines.append(f"• `{escape_mrkdwn(item.key)}` {_WHAT_TO_CHECK[item.status]}{error}")
        if item.status != "held":  # a fixed config composes it afresh under a new key
            lines.append(f"  to send it again: `{escape_mrkdwn(resend_command(item.key))}`")
    if any(item.status != "held" for item in items):
        lines.append("Then rerun its DAG for that period (it renders and sends it afresh).")
    return "\n".join(lines)


def resend_command(key: str) -> str:
    """The shell command that releases the delivery `key` for a deliberate re-send."""
    kind, _, _, recipient, period = key.split("|", 4)
    args = ["--kind", kind, "--period", period, "--recipient", recipient]
    return (
        "python -m tooling.resend resend "
        + " ".join(shlex.quote(a) for a in args)
        + " --reason 'why it is sent again'"
    )


def _queue_ops_alert(con: duckdb.DuckDBPyConnection, config: AgencyConfig, run_id: str) -> int:
    """Queue one ops alert (through the outbox, like the quality alert) naming the
    `unknown` and `expired` deliveries not alerted yet; return how many it names."""
    items = unalerted(con, DELIVERY_ALERT)
    if items:
        channel = config.delivery.slack.ops_channel
        payload = {"channel": channel, "text": alert_text(items), "blocks": None}
        period = f"{run_id}/{items[0].key}"  # one alert per batch, however many a run has
        with transaction(con):
            enqueue(con, Delivery(DELIVERY_ALERT, "slack", channel, period, payload))
            mark_alerted(con, [i.key for i in items])
    return len(items)


def _count(con: duckdb.DuckDBPyConnection, status: str) -> int:
    return con.execute("SELECT count(*) FROM ops.outbox WHERE status = ?", [status]).fetchone()[0]


class DeliveryFailed(RuntimeError):
    """Some deliveries could not be sent; they stay in the outbox for the next run."""
