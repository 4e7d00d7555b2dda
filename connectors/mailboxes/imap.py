"""Message records from IMAP folders: headers and a body verdict, incremental by UID.

Folders are opened with EXAMINE (read-only); the header fields a record needs are
fetched with `BODY.PEEK[HEADER.FIELDS (...)]` and only the first bytes of the body
with a partial `BODY.PEEK[TEXT]<0.N>` (for the closing verdict; the text is not kept),
so nothing is ever marked \\Seen and no whole body crosses the wire. New UIDs are
found with `UID SEARCH` and fetched in batches; each batch comes with the folder
position it reaches, for the caller to commit together with the batch's rows. When a
folder's UIDVALIDITY differs from the stored one its UIDs mean nothing any more and the
folder is read again from the start (records are keyed by message, so re-reading
duplicates nothing).

A login is a password or an OAuth 2.0 bearer token from a `TokenProvider` (XOAUTH2 /
OAUTHBEARER): Google Workspace allows no passwords over IMAP any more.

On Gmail (`X-GM-EXT-1`) every label is an IMAP folder: a mailbox read through its
All Mail folder (`\\All`) sees each message once, with its labels from `X-GM-LABELS`
and its thread from `X-GM-THRID`.
"""

from __future__ import annotations

import contextlib
import imaplib
import json
import re
import ssl
from base64 import b64decode, b64encode
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Literal

from connectors.errors import ConnectorError
from connectors.mailboxes.body_text import BODY_PREFIX_BYTES
from connectors.mailboxes.headers import (
    READ_FIELDS,
    MessageRecord,
    Rejected,
    header_end,
    record_from_block,
)
from connectors.mailboxes.tokens import TokenProvider

# Gmail's own fields travel as FETCH items, not as headers.
_HEADER_NAMES = " ".join(
    name.upper() for name in READ_FIELDS if name not in ("x-gmail-labels", "x-gm-thrid")
)
HEADER_ITEM = f"BODY.PEEK[HEADER.FIELDS ({_HEADER_NAMES})]"
BODY_ITEM = f"BODY.PEEK[TEXT]<0.{BODY_PREFIX_BYTES}>"
GMAIL_CAPABILITY = "X-GM-EXT-1"
DEFAULT_BATCH = 500


OAuthMechanism = Literal["auto", "XOAUTH2", "OAUTHBEARER"]


@dataclass(frozen=True)
class ImapLogin:
    """Where and how to log in; built from an Airflow Connection, never logged.

    With `tokens` the session authenticates with an OAuth 2.0 bearer token instead of
    the password: OAUTHBEARER (RFC 7628) where the server offers it, else XOAUTH2
    (Google's and Microsoft's), or the `mechanism` named.
    """

    host: str
    port: int
    username: str
    password: str = field(default="", repr=False)
    use_ssl: bool = True
    timeout: float = 60.0
    tokens: TokenProvider | None = field(default=None, repr=False)
    mechanism: OAuthMechanism = "auto"


@dataclass(frozen=True)
class FolderCursor:
    """How far a folder has been read: its UIDVALIDITY and the last UID taken."""

    uidvalidity: int
    last_uid: int

    def dumps(self) -> str:
        return json.dumps({"uidvalidity": self.uidvalidity, "last_uid": self.last_uid})

    @classmethod
    def loads(cls, value: str | None) -> FolderCursor | None:
        if value is None:
            return None
        stored = json.loads(value)
        return cls(int(stored["uidvalidity"]), int(stored["last_uid"]))


@dataclass
class FolderBatch:
    """Items of one UID FETCH and the folder position reached once they are stored."""

    folder: str
    cursor: FolderCursor
    items: list[MessageRecord | Rejected]
    resync: bool


