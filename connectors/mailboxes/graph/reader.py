"""Graph messages → `MessageRecord`s, folder by folder through delta queries.

A record is built by `connectors.mailboxes.headers.normalize` from header fields, exactly as
for mbox and IMAP. Mail that came in over the transport carries its header block in
`internetMessageHeaders`, and the record is read from it as another source reads the
same message: the same addresses, subject, Date text and, for a message sent without a
Message-ID, no id (Exchange stamps an `internetMessageId` on it, which would key the
message apart from its copies in other mailboxes and sources), so the same key. Exchange
keeps no headers for the mailbox's own mail (Sent Items): From, To, Cc, Reply-To,
Subject, Date and Message-ID then come from the message's properties (`from`,
`toRecipients`, ..., `sentDateTime`, `internetMessageId`), and there is no In-Reply-To
or References: its `conversationId` is then the thread hint (the staging threads place a
reply without references in its provider's thread, as with Gmail's thread ids). A
message whose Date header is unusable takes `receivedDateTime` (flagged
`sent_at_from_received_date_time`), as IMAP takes INTERNALDATE. The body is never
asked for; with `read_first_lines` (Mail.Read) the closing verdict is read from
`bodyPreview` (its first 255 characters).

The cursor of a folder is the link to ask next: an `@odata.nextLink` while a round is
under way (a run killed mid-round resumes there), then the round's `@odata.deltaLink`.
A link Graph no longer knows (410 Gone) restarts the folder once, from scratch.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from email.utils import format_datetime, formataddr
from typing import Any

from connectors.errors import ConnectorError
from connectors.mailboxes.headers import MessageRecord, Rejected, body_closing_verdict, normalize

from .client import GraphMailClient, SyncStateExpired

log = logging.getLogger(__name__)

SELECT = [
    *("internetMessageId", "conversationId", "from", "sender", "toRecipients"),
    *("ccRecipients", "replyTo", "subject", "sentDateTime", "receivedDateTime"),
    "internetMessageHeaders",
]
# Header fields taken from internetMessageHeaders (the others come from properties).
TRANSPORT_FIELDS = frozenset(
    {
        *("in-reply-to", "references", "auto-submitted", "precedence", "list-id"),
        *("x-autoreply", "x-autorespond", "return-path", "content-type"),
    }
)
PREVIEW_LENGTH = 255  # bodyPreview: "the first 255 characters of the message body"
PREVIEW_TYPE = "text/plain; charset=utf-8"


@dataclass(frozen=True)
class FolderCursor:
    link: str
    complete: bool  # a delta link (the round finished) rather than a next link

    def dumps(self) -> str:
        return json.dumps({"link": self.link, "complete": self.complete})

    @classmethod
    def loads(cls, value: str | None) -> FolderCursor | None:
        if value is None:
            return None
        data = json.loads(value)
        return cls(str(data["link"]), bool(data["complete"]))


@dataclass(frozen=True)
class FolderPage:
    """One delta page: its records, the item ids they came from, the removed ids."""

    records: list[MessageRecord | Rejected]
    items: list[tuple[str, MessageRecord | Rejected]]  # (Graph item id, its record)
    removed: list[tuple[str, str]]  # (Graph item id, reason)
    cursor: FolderCursor
    resync_started: bool  # the first page of a restart after 410 Gone


def _address(recipient: dict[str, Any] | None) -> str | None:
    email = (recipient or {}).get("emailAddress") or {}
    address = email.get("address")
    if not address:
        return None
    name = email.get("name") or ""
    # Graph repeats the address as the name when the message had none.
    return formataddr(("" if name.lower() == address.lower() else name, address))


def _address_field(recipients: list[dict[str, Any]] | None) -> str | None:
    addresses = [a for a in map(_address, recipients or []) if a]
    return ", ".join(addresses) if addresses else None


def _sent_at(value: str | None) -> str | None:
    if not value:
        return None
    return format_datetime(datetime.fromisoformat(value.replace("Z", "+00:00")))


def header_fields(resource: dict[str, Any]) -> list[tuple[str, str]]:
    """The header fields of a Graph message, as `normalize` reads them: the header block
    it arrived with, else (the mailbox's own mail) its properties."""
    transport = [
        (str(header.get("name", "")), str(header.get("value", "")))
        for header in resource.get("internetMessageHeaders") or []
    ]
    if any(name.lower() == "from" for name, _ in transport):
        return transport
    candidates = [
        ("From", _address(resource.get("from") or resource.get("sender"))),
        ("To", _address_field(resource.get("toRecipients"))),
        ("Cc", _address_field(resource.get("ccRecipients"))),
        ("Reply-To", _address_field(resource.get("replyTo"))),
        ("Subject", resource.get("subject") or None),
        ("Date", _sent_at(resource.get("sentDateTime"))),
        ("Message-ID", resource.get("internetMessageId")),
    ]
    fields = [(name, value) for name, value in candidates if value is not None]
    fields += [(name, value) for name, value in transport if name.lower() in TRANSPORT_FIELDS]
    return fields


def graph_record(
    resource: dict[str, Any], *, mailbox: str, folder: str, read_first_lines: bool = False
) -> MessageRecord | Rejected:
    """The record of one Graph message (see the module docstring for what comes from where)."""
    source_ref = f"{folder}/{resource['id']}"
    record = normalize(
        header_fields(resource), mailbox=mailbox, source="graph", source_ref=source_ref
    )
    if isinstance(record, Rejected):
        return record
    if record.sent_at is None and resource.get("receivedDateTime"):
        record.sent_at = datetime.fromisoformat(resource["receivedDateTime"].replace("Z", "+00:00"))
        record.problems.append("sent_at_from_received_date_time")
    record.gmail_thread_id = resource.get("conversationId")
    preview = resource.get("bodyPreview")
    if read_first_lines and preview is not None:
        body = (preview.encode("utf-8"), len(preview) < PREVIEW_LENGTH)
        is_reply = record.in_reply_to is not None or bool(record.references)
        record.closing_verdict, record.closing_rule = body_closing_verdict(
            PREVIEW_TYPE, None, is_reply, body
        )
    return record


class GraphMailboxReader:
    """Reads one mailbox's folders through delta queries."""

    def __init__(self, client: GraphMailClient, *, read_first_lines: bool = False) -> None:
        self.client = client
        self.mailbox = client.mailbox
        self.read_first_lines = read_first_lines
        self.select = [*SELECT, "bodyPreview"] if read_first_lines else SELECT
        self._preview_warned = False

    def folder_pages(self, folder: str, cursor: FolderCursor | None) -> Iterator[FolderPage]:
        """Pages from `cursor` (None: a first, full sync) to the end of the round."""
        link = cursor.link if cursor is not None else None
        restarted = False
        first = False
        while True:
            try:
                page = (
                    self.client.page(link) if link else self.client.first_page(folder, self.select)
                )
            except SyncStateExpired:
                if restarted or link is None:
                    raise ConnectorError(
                        f"mailbox {self.mailbox} folder {folder}: Graph refused the sync state "
                        "again right after a full restart; left for the next run"
                    ) from None
                log.warning(
                    "mailbox %s folder %s: delta link expired (410); reading the folder again",
                    self.mailbox,
                    folder,
                )
                restarted = first = True
                link = None
                continue
            yield self._page(folder, page.messages, page.next_link, page.delta_link, first)
            first = False
            if page.next_link is None:
                return
            link = page.next_link

    def _page(
        self,
        folder: str,
        messages: list[dict[str, Any]],
        next_link: str | None,
        delta_link: str | None,
        resync_started: bool,
    ) -> FolderPage:
        items: list[tuple[str, MessageRecord | Rejected]] = []
        removed: list[tuple[str, str]] = []
        for resource in messages:
            if "@removed" in resource:
                removed.append((resource["id"], str(resource["@removed"].get("reason", ""))))
                continue
            self._check_preview(resource)
            record = graph_record(
                resource,
                mailbox=self.mailbox,
                folder=folder,
                read_first_lines=self.read_first_lines,
            )
            items.append((resource["id"], record))
        link = next_link if next_link is not None else delta_link
        if link is None:
            raise ConnectorError(
                f"mailbox {self.mailbox} folder {folder}: a delta page with neither "
                "@odata.nextLink nor @odata.deltaLink"
            )
        return FolderPage(
            [record for _, record in items],
            items,
            removed,
            FolderCursor(link, next_link is None),
            resync_started,
        )

    def _check_preview(self, resource: dict[str, Any]) -> None:
        if self.read_first_lines and "bodyPreview" not in resource and not self._preview_warned:
            self._preview_warned = True
            log.warning(
                "mailbox %s: read_first_lines is on but Graph returned no bodyPreview: the app "
                "has Mail.ReadBasic.All only; grant Mail.Read for closing replies to be read",
                self.mailbox,
            )
