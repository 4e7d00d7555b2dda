"""Mailboxes → raw: message headers (never bodies) from mbox files, IMAP folders and
Microsoft Graph (connectors.mailboxes.graph.sync).

One row per message whatever mailboxes and folders hold it (`raw.email_messages`),
plus where it was seen (`raw.email_sightings`). Unusable messages and undated ones go
to quarantine with the reason.

- mbox: a file that has not changed since its last import (same size and modification
  time) is skipped; one that only grew is read from where the last import stopped
  (`connectors.mailboxes.mbox_cursor`). A file whose size or modification time changes while it
  is read is left for the next run from the last committed batch on, and a message
  read again at the same place replaces whatever was loaded from there (a message
  cut short by a copy in progress leaves no phantom).
- IMAP: each folder's cursor is its (UIDVALIDITY, last UID), committed in the same
  transaction as the batch of rows it covers.
- Gmail API: each mailbox's cursor is its historyId (connectors.mailboxes.gmail.sync).
"""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd

from connectors.errors import ConnectorError
from connectors.mailboxes.gmail.auth import GmailConnection
from connectors.mailboxes.gmail.settings import GmailSource
from connectors.mailboxes.gmail.sync import GMAIL_STATS, sync_gmail_source
from connectors.mailboxes.graph.auth import AppCredentials
from connectors.mailboxes.graph.settings import GraphAccount
from connectors.mailboxes.graph.sync import sync_graph
from connectors.mailboxes.headers import RECORD_FIELDS, MessageRecord, Rejected
from connectors.mailboxes.imap import FolderCursor, ImapLogin, ImapMailboxReader
from connectors.mailboxes.mbox import NOT_A_HEADER, MboxRead, header_so_far
from connectors.mailboxes.mbox_cursor import MboxCursor, cursor_after
from connectors.mailboxes.settings import ImapMailbox, MailboxSource, MboxFile
from warehouse.cursors import get_cursor, set_cursor
from warehouse.db import open_writer, transaction
from warehouse.load import upsert
from warehouse.quarantine import QuarantinedRecord, quarantine
from warehouse.runlog import run_step

BATCH = 5000
HEAD_BYTES = 64 << 10  # what is read of a new file to tell it is an mbox
GC_ALLOCATIONS = 50_000
SIGHTING_FIELDS = ("mailbox", "source", "source_ref")
MESSAGE_FIELDS = tuple(f for f in RECORD_FIELDS if f not in SIGHTING_FIELDS)


class _Rows:
    """Rows for one transaction: messages, sightings and quarantined records.

    Records are kept as they come and turned into one frame per table, column by
    column, when flushed (building a dict per row cost more than writing it)."""

    def __init__(self, source: str, now: datetime) -> None:
        self.source = source
        self.now = now
        self.records: list[MessageRecord] = []
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
            self.records.append(item)
            if item.sent_at is None:
                reason = f"date_{item.date_status}: kept in raw, left out of time-based signals"
                self.bad.append(QuarantinedRecord(self.source, item.source_ref, "Date", reason))

    def discard(self) -> None:
        """Drop the rows not flushed yet (read from a file that changed meanwhile)."""
        self.records, self.bad = [], []

    def flush(
        self,
        con: duckdb.DuckDBPyConnection,
        cursor: tuple[str, str] | None = None,
        also: Callable[[duckdb.DuckDBPyConnection], None] | None = None,
    ) -> None:
        """Write the rows, and the cursor that covers them, in one transaction (with
        `also`'s writes: a source's own bookkeeping)."""
        with transaction(con):
            if self.records:
                messages = self._frame(MESSAGE_FIELDS)
                sightings = self._frame(("message_key", *SIGHTING_FIELDS))
                _drop_replaced(con, sightings)
                _keep_what_copies_lack(con, messages, headerless=self.source == "graph")
                self.loaded += upsert(con, "raw.email_messages", messages, ["message_key"])
                upsert(con, "raw.email_sightings", sightings, ["message_key", "mailbox"])
            quarantine(con, self.bad)
            if also is not None:
                also(con)
            if cursor is not None:
                set_cursor(con, self.source, *cursor)
        self.discard()

    def _frame(self, names: tuple[str, ...]) -> pd.DataFrame:
        frame = pd.DataFrame({name: [getattr(r, name) for r in self.records] for name in names})
        frame["extracted_at"] = self.now
        return frame


