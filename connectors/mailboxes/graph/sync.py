"""Microsoft Graph mailboxes → raw: each delta page with its cursor in one transaction.

Folders are read in parallel threads (each mailbox with its own client: at most 4
requests in flight and its own request budget); pages come back through a bounded queue and are
written here, on the one warehouse connection, in arrival order. A page is written in
the same transaction as its cursor: the records (`raw.email_messages`,
`raw.email_sightings`, quarantine), the item ledger (`raw.email_graph_items`: live
items, `@removed` ones archived with the reason) and the folder's cursor (the next or
delta link); the pages that queued up while the writer was busy share one transaction
(each folder's cursor then being its last page's link). A mailbox that cannot be read
(consent, access policy, no such mailbox, retries exhausted) is reported by name after
the others have loaded.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import duckdb
import pandas as pd

from connectors.errors import ConnectorError
from connectors.mailboxes.graph.auth import AppCredentials, TokenProvider
from connectors.mailboxes.graph.client import GraphMailClient
from connectors.mailboxes.graph.reader import FolderCursor, FolderPage, GraphMailboxReader
from connectors.mailboxes.graph.settings import GraphAccount
from connectors.mailboxes.headers import MessageRecord
from warehouse.cursors import get_cursor, set_cursors
from warehouse.load import upsert

if TYPE_CHECKING:
    from connectors.mailboxes.ingest import _Rows

SOURCE = "graph"
LEDGER_KEY = ("mailbox", "item_id")
QUEUE_PAGES = 16
SLEEP: Callable[[float], None] = time.sleep  # how retries wait (tests record it)


@dataclass
class _Done:
    mailbox: str
    error: ConnectorError | None


def sync_graph(
    con: duckdb.DuckDBPyConnection,
    account: GraphAccount,
    credentials: AppCredentials,
    rows: _Rows,
    stats: dict[str, Any],
) -> list[str]:
    """Read every mailbox of `account`; return the errors of those that could not be read."""
    tokens = TokenProvider(credentials)
    cursors = {
        (box, folder): FolderCursor.loads(get_cursor(con, SOURCE, f"{box}:{folder}"))
        for box in account.mailboxes
        for folder in account.all_folders()
    }
    pages: queue.Queue[tuple[str, str, FolderPage] | _Done] = queue.Queue(QUEUE_PAGES)
    stop = threading.Event()

    def put(item: tuple[str, str, FolderPage] | _Done) -> bool:
        """Hand a page to the writer; False once the writer has stopped."""
        while not stop.is_set():
            try:
                pages.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    clients = {
        box: GraphMailClient(
            box,
            tokens,
            base_url=credentials.graph_url,
            page_size=account.page_size,
            max_concurrent=account.max_concurrent_per_mailbox,
            requests_per_minute=account.requests_per_minute_per_mailbox,
            sleep=SLEEP,
        )
        for box in account.mailboxes
    }
    readers = {
        box: GraphMailboxReader(client, read_first_lines=account.read_first_lines)
        for box, client in clients.items()
    }

    def read(box: str, folder: str) -> None:
        """One folder's pages (a mailbox's folders are read side by side)."""
        error = None
        try:
            for page in readers[box].folder_pages(folder, cursors[(box, folder)]):
                if not put((box, folder, page)):
                    return
        except ConnectorError as exc:
            error = exc
        put(_Done(box, error))

    failed: dict[str, str] = {}
    resyncs: dict[tuple[str, str], datetime] = {}
    for name in ("pages", "requests", "removed", "resynced_folders", "mailboxes"):
        stats.setdefault(f"graph_{name}", 0)
    tasks = [(box, folder) for box in account.mailboxes for folder in account.all_folders()]
    workers = min(len(tasks), account.parallel_mailboxes * len(account.all_folders()))
    with ThreadPoolExecutor(workers, thread_name_prefix="graph") as pool:
        for task in tasks:
            pool.submit(read, *task)
        waiting = len(tasks)
        try:
            while waiting:
                arrived = [pages.get()]
                while len(arrived) < QUEUE_PAGES:  # the pages waiting share one transaction
                    try:
                        arrived.append(pages.get_nowait())
                    except queue.Empty:
                        break
                written = []
                for item in arrived:
                    if isinstance(item, _Done):
                        waiting -= 1
                        if item.error is not None:  # one message per mailbox
                            failed.setdefault(item.mailbox, str(item.error))
                    else:
                        written.append(item)
                _write(con, rows, written, resyncs)
                for _, _, page in written:
                    stats["graph_pages"] += 1
                    stats["graph_removed"] += len(page.removed)
                    stats["graph_resynced_folders"] += page.resync_started
        finally:
            stop.set()  # readers still running stop at their next page
    stats["graph_mailboxes"] += len(clients) - len(failed)
    stats["graph_requests"] += sum(c.stats.requests for c in clients.values()) + tokens.issued
    return list(failed.values())


def _write(
    con: duckdb.DuckDBPyConnection,
    rows: _Rows,
    pages: list[tuple[str, str, FolderPage]],
    resyncs: dict[tuple[str, str], datetime],
) -> None:
    """Pages in arrival order, in one transaction: their records, the item ledger and
    each folder's cursor (its last page's link). A transaction's fixed cost (~0.1 s)
    is shared by the pages that queued up while the one before was written."""
    if not pages:
        return
    now = datetime.now(UTC)
    cursors: dict[str, str] = {}
    gone: list[tuple[str, str, datetime]] = []  # folders whose resync round ended
    for box, folder, page in pages:
        if page.resync_started:
            resyncs[(box, folder)] = now
        if page.cursor.complete and (box, folder) in resyncs:
            gone.append((box, folder, resyncs.pop((box, folder))))
        cursors[f"{box}:{folder}"] = page.cursor.dumps()
        rows.add(page.records)

    def bookkeeping(con: duckdb.DuckDBPyConnection) -> None:
        _ledger(con, pages, now)
        for box, folder, started in gone:
            con.execute(_GONE_SQL, [now, box, folder, started])
        set_cursors(con, SOURCE, cursors)

    rows.flush(con, also=bookkeeping)


def _ledger(
    con: duckdb.DuckDBPyConnection, pages: list[tuple[str, str, FolderPage]], now: datetime
) -> None:
    """`raw.email_graph_items`: live items, then removed ones (INSERT OR REPLACE sets only
    the columns given: a removal keeps the message key); an item live again after its
    removal in these pages is written in a second round, so the last page wins."""
    live: dict[tuple[str, str], tuple[str, str | None]] = {}  # -> folder, message key
    removed: dict[tuple[str, str], tuple[str, str]] = {}  # -> folder, reason
    for box, folder, page in pages:
        for item_id, record in page.items:
            if (box, item_id) in removed:
                _upsert_ledger(con, live, removed, now)
                live, removed = {}, {}
            key = record.message_key if isinstance(record, MessageRecord) else None
            live[(box, item_id)] = (folder, key)
        for item_id, reason in page.removed:
            removed[(box, item_id)] = (folder, reason or "deleted")
    _upsert_ledger(con, live, removed, now)


def _upsert_ledger(
    con: duckdb.DuckDBPyConnection,
    live: dict[tuple[str, str], tuple[str, str | None]],
    removed: dict[tuple[str, str], tuple[str, str]],
    now: datetime,
) -> None:
    if live:
        boxes, items, folders, keys = _columns(live)
        frame = {"mailbox": boxes, "item_id": items, "folder": folders, "seen_at": now,
                 "message_key": keys, "removed_at": None, "removed_reason": None}  # fmt: skip
        upsert(con, "raw.email_graph_items", pd.DataFrame(frame), LEDGER_KEY)
    if removed:
        boxes, items, folders, reasons = _columns(removed)
        frame = {"mailbox": boxes, "item_id": items, "folder": folders, "seen_at": now,
                 "removed_at": now, "removed_reason": reasons}  # fmt: skip
        upsert(con, "raw.email_graph_items", pd.DataFrame(frame), LEDGER_KEY)


def _columns(entries: dict[tuple[str, str], tuple[str, str | None]]) -> list[tuple]:
    """(mailbox, item id) -> (folder, value) entries as four columns."""
    return [*zip(*entries, strict=True), *zip(*entries.values(), strict=True)]


# After a resync round: items not seen again since it started are gone (not lost: archived).
_GONE_SQL = """
UPDATE raw.email_graph_items SET removed_at = ?, removed_reason = 'gone_at_resync'
WHERE mailbox = ? AND folder = ? AND removed_at IS NULL AND seen_at < ?
"""