class ImapMailboxReader:
    """One logged-in IMAP session for one mailbox (use as a context manager).

    `requested` lists every (folder, UID set) fetched, in order: what a sync cost.
    """

    def __init__(self, login: ImapLogin, *, mailbox: str, batch_size: int = DEFAULT_BATCH) -> None:
        self.login = login
        self.mailbox = mailbox
        self.batch_size = batch_size
        self.requested: list[tuple[str, str]] = []
        self._imap: imaplib.IMAP4 | None = None

    def __enter__(self) -> ImapMailboxReader:
        login = self.login
        try:
            if login.use_ssl:
                context = ssl.create_default_context()
                self._imap = imaplib.IMAP4_SSL(
                    login.host, login.port, ssl_context=context, timeout=login.timeout
                )
            else:
                self._imap = imaplib.IMAP4(login.host, login.port, timeout=login.timeout)
            if login.tokens is None:
                self._imap.login(login.username, login.password)
            else:
                self._authenticate(self._imap, login.tokens)
        except ConnectorError:  # no token for this mailbox: the message says why
            self.close()
            raise
        except (OSError, imaplib.IMAP4.error) as error:
            self.close()
            raise ConnectorError(
                f"IMAP {login.host}:{login.port} ({self.mailbox}): cannot log in: {error}"
            ) from None
        return self

    def _authenticate(self, imap: imaplib.IMAP4, tokens: TokenProvider) -> None:
        """SASL with a bearer token; a refused token is renewed once (it may have expired
        or been revoked since it was issued)."""
        mechanism = self._oauth_mechanism(imap)
        for refresh in (False, True):
            response = sasl_bearer(mechanism, self.login, tokens.token(refresh=refresh))
            sent: list[bytes] = []

            def answer(_challenge: bytes, response: bytes = response, sent: list = sent) -> bytes:
                # After the first, each challenge is an error report: end the exchange
                # (XOAUTH2 with an empty response, OAUTHBEARER with a lone ^A).
                reply = response if not sent else (b"\x01" if mechanism == "OAUTHBEARER" else b"")
                sent.append(reply)
                return reply

            try:
                imap.authenticate(mechanism, answer)
                return
            except imaplib.IMAP4.error:
                if refresh:
                    raise

    def _oauth_mechanism(self, imap: imaplib.IMAP4) -> str:
        offered = {c[len("AUTH=") :] for c in imap.capabilities if c.startswith("AUTH=")}
        wanted = self.login.mechanism
        choice = (
            wanted
            if wanted != "auto"
            else next((m for m in ("OAUTHBEARER", "XOAUTH2") if m in offered), None)
        )
        if choice is None or choice not in offered:
            raise ConnectorError(
                f"IMAP {self.login.host}:{self.login.port} ({self.mailbox}): the server offers "
                f"no OAuth mechanism ClientPulse speaks ({wanted}; offered: "
                f"{' '.join(sorted(offered)) or 'none'})"
            )
        return choice

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        if self._imap is not None:
            with contextlib.suppress(OSError, imaplib.IMAP4.error):
                self._imap.logout()
            self._imap = None

    @property
    def imap(self) -> imaplib.IMAP4:
        if self._imap is None:
            raise ConnectorError(f"IMAP session for {self.mailbox} is not open")
        return self._imap

    @property
    def is_gmail(self) -> bool:
        return GMAIL_CAPABILITY in self.imap.capabilities

    def all_mail_folder(self) -> str:
        """Gmail's All Mail folder, found by its `\\All` attribute (names are localized)."""
        if not self.is_gmail:
            raise ConnectorError(
                f"IMAP {self.login.host} ({self.mailbox}): all_mail is set but the server "
                f"does not advertise {GMAIL_CAPABILITY}"
            )
        for line in self._ok("LIST", self.imap.list()):
            if isinstance(line, bytes) and rb"\All" in line.split(b")", 1)[0]:
                return _list_name(line)
        raise ConnectorError(f"IMAP {self.login.host} ({self.mailbox}): no \\All folder")

    def folder_batches(self, folder: str, cursor: FolderCursor | None) -> Iterator[FolderBatch]:
        """Batches of the messages after `cursor` (all of them if UIDVALIDITY changed)."""
        self._ok(f"EXAMINE {folder}", self.imap.select(_quoted(folder), readonly=True))
        _, values = self.imap.response("UIDVALIDITY")
        if not values or values[0] is None:
            raise ConnectorError(
                f"IMAP {self.login.host} ({self.mailbox}): {folder}: no UIDVALIDITY"
            )
        uidvalidity = int(values[-1])
        resync = cursor is not None and cursor.uidvalidity != uidvalidity
        first = cursor.last_uid + 1 if cursor is not None and not resync else 1
        found = self._ok(f"UID SEARCH in {folder}", self.imap.uid("SEARCH", f"UID {first}:*"))
        # "n:*" always matches the highest UID, even one below n.
        uids = sorted(uid for uid in map(int, b" ".join(found).split()) if uid >= first)
        if not uids and (cursor is None or resync):
            yield FolderBatch(folder, FolderCursor(uidvalidity, 0), [], resync)
        items = f"(UID INTERNALDATE {HEADER_ITEM} {BODY_ITEM}"
        items += " X-GM-LABELS X-GM-THRID)" if self.is_gmail else ")"
        for start in range(0, len(uids), self.batch_size):
            chunk = uids[start : start + self.batch_size]
            uid_set = uid_ranges(chunk)
            self.requested.append((folder, uid_set))
            fetched = self._ok(f"UID FETCH in {folder}", self.imap.uid("FETCH", uid_set, items))
            records = fetch_records(fetched, self.mailbox, folder, uidvalidity)
            yield FolderBatch(folder, FolderCursor(uidvalidity, chunk[-1]), records, resync)
            resync = False

    def _ok(self, what: str, answer: tuple[str, list]) -> list:
        status, data = answer
        if status != "OK":
            detail = b" ".join(d for d in data if isinstance(d, bytes)).decode("utf-8", "replace")
            raise ConnectorError(f"IMAP {self.login.host} ({self.mailbox}): {what}: {detail}")
        return data


