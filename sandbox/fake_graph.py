"""A local Microsoft Graph (mail) and Microsoft identity platform speaking the real wire protocol.

Serves, under `/v1.0`, `users/{id}/mailFolders/{id}/messages/delta` (message-delta.md):
`$select`, `Prefer: odata.maxpagesize`, `@odata.nextLink` / `@odata.deltaLink` with
opaque `$skiptoken` / `$deltatoken` state, `@removed` entries, and `users/{id}/mailFolders/{id}`
(mailfolder.md, with the well-known names `inbox`, `sentitems`, `drafts`, `deleteditems`).
Errors use Graph's body `{"error": {"code", "message"}}`; an expired sync state is
`410 Gone` / `syncStateNotFound`; throttling is `429` (and injected `503`) with
`Retry-After`; more than 4 requests in flight for one mailbox is Exchange's
MailboxConcurrency 429.

Tokens come from `POST /{tenant}/oauth2/v2.0/token` (client-credentials grant, a secret
or a certificate's signed `client_assertion`, scope `<resource>/.default`), answered as
the identity platform does (`token_type`, `expires_in`, `access_token`; errors as
`error`, `error_description`, `error_codes`).

Permissions (application): `Mail.ReadBasic.All` returns every message property except
`body`, `bodyPreview` and `uniqueBody` (Microsoft's permissions reference: "except for
body, bodyPreview, uniqueBody, attachments, extensions, and any extended properties");
`Mail.Read` returns them too. Both return `internetMessageId`, `conversationId`,
`conversationIndex` and, only when `$select`ed, `internetMessageHeaders`, which Exchange
keeps only for mail that came in over the transport: items in Sent Items have none
(microsoftgraph/msgraph-sdk-dotnet#3025, microsoft-graph-docs#18761).

The mailbox content is RFC 5322 messages (the simulator's); `GraphTenant.add` files each
one in Sent Items when the mailbox sent it (but its own automatic replies, which
Exchange does not keep), else in the Inbox. Tests change mailboxes
between and during syncs through `app.state.graph` (`move`, `delete`, `expire_sync_state`,
`expire_tokens`) and set faults on `app.state.faults`.
"""

from __future__ import annotations

import asyncio
import base64
import email
import email.policy
import hashlib
import json
import re
import secrets
import time
from bisect import bisect_right
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.header import decode_header, make_header
from email.message import Message
from email.utils import getaddresses, parsedate_to_datetime
from typing import Any

import jwt
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response

GRAPH = "/v1.0"
WELL_KNOWN_FOLDERS = {
    "inbox": "Inbox",
    "sentitems": "Sent Items",
    "drafts": "Drafts",
    "deleteditems": "Deleted Items",
    "archive": "Archive",
}
MAILBOX_CONCURRENCY = 4  # Exchange: at most 4 concurrent requests per app and mailbox
MAX_PAGE_SIZE = 1000
DEFAULT_PAGE_SIZE = 10
BODY_PROPERTIES = frozenset({"body", "bodyPreview", "uniqueBody"})
# Returned only when $select names them (message resource).
SELECT_ONLY = frozenset({"internetMessageHeaders", "uniqueBody"})
MESSAGE_PROPERTIES = frozenset(
    {
        *("bccRecipients", "body", "bodyPreview", "categories", "ccRecipients", "changeKey"),
        *("conversationId", "conversationIndex", "createdDateTime", "from", "hasAttachments"),
        *("id", "importance", "inferenceClassification", "internetMessageHeaders"),
        *("internetMessageId", "isDeliveryReceiptRequested", "isDraft", "isRead"),
        *("isReadReceiptRequested", "lastModifiedDateTime", "parentFolderId"),
        *("receivedDateTime", "replyTo", "sender", "sentDateTime", "subject"),
        *("toRecipients", "uniqueBody", "webLink", "flag"),
    }
)
READ_BASIC = "Mail.ReadBasic.All"
READ = "Mail.Read"
POLICY_MESSAGE = (
    "Access to OData is disabled: [RAOP] : Blocked by tenant configured AppOnly "
    "AccessPolicy settings."
)


