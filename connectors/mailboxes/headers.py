"""Mail metadata from raw header fields: the record the mbox and IMAP connectors share.

Only header blocks reach this module; bodies are never read or kept. Splitting follows
the stdlib parser (`email.feedparser`) line for line, and each field is decoded as the
stdlib would (`email.header`, `email.utils`) wherever the stdlib succeeds, so records
agree with a reference built on it; where the stdlib raises (unknown charsets, broken
base64) the value is decoded leniently instead. Common forms take hand-written fast
paths: this runs once per message over mailboxes of millions.
"""

from __future__ import annotations

import binascii
import csv
import hashlib
import re
from collections.abc import Mapping, Sequence
from contextlib import suppress
from dataclasses import dataclass, field, fields
from datetime import UTC, datetime, timedelta
from email.charset import ALIASES, CODEC_MAP
from email.message import Message
from email.utils import collapse_rfc2231_value, getaddresses, parsedate_to_datetime
from functools import lru_cache
from mmap import mmap
from typing import Any, Literal

from connectors.mailboxes.closing import VOCABULARY_LETTERS, Verdict, closing_verdict
from connectors.mailboxes.native import scanner as _native

Source = Literal["mbox", "imap", "graph", "gmail"]
DateStatus = Literal["ok", "missing", "naive", "unparseable"]
RawValue = bytes | str
HeaderFields = Mapping[str, RawValue] | Sequence[tuple[RawValue, RawValue]]
# A body's first bytes, and whether they are the whole body.
BodyPrefix = tuple[bytes, bool]


@dataclass(slots=True)
class MessageRecord:
    """One message's normalized headers, as loaded into `raw.email_messages`."""

    message_key: str
    message_id: str | None
    mailbox: str
    source: Source
    source_ref: str
    from_addr: str
    from_name: str | None
    to_addrs: list[str]
    cc_addrs: list[str]
    reply_to: str | None
    subject: str | None
    sent_at: datetime | None
    date_status: DateStatus
    in_reply_to: str | None
    references: list[str]
    auto_submitted: str | None
    precedence: str | None
    list_id: str | None
    x_autoreply: bool
    return_path_null: bool
    is_bounce: bool
    gmail_labels: list[str]
    gmail_thread_id: str | None
    problems: list[str] = field(default_factory=list)
    # Whether the body opens as a pure closer (connectors.mailboxes.closing), and the rule
    # that said so.
    closing_verdict: Verdict = "unknown"
    closing_rule: str = "body_not_read"

    def as_row(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in RECORD_FIELDS}


RECORD_FIELDS = tuple(f.name for f in fields(MessageRecord))


@dataclass(frozen=True, slots=True)
class Rejected:
    """A message that cannot be used at all; `field` names the header at fault."""

    source_ref: str
    field: str
    reason: str


# --- header block -------------------------------------------------------------------

# The fields a record is built from, by lower-case name (as bytes and as text).
READ_FIELDS = (
    *("from", "to", "cc", "reply-to", "subject", "date", "message-id", "in-reply-to"),
    *("references", "auto-submitted", "precedence", "list-id", "x-autoreply"),
    *("x-autorespond", "return-path", "content-type", "x-gmail-labels", "x-gm-thrid"),
    "content-transfer-encoding",
)
_READ_KEYS = {**{n: n for n in READ_FIELDS}, **{n.encode(): n for n in READ_FIELDS}}
if _native is not None:
    _native.configure(READ_FIELDS)
    _native.configure_closing(VOCABULARY_LETTERS)
# The spellings mail mostly uses, so that most names are found without lower-casing.
_READ_KEYS.update({"-".join(p.capitalize() for p in n.split("-")).encode(): n for n in READ_FIELDS})
_READ_KEYS.update({b"Message-ID": "message-id", b"X-GM-THRID": "x-gm-thrid", b"List-ID": "list-id"})


