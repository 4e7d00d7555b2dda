"""A local Gmail API (v1) with Google's token endpoint and the Admin SDK Directory.

It speaks the wire protocol of the official discovery document (checked by
tests/test_fake_gmail_contract.py): `users.getProfile`, `users.messages.list` (newest
first, `maxResults` up to 500, opaque `pageToken`), `users.messages.get` (`format`
minimal / metadata with repeated `metadataHeaders` / raw), `users.history.list` (from
a `startHistoryId`; one too old for the retained history answers 404), the
`multipart/mixed` batch endpoint (`POST /batch/gmail/v1`, at most 100 requests), and
Google's error body (`{"error": {"code", "message", "errors": [{"domain", "reason",
"message"}], "status"}}`). Scopes are enforced as Gmail does: `gmail.metadata` allows
no `q` and no raw or full format. Each user has Gmail's quota: 250 units a second as a
moving average, bursts of up to two seconds' worth allowed (messages.get / list 5 units,
history.list 2, getProfile 1; each request of a batch counts), and a request beyond it
gets 429 `rateLimitExceeded` with `Retry-After`.

Messages are stored as Takeout renders them; their `X-GM-THRID` and `X-Gmail-Labels`
fields become `threadId` and `labelIds` and are not headers here (Gmail has no such
headers). `GmailFaults` injects 429 storms, 403 userRateLimitExceeded, 5xx, and a hook
that sees every request (tests delete a message between its listing and its get).
"""

from __future__ import annotations

import base64
import json
import math
import re
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from email.parser import BytesHeaderParser
from email.policy import compat32
from http import HTTPStatus
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from sandbox.fake_google_token import AccessToken, GoogleAuthority
from sandbox.mbox_writer import arrival_time

SCOPE_PREFIX = "https://www.googleapis.com/auth/"
METADATA = SCOPE_PREFIX + "gmail.metadata"
READONLY = SCOPE_PREFIX + "gmail.readonly"
DIRECTORY = SCOPE_PREFIX + "admin.directory.user.readonly"
IMAP_SCOPE = "https://mail.google.com/"
GMAIL_READ_SCOPES = frozenset({METADATA, READONLY, "https://mail.google.com/"})
BODY_SCOPES = GMAIL_READ_SCOPES - {METADATA}
QUOTA_UNITS = {"getProfile": 1, "messages.list": 5, "messages.get": 5, "history.list": 2}
UNITS_PER_SECOND = 250.0
MAX_BATCH = 100
DEFAULT_PAGE = 100
MAX_PAGE = 500
STATUS_NAMES = {400: "INVALID_ARGUMENT", 401: "UNAUTHENTICATED", 403: "PERMISSION_DENIED"}
STATUS_NAMES |= {404: "NOT_FOUND", 429: "RESOURCE_EXHAUSTED", 500: "INTERNAL", 503: "UNAVAILABLE"}
SYSTEM_LABELS = {
    *("INBOX", "SENT", "IMPORTANT", "STARRED", "UNREAD", "SPAM", "TRASH", "DRAFT", "CHAT"),
}
_TAKEOUT_FIELDS = re.compile(rb"^(X-GM-THRID|X-Gmail-Labels):.*(?:\r?\n[ \t].*)*\r?\n", re.I | re.M)


@dataclass
class StoredMessage:
    id: str
    thread_id: str
    label_ids: list[str]
    internal_date_ms: int
    raw: bytes
    history_id: int


def label_ids(takeout_labels: str) -> list[str]:
    """Takeout's label names ("Inbox,Sent,Category Updates,Clients") as Gmail label IDs."""
    out = []
    for name in (n.strip() for n in takeout_labels.split(",")):
        upper = name.upper().replace(" ", "_")
        if upper in SYSTEM_LABELS or upper.startswith("CATEGORY_"):
            out.append(upper)
        elif name == "Opened":
            continue  # Takeout's marker for a read message: no UNREAD label
        elif name:
            out.append("Label_" + re.sub(r"[^A-Za-z0-9]", "_", name))
    return out