def graph_error(status: int, code: str, message: str, retry_after: int | None = None) -> Response:
    headers = {"Retry-After": str(retry_after)} if retry_after is not None else None
    return JSONResponse(
        {"error": {"code": code, "message": message}}, status_code=status, headers=headers
    )


def identity_error(status: int, error: str, code: int, description: str) -> Response:
    body = {
        "error": error,
        "error_description": f"AADSTS{code}: {description}",
        "error_codes": [code],
        "timestamp": datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%SZ"),
        "trace_id": secrets.token_hex(8),
        "correlation_id": secrets.token_hex(8),
    }
    return JSONResponse(body, status_code=status)


# --- mailbox content ------------------------------------------------------------------


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _recipient(name: str, address: str) -> dict[str, Any]:
    return {"emailAddress": {"name": name or address, "address": address}}


def _decoded(value: Any) -> str:
    """A header value as text, RFC 2047 words decoded (unknown charsets kept as written)."""
    text = " ".join(str(value).split())
    if "=?" not in text:
        return text
    try:
        return str(make_header(decode_header(text)))
    except (LookupError, ValueError, UnicodeDecodeError):
        return text


def _recipients(message: Message, name: str) -> list[dict[str, Any]]:
    values = [str(v) for v in message.get_all(name) or []]
    return [_recipient(_decoded(n), a) for n, a in getaddresses(values) if "@" in a]


def _date(value: Any) -> datetime | None:
    if value is None:
        return None
    try:
        moment = parsedate_to_datetime(str(value))
    except (TypeError, ValueError, IndexError):
        return None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _unfolded(value: Any) -> str:
    """A header value as Graph's internetMessageHeaders carry it: unfolded, as written."""
    if not isinstance(value, str):  # compat32 hands undecodable bytes back as a Header
        value = str(value)
    return re.sub(r"\r?\n(?=[ \t])", "", value).strip()


def _text_body(message: Message) -> str:
    for part in message.walk():
        if part.get_content_type() in ("text/plain", "text/html"):
            payload = part.get_payload(decode=True) or b""
            try:
                return payload.decode(part.get_content_charset() or "utf-8", "replace")
            except LookupError:
                return payload.decode("utf-8", "replace")
    return ""


def _ids(value: str | None) -> list[str]:
    return [f"<{i.strip('<> ')}>" for i in (value or "").split() if i.strip("<> ")]


def _conversation(message: Message) -> str:
    """Exchange groups a reply with the message it answers: the thread's root id here."""
    refs = _ids(str(message.get("References", ""))) or _ids(str(message.get("In-Reply-To", "")))
    root = refs[0] if refs else str(message.get("Message-ID", "")).strip() or secrets.token_hex(8)
    digest = hashlib.sha1(root.encode("utf-8", "replace"), usedforsecurity=False).digest()
    return "AAQk" + base64.b64encode(digest).decode("ascii")


def parse_message(raw: bytes) -> Message:
    return email.message_from_bytes(raw, policy=email.policy.compat32)