def _fields_pattern(name: bytes) -> re.Pattern[bytes]:
    """Fields whose name matches `name`, at line starts (after a LF), in one pass.

    A field is the stdlib's: a name of printable ASCII but colon, a colon, a value with
    its continuation lines (values may keep the CR of a CRLF). A line that neither
    starts a field nor continues one yields (b"", b""), sending the block to the
    line-by-line parser.
    """
    value = rb"[ \t]*+(.*(?:\n[ \t].*)*)"
    not_a_field = rb"[!-9;-~]++[^!-9;-~:]|[^!-9;-~ \t]"
    return re.compile(rb"\n(?:(" + name + rb"):" + value + rb"|" + not_a_field + rb")")


def _first_letter_groups(names: tuple[str, ...]) -> bytes:
    """A case-insensitive alternation of `names`, grouped by first letter (faster in re)."""
    groups: dict[str, list[str]] = {}
    for name in sorted(names, key=len, reverse=True):
        groups.setdefault(name[0], []).append(re.escape(name[1:]))
    return b"|".join(
        f"[{first}{first.upper()}](?i:{'|'.join(rest)})".encode() for first, rest in groups.items()
    )


_ANY_FIELD = _fields_pattern(rb"[!-9;-~]++")
_READ_FIELD = _fields_pattern(_first_letter_groups(READ_FIELDS))
_NOT_A_FIELD = (b"", b"")
_LINE = re.compile(rb"[^\r\n]*(?:\r\n|\r|\n)")
_HEADER_LINE = re.compile(rb"From |[!-9;-~]*:|[ \t]")


def header_end(data: bytes | mmap, start: int, stop: int) -> int:
    """Offset just past the header block that starts at `start` (before its blank line).

    Returns `stop` when no blank line comes first. A line ending in a lone CR can end
    the block earlier; `parse_header_block` finds that one itself.
    """
    if data[start : start + 1] == b"\n" or data[start : start + 2] == b"\r\n":
        return start
    lf = data.find(b"\n\n", start, stop)
    crlf = data.find(b"\n\r\n", start, stop if lf == -1 else lf)
    blank = crlf if crlf != -1 else lf
    return stop if blank == -1 else blank + 1


def parse_header_block(data: bytes) -> list[tuple[bytes, bytes]]:
    """Split a message (or its header block) into (name, raw value) pairs, in order.

    Parsing stops at the blank line that ends the headers, or at the first line that
    is not a header, exactly as `email.feedparser` does. Values keep their folding
    line breaks (see `unfold`).
    """
    end = header_end(data, 0, len(data))
    block = data if end == len(data) else data[:end]
    pairs = _fast_fields(_ANY_FIELD, block)
    if pairs is None:
        return _parse_header_lines(block)
    return [(name, value.rstrip(b"\r")) for name, value in pairs]


def _read_fields(block: bytes) -> list[tuple[bytes, bytes]] | None:
    """The fields `normalize` reads from a block cut at `header_end`; None if it has none."""
    pairs = _fast_fields(_READ_FIELD, block)
    if pairs is not None:
        return pairs
    pairs = _parse_header_lines(block)
    return [pair for pair in pairs if pair[0].lower() in _READ_KEYS] if pairs else None


def _fast_fields(pattern: re.Pattern[bytes], block: bytes) -> list[tuple[bytes, bytes]] | None:
    """`pattern`'s fields when every line starts or continues a field and ends in LF or
    CRLF; otherwise None (the stdlib's rules for broken blocks are line by line)."""
    if not block or block[0] in b" \t" or (b"\r" in block and not _crlf_only(block)):
        return None
    pairs = pattern.findall(b"\n" + block if block.endswith(b"\n") else b"\n" + block + b"\n")
    return None if _NOT_A_FIELD in pairs else pairs


def _crlf_only(block: bytes) -> bool:
    return block.count(b"\r") == block.count(b"\r\n")


