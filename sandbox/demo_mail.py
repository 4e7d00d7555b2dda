"""The simulated agency's mailboxes behind the Gmail API and Microsoft Graph fakes.

A mailbox holds what its owner sent or received: each message of the world is filed in
every mailbox the config's `sources.mailboxes.gmail` / `.graph` entries name that is
among its From, To and Cc addresses. The shared inbox is on every message the simulator
writes, so a shared inbox served through Graph holds the whole world, and each account
manager's Gmail mailbox the messages they sent, got or were copied on. In a personal
Gmail mailbox a message is labelled as its owner sees it: SENT when they sent it,
otherwise as the shared inbox's Takeout labelled it (its SENT read as INBOX).

Credentials are the sandbox's own: a service account key made afresh for each serve
process (the fake token endpoint knows only its public half; the private half goes to
the Airflow Connection), and a fixed app registration secret for the Graph tenant.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from connectors.mailboxes.settings import MailboxSource
from sandbox.fake_gmail import METADATA, READONLY, GmailState
from sandbox.fake_google_token import ServiceAccount
from sandbox.fake_graph import READ, READ_BASIC, GraphTenant
from sandbox.gmail_serving import CLIENT_EMAIL, CLIENT_ID, new_key

GRAPH_TENANT_ID = "5e0c7a1d-9b2f-4c3e-8d41-6a7b8c9d0e01"
GRAPH_CLIENT_ID = "c1e7b2a4-3d5f-4e6a-9b8c-7d0e1f2a3b04"
# Fixed demo credential; it guards nothing but lets the Graph source do the real grant.
GRAPH_CLIENT_SECRET = "demo-graph-secret"  # noqa: S105
SERVICE_ACCOUNT_KEY_ID = "demo-key-1"
_LABELS = re.compile(rb"^X-Gmail-Labels:([^\r\n]*)", re.I | re.M)
_ADDRESS_FIELDS = re.compile(rb"^(from|to|cc):(.*)$", re.M)


@dataclass
class DemoMail:
    """The fakes' mail (None: the config reads no mailbox from that provider) and the
    service account's JSON key, its `token_uri` filled in once the fake has a port."""

    gmail: GmailState | None = None
    graph: GraphTenant | None = None
    service_account: dict[str, Any] = field(default_factory=dict, repr=False)


def header_block(raw: bytes) -> bytes:
    """The message's header fields, unfolded and in lower case."""
    end = raw.find(b"\r\n\r\n")
    return re.sub(rb"\r?\n[ \t]+", b" ", raw[: end if end != -1 else len(raw)]).lower()


def holders(raw: bytes, mailboxes: re.Pattern[bytes]) -> tuple[set[str], str | None]:
    """Which mailboxes (`mailboxes`: their addresses) the message reaches in From, To or
    Cc, and which of them sent it."""
    found, sender = set(), None
    for field_name, value in _ADDRESS_FIELDS.findall(header_block(raw)):
        boxes = {box.decode() for box in mailboxes.findall(value)}
        found |= boxes
        if field_name == b"from" and boxes:
            sender = next(iter(boxes))
    return found, sender


def as_owner_sees_it(raw: bytes, owner: str, sender: bool) -> bytes:
    """The message with the Takeout labels of `owner`'s own mailbox."""
    labels = b"Sent" if sender else None

    def relabel(found: re.Match[bytes]) -> bytes:
        names = labels or b",".join(
            b"Inbox" if name.strip() == b"Sent" else name.strip() for name in found[1].split(b",")
        )
        return b"X-Gmail-Labels: " + names

    return _LABELS.sub(relabel, raw, count=1)


def demo_mail(source: MailboxSource | None, messages: Iterable[bytes]) -> DemoMail:
    """File the world's messages in the mailboxes the config reads through the fakes."""
    mail = DemoMail()
    if source is None or not (source.gmail or source.graph):
        return mail
    gmail_boxes = {box.lower() for entry in source.gmail for box in entry.mailboxes}
    graph_boxes = {box.lower() for account in source.graph for box in account.mailboxes}
    if gmail_boxes:
        mail.gmail = GmailState()
        private, public = new_key()
        scopes = {METADATA, READONLY}  # what the admin delegated: never the whole mailbox
        mail.gmail.authority.add_service_account(
            ServiceAccount(CLIENT_EMAIL, CLIENT_ID, public), scopes
        )
        mail.service_account = {
            "type": "service_account",
            "client_email": CLIENT_EMAIL,
            "client_id": CLIENT_ID,
            "private_key_id": SERVICE_ACCOUNT_KEY_ID,
            "private_key": private,
        }
        for box in sorted(gmail_boxes):
            mail.gmail.mailbox(box)
    if graph_boxes:
        mail.graph = GraphTenant(GRAPH_TENANT_ID)
        reads_bodies = any(account.read_first_lines for account in source.graph)
        permissions = (READ,) if reads_bodies else (READ_BASIC,)
        mail.graph.register_app(
            GRAPH_CLIENT_ID, secret=GRAPH_CLIENT_SECRET, permissions=permissions
        )
        for box in sorted(graph_boxes):
            mail.graph.add_mailbox(box)
    served = b"|".join(re.escape(box.encode()) for box in sorted(gmail_boxes | graph_boxes))
    pattern = re.compile(rb"(?<![\w.+-])(" + served + rb")(?![\w.-])")
    for raw in messages:
        found, sender = holders(raw, pattern)
        for box in gmail_boxes & found:
            mail.gmail.mailboxes[box].add(as_owner_sees_it(raw, box, box == sender))
        for box in graph_boxes & found:
            mail.graph.add(box, raw)
    return mail