def message_resource(
    raw: bytes, item_id: str, folder_id: str, message: Message | None = None
) -> tuple[dict[str, Any], list]:
    """The Graph message for one RFC 5322 message (`message`: it parsed), and its
    transport headers."""
    message = message or parse_message(raw)
    received = message.get("Received")
    arrival = _date(str(received).rsplit(";", 1)[-1].strip()) if received else None
    sent = _date(message.get("Date")) or arrival or datetime(1970, 1, 1, tzinfo=UTC)
    received_at = arrival or sent
    senders = _recipients(message, "From")
    sender = senders[0] if senders else None
    text = _text_body(message)
    message_id = " ".join(str(message.get("Message-ID", "")).split())
    if not message_id:  # Exchange stamps one on every message it stores
        digest = hashlib.sha1(raw, usedforsecurity=False).hexdigest()[:24]
        message_id = f"<{digest.upper()}@FAKE.PROD.OUTLOOK.COM>"
    resource = {
        "@odata.type": "#microsoft.graph.message",
        "@odata.etag": f'W/"{item_id[-12:]}"',
        "id": item_id,
        "createdDateTime": _iso(received_at),
        "lastModifiedDateTime": _iso(received_at),
        "changeKey": item_id[-12:],
        "categories": [],
        "receivedDateTime": _iso(received_at),
        "sentDateTime": _iso(sent),
        "hasAttachments": False,
        "internetMessageId": message_id,
        "subject": _decoded(message.get("Subject", "")),
        "bodyPreview": text[:255],
        "importance": "normal",
        "parentFolderId": folder_id,
        "conversationId": _conversation(message),
        "conversationIndex": base64.b64encode(secrets.token_bytes(22)).decode("ascii"),
        "isDeliveryReceiptRequested": False,
        "isReadReceiptRequested": False,
        "isRead": True,
        "isDraft": False,
        "webLink": f"https://outlook.office365.com/owa/?ItemID={item_id}",
        "inferenceClassification": "focused",
        "body": {"contentType": "text", "content": text},
        "uniqueBody": {"contentType": "text", "content": text},
        "sender": sender,
        "from": sender,
        "toRecipients": _recipients(message, "To"),
        "ccRecipients": _recipients(message, "Cc"),
        "bccRecipients": _recipients(message, "Bcc"),
        "replyTo": _recipients(message, "Reply-To"),
        "flag": {"flagStatus": "notFlagged"},
    }
    headers = [
        {"name": name, "value": _unfolded(value)}
        for name, value in message.items()
        if name.lower() not in ("x-gm-thrid", "x-gmail-labels")
    ]
    return resource, headers


@dataclass
class _Item:
    id: str
    folder_id: str
    seq: int
    resource: dict[str, Any]
    headers: list[dict[str, str]] | None  # None: Exchange keeps none (Sent Items)


@dataclass
class Mailbox:
    address: str
    folders: dict[str, str]  # folder id -> display name
    items: dict[str, _Item] = field(default_factory=dict)
    log: list[tuple[int, str, str, str]] = field(default_factory=list)  # seq, folder, id, kind
    generation: int = 0
    # folder id -> (log length it was built at, seqs, items): a folder's items by age
    index: dict[str, tuple[int, list[int], list[_Item]]] = field(default_factory=dict, repr=False)

    def folder_items(self, folder_id: str) -> tuple[list[int], list[_Item]]:
        """The folder's items by age and their seqs (rebuilt after any change)."""
        cached = self.index.get(folder_id)
        if cached is None or cached[0] != len(self.log):
            items = sorted(
                (i for i in self.items.values() if i.folder_id == folder_id), key=lambda i: i.seq
            )
            cached = (len(self.log), [i.seq for i in items], items)
            self.index[folder_id] = cached
        return cached[1], cached[2]