def _parse_header_lines(block: bytes) -> list[tuple[bytes, bytes]]:
    """Line-by-line twin of `email.feedparser` for blocks the fast paths cannot take."""
    if not block.endswith(b"\n"):
        block += b"\n"
    lines = []
    for line in _LINE.findall(block):
        if not _HEADER_LINE.match(line):
            break
        lines.append(line)
    pairs: list[tuple[bytes, bytes]] = []
    name: bytes | None = None
    value: list[bytes] = []
    for line in lines:
        if line[:1] in (b" ", b"\t"):
            if name is not None:
                value.append(line)
            continue
        if name is not None:
            pairs.append((name, b"".join(value).rstrip(b"\r\n")))
            name = None
        if line.startswith(b"From ") or line.startswith(b":"):
            # A Unix "From " line or a field without a name: the stdlib drops it.
            continue
        colon = line.index(b":")
        name, value = line[:colon], [line[colon + 1 :].lstrip(b" \t")]
    if name is not None:
        pairs.append((name, b"".join(value).rstrip(b"\r\n")))
    return pairs


def unfold(raw: RawValue, charset: str = "utf-8") -> str:
    """Header value as text: line breaks removed, 8-bit bytes decoded from `charset`."""
    if isinstance(raw, bytes):
        raw = raw.translate(None, b"\r\n")
        try:
            return raw.decode("ascii")
        except UnicodeDecodeError:
            return raw.decode(charset, "replace")
    return raw.replace("\r", "").replace("\n", "")


# --- RFC 2047 encoded words ---------------------------------------------------------

_ENCODED_WORD = re.compile(r"=\?([^?]*?)\?([qQbB])\?(.*?)\?=")
_Q_ESCAPE = re.compile(rb"=([a-fA-F0-9]{2})")
_Q_ODD_EQUALS = re.compile(r"=(?![a-fA-F0-9]{2})")
_ENCODINGS = frozenset("qQbB")
_ASCII_CHARSETS = (None, "us-ascii")


def _q_byte(match: re.Match[bytes]) -> bytes:
    return bytes((int(match[1], 16),))


def _decode_payload(encoding: str, payload: str) -> bytes | None:
    if encoding == "q":
        if _Q_ODD_EQUALS.search(payload) is None:  # then binascii decodes as the stdlib
            return binascii.a2b_qp(payload, header=True)
        return _Q_ESCAPE.sub(_q_byte, payload.encode("ascii").replace(b"_", b" "))
    padding = len(payload) % 4
    if padding:
        payload += "==="[: 4 - padding]
    try:
        return binascii.a2b_base64(payload)
    except binascii.Error:
        return None


def _charset_name(charset: str) -> str:
    return ALIASES.get(charset, charset)


def _to_text(data: bytes, charset: str) -> str:
    codec = CODEC_MAP.get(charset, charset) or "us-ascii"
    try:
        return data.decode(codec)
    except (LookupError, ValueError):  # unknown codec, bytes it cannot hold, NUL in the name
        pass
    try:  # a charset with an RFC 2231 language suffix ("utf-8*ru")
        return data.decode(codec.partition("*")[0], "replace")
    except (LookupError, ValueError):
        return data.decode("utf-8", "replace")


def _nonctext(char: str) -> bool:
    return char.isspace() or char in "()\\"


def decode_encoded_words(text: str) -> str:
    """Decode RFC 2047 words in ASCII `text` as `str(make_header(decode_header(text)))`.

    Same word splitting, whitespace and charset-boundary spacing as the stdlib; an
    unknown charset or undecodable bytes give replacement characters instead of an
    exception, and a word whose base64 is broken stays as written.
    """
    if "=?" not in text:
        return text
    if text.startswith("=?") and text.endswith("?=") and text.count("?") == 4:
        _, charset, encoding, payload, _ = text.split("?")
        # One encoded word and nothing else (a line break would split it, as in the stdlib)
        if encoding in _ENCODINGS and text.isprintable():
            data = _decode_payload(encoding.lower(), payload)
            if data is not None:
                return _to_text(data, _charset_name(charset.lower()))
    if _ENCODED_WORD.search(text) is None:
        return text
    return _join_chunks(_charset_runs(_words(text)))


