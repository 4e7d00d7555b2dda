"""Mailboxes → raw: message headers (never bodies) from mbox files.

One row per message whatever mailboxes hold it (`raw.email_messages`), plus where it
was seen (`raw.email_sightings`). Unusable messages and undated ones go to quarantine
with the reason. An mbox file that has not changed since its last import (same size
and modification time, kept as its cursor) is skipped.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from clientpulse.config import AgencyConfig, MboxFile
from clientpulse.pipeline.runlog import run_step
from connectors.mail_headers import MessageRecord, Rejected
from connectors.mbox import iter_mbox
from warehouse.cursors import get_cursor, set_cursor
from warehouse.db import open_writer, transaction
from warehouse.load import upsert
from warehouse.quarantine import QuarantinedRecord, quarantine

SOURCE = "mbox"
BATCH = 5000
SIGHTING_FIELDS = ("mailbox", "source", "source_ref")
UNDATED = {"date_missing", "date_unparseable"}


def _file_identity(mbox: MboxFile) -> str:
    stat = mbox.path.stat()
    return json.dumps({"size": stat.st_size, "mtime_ns": stat.st_mtime_ns})


def _split(record: MessageRecord, now: datetime) -> tuple[dict[str, Any], dict[str, Any]]:
    row = record.as_row()
    sighting = {k: row.pop(k) for k in SIGHTING_FIELDS}
    sighting.update(message_key=row["message_key"], extracted_at=now)
    row["extracted_at"] = now
    return row, sighting


def _flush(con, messages: list, sightings: list, bad: list[QuarantinedRecord]) -> int:
    with transaction(con):
        written = upsert(con, "raw.email_messages", messages, ["message_key"])
        upsert(con, "raw.email_sightings", sightings, ["message_key", "mailbox"])
        quarantine(con, bad)
    return written


def _import_file(con, mbox: MboxFile, now: datetime) -> tuple[int, int]:
    messages: list[dict[str, Any]] = []
    sightings: list[dict[str, Any]] = []
    bad: list[QuarantinedRecord] = []
    loaded = rejected = 0
    for item in iter_mbox(mbox.path, mailbox=mbox.mailbox):
        if isinstance(item, Rejected):
            rejected += 1
            bad.append(QuarantinedRecord(SOURCE, item.source_ref, item.field, item.reason))
        else:
            row, sighting = _split(item, now)
            messages.append(row)
            sightings.append(sighting)
            for problem in UNDATED.intersection(item.problems):
                reason = f"{problem}: kept in raw, left out of time-based signals"
                bad.append(QuarantinedRecord(SOURCE, sighting["source_ref"], "Date", reason))
        if len(messages) >= BATCH:
            loaded += _flush(con, messages, sightings, bad)
            messages, sightings, bad = [], [], []
    loaded += _flush(con, messages, sightings, bad)
    return loaded, rejected


def ingest_mailboxes(config: AgencyConfig, run_id: str) -> dict[str, Any]:
    source = config.sources.mailboxes
    with (
        open_writer(config.warehouse.path) as con,
        run_step(con, run_id, "ingest_mailboxes") as stats,
    ):
        now = datetime.now(UTC)
        stats.update(files=0, skipped_unchanged=0, messages=0, rejected=0)
        for mbox in source.mbox:
            if not mbox.path.is_file():
                raise FileNotFoundError(f"mbox file {mbox.path} (mailbox {mbox.mailbox}) not found")
            identity = _file_identity(mbox)
            scope = f"{mbox.mailbox}:{mbox.path}"
            if get_cursor(con, SOURCE, scope) == identity:
                stats["skipped_unchanged"] += 1
                continue
            loaded, rejected = _import_file(con, mbox, now)
            with transaction(con):
                set_cursor(con, SOURCE, scope, identity)
            stats["files"] += 1
            stats["messages"] += loaded
            stats["rejected"] += rejected
        return dict(stats)