class Mailbox:
    """One user's mail and history. History ids grow with every change; records older
    than `oldest_history_id` are gone (a `startHistoryId` before it answers 404)."""

    def __init__(self, email: str, first_history_id: int = 1000) -> None:
        self.email = email
        self.messages: dict[str, StoredMessage] = {}
        self.history: list[dict[str, Any]] = []
        self.history_id = first_history_id
        self.oldest_history_id = first_history_id
        self._next_id = 0x18C0000000000000
        self.lock = threading.Lock()

    def add(self, message: bytes, internal_date_ms: int | None = None) -> StoredMessage:
        """Store a Takeout-rendered message; its labels and thread come from its fields,
        its `internalDate` (unless given) from its arrival, as in the Takeout mbox."""
        if internal_date_ms is None:
            internal_date_ms = int(arrival_time(message).timestamp() * 1000)
        head = BytesHeaderParser(policy=compat32).parsebytes(message)
        thread = head.get("X-GM-THRID")
        with self.lock:
            self._next_id += 1 + (internal_date_ms & 0xFF)
            self.history_id += 1
            stored = StoredMessage(
                id=f"{self._next_id:x}",
                thread_id=f"{int(thread):x}" if thread else f"{self._next_id:x}",
                label_ids=label_ids(str(head.get("X-Gmail-Labels", ""))),
                internal_date_ms=internal_date_ms,
                raw=_TAKEOUT_FIELDS.sub(b"", message),
                history_id=self.history_id,
            )
            self.messages[stored.id] = stored
            self._record("messagesAdded", stored)
        return stored

    def delete(self, message_id: str) -> None:
        with self.lock:
            stored = self.messages.pop(message_id)
            self.history_id += 1
            self._record("messagesDeleted", stored)

    def relabel(self, message_id: str, add: Iterable[str] = (), remove: Iterable[str] = ()) -> None:
        with self.lock:
            stored = self.messages[message_id]
            added = [label for label in add if label not in stored.label_ids]
            removed = [label for label in remove if label in stored.label_ids]
            stored.label_ids = [lab for lab in stored.label_ids if lab not in removed] + added
            self.history_id += 1
            stored.history_id = self.history_id
            if added:
                self._record("labelsAdded", stored, added)
            if removed:
                self._record("labelsRemoved", stored, removed)

    def forget_history(self) -> None:
        """Drop every history record kept so far (Gmail keeps about a week)."""
        with self.lock:
            self.history.clear()
            self.oldest_history_id = self.history_id

    def _record(self, kind: str, stored: StoredMessage, labels: list[str] | None = None) -> None:
        message = {"id": stored.id, "threadId": stored.thread_id}
        if kind != "messagesDeleted":
            message["labelIds"] = list(stored.label_ids)
        entry: dict[str, Any] = {"message": message}
        if labels is not None:
            entry["labelIds"] = labels
        self.history.append(
            {"id": str(self.history_id), "messages": [message], kind: [entry]},
        )


@dataclass
class GmailFaults:
    """Failures to inject; counters count down as they fire. `on_request` sees each
    request's method name (e.g. "messages.get") and user before it is answered."""

    fail_next_429: int = 0
    fail_next_403_user_rate: int = 0
    fail_next_5xx: int = 0
    retry_after_seconds: int = 1
    on_request: Callable[[str, str], None] | None = None

    def take(self, counter: str) -> bool:
        if getattr(self, counter) <= 0:
            return False
        setattr(self, counter, getattr(self, counter) - 1)
        return True


class _Quota:
    """Gmail's per-user quota, "250 units a second, moving average (allows short
    bursts)": a bucket filling at `rate` units a second that holds `burst_seconds` of them."""

    def __init__(self, rate: float, clock: Callable[[], float], burst_seconds: float) -> None:
        self.rate, self.clock, self.depth = rate, clock, rate * burst_seconds
        self.buckets: dict[str, tuple[float, float]] = {}
        self.lock = threading.Lock()

    def take(self, user: str, units: int) -> float:
        """Spend `units` of the user's quota; 0 when granted, else seconds to wait."""
        with self.lock:
            now = self.clock()
            level, updated = self.buckets.get(user, (self.depth, now))
            level = min(self.depth, level + (now - updated) * self.rate)
            if level + 1e-9 < units:
                self.buckets[user] = (level, now)
                return (units - level) / self.rate
            self.buckets[user] = (level - units, now)
            return 0.0