# --- response parsing ---------------------------------------------------------------

_UID = re.compile(rb"\bUID (\d+)")
_INTERNALDATE = re.compile(rb'\bINTERNALDATE "([^"]+)"')
_THRID = re.compile(rb"\bX-GM-THRID (\d+)")
_LABELS = re.compile(rb'\bX-GM-LABELS \(((?:"(?:[^"\\]|\\.)*"|[^()"])*)\)')
_LABEL = re.compile(rb'"((?:[^"\\]|\\.)*)"|([^\s"]+)')
_LIST_NAME = re.compile(rb'"((?:[^"\\]|\\.)*)"\s*$|(\S+)\s*$')


_MESSAGE_START = re.compile(rb"\d+ \(")
_INLINE_TEXT = re.compile(rb'BODY\[TEXT\]<0> (?:"((?:[^"\\]|\\.)*)"|NIL)')


def _responses(data: list) -> Iterator[tuple[bytes, bytes, bytes | None]]:
    """(metadata, header literal, body-prefix literal or None) per message of an imaplib
    FETCH answer.

    imaplib gives a tuple (text before the literal, literal) per literal: a message's
    first starts with "<seq> (", its others continue it; text after the last literal
    comes as a separate bytes item. Items may come on any side of the literals.
    """
    message: list = []
    for part in [*data, (b"0 (", b"")]:  # a last start flushes the last message
        if isinstance(part, tuple) and _MESSAGE_START.match(part[0]) and message:
            meta = b" ".join(p[0] if isinstance(p, tuple) else p for p in message)
            literals = [p for p in message if isinstance(p, tuple)]
            header = next((p[1] for p in literals if b"HEADER.FIELDS" in p[0]), b"")
            body = next((p[1] for p in literals if b"BODY[TEXT]" in p[0]), None)
            inline = _INLINE_TEXT.search(meta) if body is None else None
            if inline:  # a short body may come as a quoted string, an empty one as NIL
                body = re.sub(rb"\\(.)", rb"\1", inline[1] or b"")
            yield meta, header, body
            message = []
        if isinstance(part, tuple) or message:
            message.append(part)


def fetch_records(
    answer: list, mailbox: str, folder: str, uidvalidity: int
) -> list[MessageRecord | Rejected]:
    """Records of an imaplib UID FETCH answer for `HEADER_ITEM`, `BODY_ITEM` (and Gmail's).

    A message without a usable Date takes the server's INTERNALDATE, flagged.
    """
    items = []
    for meta, block, body in _responses(answer):
        uid = _UID.search(meta)
        ref = f"imap://{mailbox}/{folder};UIDVALIDITY={uidvalidity}/;UID="
        ref += uid[1].decode() if uid else "?"
        item = record_from_block(
            block[: header_end(block, 0, len(block))],
            mailbox=mailbox,
            source="imap",
            source_ref=ref,
            # The server sends fewer bytes than asked for only when the body ends.
            body=None if body is None else (body, len(body) < BODY_PREFIX_BYTES),
        )
        if isinstance(item, MessageRecord):
            _add_server_fields(item, meta)
        items.append(item)
    return items