class GraphTenant:
    """The tenant's mailboxes and app registrations, and what changes them."""

    def __init__(self, tenant_id: str) -> None:
        self.tenant_id = tenant_id
        self.mailboxes: dict[str, Mailbox] = {}
        self.apps: dict[str, dict[str, Any]] = {}
        self.tokens: dict[str, dict[str, Any]] = {}
        self.policy_excluded: set[str] = set()  # an application access policy leaves them out
        self.consent_revoked: set[str] = set()  # access denied for these mailboxes
        self._seq = 0
        self._ids = 0
        # (item id, $select, Mail.Read) -> the item's JSON (items never change: a moved
        # message is a new item)
        self.rendered: dict[tuple[str, tuple[str, ...] | None, bool], bytes] = {}

    def render_all(self, select: list[str] | None, permissions: tuple[str, ...]) -> None:
        """Render every message as `select` and `permissions` ask (a benchmark's fake then
        spends no time on it while timed)."""
        for box in self.mailboxes.values():
            for item in box.items.values():
                _render(item, select, set(permissions), self.rendered)

    # registrations and tokens
    def register_app(
        self,
        client_id: str,
        *,
        secret: str | None = None,
        public_key_pem: str | None = None,
        thumbprint: str | None = None,
        permissions: tuple[str, ...] = (READ_BASIC,),
    ) -> None:
        """An app registration; `permissions` are the application permissions an admin
        consented to (an empty tuple: consent not granted)."""
        self.apps[client_id] = {
            "secret": secret,
            "public_key": public_key_pem,
            "thumbprint": thumbprint,
            "roles": set(permissions),
        }

    def issue(self, client_id: str, audience: str, lifetime: int) -> dict[str, Any]:
        token = "eyJ0eXAiOiJKV1Qi." + secrets.token_urlsafe(32)
        roles = set(self.apps[client_id]["roles"])
        self.tokens[token] = {"roles": roles, "aud": audience, "exp": time.time() + lifetime}
        return {"token_type": "Bearer", "expires_in": lifetime, "ext_expires_in": lifetime,
                "access_token": token}  # fmt: skip

    def expire_tokens(self) -> None:
        """Every token issued so far expires now (as an hour-old token does mid-sync)."""
        for grant in self.tokens.values():
            grant["exp"] = 0.0

    # mailboxes
    def add_mailbox(self, address: str, extra_folders: tuple[str, ...] = ()) -> Mailbox:
        folders = {self._folder_id(address, n): d for n, d in WELL_KNOWN_FOLDERS.items()}
        for name in extra_folders:
            folders[self._folder_id(address, name)] = name
        box = Mailbox(address.lower(), folders)
        self.mailboxes[box.address] = box
        return box

    @staticmethod
    def _folder_id(address: str, name: str) -> str:
        digest = hashlib.sha1(f"{address.lower()}/{name}".encode(), usedforsecurity=False).digest()
        return "AAMkAD" + base64.urlsafe_b64encode(digest).decode("ascii").rstrip("=") + "AAA="

    def folder_id(self, address: str, folder: str) -> str | None:
        """A folder's id from its id or well-known name (any case)."""
        box = self.mailboxes[address.lower()]
        if folder in box.folders:
            return folder
        key = folder.lower()
        if key in WELL_KNOWN_FOLDERS:
            return self._folder_id(address, key)
        by_name = [i for i, d in box.folders.items() if d == folder]
        return by_name[0] if by_name else None

    def add(self, address: str, raw: bytes, folder: str | None = None) -> str | None:
        """File one RFC 5322 message; return its item id (None: Exchange keeps no copy).

        The mailbox's own automatic replies are not kept: Exchange does not save them
        in Sent Items.
        """
        head = parse_message(raw)
        if folder is None:
            senders = getaddresses([str(head.get("From", ""))])
            sent = bool(senders) and senders[0][1].lower() == address.lower()
            if sent and str(head.get("Auto-Submitted", "no")).strip().lower() != "no":
                return None
            folder = "sentitems" if sent else "inbox"
        folder_id = self.folder_id(address, folder)
        assert folder_id is not None, folder
        self._ids += 1
        item_id = "AAMkAGI2" + base64.urlsafe_b64encode(
            hashlib.sha1(f"{address}/{self._ids}".encode(), usedforsecurity=False).digest()
        ).decode("ascii").rstrip("=")
        resource, headers = message_resource(raw, item_id, folder_id, head)
        kept = None if folder_id == self.folder_id(address, "sentitems") else headers
        self._store(address, _Item(item_id, folder_id, 0, resource, kept), "created")
        return item_id

    def _store(self, address: str, item: _Item, kind: str) -> None:
        box = self.mailboxes[address.lower()]
        self._seq += 1
        item.seq = self._seq
        box.items[item.id] = item
        box.log.append((self._seq, item.folder_id, item.id, kind))

    def delete(self, address: str, item_id: str) -> None:
        box = self.mailboxes[address.lower()]
        item = box.items.pop(item_id)
        self._seq += 1
        box.log.append((self._seq, item.folder_id, item_id, "deleted"))

    def move(self, address: str, item_id: str, folder: str) -> str:
        """Move a message: Exchange gives the copy in the destination a new id."""
        box = self.mailboxes[address.lower()]
        item = box.items[item_id]
        destination = self.folder_id(address, folder)
        assert destination is not None, folder
        self.delete(address, item_id)
        self._ids += 1
        new_id = item_id[:-4] + f"{self._ids:04d}"
        resource = dict(item.resource, id=new_id, parentFolderId=destination)
        self._store(address, _Item(new_id, destination, 0, resource, item.headers), "created")
        return new_id

    def expire_sync_state(self, address: str) -> None:
        """Every delta and skip token of the mailbox becomes unknown (410 Gone)."""
        self.mailboxes[address.lower()].generation += 1

    @property
    def seq(self) -> int:
        return self._seq