_Word = tuple[str, str | None, str | None]  # (text or payload, encoding, charset)


def _words(text: str) -> list[_Word]:
    """Plain and encoded words, line by line as the stdlib splits them."""
    words: list[_Word] = []
    for line in text.splitlines():
        parts = _ENCODED_WORD.split(line)
        plain = parts[0].lstrip()
        if plain:
            words.append((plain, None, None))
        for i in range(1, len(parts), 4):
            words.append((parts[i + 2], parts[i + 1].lower(), parts[i].lower()))
            if parts[i + 3]:
                words.append((parts[i + 3], None, None))
    # Whitespace between two encoded words is not part of the text (RFC 2047 §6.2).
    last = len(words) - 1
    return [
        word
        for n, word in enumerate(words)
        if not (0 < n < last and words[n - 1][1] and words[n + 1][1] and word[0].isspace())
    ]


def _charset_runs(words: list[_Word]) -> list[tuple[str, str]]:
    """Decoded text per run of one charset ("us-ascii" for plain text).

    Encoded bytes of one charset are joined before decoding (a character may span
    two words), plain words with a space; runs of aliased charsets then merge with a
    space, as `email.header.Header` does.
    """
    runs: list[tuple[bytes, str | None]] = []
    for payload, encoding, charset in words:
        data = None if encoding is None else _decode_payload(encoding, payload)
        if data is None:
            if encoding is not None:
                payload, charset = f"=?{charset}?{encoding}?{payload}?=", None
            data = payload.encode("ascii")
        if runs and runs[-1][1] == charset:
            joiner = b" " if charset is None else b""
            runs[-1] = (runs[-1][0] + joiner + data, charset)
        else:
            runs.append((data, charset))
    chunks: list[tuple[str, str]] = []
    for data, charset in runs:
        name = "us-ascii" if charset is None else _charset_name(charset)
        text = data.decode("ascii") if charset is None else _to_text(data, name)
        if chunks and chunks[-1][1] == name:
            chunks[-1] = (chunks[-1][0] + " " + text, name)
        else:
            chunks.append((text, name))
    return chunks


def _join_chunks(chunks: list[tuple[str, str]]) -> str:
    """Join runs, adding a space where encoded text meets plain text without one."""
    out: list[str] = []
    last_charset: str | None = None
    last_space = False
    for text, name in chunks:
        next_charset: str | None = name
        if out:
            has_space = bool(text) and _nonctext(text[0])
            if last_charset not in _ASCII_CHARSETS:
                if next_charset in _ASCII_CHARSETS and not has_space:
                    out.append(" ")
                    next_charset = None
            elif next_charset not in _ASCII_CHARSETS and not last_space:
                out.append(" ")
        last_space = bool(text) and _nonctext(text[-1])
        last_charset = next_charset
        out.append(text)
    return "".join(out)


def header_text(raw: RawValue) -> str:
    """A text field's value: unfolded, decoded and stripped.

    Encoded words are decoded in ASCII values only; a value carrying raw 8-bit bytes
    (RFC 6532) is taken as UTF-8 text, as written.
    """
    text = unfold(raw)
    if text.isascii():
        text = decode_encoded_words(text)
    return text.strip()


# --- addresses ----------------------------------------------------------------------