def _add_server_fields(item: MessageRecord, meta: bytes) -> None:
    if item.sent_at is None:
        received = _INTERNALDATE.search(meta)
        if received:
            item.sent_at = parse_internaldate(received[1].decode())
            item.problems.append("sent_at_from_internaldate")
    labels = _LABELS.search(meta)
    if labels:
        item.gmail_labels = gmail_fetch_labels(labels[1])
    thread = _THRID.search(meta)
    if thread:
        item.gmail_thread_id = thread[1].decode()


def sasl_bearer(mechanism: str, login: ImapLogin, token: str) -> bytes:
    """The initial SASL response carrying `token` (imaplib base64-encodes it)."""
    if mechanism == "OAUTHBEARER":  # RFC 7628 §3.1, with the GS2 header naming the user
        fields = f"host={login.host}\x01port={login.port}\x01auth=Bearer {token}\x01\x01"
        return f"n,a={login.username},\x01{fields}".encode()
    return f"user={login.username}\x01auth=Bearer {token}\x01\x01".encode()


def uid_ranges(uids: list[int]) -> str:
    """A sorted UID list as an IMAP sequence set: [1, 2, 3, 7] -> "1:3,7"."""
    spans: list[str] = []
    start = previous = uids[0]
    for uid in uids[1:]:
        if uid != previous + 1:
            spans.append(f"{start}:{previous}" if previous != start else str(start))
            start = uid
        previous = uid
    spans.append(f"{start}:{previous}" if previous != start else str(start))
    return ",".join(spans)


def parse_internaldate(text: str) -> datetime:
    """An IMAP INTERNALDATE ("22-Nov-2026 10:46:31 +0000") as aware UTC."""
    return datetime.strptime(text.strip(), "%d-%b-%Y %H:%M:%S %z").astimezone(UTC)


def _unquote(raw: bytes) -> str:
    return re.sub(rb"\\(.)", rb"\1", raw).decode("utf-8", "replace")


def gmail_fetch_labels(raw: bytes) -> list[str]:
    """Labels of an X-GM-LABELS list: atoms and quoted strings, modified UTF-7 decoded."""
    labels = []
    for quoted, atom in _LABEL.findall(raw):
        label = _unquote(quoted) if quoted or not atom else atom.decode("ascii", "replace")
        labels.append(decode_modified_utf7(label))
    return [label for label in labels if label]


def decode_modified_utf7(text: str) -> str:
    """IMAP's modified UTF-7 (RFC 3501 §5.1.3) for folder and label names."""
    if "&" not in text:
        return text
    out = []
    for plain, encoded in re.findall(r"([^&]+)|&([^-]*)-", text):
        if plain:
            out.append(plain)
        elif not encoded:
            out.append("&")
        else:
            data = encoded.replace(",", "/")
            data += "=" * (-len(data) % 4)
            out.append(b64decode(data).decode("utf-16-be", "replace"))
    return "".join(out)


def encode_modified_utf7(text: str) -> str:
    """A folder name as IMAP commands carry it (RFC 3501 §5.1.3)."""
    out = []
    for plain, other in re.findall(r"([ -~]+)|([^ -~]+)", text):
        if plain:
            out.append(plain.replace("&", "&-"))
        else:
            encoded = b64encode(other.encode("utf-16-be")).decode().rstrip("=")
            out.append("&" + encoded.replace("/", ",") + "-")
    return "".join(out)


def _list_name(line: bytes) -> str:
    found = _LIST_NAME.search(line)
    if found is None:
        raise ConnectorError(f"unreadable LIST line {line!r}")
    name = _unquote(found[1]) if found[1] is not None else found[2].decode()
    return decode_modified_utf7(name)


def _quoted(folder: str) -> str:
    escaped = encode_modified_utf7(folder).replace("\\", "\\\\").replace('"', '\\"')
    return f'"{escaped}"'