@dataclass
class GmailState:
    """The fake's world: mailboxes by address, the token authority, faults, counters."""

    authority: GoogleAuthority = field(default_factory=GoogleAuthority)
    mailboxes: dict[str, Mailbox] = field(default_factory=dict)
    suspended: set[str] = field(default_factory=set)
    faults: GmailFaults = field(default_factory=GmailFaults)
    units_per_second: float = UNITS_PER_SECOND
    burst_seconds: float = 2.0
    clock: Callable[[], float] = time.monotonic
    calls: dict[str, int] = field(default_factory=dict)  # per method, batch parts included
    http_requests: int = 0  # HTTP requests received (a batch is one)
    units: dict[str, int] = field(default_factory=dict)  # quota units spent per user

    def __post_init__(self) -> None:
        self.quota = _Quota(self.units_per_second, self.clock, self.burst_seconds)
        self._lock = threading.Lock()

    def mailbox(self, email: str) -> Mailbox:
        if email not in self.mailboxes:
            self.mailboxes[email] = Mailbox(email)
            if email not in self.suspended:
                self.authority.active_users.add(email)
        return self.mailboxes[email]

    def suspend(self, email: str) -> None:
        self.suspended.add(email)
        self.authority.active_users.discard(email)

    def count(self, method: str) -> None:
        with self._lock:
            self.calls[method] = self.calls.get(method, 0) + 1