# --- faults ---------------------------------------------------------------------------


@dataclass
class GraphFaults:
    """Deterministic faults, all off by default.

    `script` answers the next Graph requests in order: (status, Retry-After or None).
    `latency` is added to every Graph request (inside the mailbox's concurrency count);
    `hold_after_pages` stops answering after that many delta pages (until it is set back
    to None), so a test can kill its client mid-page; `on_page(n)` runs before the n-th
    delta page is answered (to change a mailbox mid-sync). `requests_per_minute` is a
    per-mailbox budget.
    """

    script: list[tuple[int, int | None]] = field(default_factory=list)
    latency: float = 0.0
    hold_after_pages: int | None = None
    on_page: Callable[[int], None] | None = None
    requests_per_minute: int | None = None
    token_lifetime: int = 3599
    clock: Callable[[], float] = time.monotonic


# --- state tokens ---------------------------------------------------------------------


def _encode(state: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(state, separators=(",", ":")).encode()).decode()


def _decode(token: str) -> dict[str, Any] | None:
    try:
        state = json.loads(base64.urlsafe_b64decode(token.encode()))
    except (ValueError, UnicodeDecodeError):
        return None
    return state if isinstance(state, dict) else None


def _page_size(request: Request) -> int:
    for part in request.headers.get("prefer", "").split(","):
        name, _, value = part.strip().partition("=")
        if name.strip().lower() == "odata.maxpagesize" and value.strip().isdigit():
            return max(1, min(MAX_PAGE_SIZE, int(value)))
    return DEFAULT_PAGE_SIZE


def _shape(item: _Item, select: list[str] | None, roles: set[str]) -> dict[str, Any]:
    resource = item.resource
    if select is None:
        out = {k: v for k, v in resource.items() if k not in SELECT_ONLY}
    else:
        out = {k: resource[k] for k in ("@odata.type", "@odata.etag", "id")}
        for name in select:
            if name == "internetMessageHeaders":
                if item.headers is not None:
                    out[name] = item.headers
            elif name in resource:
                out[name] = resource[name]
    if READ not in roles:
        for name in BODY_PROPERTIES:
            out.pop(name, None)
    return out


def _changes(box: Mailbox, folder_id: str, since: int, upto: int) -> list[tuple[str, str]]:
    """(item id, last change kind) for the folder's changes in (since, upto], in order."""
    last: dict[str, str] = {}
    for seq, folder, item_id, kind in box.log:
        if since < seq <= upto and folder == folder_id:
            last.pop(item_id, None)
            last[item_id] = kind
    return list(last.items())


# --- the app ----------------------------------------------------------------------------