_ATEXT = r"A-Za-z0-9!#$%&'*+/=?^_`{|}~.\-"
# The forms most mail uses, as list items: addr, "Quoted Name" <addr>, Plain Name <addr>
# or nothing. Anything else lands in the last group and sends the list to the stdlib.
# (Possessive repeats stay on character classes: 3.11 mis-tracks groups inside them.)
_ADDR_SPEC = rf"[{_ATEXT}]++@[{_ATEXT}]++"
_ADDRESS_ITEMS = re.compile(
    rf'[ \t]*+(?:({_ADDR_SPEC})|"([^"\\]*+)"[ \t]*+<[ \t]*+({_ADDR_SPEC})[ \t]*+>'
    rf"|([{_ATEXT} \t]*+)<[ \t]*+({_ADDR_SPEC})[ \t]*+>|)[ \t]*+(?:,|\Z)|([^,]++)"
)
_SPACES = re.compile(r"[ \t]+")
_GETADDRESSES_OPTIONS: dict[str, bool] = {}
try:  # Python releases with the CVE-2023-27043 fix default to strict=True.
    getaddresses([], strict=False)  # type: ignore[call-arg]
    _GETADDRESSES_OPTIONS["strict"] = False
except TypeError:
    pass


def _split_addresses(text: str) -> list[tuple[str, str]]:
    """(raw display name, address) pairs as `email.utils.getaddresses` gives them."""
    pairs = []
    for bare, quoted, quoted_addr, plain, plain_addr, other in _ADDRESS_ITEMS.findall(text):
        if bare:
            pairs.append(("", bare))
        elif quoted_addr:
            pairs.append((quoted, quoted_addr))
        elif plain_addr:
            pairs.append((_SPACES.sub(" ", plain).strip(" \t"), plain_addr))
        elif other:
            return getaddresses([text], **_GETADDRESSES_OPTIONS)
    return pairs


@lru_cache(maxsize=4096)
def _display_name(raw: str) -> str | None:
    return (decode_encoded_words(raw) if raw.isascii() else raw).strip() or None


@lru_cache(maxsize=4096)
def parse_addresses(text: str) -> tuple[tuple[str | None, str], ...]:
    """(decoded display name or None, lower-cased address) for each address in `text`.

    Entries without an address (empty list items, empty groups) are left out.
    Cached: senders and recipients repeat throughout a mailbox.
    """
    return tuple(
        (_display_name(name), address.lower())
        for name, address in _split_addresses(text)
        if address
    )


# --- dates --------------------------------------------------------------------------

_MONTH_NAMES = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_MONTHS = {name: number for number, name in enumerate(_MONTH_NAMES, 1)}
_RFC5322_DATE = re.compile(
    r"(?:(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun), )?(\d{1,2}) "
    rf"({'|'.join(_MONTH_NAMES)}) ([1-9]\d{{3}}) "
    r"(\d\d):(\d\d):(\d\d) ([+-])(\d\d)(\d\d)(?:[ \t].*)?",
    re.S,
)
_ONE_DAY = 86400


def _fast_date(text: str) -> tuple[datetime | None, DateStatus] | None:
    """The common RFC 5322 shape (None for any other); `_mailscan.parse_date` is its twin."""
    match = _RFC5322_DATE.fullmatch(text)
    if not match:
        return None
    day, month, year, hour, minute, second, sign, zone_h, zone_m = match.groups()
    offset = int(zone_h) * 3600 + int(zone_m) * 60
    if offset >= _ONE_DAY:  # the stdlib's timezone() refuses it
        return None, "unparseable"
    try:
        local = datetime(
            int(year), _MONTHS[month], int(day), int(hour), int(minute), int(second), 0, UTC
        )
        if sign == "-" and not offset:
            return local, "naive"
        return local - timedelta(seconds=offset if sign == "+" else -offset), "ok"
    except (ValueError, OverflowError):
        return None, "unparseable"


