"""Write messages as a Google Takeout mbox file.

Takeout separates messages with `From <thread id>@xxx <asctime date>` lines and quotes
body lines that would look like a separator in the mboxrd way (`From ` -> `>From `,
`>From ` -> `>>From `). The separator's date is Gmail's arrival time, taken from the
message's first `Received` header (Gmail's own), else its `Date`. Lines keep the
message's own line endings (CRLF for the simulator's mail).
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from pathlib import Path

_FROM_LINE = re.compile(rb"^(>*From )", re.MULTILINE)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _header(head: bytes, name: bytes) -> bytes | None:
    """The first occurrence of a header in the header block, unfolded."""
    match = re.search(
        rb"^" + re.escape(name) + rb":[ \t]*(.*(?:\r?\n[ \t].*)*)",
        head,
        re.MULTILINE | re.IGNORECASE,
    )
    return re.sub(rb"\r?\n[ \t]+", b" ", match.group(1)).strip() if match else None


def _arrival(head: bytes) -> datetime:
    received = _header(head, b"Received")
    candidates = [received.rsplit(b";", 1)[-1] if received else None, _header(head, b"Date")]
    for value in candidates:
        if not value:
            continue
        try:
            moment = parsedate_to_datetime(value.decode("ascii", "replace"))
        except (TypeError, ValueError):
            continue
        if moment.tzinfo is not None:
            return moment.astimezone(UTC)
    return _EPOCH


def arrival_time(message: bytes) -> datetime:
    """When Gmail received `message` (its own `Received` line, else `Date`): the
    separator's date here, `internalDate` in the Gmail API fake."""
    return _arrival(re.split(rb"\r?\n\r?\n", message, maxsplit=1)[0])


def separator_line(message: bytes) -> bytes:
    """`From 1846121620045887522@xxx Thu Oct 16 07:12:54 +0000 2025` for one message."""
    head = re.split(rb"\r?\n\r?\n", message, maxsplit=1)[0]
    thread = _header(head, b"X-GM-THRID") or b"0"
    moment = _arrival(head)
    stamp = moment.strftime("%a %b %d %H:%M:%S +0000 %Y").encode("ascii")
    return b"From " + thread + b"@xxx " + stamp


def write_mbox(messages: Iterable[bytes], path: Path) -> int:
    """Write `messages` to `path` atomically (temp file, then rename); return the count."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    count = 0
    temp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with temp.open("wb") as out:
            for message in messages:
                newline = b"\r\n" if b"\r\n" in message[:200] else b"\n"
                body = _FROM_LINE.sub(rb">\1", message)
                if not body.endswith(newline):
                    body += newline
                out.write(separator_line(message) + newline + body + newline)
                count += 1
            out.flush()
            os.fsync(out.fileno())
        os.replace(temp, path)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
    return count