def create_app(tenant: GraphTenant, *, faults: GraphFaults | None = None) -> FastAPI:
    """The fake Graph and identity platform over `tenant`."""
    faults = faults or GraphFaults()
    app = FastAPI(title="Fake Microsoft Graph")
    app.state.graph = tenant
    app.state.faults = faults
    app.state.request_counts = Counter()
    app.state.max_in_flight = Counter()
    app.state.delta_pages = 0
    in_flight: Counter[str] = Counter()
    budget: dict[str, list[float]] = {}

    @app.post("/{tenant_id}/oauth2/v2.0/token")
    async def token(tenant_id: str, request: Request) -> Response:
        app.state.request_counts["token"] += 1
        form = await request.form()
        if tenant_id != tenant.tenant_id:
            return identity_error(400, "invalid_request", 90002, f"Tenant '{tenant_id}' not found.")
        if form.get("grant_type") != "client_credentials":
            return identity_error(
                400, "unsupported_grant_type", 70003, "The grant is not supported."
            )
        client_id = str(form.get("client_id", ""))
        app_reg = tenant.apps.get(client_id)
        if app_reg is None:
            return identity_error(
                400, "unauthorized_client", 700016,
                f"Application with identifier '{client_id}' was not found in the directory.",
            )  # fmt: skip
        if not _client_authenticated(app_reg, form, request, tenant_id, client_id):
            return identity_error(
                401, "invalid_client", 7000215,
                "Invalid client secret provided. Ensure the secret being sent in the request "
                "is the client secret value, not the client secret ID.",
            )  # fmt: skip
        scope = str(form.get("scope", ""))
        if not scope.endswith("/.default") or " " in scope:
            return identity_error(
                400, "invalid_scope", 1002012,
                f"The provided value for scope {scope} is not valid. Client credential flows "
                "must have a scope value with /.default suffixed to the resource identifier.",
            )  # fmt: skip
        return JSONResponse(
            tenant.issue(client_id, scope.removesuffix("/.default"), faults.token_lifetime)
        )

    @app.middleware("http")
    async def gatekeeper(request: Request, call_next: Callable) -> Response:
        path = request.url.path
        if not path.startswith(GRAPH + "/"):
            return await call_next(request)
        parts = path.split("/")
        mailbox = parts[3].lower() if len(parts) > 3 and parts[2] == "users" else ""
        app.state.request_counts[mailbox] += 1
        auth = request.headers.get("authorization", "")
        grant = tenant.tokens.get(auth.removeprefix("Bearer "))
        if grant is None:
            return graph_error(
                401, "InvalidAuthenticationToken", "Access token is empty or malformed."
            )
        if grant["exp"] <= time.time():
            return graph_error(
                401,
                "InvalidAuthenticationToken",
                "Lifetime validation failed, the token is expired.",
            )
        if grant["aud"] != "https://graph.microsoft.com":
            return graph_error(401, "InvalidAuthenticationToken", "Invalid audience.")
        if faults.script:
            status, retry_after = faults.script.pop(0)
            codes = {429: "TooManyRequests", 503: "ServiceUnavailable", 504: "GatewayTimeout"}
            return graph_error(
                status, codes.get(status, "InternalServerError"),
                "Injected fault.", retry_after,
            )  # fmt: skip
        if faults.requests_per_minute is not None and mailbox:
            now = faults.clock()
            window = [t for t in budget.get(mailbox, []) if now - t < 60.0]
            if len(window) >= faults.requests_per_minute:
                budget[mailbox] = window
                wait = max(1, int(60.0 - (now - window[0]) + 0.999))
                return graph_error(
                    429, "ApplicationThrottled",
                    "Application is over its MailboxRequests limit.", wait,
                )  # fmt: skip
            budget[mailbox] = [*window, now]
        if in_flight[mailbox] >= MAILBOX_CONCURRENCY:
            return graph_error(
                429, "ApplicationThrottled",
                "Application is over its MailboxConcurrency limit.", 1,
            )  # fmt: skip
        in_flight[mailbox] += 1
        app.state.max_in_flight[mailbox] = max(app.state.max_in_flight[mailbox], in_flight[mailbox])
        try:
            if faults.latency:
                await asyncio.sleep(faults.latency)
            request.state.roles = grant["roles"]
            return await call_next(request)
        finally:
            in_flight[mailbox] -= 1

    def _access(mailbox: str, roles: set[str]) -> Response | None:
        if not roles & {READ_BASIC, READ}:
            return graph_error(
                403, "ErrorAccessDenied", "Access is denied. Check credentials and try again."
            )
        if mailbox not in tenant.mailboxes:
            return graph_error(
                404, "ErrorInvalidUser", f"The requested user '{mailbox}' is invalid."
            )
        if mailbox in tenant.policy_excluded:
            return graph_error(403, "ErrorAccessDenied", POLICY_MESSAGE)
        if mailbox in tenant.consent_revoked:
            return graph_error(
                403, "ErrorAccessDenied", "Access is denied. Check credentials and try again."
            )
        return None

    def _folder(user: str, folder: str, request: Request) -> tuple[Mailbox, str] | Response:
        """The mailbox and folder id a request names, or the error that refuses it."""
        mailbox = user.lower()
        if (refused := _access(mailbox, request.state.roles)) is not None:
            return refused
        folder_id = tenant.folder_id(mailbox, folder)
        if folder_id is None:
            return graph_error(
                404, "ErrorItemNotFound", "The specified object was not found in the store."
            )
        return tenant.mailboxes[mailbox], folder_id

    @app.get(GRAPH + "/users/{user}/mailFolders/{folder}")
    async def get_folder(user: str, folder: str, request: Request) -> Response:
        found = _folder(user, folder, request)
        if isinstance(found, Response):
            return found
        box, folder_id = found
        mailbox = box.address
        count = sum(1 for i in box.items.values() if i.folder_id == folder_id)
        return JSONResponse(
            {
                "@odata.context": f"https://graph.microsoft.com/v1.0/$metadata#users('{mailbox}')/mailFolders/$entity",
                "id": folder_id,
                "displayName": box.folders[folder_id],
                "parentFolderId": tenant.folder_id(mailbox, "inbox"),
                "childFolderCount": 0,
                "unreadItemCount": 0,
                "totalItemCount": count,
            }
        )  # fmt: skip

    @app.get(GRAPH + "/users/{user}/mailFolders/{folder}/messages/delta")
    async def delta(user: str, folder: str, request: Request) -> Response:
        found = _folder(user, folder, request)
        if isinstance(found, Response):
            return found
        box, folder_id = found
        roles = request.state.roles
        query = request.query_params
        token = query.get("$skiptoken") or query.get("$deltatoken")
        if token is not None:
            state = _decode(token)
            if state is None or state.get("g") != box.generation or state.get("f") != folder_id:
                return graph_error(
                    410, "syncStateNotFound",
                    "The sync state generation is invalid or has expired. Restart the sync "
                    "with a new delta request.",
                )  # fmt: skip
            if "$deltatoken" in query:  # a new round from the last one's end
                state = {
                    **state,
                    "since": state["upto"],
                    "upto": tenant.seq,
                    "after": 0,
                    "init": False,
                }
        else:
            select = query.get("$select")
            names = [n.strip() for n in select.split(",")] if select else None
            unknown = [n for n in names or [] if n not in MESSAGE_PROPERTIES]
            if unknown:
                return graph_error(
                    400, "RequestBroker--ParseUri",
                    f"Could not find a property named '{unknown[0]}' on type "
                    "'microsoft.graph.message'.",
                )  # fmt: skip
            state = {"f": folder_id, "g": box.generation, "sel": names, "since": 0,
                     "upto": tenant.seq, "after": 0, "init": True}  # fmt: skip
        while (
            faults.hold_after_pages is not None and app.state.delta_pages >= faults.hold_after_pages
        ):
            await asyncio.sleep(0.02)  # the client is killed while it waits
        app.state.delta_pages += 1
        if faults.on_page is not None:
            faults.on_page(app.state.delta_pages)
        size = _page_size(request)
        page, state = _page(box, state, size, roles, tenant.rendered)
        base = str(request.base_url).rstrip("/") + request.url.path
        if state["more"]:
            link = ("@odata.nextLink", f"{base}?$skiptoken={_encode(state['next'])}")
        else:
            link = ("@odata.deltaLink", f"{base}?$deltatoken={_encode(state['next'])}")
        # The bytes JSONResponse would render for {context, value, link}, the messages
        # rendered once each (a page of 500 took ~30 ms to shape and render).
        body = b"".join(
            (
                b'{"@odata.context":"https://graph.microsoft.com/v1.0/$metadata#Collection(message)"',
                b',"value":[',
                b",".join(page),
                b"],",
                _json({link[0]: link[1]})[1:],
            )
        )
        headers = {"Preference-Applied": f"odata.maxpagesize={size}"}
        return Response(body, headers=headers, media_type="application/json")

    return app


