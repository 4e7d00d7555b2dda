"""Render simulated mail as RFC 5322 bytes, the way it sits in a Gmail Takeout export.

Each mailer has its habits: Gmail and Outlook encode non-ASCII headers as UTF-8 "B"
words, Apple Mail as UTF-8 "Q" words, an old The Bat! as KOI8-R; Outlook sends bodies
in base64. Gmail's own `Received` line (Pacific time) carries the true arrival time even
when a sender's `Date` is naive or garbled.
"""

from __future__ import annotations

import base64
import functools
import random
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal
from zoneinfo import ZoneInfo

from .sim_cast import Mailer, Person

CRLF = "\r\n"
DateStyle = Literal["rfc", "naive", "garbled"]
WEEKDAY_NAMES = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
MONTH_NAMES = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
GMAIL_TZ = ZoneInfo("America/Los_Angeles")
MAX_WORD = 75
X_MAILER = {
    "outlook": "Microsoft Outlook 16.0",
    "apple": "Apple Mail (2.3774.600.62)",
    "thebat": "The Bat! (v9.4.2) Professional",
}
_Q_SAFE = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789!*+-/")


@dataclass
class Mail:
    """One message as generated, before rendering; `client_id` is None for non-client mail."""

    sent_at: datetime
    sender: Person
    to: list[Person]
    subject: str
    body: str
    thread_id: int
    labels: str
    tz: ZoneInfo
    message_id: str | None
    cc: list[Person] = field(default_factory=list)
    in_reply_to: str | None = None
    references: tuple[str, ...] = ()
    extra_headers: tuple[tuple[str, str], ...] = ()
    client_id: str | None = None
    from_client: bool = False
    kind: str = "human"  # human | thanks | auto_reply | bounce | newsletter | internal
    received: bool = True  # False for mail sent from the exported mailbox itself
    date_style: DateStyle = "rfc"


def thread_id(rng: random.Random, moment: datetime) -> int:
    """Gmail thread ids grow with time: milliseconds shifted left, low bits random."""
    return (int(moment.timestamp() * 1000) << 20) | rng.getrandbits(20)


def message_id(rng: random.Random, sender: Person, moment: datetime) -> str:
    """A Message-ID in the style of the sender's mailer."""
    token = f"{rng.getrandbits(80):020x}"
    if sender.mailer == "gmail":
        return f"<CA{_base62(rng.getrandbits(200))}@mail.gmail.com>"
    if sender.mailer == "outlook":
        return f"<{token.upper()}@{sender.domain}>"
    if sender.mailer == "thebat":
        return f"<{rng.getrandbits(30)}.{moment:%Y%m%d%H%M%S}@{sender.domain}>"
    return f"<{token[:8]}-{token[8:12]}-{token[12:16]}-{token[16:]}@{sender.domain}>"


def _base62(number: int) -> str:
    digits = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
    out = []
    while number:
        number, rest = divmod(number, 62)
        out.append(digits[rest])
    return "".join(out)


def rfc_date(moment: datetime, tz: ZoneInfo, pad_day: bool = False) -> str:
    local = moment.astimezone(tz)
    day = f"{local.day:02d}" if pad_day else str(local.day)
    return (
        f"{WEEKDAY_NAMES[local.weekday()]}, {day} {MONTH_NAMES[local.month - 1]} "
        f"{local.year} {local:%H:%M:%S} {local:%z}"
    )


def _sender_date(mail: Mail) -> str:
    local = mail.sent_at.astimezone(mail.tz)
    if mail.date_style == "naive":
        return f"{local:%Y-%m-%d %H:%M:%S}"
    if mail.date_style == "garbled":
        return f"{WEEKDAY_NAMES[local.weekday()]}, {local.day + 40} Foo {local.year} 25:{local:%M}"
    return rfc_date(mail.sent_at, mail.tz, pad_day=mail.sender.mailer == "outlook")


def _charset(mailer: Mailer, text: str) -> str:
    if mailer == "thebat":
        try:
            text.encode("koi8-r")
        except UnicodeEncodeError:
            return "utf-8"
        return "koi8-r"
    return "utf-8"


