"""Send what the outbox holds: Slack messages and emails, or files in dry-run mode.

Each delivery is marked `sending` before it leaves and `sent` (with a sent-log row)
after, so a rerun never sends it twice; a failed send is kept for the next run.
Senders are built lazily, so dry-run needs no connections at all.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import duckdb

from clientpulse.config import AgencyConfig
from clientpulse.pipeline.runlog import run_step
from connectors.errors import ConnectorError
from connectors.slack import SlackPoster
from connectors.smtp import SmtpSender, build_message
from warehouse.db import open_writer
from warehouse.outbox import OutboxItem, claim_pending, mark_failed, mark_sending, mark_sent


def _safe_name(key: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", key).strip("_")


def _email(config: AgencyConfig, payload: dict[str, Any]):
    return build_message(
        from_addr=config.delivery.email.from_address,
        to=payload["to"],
        subject=payload["subject"],
        text=payload["text"],
        html=payload["html"],
        message_id=payload["message_id"],
    )


def _write_dry_run(config: AgencyConfig, item: OutboxItem) -> str:
    folder = Path(config.delivery.dry_run_dir) / item.kind / item.period
    folder.mkdir(parents=True, exist_ok=True)
    if item.channel == "email":
        path = folder / f"{_safe_name(item.recipient)}.eml"
        path.write_bytes(_email(config, item.payload).as_bytes())
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
        if channel not in self._built:
            self._built[channel] = self._factories[channel]()
        return self._built[channel]


def _send(config: AgencyConfig, senders: Senders, item: OutboxItem) -> str:
    if item.channel == "slack":
        posted = senders.get("slack").post(
            item.payload["channel"], item.payload["text"], item.payload["blocks"]
        )
        return f"{posted.channel_id}:{posted.ts}"
    refused = senders.get("email").send(_email(config, item.payload))
    if refused:  # delivered to the others: recorded, never re-sent to them
        return f"{item.payload['message_id']} refused: {', '.join(sorted(refused))}"
    return item.payload["message_id"]


def deliver(
    config: AgencyConfig, senders: Senders, run_id: str, kinds: Iterable[str]
) -> dict[str, Any]:
    """Send pending deliveries of the given kinds; raise if any failed (after trying all)."""
    kinds = set(kinds)
    dry_run = config.delivery.dry_run
    with open_writer(config.warehouse.path) as con, run_step(con, run_id, "deliver") as stats:
        sent, failed = [], []
        for item in (i for i in claim_pending(con) if i.kind in kinds):
            mark_sending(con, item.key)
            try:
                ref = _write_dry_run(config, item) if dry_run else _send(config, senders, item)
            except (ConnectorError, OSError) as exc:
                mark_failed(con, item.key, str(exc))
                failed.append(f"{item.key}: {exc}")
                continue
            mark_sent(con, item, ref, dry_run)
            sent.append(item.key)
        stats.update(sent=len(sent), failed=failed, dry_run=dry_run, unknown=_unknown(con))
        if failed:
            raise DeliveryFailed(f"{len(failed)} deliveries failed: " + "; ".join(failed))
        return dict(stats)


def _unknown(con: duckdb.DuckDBPyConnection) -> int:
    return con.execute("SELECT count(*) FROM ops.outbox WHERE status = 'unknown'").fetchone()[0]


class DeliveryFailed(RuntimeError):
    """Some deliveries could not be sent; they stay in the outbox for the next run."""
