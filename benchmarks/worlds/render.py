"""Messages as RFC 5322 bytes, rendered here (not by
the sandbox's renderer), as a Gmail Takeout export of the shared inbox holds them."""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from datetime import datetime
from email.utils import format_datetime
from zoneinfo import ZoneInfo

from .cast import Person

GMAIL_TZ = ZoneInfo("America/Los_Angeles")


@dataclass
class Mail:
    sent_at: datetime  # UTC
    sender: Person
    to: list[Person]
    subject: str
    body: str
    message_id: str
    thread: int  # X-GM-THRID
    tz: str  # the sender's time zone, for the Date header
    cc: list[Person] = field(default_factory=list)
    references: tuple[str, ...] = ()  # the thread so far, oldest first
    inbound: bool = True  # arrived in the shared inbox (else sent from it)
    headers: tuple[tuple[str, str], ...] = ()  # Auto-Submitted and the like
    client_id: str | None = None


def _phrase(text: str) -> str:
    """A header phrase: ASCII as is, else RFC 2047 UTF-8 "B" words folded one per line."""
    if text.isascii():
        return text
    words, chunk = [], b""
    for char in text:
        encoded = char.encode()
        if len(chunk) + len(encoded) > 45:
            words.append(chunk)
            chunk = b""
        chunk += encoded
    words.append(chunk)
    return "\r\n ".join(f"=?UTF-8?B?{base64.b64encode(w).decode()}?=" for w in words)


def _address(person: Person) -> str:
    name = person.name.replace('"', "")
    shown = f'"{name}"' if name.isascii() else _phrase(name)
    return f"{shown} <{person.email}>"


def render(mail: Mail) -> bytes:
    """The message with CRLF line ends and a base64 UTF-8 body."""
    headers = [
        ("X-GM-THRID", str(mail.thread)),
        ("X-Gmail-Labels", "Inbox" if mail.inbound else "Sent"),
    ]
    if mail.inbound:
        arrived = format_datetime(mail.sent_at.astimezone(GMAIL_TZ))
        headers.append(
            ("Received", f"by 10.0.0.1 with SMTP id x{mail.thread % 99991};\r\n {arrived}")
        )
    headers += [
        ("MIME-Version", "1.0"),
        ("Date", format_datetime(mail.sent_at.astimezone(ZoneInfo(mail.tz)))),
        ("From", _address(mail.sender)),
        ("To", ",\r\n ".join(_address(p) for p in mail.to)),
    ]
    if mail.cc:
        headers.append(("Cc", ",\r\n ".join(_address(p) for p in mail.cc)))
    headers += [("Subject", _phrase(mail.subject)), ("Message-ID", mail.message_id)]
    if mail.references:
        headers.append(("In-Reply-To", mail.references[-1]))
        headers.append(("References", "\r\n ".join(mail.references)))
    headers += [*mail.headers, ("Content-Type", 'text/plain; charset="utf-8"')]
    headers.append(("Content-Transfer-Encoding", "base64"))
    head = "".join(f"{name}: {value}\r\n" for name, value in headers)
    body = base64.encodebytes(mail.body.replace("\n", "\r\n").encode()).replace(b"\n", b"\r\n")
    return head.encode("ascii") + b"\r\n" + body