def _b_words(text: str, charset: str) -> list[str]:
    prefix = f"=?{charset.upper()}?B?"
    room = (MAX_WORD - len(prefix) - 2) // 4 * 3
    words, chunk = [], b""
    for char in text:
        encoded = char.encode(charset)
        if len(chunk) + len(encoded) > room:
            words.append(chunk)
            chunk = b""
        chunk += encoded
    words.append(chunk)
    return [f"{prefix}{base64.b64encode(w).decode('ascii')}?=" for w in words]


def _q_words(text: str, charset: str) -> list[str]:
    prefix = f"=?{charset.upper()}?Q?"
    room = MAX_WORD - len(prefix) - 2
    words, current = [], ""
    for char in text:
        piece = "".join(
            "_" if byte == 0x20 else chr(byte) if byte in _Q_SAFE else f"={byte:02X}"
            for byte in char.encode(charset)
        )
        if len(current) + len(piece) > room:
            words.append(current)
            current = ""
        current += piece
    words.append(current)
    return [f"{prefix}{w}?=" for w in words]


@functools.cache
def encode_text(text: str, mailer: Mailer) -> str:
    """A header phrase: ASCII as is, else RFC 2047 encoded words, folded one per line."""
    if text.isascii():
        return text
    charset = _charset(mailer, text)
    words = _q_words(text, charset) if mailer == "apple" else _b_words(text, charset)
    return (CRLF + " ").join(words)


def _address(person: Person, mailer: Mailer) -> str:
    name = person.display
    if not name:
        return person.email
    if name.isascii():
        quoted = name if name.replace(" ", "").isalnum() else '"' + name.replace('"', "") + '"'
        return f"{quoted} <{person.email}>"
    return f"{encode_text(name, mailer)} <{person.email}>"


def _address_list(people: list[Person], mailer: Mailer) -> str:
    return ("," + CRLF + " ").join(_address(p, mailer) for p in people)


def _received(mail: Mail, rng: random.Random) -> str:
    stamp = mail.sent_at.astimezone(GMAIL_TZ)
    hop = ":".join(f"{rng.getrandbits(16):x}" for _ in range(4))
    return (
        f"by 2002:a05:{hop} with SMTP id {rng.getrandbits(40):x}csp{rng.randint(100, 999)};"
        f"{CRLF}        {rfc_date(mail.sent_at, GMAIL_TZ)} ({stamp.tzname()})"
    )


def _body(mail: Mail) -> tuple[str, str, bytes]:
    """(charset, transfer encoding, encoded body with CRLF line ends)."""
    charset = _charset(mail.sender.mailer, mail.body)
    raw = mail.body.replace("\n", CRLF).encode(charset)
    if mail.sender.mailer == "outlook" and not mail.body.isascii():
        encoded = base64.encodebytes(raw).replace(b"\n", b"\r\n")
        return charset, "base64", encoded
    return charset, "8bit" if not mail.body.isascii() else "7bit", raw + b"\r\n"


def render(mail: Mail, rng: random.Random) -> bytes:
    mailer = mail.sender.mailer
    headers = [
        ("X-GM-THRID", str(mail.thread_id)),
        ("X-Gmail-Labels", mail.labels),
    ]
    if mail.received:
        headers.append(("Received", _received(mail, rng)))
    headers.append(("MIME-Version", "1.0"))
    headers.append(("Date", _sender_date(mail)))
    headers.append(("From", _address(mail.sender, mailer)))
    headers.append(("To", _address_list(mail.to, mailer)))
    if mail.cc:
        headers.append(("Cc", _address_list(mail.cc, mailer)))
    headers.append(("Subject", encode_text(mail.subject, mailer)))
    if mail.message_id:
        headers.append(("Message-ID", mail.message_id))
    if mail.in_reply_to:
        headers.append(("In-Reply-To", mail.in_reply_to))
    if mail.references:
        headers.append(("References", (CRLF + " ").join(mail.references)))
    headers.extend(mail.extra_headers)
    if mailer in X_MAILER:
        headers.append(("X-Mailer", X_MAILER[mailer]))
    charset, transfer, body = _body(mail)
    headers.append(("Content-Type", f'text/plain; charset="{charset}"'))
    headers.append(("Content-Transfer-Encoding", transfer))
    head = "".join(f"{name}: {value}{CRLF}" for name, value in headers)
    return head.encode("ascii") + b"\r\n" + body