def parse_date(text: str) -> tuple[datetime | None, DateStatus]:
    """A Date header as aware UTC, read as `email.utils.parsedate_to_datetime` reads it.

    A date without a usable zone (none, `-0000`, an unknown name) is taken as UTC and
    reported as `naive`.
    """
    fast = _native.parse_date(text) if _native is not None else _fast_date(text)
    if fast is not None:
        return fast
    try:
        parsed = parsedate_to_datetime(text)
        if parsed.tzinfo is None:
            return parsed.replace(tzinfo=UTC), "naive"
        return parsed.astimezone(UTC), "ok"
    except (ValueError, OverflowError):
        return None, "unparseable"


# --- message ids, labels, content type ----------------------------------------------

_BRACKETED_ID = re.compile(r"<([^<>]*)>")
_PLAIN_ID_LIST = re.compile(r"\s*+(?:<[^<>\s]++>\s*+)+")


def message_ids(text: str) -> list[str]:
    """Ids in a Message-ID, In-Reply-To or References value, without angle brackets.

    Bracketed ids lose any folding whitespace inside them; a value with no brackets at
    all counts as one id when it is a single token.
    """
    if _PLAIN_ID_LIST.fullmatch(text):
        return list(dict.fromkeys(_BRACKETED_ID.findall(text)))
    if "<" not in text:
        token = text.strip()
        return [token] if token and len(token.split()) == 1 else []
    ids = ("".join(found.split()) for found in _BRACKETED_ID.findall(text))
    return list(dict.fromkeys(i for i in ids if i))


def gmail_labels(text: str) -> list[str]:
    """Google Takeout's X-Gmail-Labels: comma-separated, CSV-quoted when a label has a comma."""
    parts = text.split(",")
    if '"' in text:
        with suppress(csv.Error):  # a NUL byte or an over-long label: keep the plain split
            parts = next(csv.reader([text], skipinitialspace=True), [])
    labels = (part.strip() for part in parts)
    return [label for label in labels if label]


def _is_delivery_report(content_type: str) -> bool:
    if content_type.partition(";")[0].strip().lower() != "multipart/report":
        return False
    # Parameter quoting and RFC 2231 continuations are the stdlib's business.
    holder = Message()
    holder["Content-Type"] = content_type
    report_type = holder.get_param("report-type")
    if isinstance(report_type, tuple):
        report_type = collapse_rfc2231_value(report_type)
    return isinstance(report_type, str) and report_type.strip().lower() == "delivery-status"


# --- the record ---------------------------------------------------------------------

_BOUNCE_SENDERS = frozenset({"mailer-daemon", "postmaster"})


def _collect(headers: HeaderFields) -> dict[str, list[RawValue]]:
    """Raw values of the fields a record reads, by lower-case name, in message order."""
    found: dict[str, list[RawValue]] = {}
    pairs = headers if isinstance(headers, list) or not isinstance(headers, Mapping) else None
    get = _READ_KEYS.get
    for name, value in headers.items() if pairs is None else pairs:
        key = get(name) or get(name.lower())
        if key is None:
            continue
        values = found.get(key)
        if values is None:
            found[key] = [value]
        else:
            values.append(value)
    return found


# Caches by raw value: senders, subjects, labels and flags repeat across a mailbox.
_text = lru_cache(maxsize=16384)(header_text)


@lru_cache(maxsize=16384)
def _addresses(raw: RawValue) -> tuple[str, ...]:
    """Lower-cased addresses only: recipients' display names are never decoded."""
    return _bare_addresses(unfold(raw))


def _bare_addresses(text: str) -> tuple[str, ...]:
    return tuple(address.lower() for _, address in _split_addresses(text) if address)


@lru_cache(maxsize=4096)
def _sender(raw: RawValue) -> tuple[tuple[str | None, str], ...]:
    return parse_addresses(unfold(raw))


@lru_cache(maxsize=4096)
def _labels(raw: RawValue) -> tuple[str, ...]:
    return tuple(gmail_labels(header_text(raw)))


@lru_cache(maxsize=1024)
def _delivery_report(raw: RawValue) -> bool:
    return _is_delivery_report(unfold(raw))