class GoogleError(Exception):
    """An error answer in Google's JSON error shape."""

    def __init__(
        self, status: int, message: str, reason: str, headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(message)
        self.status, self.message, self.reason = status, message, reason
        self.headers = headers or {}

    def body(self) -> dict[str, Any]:
        return {
            "error": {
                "code": self.status,
                "message": self.message,
                "errors": [{"message": self.message, "domain": "global", "reason": self.reason}],
                "status": STATUS_NAMES.get(self.status, HTTPStatus(self.status).name),
            }
        }


Query = list[tuple[str, str]]
_ROUTES = (
    (re.compile(r"^/gmail/v1/users/([^/]+)/profile$"), "getProfile"),
    (re.compile(r"^/gmail/v1/users/([^/]+)/messages$"), "messages.list"),
    (re.compile(r"^/gmail/v1/users/([^/]+)/messages/([^/]+)$"), "messages.get"),
    (re.compile(r"^/gmail/v1/users/([^/]+)/history$"), "history.list"),
    (re.compile(r"^/admin/directory/v1/users$"), "directory.users.list"),
)


def _route(method: str, path: str) -> tuple[str, re.Match[str]]:
    for pattern, name in _ROUTES:
        found = pattern.match(path)
        if found and method == "GET":
            return name, found
    raise GoogleError(404, f"Not Found: {method} {path}", "notFound")


def answer(
    state: GmailState, method: str, path: str, query: Query, auth: str | None
) -> tuple[int, dict[str, Any], dict[str, str]]:
    """One API request (also one part of a batch): (status, JSON body, headers)."""
    try:
        return 200, _answer(state, method, path, query, auth), {}
    except GoogleError as error:
        return error.status, error.body(), error.headers


def _answer(
    state: GmailState, method: str, path: str, query: Query, auth: str | None
) -> dict[str, Any]:
    name, found = _route(method, path)
    state.count(name)
    token = state.authority.bearer(auth)
    if token is None:
        raise GoogleError(
            401,
            "Request had invalid authentication credentials. Expected OAuth 2 access token, "
            "login cookie or other valid authentication credential.",
            "authError",
        )
    if name == "directory.users.list":
        return _directory_users(state, token, dict(query))
    user = found[1]
    user = token.user if user == "me" else user
    if user != token.user or user not in state.mailboxes:
        raise GoogleError(403, "Delegation denied for " + token.user, "forbidden")
    if not token.scopes & GMAIL_READ_SCOPES:
        raise GoogleError(403, "Request had insufficient authentication scopes.", "forbidden")
    faults = state.faults
    if faults.on_request is not None:
        faults.on_request(name, user)
    if faults.take("fail_next_5xx"):
        raise GoogleError(503, "The service is currently unavailable.", "backendError")
    retry = {"Retry-After": str(faults.retry_after_seconds)}
    if faults.take("fail_next_429"):
        raise GoogleError(429, "Too many concurrent requests for user", "rateLimitExceeded", retry)
    if faults.take("fail_next_403_user_rate"):
        raise GoogleError(403, "User Rate Limit Exceeded", "userRateLimitExceeded", retry)
    wait = state.quota.take(user, QUOTA_UNITS[name])
    if wait:
        seconds = {"Retry-After": str(max(1, math.ceil(wait)))}
        raise GoogleError(
            429, "User-rate limit exceeded.  Retry after a second", "rateLimitExceeded", seconds
        )
    with state._lock:
        state.units[user] = state.units.get(user, 0) + QUOTA_UNITS[name]
    box = state.mailboxes[user]
    if name == "getProfile":
        with box.lock:
            return {
                "emailAddress": user,
                "messagesTotal": len(box.messages),
                "threadsTotal": len({m.thread_id for m in box.messages.values()}),
                "historyId": str(box.history_id),
            }
    if name == "messages.list":
        return _list_messages(box, token, query)
    if name == "messages.get":
        return _get_message(box, token, found[2], query)
    return _list_history(box, query)


def _single(query: Query, name: str, default: str | None = None) -> str | None:
    values = [v for k, v in query if k == name]
    return values[-1] if values else default


def _page(query: Query, total: int) -> tuple[int, int]:
    size = int(_single(query, "maxResults", str(DEFAULT_PAGE)) or DEFAULT_PAGE)
    if not 1 <= size <= MAX_PAGE:
        raise GoogleError(400, f"Invalid maxResults: {size}", "invalidArgument")
    token = _single(query, "pageToken")
    start = 0
    if token:
        try:
            start = int(base64.urlsafe_b64decode(token + "==").decode())
        except ValueError:
            raise GoogleError(400, "Invalid pageToken", "invalidArgument") from None
    return start, min(total, start + size)


def _page_token(end: int, total: int) -> dict[str, str]:
    if end >= total:
        return {}
    return {"nextPageToken": base64.urlsafe_b64encode(str(end).encode()).decode().rstrip("=")}


def _list_messages(box: Mailbox, token: AccessToken, query: Query) -> dict[str, Any]:
    if _single(query, "q") is not None and not token.scopes & BODY_SCOPES:
        raise GoogleError(403, "Metadata scope does not support 'q' parameter", "forbidden")
    include_hidden = _single(query, "includeSpamTrash", "false") == "true"
    wanted = {v for k, v in query if k == "labelIds"}
    with box.lock:
        listed = sorted(box.messages.values(), key=lambda m: (m.internal_date_ms, m.id))[::-1]
    listed = [
        m
        for m in listed
        if (include_hidden or not {"SPAM", "TRASH"} & set(m.label_ids))
        and wanted <= set(m.label_ids)
    ]
    start, end = _page(query, len(listed))
    body: dict[str, Any] = {
        "messages": [{"id": m.id, "threadId": m.thread_id} for m in listed[start:end]],
        "resultSizeEstimate": len(listed),
        **_page_token(end, len(listed)),
    }
    if not body["messages"]:
        del body["messages"]
    return body


def _get_message(box: Mailbox, token: AccessToken, message_id: str, query: Query) -> dict:
    fmt = (_single(query, "format", "full") or "full").lower()
    if fmt not in ("minimal", "full", "raw", "metadata"):
        raise GoogleError(400, f"Invalid format: {fmt}", "invalidArgument")
    if fmt in ("full", "raw") and not token.scopes & BODY_SCOPES:
        raise GoogleError(403, f"Metadata scope doesn't allow format {fmt.upper()}", "forbidden")
    stored = box.messages.get(message_id)
    if stored is None:
        raise GoogleError(404, "Requested entity was not found.", "notFound")
    body: dict[str, Any] = {
        "id": stored.id,
        "threadId": stored.thread_id,
        "labelIds": list(stored.label_ids),
        "historyId": str(stored.history_id),
        "internalDate": str(stored.internal_date_ms),
        "sizeEstimate": len(stored.raw),
    }
    if fmt == "raw":
        body["raw"] = base64.urlsafe_b64encode(stored.raw).decode()
    elif fmt in ("metadata", "full"):
        wanted = {v.lower() for k, v in query if k == "metadataHeaders"}
        body["payload"] = _payload(stored.raw, wanted if fmt == "metadata" else set())
    return body


def _payload(raw: bytes, wanted: set[str]) -> dict[str, Any]:
    """The top-level part: its MIME type and its headers (all, or those asked for)."""
    head = BytesHeaderParser(policy=compat32).parsebytes(raw)
    headers = [
        {"name": name, "value": _header_text(value)}
        for name, value in head.items()
        if not wanted or name.lower() in wanted
    ]
    return {
        "partId": "",
        "mimeType": head.get_content_type(),
        "filename": "",
        "headers": headers,
        "body": {"size": 0},
    }


def _header_text(value: Any) -> str:
    """A header value as Gmail's JSON carries it: unfolded text, encoded words kept."""
    if not isinstance(value, str):  # compat32 hands undecodable bytes back as a Header
        value = str(value)
    return (
        re.sub(r"\r?\n(?=[ \t])", "", value)
        .encode("utf-8", "surrogateescape")
        .decode("utf-8", "replace")
    )


def _list_history(box: Mailbox, query: Query) -> dict[str, Any]:
    start = _single(query, "startHistoryId")
    if start is None or not start.isdigit():
        raise GoogleError(400, "Invalid startHistoryId", "invalidArgument")
    types = {v for k, v in query if k == "historyTypes"}
    with box.lock:
        if int(start) < box.oldest_history_id:
            raise GoogleError(404, "Requested entity was not found.", "notFound")
        records = [h for h in box.history if int(h["id"]) > int(start)]
        current = box.history_id
    if types:
        records = [h for h in records if any(t + "s" in h or _kind(t) in h for t in types)]
    first, end = _page(query, len(records))
    body: dict[str, Any] = {"historyId": str(current), **_page_token(end, len(records))}
    if records[first:end]:
        body["history"] = records[first:end]
    return body


def _kind(history_type: str) -> str:
    """`messageAdded` (a historyTypes value) -> `messagesAdded` (a History field)."""
    return history_type.replace("message", "messages").replace("label", "labels")


def _directory_users(state: GmailState, token: AccessToken, query: dict[str, str]) -> dict:
    if DIRECTORY not in token.scopes:
        raise GoogleError(403, "Not Authorized to access this resource/api", "forbidden")
    domain = query.get("domain")
    if query.get("customer") is None and domain is None:
        raise GoogleError(400, "Bad Request", "badRequest")
    users = [
        {
            "kind": "admin#directory#user",
            "id": str(abs(hash(email)) % 10**20),
            "primaryEmail": email,
            "suspended": email in state.suspended,
        }
        for email in sorted(state.mailboxes)
        if domain is None or email.endswith("@" + domain)
    ]
    start, end = _page([(k, v) for k, v in query.items()], len(users))
    return {
        "kind": "admin#directory#users",
        "users": users[start:end],
        **_page_token(end, len(users)),
    }


# --- HTTP -------------------------------------------------------------------------


def _json(status: int, body: dict[str, Any], headers: dict[str, str]) -> Response:
    return JSONResponse(body, status_code=status, headers=headers)


def create_app(state: GmailState) -> Starlette:
    """The fake on one origin: `/token`, `/gmail/v1/...`, `/batch/gmail/v1`,
    `/admin/directory/v1/users`, and `/introspect` (RFC 7662, for a mail server checking
    IMAP bearer tokens). `app.state.gmail` is the `GmailState`."""

    async def token(request: Request) -> Response:
        form = {k: str(v) for k, v in (await request.form()).items()}
        status, body = state.authority.token(form)
        return _json(status, body, {"Cache-Control": "no-store"})

    async def introspect(request: Request) -> Response:
        form = await request.form()
        return _json(200, state.authority.introspect(str(form.get("token", "")), IMAP_SCOPE), {})

    async def api(request: Request) -> Response:
        state.http_requests += 1
        query = list(parse_qsl(request.url.query, keep_blank_values=True))
        auth = request.headers.get("authorization")
        return _json(*answer(state, request.method, request.url.path, query, auth))

    async def batch(request: Request) -> Response:
        state.http_requests += 1
        kind = request.headers.get("content-type", "")
        boundary = re.search(r'boundary="?([^";]+)"?', kind)
        if not kind.startswith("multipart/mixed") or boundary is None:
            error = GoogleError(400, "Content-Type must be multipart/mixed", "badContent")
            return _json(400, error.body(), {})
        parts = split_multipart(await request.body(), boundary[1])
        if len(parts) > MAX_BATCH:
            error = GoogleError(400, f"Too many requests in batch (max {MAX_BATCH})", "badRequest")
            return _json(400, error.body(), {})
        outer_auth = request.headers.get("authorization")
        out = []
        for part_headers, content in parts:
            method, path, query, inner_auth = _inner_request(content)
            status, body, headers = answer(state, method, path, query, inner_auth or outer_auth)
            content_id = part_headers.get("content-id", "").strip("<>")
            out.append(_response_part(content_id, status, body, headers))
        mark = "batch_" + base64.urlsafe_b64encode(str(time.time_ns()).encode()).decode()
        payload = "".join(f"--{mark}\r\n{part}" for part in out) + f"--{mark}--\r\n"
        return Response(payload.encode(), media_type=f"multipart/mixed; boundary={mark}")

    app = Starlette(
        routes=[
            Route("/token", token, methods=["POST"]),
            Route("/introspect", introspect, methods=["POST"]),
            Route("/batch/gmail/v1", batch, methods=["POST"]),
            Route("/{path:path}", api, methods=["GET", "POST", "PUT", "DELETE"]),
        ]
    )
    app.state.gmail = state
    return app


def split_multipart(data: bytes, boundary: str) -> list[tuple[dict[str, str], bytes]]:
    """The parts of a multipart body: (lower-case headers, content) each."""
    parts = []
    for chunk in data.split(b"--" + boundary.encode())[1:]:
        if chunk.startswith(b"--"):
            break
        head, _, content = chunk.strip(b"\r\n").partition(b"\r\n\r\n")
        headers = {}
        for line in head.decode("latin-1").split("\r\n"):
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        parts.append((headers, content))
    return parts


def _inner_request(content: bytes) -> tuple[str, str, Query, str | None]:
    lines = content.decode("utf-8").split("\r\n")
    method, target = lines[0].split(" ")[:2]
    auth = None
    for line in lines[1:]:
        name, _, value = line.partition(":")
        if name.strip().lower() == "authorization":
            auth = value.strip()
    url = urlsplit(target)
    return method, url.path, list(parse_qsl(url.query, keep_blank_values=True)), auth


def _response_part(content_id: str, status: int, body: dict, headers: dict[str, str]) -> str:
    reason = HTTPStatus(status).phrase
    extra = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
    return (
        f"Content-Type: application/http\r\nContent-ID: <response-{content_id}>\r\n\r\n"
        f"HTTP/1.1 {status} {reason}\r\nContent-Type: application/json; charset=UTF-8\r\n"
        f"{extra}\r\n{json.dumps(body)}\r\n"
    )
