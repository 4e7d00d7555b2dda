"""Message records from one Gmail mailbox: a first sync over a window, then history.

First sync: the mailbox's `historyId` is taken from `getProfile` before anything is
listed; `messages.list` pages (newest first, 500 ids a call) are read until the window
ends, and the ids not loaded yet are fetched through the batch endpoint with
`format=metadata` and only the headers a record needs (`format=raw` when the first
lines are read, to decide whether a reply is a pure closer; the body is not kept).
`messages.list` gives no dates and `gmail.metadata` allows no `q`, so the window is
applied to the fetched messages' `internalDate`: the listing stops after the first page
that reaches past it.

Incremental: `history.list` from the stored `historyId` gives messages added (fetched),
deleted (their sightings archived, the rows kept) and relabelled (labels updated from
the history record, no fetch). A `historyId` Gmail no longer keeps (404) starts a
bounded resync: the listing from the newest message down to the first page that holds
a message already loaded, fetching only ids not loaded yet (deletions and label changes
inside that gap are not seen; a message filed into the past, e.g. imported, neither).

Each batch carries the cursor to commit with its rows; the last one carries the new
`historyId`. Ids already loaded are never fetched again, so a run killed mid-sync
resumes where its last committed batch ended.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from connectors.mailboxes.body_text import BODY_PREFIX_BYTES
from connectors.mailboxes.gmail.client import GmailClient, NotFound
from connectors.mailboxes.headers import (
    READ_FIELDS,
    MessageRecord,
    Rejected,
    header_end,
    normalize,
    record_from_block,
)

# Takeout's X-GM-THRID / X-Gmail-Labels are not headers in Gmail: threadId and labelIds.
METADATA_HEADERS = tuple(n for n in READ_FIELDS if n not in ("x-gmail-labels", "x-gm-thrid"))
LIST_PAGE = 500
HISTORY_PAGE = 500
# Messages fetched, then committed with their cursor, at a time: a commit costs ~0.3 s
# (0.6 ms a message at 500, 2.8 ms at 100, more than fetching them).
FETCH_CHUNK = 500
HISTORY_TYPES = ("messageAdded", "messageDeleted", "labelAdded", "labelRemoved")


def source_ref(mailbox: str, message_id: str) -> str:
    return f"gmail://{mailbox}/{message_id}"


@dataclass(frozen=True)
class GmailCursor:
    """The `historyId` to read history from, and whether the first sync has finished."""

    history_id: str
    complete: bool

    def dumps(self) -> str:
        return json.dumps({"history_id": self.history_id, "complete": self.complete})

    @classmethod
    def loads(cls, value: str | None) -> GmailCursor | None:
        if value is None:
            return None
        stored = json.loads(value)
        return cls(str(stored["history_id"]), bool(stored["complete"]))


@dataclass
class GmailBatch:
    """Records to load, sightings to archive, labels to update, and the cursor reached."""

    cursor: GmailCursor
    items: list[MessageRecord | Rejected] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)  # source_refs
    labels: dict[str, list[str]] = field(default_factory=dict)  # source_ref -> label ids
    resync: bool = False


@dataclass
class GmailMailboxReader:
    """Reads one mailbox; `known` holds the Gmail ids already loaded (it grows)."""

    client: GmailClient
    mailbox: str
    known: set[str]
    read_first_lines: bool = False
    window_days: int = 400
    now: datetime = field(default_factory=lambda: datetime.now(UTC))
    vanished: int = 0  # listed, then deleted before they were fetched

    def batches(self, cursor: GmailCursor | None) -> Iterator[GmailBatch]:
        if cursor is not None and cursor.complete:
            try:
                yield from self._history(cursor)
                return
            except HistoryExpired:
                start = self._profile_history_id()
                yield from self._listing(start, stop_at_known=True, resync=True)
                return
        start = cursor.history_id if cursor is not None else self._profile_history_id()
        yield from self._listing(start, stop_at_known=False, resync=False)

    def _profile_history_id(self) -> str:
        return str(self.client.call("getProfile", "/profile")["historyId"])

    def _listing(self, start: str, *, stop_at_known: bool, resync: bool) -> Iterator[GmailBatch]:
        """Pages newest first; each page's new ids fetched and yielded a chunk at a time."""
        oldest = int((self.now - timedelta(days=self.window_days)).timestamp() * 1000)
        partial = GmailCursor(start, complete=False)
        token: str | None = None
        while True:
            params = [("maxResults", str(LIST_PAGE))] + ([("pageToken", token)] if token else [])
            page = self.client.call("messages.list", "/messages", params)
            ids = [m["id"] for m in page.get("messages", [])]
            new = [i for i in ids if i not in self.known]
            past_window = False
            for first in range(0, len(new), FETCH_CHUNK):
                messages = self._fetch(new[first : first + FETCH_CHUNK])
                items = [self._record(m) for m in messages if int(m["internalDate"]) >= oldest]
                past_window = len(items) < len(messages)
                if items:
                    yield GmailBatch(partial, items, resync=resync)
                    resync = False
                if past_window:
                    break
            token = page.get("nextPageToken")
            if not token or past_window or (stop_at_known and len(new) < len(ids)):
                break
        yield GmailBatch(GmailCursor(start, complete=True), resync=resync)

    def _history(self, cursor: GmailCursor) -> Iterator[GmailBatch]:
        added: dict[str, None] = {}
        deleted: dict[str, None] = {}
        labels: dict[str, list[str]] = {}
        token: str | None = None
        while True:
            params = [("startHistoryId", cursor.history_id), ("maxResults", str(HISTORY_PAGE))]
            params += [("historyTypes", t) for t in HISTORY_TYPES]
            params += [("pageToken", token)] if token else []
            try:
                page = self.client.call("history.list", "/history", params)
            except NotFound:
                raise HistoryExpired from None
            for record in page.get("history", []):
                for entry in record.get("messagesAdded", []):
                    added[entry["message"]["id"]] = None
                for entry in record.get("messagesDeleted", []):
                    message_id = entry["message"]["id"]
                    added.pop(message_id, None)
                    labels.pop(message_id, None)
                    deleted[message_id] = None
                for kind in ("labelsAdded", "labelsRemoved"):
                    for entry in record.get(kind, []):
                        message = entry["message"]
                        labels[message["id"]] = list(message.get("labelIds", []))
            token = page.get("nextPageToken")
            if not token:
                break
        done = GmailCursor(str(page["historyId"]), complete=True)
        new = [i for i in added if i not in self.known]
        for start in range(0, len(new), FETCH_CHUNK):
            items = [self._record(m) for m in self._fetch(new[start : start + FETCH_CHUNK])]
            yield GmailBatch(cursor, items)
        yield GmailBatch(
            done,
            deleted=[source_ref(self.mailbox, i) for i in deleted if i in self.known],
            labels={
                source_ref(self.mailbox, i): v
                for i, v in labels.items()
                if i in self.known and i not in new
            },
        )

    def _fetch(self, ids: list[str]) -> list[dict[str, Any]]:
        if not ids:
            return []
        if self.read_first_lines:
            params = [("format", "raw")]
        else:
            params = [("format", "metadata")] + [("metadataHeaders", h) for h in METADATA_HEADERS]
        found = self.client.get_messages(ids, params)
        messages = [found[i] for i in ids if found.get(i) is not None]
        self.vanished += len(ids) - len(messages)
        self.known.update(m["id"] for m in messages)
        return messages

    def _record(self, message: dict[str, Any]) -> MessageRecord | Rejected:
        ref = source_ref(self.mailbox, message["id"])
        if "raw" in message:
            data = base64.urlsafe_b64decode(message["raw"] + "==")
            end = header_end(data, 0, len(data))
            start = min(end + (1 if data[end : end + 1] == b"\n" else 2), len(data))
            body = data[start : start + BODY_PREFIX_BYTES]
            item = record_from_block(
                data[:end],
                mailbox=self.mailbox,
                source="gmail",
                source_ref=ref,
                body=(body, start + BODY_PREFIX_BYTES >= len(data)),
            )
        else:
            headers = [(h["name"], h["value"]) for h in message["payload"].get("headers", [])]
            item = normalize(headers, mailbox=self.mailbox, source="gmail", source_ref=ref)
        if isinstance(item, MessageRecord):
            if item.sent_at is None:
                item.sent_at = datetime.fromtimestamp(int(message["internalDate"]) / 1000, UTC)
                item.problems.append("sent_at_from_internaldate")
            item.gmail_labels = list(message.get("labelIds", []))
            item.gmail_thread_id = str(int(message["threadId"], 16))
        return item


class HistoryExpired(Exception):
    """The stored historyId is older than the history Gmail keeps (404)."""
