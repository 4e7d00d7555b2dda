"""Mailboxes → raw: message headers (never bodies) from mbox files and IMAP folders.

One row per message whatever mailboxes and folders hold it (`raw.email_messages`),
plus where it was seen (`raw.email_sightings`). Unusable messages and undated ones go
to quarantine with the reason.

- mbox: a file that has not changed since its last import (same size and modification
  time, kept as its cursor) is skipped.
- IMAP: each folder's cursor is its (UIDVALIDITY, last UID), committed in the same
  transaction as the batch of rows it covers.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import Any

import duckdb

from clientpulse.config import AgencyConfig, ImapMailbox, MboxFile
from clientpulse.pipeline.runlog import run_step
from connectors.errors import ConnectorError
from connectors.imap import FolderCursor, ImapLogin, ImapMailboxReader
from connectors.mail_headers import MessageRecord, Rejected
from connectors.mbox import iter_mbox
from warehouse.cursors import get_cursor, set_cursor
from warehouse.db import open_writer, transaction
from warehouse.load import upsert
from warehouse.quarantine import QuarantinedRecord, quarantine

BATCH = 5000
SIGHTING_FIELDS = ("mailbox", "source", "source_ref")


class _Rows:
    """Rows for one transaction: messages, sightings and quarantined records."""

    def __init__(self, source: str, now: datetime) -> None:
        self.source = source
        self.now = now
        self.messages: list[dict[str, Any]] = []
        self.sightings: list[dict[str, Any]] = []
        self.bad: list[QuarantinedRecord] = []
        self.loaded = self.rejected = 0

    def add(self, items: Iterable[MessageRecord | Rejected]) -> None:
        for item in items:
            if isinstance(item, Rejected):
                self.rejected += 1
                self.bad.append(
                    QuarantinedRecord(self.source, item.source_ref, item.field, item.reason)
                )
                continue
            row = item.as_row()
            sighting = {k: row.pop(k) for k in SIGHTING_FIELDS}
            sighting.update(message_key=row["message_key"], extracted_at=self.now)
            row["extracted_at"] = self.now
            self.messages.append(row)
            self.sightings.append(sighting)
            if item.sent_at is None:
                reason = f"date_{item.date_status}: kept in raw, left out of time-based signals"
                self.bad.append(
                    QuarantinedRecord(self.source, sighting["source_ref"], "Date", reason)
                )

    def flush(self, con: duckdb.DuckDBPyConnection, cursor: tuple[str, str] | None = None) -> None:
        """Write the rows, and the cursor that covers them, in one transaction."""
        with transaction(con):
            self.loaded += upsert(con, "raw.email_messages", self.messages, ["message_key"])
            upsert(con, "raw.email_sightings", self.sightings, ["message_key", "mailbox"])
            quarantine(con, self.bad)
            if cursor is not None:
                set_cursor(con, self.source, *cursor)
        self.messages, self.sightings, self.bad = [], [], []


def _file_identity(mbox: MboxFile) -> str:
    stat = mbox.path.stat()
    return json.dumps({"size": stat.st_size, "mtime_ns": stat.st_mtime_ns})


def _import_file(
    con: duckdb.DuckDBPyConnection, mbox: MboxFile, identity: str, rows: _Rows
) -> None:
    """Import the file; its cursor is the identity taken before reading, so a file that
    grows meanwhile is read again next time rather than skipped. A non-empty file with
    no message at all is not an mbox: an error, and no cursor, so it is not skipped."""
    found = 0
    for item in iter_mbox(mbox.path, mailbox=mbox.mailbox):
        found += 1
        rows.add((item,))
        if len(rows.messages) >= BATCH:
            rows.flush(con)
    size = json.loads(identity)["size"]
    if not found and size:
        raise ConnectorError(
            f"{mbox.path} (mailbox {mbox.mailbox}): no 'From ' separator line in its "
            f"{size} bytes, so not an mbox file; nothing imported from it"
        )
    rows.flush(con, (f"{mbox.mailbox}:{mbox.path}", identity))


def _sync_imap(
    con: duckdb.DuckDBPyConnection, reader: ImapMailboxReader, box: ImapMailbox, rows: _Rows
) -> int:
    """Read every configured folder of one mailbox; return how many folders were resynced."""
    folders = [reader.all_mail_folder()] if box.all_mail else box.folders
    resynced = 0
    for folder in folders:
        scope = f"{box.mailbox}:{folder}"
        cursor = FolderCursor.loads(get_cursor(con, "imap", scope))
        for batch in reader.folder_batches(folder, cursor):
            resynced += batch.resync
            rows.add(batch.items)
            rows.flush(con, (scope, batch.cursor.dumps()))
    return resynced


def ingest_mailboxes(
    config: AgencyConfig,
    run_id: str,
    imap_login: Callable[[ImapMailbox], ImapLogin] | None = None,
) -> dict[str, Any]:
    """Import the configured mbox files and IMAP mailboxes; `imap_login` gives each
    IMAP mailbox's login (from its Airflow Connection in the DAG)."""
    source = config.sources.mailboxes
    if source.imap and imap_login is None:
        raise ValueError("sources.mailboxes.imap is configured but no IMAP login was given")
    with (
        open_writer(config.warehouse.path) as con,
        run_step(con, run_id, "ingest_mailboxes") as stats,
    ):
        now = datetime.now(UTC)
        stats.update(files=0, skipped_unchanged=0, messages=0, rejected=0)
        mbox_rows = _Rows("mbox", now)
        unreadable = []
        for mbox in source.mbox:
            if not mbox.path.is_file():
                raise FileNotFoundError(f"mbox file {mbox.path} (mailbox {mbox.mailbox}) not found")
            identity = _file_identity(mbox)
            if get_cursor(con, "mbox", f"{mbox.mailbox}:{mbox.path}") == identity:
                stats["skipped_unchanged"] += 1
                continue
            try:
                _import_file(con, mbox, identity, mbox_rows)
            except ConnectorError as exc:  # the other sources are read all the same
                unreadable.append(str(exc))
                continue
            stats["files"] += 1
        imap_rows = _Rows("imap", now)
        if source.imap:
            stats.update(imap_mailboxes=0, imap_fetches=0, imap_resynced_folders=0)
        for box in source.imap:
            with ImapMailboxReader(
                imap_login(box), mailbox=box.mailbox, batch_size=box.batch_size
            ) as reader:
                stats["imap_resynced_folders"] += _sync_imap(con, reader, box, imap_rows)
            stats["imap_mailboxes"] += 1
            stats["imap_fetches"] += len(reader.requested)
        stats["messages"] = mbox_rows.loaded + imap_rows.loaded
        stats["rejected"] = mbox_rows.rejected + imap_rows.rejected
        if unreadable:
            raise ConnectorError("; ".join(unreadable))
        return dict(stats)
