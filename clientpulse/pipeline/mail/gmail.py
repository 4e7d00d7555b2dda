"""Gmail API mailboxes → raw: each mailbox's batches with their cursor in one
transaction; deleted messages archived (`raw.email_sightings.deleted_at`), relabelled
ones updated. A mailbox whose token is refused is reported by name; the others load."""

from __future__ import annotations

from collections.abc import Callable
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
    "gmail_vanished",
)


class RowSink(Protocol):
    """The ingest's rows for one transaction (clientpulse.pipeline.mail.ingest._Rows)."""

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

    `clients`, when given, receives each mailbox's client (its stats: what a sync cost).
    """
    scope = READONLY_SCOPE if source.read_first_lines else METADATA_SCOPE
    failures = []
    for mailbox in gmail_mailboxes(source, connection):
        tokens = GoogleTokens(mailbox, connection.credentials, scopes=(scope,))
        client = GmailClient(
            tokens, base_url=connection.api_base_url, units_per_second=source.units_per_second
        )
        if clients is not None:
            clients[mailbox] = client
        try:
            _sync_mailbox(con, client, source, mailbox, rows, stats)
        except ConnectorError as exc:  # the other mailboxes are read all the same
            failures.append(str(exc))
        stats["gmail_requests"] += client.stats.requests
    return failures


def _sync_mailbox(
    con: duckdb.DuckDBPyConnection,
    client: GmailClient,
    source: GmailSource,
    mailbox: str,
    rows: RowSink,
    stats: dict[str, Any],
) -> None:
    known = {
        ref.rpartition("/")[2]
        for (ref,) in con.execute(
            "SELECT source_ref FROM raw.email_sightings WHERE mailbox = ? AND source = 'gmail'",
            [mailbox],
        ).fetchall()
    }
    reader = GmailMailboxReader(
        client,
        mailbox,
        known,
        read_first_lines=source.read_first_lines,
        window_days=source.window_days,
    )
    for batch in reader.batches(GmailCursor.loads(get_cursor(con, "gmail", mailbox))):
        stats["gmail_resynced_mailboxes"] += batch.resync
        stats["gmail_archived"] += len(batch.deleted)
        rows.add(batch.items)
        rows.flush(con, (mailbox, batch.cursor.dumps()), also=_changes(batch, rows))
    stats["gmail_mailboxes"] += 1
    stats["gmail_vanished"] += reader.vanished


def _changes(
    batch: GmailBatch, rows: RowSink
) -> Callable[[duckdb.DuckDBPyConnection], None] | None:
    if not batch.deleted and not batch.labels:
        return None
    now = rows.now

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