def _page(
    box: Mailbox,
    state: dict[str, Any],
    size: int,
    roles: set[str],
    rendered: dict[tuple[str, tuple[str, ...] | None, bool], bytes],
) -> tuple[list[bytes], dict[str, Any]]:
    """One page of a round (each entry as JSON), and the state for the next link."""
    folder_id, select = state["f"], state["sel"]
    if state["init"]:  # the folder's messages as of the round's start, by age
        seqs, items = box.folder_items(folder_id)
        first = bisect_right(seqs, state["after"])
        last = bisect_right(seqs, state["upto"])
        chosen = items[first : min(last, first + size)]
        page = [_render(i, select, roles, rendered) for i in chosen]
        after = chosen[-1].seq if chosen else state["after"]
        more = last - first > size
    else:
        changes = _changes(box, folder_id, state["since"], state["upto"])
        chosen_changes = changes[state["after"] : state["after"] + size]
        page = []
        for item_id, kind in chosen_changes:
            item = box.items.get(item_id)
            if kind == "deleted" or item is None or item.folder_id != folder_id:
                page.append(_json({"@odata.type": "#microsoft.graph.message", "id": item_id,
                                   "@removed": {"reason": "deleted"}}))  # fmt: skip
            else:
                page.append(_render(item, select, roles, rendered))
        after = state["after"] + len(chosen_changes)
        more = len(changes) > after
    following = {**state, "after": after}
    return page, {"more": more, "next": following}