def _drop_replaced(con: duckdb.DuckDBPyConnection, sightings: pd.DataFrame) -> None:
    """Forget messages last seen at a place now holding another message (re-read there).
    Rare: one query finds them, and only then are they deleted."""
    con.register("incoming_sightings", sightings[["message_key", "mailbox", "source_ref"]])
    try:
        replaced = con.execute(_REPLACED_SQL).fetchall()
    finally:
        con.unregister("incoming_sightings")
    if not replaced:
        return
    keys, mailboxes = (list(column) for column in zip(*replaced, strict=True))
    con.execute(_DROP_SIGHTINGS_SQL, [keys, mailboxes])
    con.execute(_DROP_MESSAGES_SQL, [keys])


def _keep_what_copies_lack(
    con: duckdb.DuckDBPyConnection, messages: pd.DataFrame, headerless: bool
) -> None:
    """A copy of a stored message that knows less than its row keeps what the row knew,
    whatever order the mailboxes and sources are read in: the closing verdict read from
    a body (seen again where bodies cannot be read: gmail.metadata, Mail.ReadBasic.All),
    and, for a copy without transport headers (`headerless`: Graph, whose Sent Items keep
    none), a reply's In-Reply-To, References, thread and verdict read as a reply."""
    unread = messages["closing_rule"] == "body_not_read"
    bare = pd.Series(False, index=messages.index)
    if headerless:
        bare = messages["in_reply_to"].isna() & ~messages["references"].map(bool)
    if not (unread | bare).any():
        return
    found = con.execute(
        'SELECT message_key, closing_verdict, closing_rule, in_reply_to, "references", '
        "gmail_thread_id FROM raw.email_messages "
        "WHERE message_key IN (SELECT unnest(?::VARCHAR[]))",
        [messages.loc[unread | bare, "message_key"].tolist()],
    ).fetchall()
    known = {row[0]: row[1:] for row in found}
    threaded = bare & messages["message_key"].map(
        lambda key: key in known and (known[key][2] is not None or bool(known[key][3]))
    )
    for index in messages.index[threaded]:
        _, _, in_reply_to, references, thread = known[messages.at[index, "message_key"]]
        messages.at[index, "in_reply_to"] = in_reply_to
        messages.at[index, "references"] = list(references)
        messages.at[index, "gmail_thread_id"] = thread
    read = messages["message_key"].map(
        lambda key: key in known and known[key][1] != "body_not_read"
    )
    kept = (unread | threaded) & read
    keys = messages.loc[kept, "message_key"]
    messages.loc[kept, "closing_verdict"] = [known[k][0] for k in keys]
    messages.loc[kept, "closing_rule"] = [known[k][1] for k in keys]


_REPLACED_SQL = """
SELECT s.message_key, s.mailbox
FROM raw.email_sightings AS s
JOIN incoming_sightings AS i
    ON i.mailbox = s.mailbox AND i.source_ref = s.source_ref AND i.message_key <> s.message_key
"""
_DROP_SIGHTINGS_SQL = """
DELETE FROM raw.email_sightings AS s
USING (SELECT unnest(?::VARCHAR[]) AS message_key, unnest(?::VARCHAR[]) AS mailbox) AS r
WHERE r.message_key = s.message_key AND r.mailbox = s.mailbox
"""
_DROP_MESSAGES_SQL = """
DELETE FROM raw.email_messages
WHERE message_key IN (SELECT unnest(?::VARCHAR[]))
    AND message_key NOT IN (SELECT message_key FROM raw.email_sightings)
"""


def _import_file(
    con: duckdb.DuckDBPyConnection, mbox: MboxFile, cursor: MboxCursor | None, rows: _Rows
) -> bool:
    """Import what is new in the file; False when it changed while being read.

    Each batch is flushed only while the file still has the size and modification
    time it had when reading began; the cursor comes with the last batch. A non-empty
    file that does not even start like an mbox is an error, and gets no cursor, so it is
    not skipped next time.
    """
    stat = mbox.path.stat()
    seen = MboxCursor(stat.st_size, stat.st_mtime_ns)
    start = cursor.resume_offset(mbox.path) if cursor is not None else 0
    if start == 0 and seen.size:
        _require_mbox(mbox, seen.size)
    read = MboxRead(mbox.path, mailbox=mbox.mailbox, start=start, size=seen.size)
    for item in read:
        rows.add((item,))
        if len(rows.records) >= BATCH:
            if not seen.unchanged(mbox.path):
                rows.discard()
                return False
            rows.flush(con)
    done = cursor_after(mbox.path, seen.size, seen.mtime_ns, read.resume_offset)
    if not seen.unchanged(mbox.path):
        rows.discard()
        return False
    rows.flush(con, (f"{mbox.mailbox}:{mbox.path}", done.dumps()))
    return True


