"""Gmail API mailboxes → raw: each mailbox's batches with their cursor in one
transaction; deleted messages archived (`raw.email_sightings.deleted_at`), relabelled
ones updated. A mailbox whose token is refused is reported by name; the others load.
Mailboxes are read in parallel (Gmail's quota is per user)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

import duckdb

from connectors.errors import ConnectorError
from connectors.mailboxes.gmail.auth import (
    DIRECTORY_SCOPE,
    METADATA_SCOPE,
    READONLY_SCOPE,
    GmailConnection,
    GoogleTokens,
    ServiceAccountKey,
)
from connectors.mailboxes.gmail.client import GmailClient
from connectors.mailboxes.gmail.directory import domain_users
from connectors.mailboxes.gmail.reader import GmailBatch, GmailCursor, GmailMailboxReader
from connectors.mailboxes.gmail.settings import GmailSource
from warehouse.cursors import get_cursor

GMAIL_STATS = (
    *("gmail_mailboxes", "gmail_requests", "gmail_resynced_mailboxes", "gmail_archived"),
    *("gmail_vanished", "gmail_rate_limited"),
)


class RowSink(Protocol):
    """The ingest's rows for one transaction (connectors.mailboxes.ingest._Rows)."""

    now: datetime

    def add(self, items: Any) -> None: ...

    def flush(
        self,
        con: duckdb.DuckDBPyConnection,
        cursor: tuple[str, str] | None = None,
        also: Callable[[duckdb.DuckDBPyConnection], None] | None = None,
    ) -> None: ...


def gmail_mailboxes(source: GmailSource, connection: GmailConnection) -> list[str]:
    """The configured mailboxes, or the domain's active users but the excluded ones."""
    if not source.all_users:
        return list(source.mailboxes)
    if not isinstance(connection.credentials, ServiceAccountKey):
        raise ConnectorError(
            f"sources.mailboxes.gmail ({source.connection_id}): all_users needs a service "
            "account key in the Connection, not a refresh token"
        )
    admin = GoogleTokens(
        source.admin_email or "", connection.credentials, scopes=(DIRECTORY_SCOPE,)
    )
    users = domain_users(admin, source.domain or "", connection.directory_base_url)
    return [u for u in users if u not in set(source.exclude)]


def sync_gmail_source(
    con: duckdb.DuckDBPyConnection,
    source: GmailSource,
    connection: GmailConnection,
    rows: RowSink,
    stats: dict[str, Any],
    clients: dict[str, GmailClient] | None = None,
) -> list[str]:
    """Sync every mailbox of one Gmail source; return the errors of those that failed.

    Gmail's quota is per user, so mailboxes are read in parallel (`parallel_mailboxes`
    threads); the warehouse is written by one of them at a time. `clients`, when given,
    receives each mailbox's client (its stats: what a sync cost).
    """
    scope = READONLY_SCOPE if source.read_first_lines else METADATA_SCOPE
    writer = threading.Lock()
    failures: dict[str, str] = {}

    def sync(mailbox: str) -> None:
        tokens = GoogleTokens(mailbox, connection.credentials, scopes=(scope,))
        client = GmailClient(
            tokens, base_url=connection.api_base_url, units_per_second=source.units_per_second
        )
        if clients is not None:
            clients[mailbox] = client
        try:
            _sync_mailbox(_Writer(con, rows, stats, writer), client, source, mailbox)
        except ConnectorError as exc:  # the other mailboxes are read all the same
            failures[mailbox] = str(exc)
        with writer:
            stats["gmail_requests"] += client.stats.requests
            stats["gmail_rate_limited"] += client.stats.rate_limited

    mailboxes = gmail_mailboxes(source, connection)
    with ThreadPoolExecutor(min(source.parallel_mailboxes, max(1, len(mailboxes)))) as pool:
        list(pool.map(sync, mailboxes))
    return [failures[m] for m in mailboxes if m in failures]


@dataclass
class _Writer:
    """The warehouse side of one mailbox's sync, one writer at a time."""

    con: duckdb.DuckDBPyConnection
    rows: RowSink
    stats: dict[str, Any]
    lock: threading.Lock

    def known(self, mailbox: str) -> set[str]:
        """Gmail ids of the messages already loaded from `mailbox`."""
        with self.lock:
            found = self.con.execute(
                "SELECT source_ref FROM raw.email_sightings WHERE mailbox = ? AND source = 'gmail'",
                [mailbox],
            ).fetchall()
            return {ref.rpartition("/")[2] for (ref,) in found}

    def cursor(self, mailbox: str) -> GmailCursor | None:
        with self.lock:
            return GmailCursor.loads(get_cursor(self.con, "gmail", mailbox))

    def commit(self, mailbox: str, batch: GmailBatch) -> None:
        """The batch's rows, archived sightings, labels and cursor: one transaction."""
        with self.lock:
            self.stats["gmail_resynced_mailboxes"] += batch.resync
            self.stats["gmail_archived"] += len(batch.deleted)
            self.rows.add(batch.items)
            cursor = (mailbox, batch.cursor.dumps())
            self.rows.flush(self.con, cursor, also=_changes(batch, self.rows.now))

    def count(self, **counts: int) -> None:
        with self.lock:
            for name, value in counts.items():
                self.stats[name] += value


def _sync_mailbox(writer: _Writer, client: GmailClient, source: GmailSource, mailbox: str) -> None:
    reader = GmailMailboxReader(
        client,
        mailbox,
        writer.known(mailbox),
        read_first_lines=source.read_first_lines,
        window_days=source.window_days,
    )
    for batch in reader.batches(writer.cursor(mailbox)):
        writer.commit(mailbox, batch)
    writer.count(gmail_mailboxes=1, gmail_vanished=reader.vanished)


def _changes(
    batch: GmailBatch, now: datetime
) -> Callable[[duckdb.DuckDBPyConnection], None] | None:
    if not batch.deleted and not batch.labels:
        return None

    def apply(con: duckdb.DuckDBPyConnection) -> None:
        if batch.deleted:
            con.execute(
                "UPDATE raw.email_sightings SET deleted_at = ? "
                "WHERE source_ref IN (SELECT unnest(?::VARCHAR[])) AND deleted_at IS NULL",
                [now, batch.deleted],
            )
        for ref, labels in batch.labels.items():
            con.execute(
                "UPDATE raw.email_messages SET gmail_labels = ? WHERE message_key = "
                "(SELECT message_key FROM raw.email_sightings WHERE source_ref = ?)",
                [labels, ref],
            )

    return apply