def _render(
    item: _Item,
    select: list[str] | None,
    roles: set[str],
    rendered: dict[tuple[str, tuple[str, ...] | None, bool], bytes],
) -> bytes:
    """An item's JSON as `select` and the roles shape it, rendered once."""
    key = (item.id, tuple(select) if select is not None else None, READ in roles)
    found = rendered.get(key)
    if found is None:
        found = rendered[key] = _json(_shape(item, select, roles))
    return found


def _json(value: Any) -> bytes:
    """JSON as Starlette's JSONResponse renders it."""
    return json.dumps(value, ensure_ascii=False, allow_nan=False, separators=(",", ":")).encode()


def _client_authenticated(
    app_reg: dict[str, Any], form: Any, request: Request, tenant_id: str, client_id: str
) -> bool:
    """A matching secret, or a client assertion signed with the registered certificate."""
    secret = form.get("client_secret")
    if secret is not None:
        return app_reg["secret"] is not None and secrets.compare_digest(
            str(secret), app_reg["secret"]
        )
    assertion = form.get("client_assertion")
    if assertion is None or app_reg["public_key"] is None:
        return False
    if (
        form.get("client_assertion_type")
        != "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
    ):
        return False
    audience = f"{str(request.base_url).rstrip('/')}/{tenant_id}/oauth2/v2.0/token"
    try:
        header = jwt.get_unverified_header(str(assertion))
        claims = jwt.decode(
            str(assertion), app_reg["public_key"], algorithms=["RS256", "PS256"], audience=audience
        )
    except jwt.PyJWTError:
        return False
    thumbprint_ok = header.get("x5t") == app_reg["thumbprint"] or app_reg["thumbprint"] is None
    return thumbprint_ok and claims.get("iss") == claims.get("sub") == client_id


def tenant_from_messages(
    tenant_id: str, mailboxes: dict[str, list[bytes]], extra_folders: tuple[str, ...] = ()
) -> GraphTenant:
    """A tenant whose mailboxes hold these RFC 5322 messages (the simulator's mail)."""
    tenant = GraphTenant(tenant_id)
    for address, messages in mailboxes.items():
        tenant.add_mailbox(address, extra_folders)
        for raw in messages:
            tenant.add(address, raw)
    return tenant