def _require_mbox(mbox: MboxFile, size: int) -> None:
    with mbox.path.open("rb") as handle:
        head = handle.read(HEAD_BYTES)
    if not head.startswith(b"From "):
        raise ConnectorError(
            f"{mbox.path} (mailbox {mbox.mailbox}): no 'From ' separator line at its start "
            f"({size} bytes), so not an mbox file; nothing imported from it"
        )
    line_end = head.find(b"\n")
    if line_end != -1 and not header_so_far(head[line_end + 1 :]):
        raise ConnectorError(
            f"{mbox.path} (mailbox {mbox.mailbox}): {NOT_A_HEADER} at its start "
            f"({size} bytes), so not an mbox file; nothing imported from it"
        )


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


@contextmanager
def _fewer_collections() -> Iterator[None]:
    """The cyclic collector runs every GC_ALLOCATIONS allocations instead of 700 while
    API pages are read: each page's JSON and records are tens of thousands of objects
    that live until written, and the collector walked them (and, promoted, the whole
    heap: 28 full collections) again and again, ~30% of a Graph first sync's CPU."""
    before = gc.get_threshold()
    gc.set_threshold(max(before[0], GC_ALLOCATIONS), *before[1:])
    try:
        yield
    finally:
        gc.set_threshold(*before)


def ingest_mailboxes(
    source: MailboxSource,
    warehouse: Path,
    run_id: str,
    imap_login: Callable[[ImapMailbox], ImapLogin] | None = None,
    graph_credentials: Callable[[GraphAccount], AppCredentials] | None = None,
    gmail_connection: Callable[[GmailSource], GmailConnection] | None = None,
) -> dict[str, Any]:
    """Import the configured mbox files, IMAP, Microsoft Graph and Gmail API mailboxes;
    `imap_login`, `graph_credentials` and `gmail_connection` give their credentials
    (from their Airflow Connections in the DAG)."""
    if source.imap and imap_login is None:
        raise ValueError("sources.mailboxes.imap is configured but no IMAP login was given")
    if source.graph and graph_credentials is None:
        raise ValueError("sources.mailboxes.graph is configured but no credentials were given")
    if source.gmail and gmail_connection is None:
        raise ValueError("sources.mailboxes.gmail is configured but no Gmail connection was given")
    with (
        open_writer(warehouse) as con,
        run_step(con, run_id, "ingest_mailboxes") as stats,
    ):
        now = datetime.now(UTC)
        stats.update(files=0, skipped_unchanged=0, changed_while_read=0, messages=0, rejected=0)
        mbox_rows = _Rows("mbox", now)
        unreadable = []
        for mbox in source.mbox:
            if not mbox.path.is_file():
                raise FileNotFoundError(f"mbox file {mbox.path} (mailbox {mbox.mailbox}) not found")
            cursor = MboxCursor.loads(get_cursor(con, "mbox", f"{mbox.mailbox}:{mbox.path}"))
            if cursor is not None and cursor.unchanged(mbox.path):
                stats["skipped_unchanged"] += 1
                continue
            try:
                complete = _import_file(con, mbox, cursor, mbox_rows)
            except ConnectorError as exc:  # the other sources are read all the same
                unreadable.append(str(exc))
                continue
            stats["files"] += 1
            if not complete:
                stats["changed_while_read"] += 1
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
        graph_rows = _Rows("graph", now)
        gmail_rows = _Rows("gmail", now)
        with _fewer_collections():
            for account in source.graph:
                unreadable += sync_graph(
                    con, account, graph_credentials(account), graph_rows, stats
                )
            if source.gmail:
                stats.update(dict.fromkeys(GMAIL_STATS, 0))
            for entry in source.gmail:
                unreadable += sync_gmail_source(
                    con, entry, gmail_connection(entry), gmail_rows, stats
                )
        every = (mbox_rows, imap_rows, graph_rows, gmail_rows)
        stats["messages"] = sum(rows.loaded for rows in every)
        stats["rejected"] = sum(rows.rejected for rows in every)
        if unreadable:
            raise ConnectorError("; ".join(unreadable))
        return dict(stats)