def _optional_text(values: list[RawValue] | None) -> str | None:
    return (_text(values[0]) or None) if values else None


def _first_id(values: list[RawValue] | None) -> str | None:
    ids = message_ids(unfold(values[0])) if values else []
    return ids[0] if ids else None


def _address_list(values: list[RawValue] | None) -> list[str]:
    """Addresses of every field given (a message may repeat To or Cc)."""
    if not values:
        return []
    if len(values) == 1:
        return list(_addresses(values[0]))
    return list(_bare_addresses(", ".join(map(unfold, values))))


def _fallback_key(from_addr: str, date_text: str, subject: str | None, to: list[str]) -> str:
    material = "\n".join((from_addr, date_text, subject or "", ",".join(to)))
    digest = hashlib.sha1(material.encode("utf-8", "replace"), usedforsecurity=False)
    return "sha1:" + digest.hexdigest()


def _closing(found: dict[str, list[RawValue]], body: BodyPrefix | None) -> tuple[Verdict, str]:
    """The closing verdict of a reply's body; only replies are read (a closer answers)."""
    content_type = found.get("content-type")
    encoding = found.get("content-transfer-encoding")
    return body_closing_verdict(
        content_type[0] if content_type else None,
        encoding[0] if encoding else None,
        "in-reply-to" in found or "references" in found,
        body,
    )


def body_closing_verdict(
    content_type: RawValue | None,
    encoding: RawValue | None,
    is_reply: bool,
    body: BodyPrefix | None,
) -> tuple[Verdict, str]:
    """The closing verdict of a message from its raw Content-Type and transfer encoding,
    whether it is a reply, and its body's first bytes (None: not read)."""
    if body is None:
        return "unknown", "body_not_read"
    if not is_reply:
        return "unknown", "not_a_reply"
    if _native is not None:  # most replies are settled by their first lines
        quick = _native.quick_verdict(content_type, encoding, *body)
        if quick is not None:
            return quick
    return rules_verdict(content_type, encoding, body)


def rules_verdict(
    content_type: RawValue | None, encoding: RawValue | None, body: BodyPrefix
) -> tuple[Verdict, str]:
    """The Python closing rules on a reply's raw header values and body prefix (what
    `body_closing_verdict` asks when the compiled shortcut leaves a body undecided)."""
    return closing_verdict(
        unfold(content_type) if content_type is not None else None,
        unfold(encoding) if encoding is not None else None,
        *body,
    )


def normalize(
    headers: HeaderFields,
    *,
    mailbox: str,
    source: Source,
    source_ref: str,
    body: BodyPrefix | None = None,
) -> MessageRecord | Rejected:
    """Build the record from a message's header fields, or say why it is unusable.

    `headers` is a mapping or a sequence of (name, raw value) pairs in message order,
    as `parse_header_block` returns them; raw values may be bytes or text and may still
    be folded. Repeated fields: the first counts, except To and Cc which accumulate.
    `body` is the body's first bytes and whether they are all of it, for the closing
    verdict (read, never kept).
    """
    return _record(_collect(headers), mailbox, source, source_ref, body)


def _record(
    found: dict[str, list[RawValue]],
    mailbox: str,
    source: Source,
    source_ref: str,
    body: BodyPrefix | None,
) -> MessageRecord | Rejected:
    senders = found.get("from")
    if not senders:
        return Rejected(source_ref, "From", "no From header")
    sender = _sender(senders[0])
    if not sender:
        return Rejected(source_ref, "From", "From header has no address")
    from_name, from_addr = sender[0]

    problems: list[str] = []
    to_addrs = _address_list(found.get("to"))
    subjects = found.get("subject")
    subject = _text(subjects[0]) if subjects else None
    dates = found.get("date")
    # Bytes outside ASCII are never part of a date: keep them from reading as digits.
    date_text = unfold(dates[0], "ascii").strip() if dates else ""
    if dates:
        sent_at, date_status = parse_date(date_text)
        if date_status != "ok":
            problems.append(f"date_{date_status}")
    else:
        sent_at, date_status = None, "missing"
        problems.append("date_missing")

    message_id = _first_id(found.get("message-id"))
    if message_id is None:
        problems.append("missing_message_id")
        message_key = _fallback_key(from_addr, date_text, subject, to_addrs)
    else:
        message_key = message_id
        if len(found["message-id"]) > 1:
            problems.append("duplicate_message_id_header")

    reply_to = _address_list(found.get("reply-to"))
    references = found.get("references")
    labels = found.get("x-gmail-labels")
    return_path = found.get("return-path")
    content_type = found.get("content-type")
    verdict, rule = _closing(found, body)
    return MessageRecord(
        message_key=message_key,
        message_id=message_id,
        mailbox=mailbox,
        source=source,
        source_ref=source_ref,
        from_addr=from_addr,
        from_name=from_name,
        to_addrs=to_addrs,
        cc_addrs=_address_list(found.get("cc")),
        reply_to=reply_to[0] if reply_to else None,
        subject=subject,
        sent_at=sent_at,
        date_status=date_status,
        in_reply_to=_first_id(found.get("in-reply-to")),
        references=message_ids(unfold(references[0])) if references else [],
        auto_submitted=_optional_text(found.get("auto-submitted")),
        precedence=_optional_text(found.get("precedence")),
        list_id=_optional_text(found.get("list-id")),
        x_autoreply="x-autoreply" in found or "x-autorespond" in found,
        return_path_null=bool(return_path) and "".join(unfold(return_path[0]).split()) == "<>",
        is_bounce=from_addr.partition("@")[0] in _BOUNCE_SENDERS
        or (bool(content_type) and _delivery_report(content_type[0])),
        gmail_labels=list(_labels(labels[0])) if labels else [],
        gmail_thread_id=_optional_text(found.get("x-gm-thrid")),
        problems=problems,
        closing_verdict=verdict,
        closing_rule=rule,
    )


def record_from_block(
    block: bytes,
    *,
    mailbox: str,
    source: Source,
    source_ref: str,
    body: BodyPrefix | None = None,
) -> MessageRecord | Rejected:
    """`normalize` a raw header block cut at `header_end`, reading only the fields it needs.

    The compiled reader builds the record from the blocks `_fast_fields` takes, with the
    same values (it asks the helpers below for the uncommon ones); the rest come here.
    """
    if _native is not None:
        values = _native.record(block, mailbox, source, source_ref)
        if values is not None:
            if len(values) == 2:
                return Rejected(source_ref, *values)
            *record, content_type, encoding, is_reply = values
            return MessageRecord(
                *record, *body_closing_verdict(content_type, encoding, is_reply, body)
            )
    pairs = _read_fields(block)
    if pairs is None:
        return Rejected(source_ref, "headers", "no header fields before the body")
    return _record(_collect(pairs), mailbox, source, source_ref, body)


def _raw_message_ids(raw: RawValue) -> list[str]:
    return message_ids(unfold(raw))


# Charsets whose encoded words the compiled reader decodes itself: each is its own name
# and codec in the stdlib's tables (others are renamed or merged by `_charset_runs`).
_COMPILED_CHARSETS = (
    *("utf-8", "utf8", "koi8-r", "koi8-u", "windows-1251", "cp1251", "windows-1252"),
    *("iso-8859-1", "iso-8859-2", "iso-8859-5", "iso-8859-15"),
)

if _native is not None:  # what the compiled record builder asks Python for
    _native.configure_charsets(
        tuple(c for c in _COMPILED_CHARSETS if _charset_name(c) == c == CODEC_MAP.get(c, c))
    )
    _native.configure_record(
        (
            _sender,
            _text,
            _labels,
            _delivery_report,
            _raw_message_ids,
            _address_list,
            parse_date,
            _fallback_key,
        )
    )
