"""Synthetic Google Takeout mbox files for the mbox benchmark and differential tests.

Seeded and deterministic. Messages look like an agency's mailbox: Gmail Takeout
headers (X-GM-THRID, X-Gmail-Labels, Received chains, DKIM signatures), Cyrillic
subjects and display names as RFC 2047 words (UTF-8 B and Q, KOI8-R,
windows-1251), folded headers, several recipients, References chains, auto-replies,
list mail and bounces, plus the defects real archives carry: missing Message-ID,
missing, zone-less and garbage dates, a second Message-ID, no sender. Bodies are
MIME multiparts with mboxrd-quoted `>From ` lines. `mutate` damages a message for
fuzzing.
"""

from __future__ import annotations

import base64
import random
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

CORPUS_VERSION = 1

_CYRILLIC_SUBJECTS = (
    "Счёт за март",
    "Отчёт по проекту за неделю",
    "Встреча в четверг в 15:00",
    "Правки к макету главной страницы",
    "Срочно: сайт не открывается",
    "Договор на техническую поддержку",
    "Акт выполненных работ",
    "Вопрос по интеграции с CRM",
    "Согласование бюджета на рекламу в июне",
    "Спасибо, всё получили",
    "Новые требования к мобильной версии приложения и срокам запуска",
)
_LATIN_SUBJECTS = (
    "Invoice for March",
    "Weekly status: delivery, risks, next steps",
    "Meeting on Thursday",
    "Homepage mock-up feedback",
    "URGENT: checkout page is down",
    "Support contract renewal",
    "Question about the CRM integration",
    "Thanks, got it",
    "Campaign budget approval for June and July, including the retargeting line items",
)
_CYRILLIC_NAMES = (
    "Иван Петров",
    "Мария Соколова",
    "Алексей Смирнов",
    "Екатерина Волкова",
    "Дмитрий Козлов",
    "Ольга Новикова",
    "Сергей Морозов",
    "Анна Лебедева",
)
_LATIN_NAMES = ("John Smith", "Anna Clark", "Peter O'Neil", "Maria Garcia", "Tom Baker", "Li Wei")
_LATIN1_NAMES = ("Jürgen Müller", "Zoë Dupont", "José Peña")
_DOMAINS = (
    "client-one.ru",
    "acme.example",
    "shop.example.com",
    "mail.ru",
    "gmail.com",
    "yandex.ru",
)
_AGENCY = "agency.example"
_LABELS = ("Inbox", "Opened", "Important", "Category Updates", "Sent", "Starred", "Archived")
_CYRILLIC_LABELS = ("Клиенты", "Счета", "Важное")
_CYRILLIC_CHARSETS = ("UTF-8", "utf-8", "KOI8-R", "koi8-r", "windows-1251", "Windows-1251")
_ZONES = ("+0000", "+0300", "-0500", "+0530", "+0100", "-0800")
_EPOCH = datetime(2023, 1, 1, tzinfo=UTC)


def encode_word(text: str, charset: str, encoding: str) -> str:
    """One RFC 2047 encoded word ("B" or "Q")."""
    data = text.encode(charset)
    if encoding == "B":
        return f"=?{charset}?B?{base64.b64encode(data).decode('ascii')}?="
    chars = []
    for byte in data:
        if chr(byte).isalnum() and byte < 128:
            chars.append(chr(byte))
        elif byte == 32:
            chars.append("_")
        else:
            chars.append(f"={byte:02X}")
    return f"=?{charset}?Q?{''.join(chars)}?="


def encode_phrase(text: str, charset: str, encoding: str, fold: str | None = None) -> str:
    """`text` as encoded words of at most 16 characters, folded with `fold` between."""
    pieces = [text[i : i + 16] for i in range(0, len(text), 16)]
    return (fold or " ").join(encode_word(piece, charset, encoding) for piece in pieces)


class Corpus:
    """A seeded generator of mbox entries (each one From line, headers and body)."""

    def __init__(self, seed: int = 7) -> None:
        self.rng = random.Random(seed)
        self.people = [self._person(i) for i in range(600)]
        self.team = [f"{name}@{_AGENCY}" for name in ("anna", "boris", "support", "sales")]
        self.senders = self.people + self.team
        self.bodies = [self._body(i) for i in range(64)]
        self.sent_ids: list[str] = []

    # -- pools --------------------------------------------------------------------------

    def _person(self, n: int) -> str:
        rng = self.rng
        address = f"user{n}.{rng.choice(('a', 'b', 'c'))}@{rng.choice(_DOMAINS)}"
        if rng.random() < 0.03:
            address = address.upper()
        style = rng.random()
        if style < 0.15:
            return address
        if style < 0.45:
            charset = rng.choice(_CYRILLIC_CHARSETS)
            word = encode_word(rng.choice(_CYRILLIC_NAMES), charset, rng.choice("BQ"))
            return f"{word} <{address}>"
        if style < 0.55:
            name = rng.choice(_LATIN1_NAMES)
            return f"{encode_word(name, 'iso-8859-1', 'Q')} <{address}>"
        name = rng.choice(_LATIN_NAMES)
        if style < 0.65:
            first, last = name.split(" ", 1)
            return f'"{last}, {first}" <{address}>'
        if style < 0.75:
            return f'"{name}" <{address}>'
        return f"{name} <{address}>"

    def _body(self, n: int) -> tuple[str, str]:
        rng = self.rng
        boundary = f"000000000000{n:04x}{rng.getrandbits(32):08x}"
        text = "\n".join(
            rng.choice(
                (
                    "Добрый день! Высылаю обновлённый отчёт.",
                    "From the last call: we agreed on the new deadline.",
                    "From now on please send invoices to billing.",
                    "> From: someone quoted",
                    "Regards,",
                    "Thanks for the quick reply.",
                )
            )
            for _ in range(rng.randint(4, 30))
        )
        html = "<div>" + "<br>".join(text.splitlines()) + "</div>"
        # mboxrd: body lines starting with "From " (or ">From ") gain a ">".
        quoted = "\n".join(
            ">" + line if line.lstrip(">").startswith("From ") else line
            for line in text.splitlines()
        )
        encoded_html = base64.encodebytes(html.encode("utf-8")).decode("ascii")
        body = (
            f'--{boundary}\nContent-Type: text/plain; charset="UTF-8"\n'
            f"Content-Transfer-Encoding: 8bit\n\n{quoted}\n\n"
            f'--{boundary}\nContent-Type: text/html; charset="UTF-8"\n'
            f"Content-Transfer-Encoding: base64\n\n{encoded_html}\n--{boundary}--\n"
        )
        return f'multipart/alternative; boundary="{boundary}"', body

    # -- fields -------------------------------------------------------------------------

    def _subject(self) -> str:
        rng = self.rng
        prefix = rng.choice(("", "", "", "Re: ", "RE: ", "Fwd: "))
        roll = rng.random()
        if roll < 0.35:
            return prefix + rng.choice(_LATIN_SUBJECTS) + f" #{rng.randint(100, 9999)}"
        if roll < 0.37:
            return prefix + rng.choice(_CYRILLIC_SUBJECTS)  # raw UTF-8 (RFC 6532)
        text = rng.choice(_CYRILLIC_SUBJECTS)
        charset = rng.choice(_CYRILLIC_CHARSETS)
        encoding = "B" if rng.random() < 0.6 else "Q"
        fold = "\n " if rng.random() < 0.7 else "\n\t"
        words = encode_phrase(text, charset, encoding, fold)
        if rng.random() < 0.3:
            return f"{prefix}{words} #{rng.randint(100, 9999)}"
        return prefix + words

    def _date(self, when: datetime) -> str | None:
        rng = self.rng
        zone = rng.choice(_ZONES)
        sign = 1 if zone[0] == "+" else -1
        local = when + sign * timedelta(hours=int(zone[1:3]), minutes=int(zone[3:]))
        stamp = local.strftime("%a, %d %b %Y %H:%M:%S")
        roll = rng.random()
        if roll < 0.02:
            return None
        if roll < 0.03:
            return local.strftime("%a, %d %b %Y %H:%M:%S")  # no zone
        if roll < 0.04:
            return stamp + " -0000"
        if roll < 0.05:
            return rng.choice(("yesterday", "Mon, 31 Feb 2024 10:00:00 +0000", "2024-13-45", ""))
        if roll < 0.08:
            return local.strftime("%a, %d %b %y %H:%M:%S ") + zone  # two-digit year
        if roll < 0.12:
            return when.strftime("%a, %d %b %Y %H:%M:%S GMT")
        if roll < 0.2:
            return f"{local.day} {local:%b %Y %H:%M:%S} {zone} (MSK)"
        return f"{stamp} {zone}"

    def _recipients(self, count: int) -> str:
        chosen = [self.rng.choice(self.people) for _ in range(count)]
        if self.rng.random() < 0.5:
            chosen.insert(0, self.rng.choice(self.team))
        return ",\n ".join(chosen) if count > 2 else ", ".join(chosen)

    def _references(self) -> list[str]:
        if not self.sent_ids or self.rng.random() < 0.4:
            return []
        depth = self.rng.randint(1, min(12, len(self.sent_ids)))
        return self.sent_ids[-depth:]

    # -- messages -----------------------------------------------------------------------

    def message(self, n: int) -> bytes:
        """The n-th mbox entry (From line, headers, body, trailing blank line)."""
        rng = self.rng
        when = _EPOCH + timedelta(seconds=rng.randint(0, 730 * 86400))
        thread = str(1700000000000000000 + rng.getrandbits(50))
        sender = rng.choice(self.senders)
        sender_address = sender.rpartition("<")[2].rstrip(">") or sender
        message_id = f"<CA{rng.getrandbits(64):x}.{n}@mail.{rng.choice(_DOMAINS)}>"
        content_type, body = rng.choice(self.bodies)
        labels = rng.sample(_LABELS, rng.randint(1, 4))
        if rng.random() < 0.1:
            labels.append(encode_word(rng.choice(_CYRILLIC_LABELS), "UTF-8", "Q"))
        if rng.random() < 0.03:
            labels.append('"Clients, key"')
        lines = [
            f"From {thread}@xxx {when:%a %b %d %H:%M:%S +0000 %Y}",
            f"X-GM-THRID: {thread}",
            f"X-Gmail-Labels: {','.join(labels)}",
            f"Delivered-To: {self.team[0]}",
            f"Received: by 2002:a05:6a10:{rng.getrandbits(16):x} with SMTP id {thread};\n"
            f"        {when:%a, %d %b %Y %H:%M:%S} -0800 (PST)",
            f"Return-Path: <{sender_address}>",
            f"Received: from mail.{rng.choice(_DOMAINS)} (mail [10.0.{n % 250}.1])\n"
            f"        by mx.google.com with ESMTPS id {rng.getrandbits(40):x}\n"
            f"        for <{self.team[0]}>;\n        {when:%a, %d %b %Y %H:%M:%S} -0800 (PST)",
            "DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed; d=example.com; s=20230601;\n"
            "        h=to:subject:message-id:date:from:mime-version:from:to:cc:subject;\n"
            f"        bh={rng.getrandbits(256):064x};\n"
            f"        b={rng.getrandbits(512):0128x}\n         {rng.getrandbits(512):0128x}",
            "MIME-Version: 1.0",
        ]
        date = self._date(when)
        if date is not None:
            lines.append(f"Date: {date}")
        roll = rng.random()
        if roll >= 0.03:
            lines.append(f"{rng.choice(('Message-ID', 'Message-Id'))}: {message_id}")
            self.sent_ids.append(message_id)
            if len(self.sent_ids) > 64:
                del self.sent_ids[:32]
            if roll < 0.035:
                lines.append(f"Message-ID: <dup.{n}@example.com>")
        references = self._references()
        if references:
            lines.append(f"In-Reply-To: {references[-1]}")
            lines.append("References: " + "\n ".join(references))
        lines.append(f"Subject: {self._subject()}")
        if rng.random() >= 0.01:
            lines.append(f"From: {sender}")
        lines.append(f"To: {self._recipients(rng.randint(1, 5))}")
        if rng.random() < 0.3:
            lines.append(f"{rng.choice(('Cc', 'CC'))}: {self._recipients(rng.randint(1, 3))}")
        if rng.random() < 0.1:
            lines.append(f"Reply-To: {rng.choice(self.people)}")
        lines.extend(self._automation(sender_address))
        lines.append(f"Content-Type: {content_type}")
        entry = "\n".join(lines) + "\n\n" + body + "\n"
        return entry.encode("utf-8")

    def _automation(self, sender: str) -> list[str]:
        roll = self.rng.random()
        if roll < 0.02:
            return ["Auto-Submitted: auto-replied", "X-Autoreply: yes"]
        if roll < 0.03:
            return ["X-Autorespond: Out of office", "Precedence: bulk"]
        if roll < 0.05:
            return ["Precedence: list", "List-Id: Agency news <news.agency.example>"]
        if roll < 0.06:
            return ["Return-Path: <>", "Auto-Submitted: auto-generated"]
        return []

    def bounce(self, n: int) -> bytes:
        """A delivery-status report from the mailer daemon."""
        when = _EPOCH + timedelta(seconds=self.rng.randint(0, 730 * 86400))
        boundary = f"bounce{n}"
        return (
            f"From MAILER-DAEMON {when:%a %b %d %H:%M:%S %Y}\n"
            f"Return-Path: <>\nFrom: Mail Delivery Subsystem <MAILER-DAEMON@{_AGENCY}>\n"
            f"To: {self.team[0]}\nSubject: Undelivered Mail Returned to Sender\n"
            f"Date: {when:%a, %d %b %Y %H:%M:%S} +0000\nMessage-ID: <bounce.{n}@{_AGENCY}>\n"
            "Auto-Submitted: auto-replied\nMIME-Version: 1.0\n"
            f'Content-Type: multipart/report; report-type=delivery-status;\n boundary="{boundary}"'
            f"\n\n--{boundary}\nContent-Type: text/plain\n\nDelivery failed.\n\n"
            f"--{boundary}\nContent-Type: message/delivery-status\n\nStatus: 5.1.1\n\n"
            f"--{boundary}--\n\n"
        ).encode("ascii")

    def entries(self, count: int) -> Iterator[bytes]:
        for n in range(count):
            yield self.bounce(n) if self.rng.random() < 0.01 else self.message(n)


def write_mbox(path: Path, count: int, *, seed: int = 7, crlf: bool = False) -> Path:
    """Write `count` messages to `path` (CRLF line ends throughout when `crlf`)."""
    with path.open("wb") as out:
        for entry in Corpus(seed).entries(count):
            out.write(entry.replace(b"\n", b"\r\n") if crlf else entry)
    return path


# -- fuzzing ------------------------------------------------------------------------------

_JUNK = (b":", b": ", b"\r", b"\n", b"\t", b" ", b"=?", b"?=", b"<", b">", b",", b'"', b"\x00")


def mutate(entry: bytes, rng: random.Random) -> bytes:
    """Damage the header block of one mbox entry (its From line stays intact)."""
    first_line, _, rest = entry.partition(b"\n")
    head, blank, body = rest.partition(b"\n\n")
    kind = rng.randrange(14)
    if kind == 0:  # truncated in the middle of the headers
        head, blank, body = head[: rng.randrange(len(head) + 1)], b"", b""
    elif kind == 1:  # random bytes
        head = bytearray(head)
        for _ in range(rng.randint(1, 20)):
            head[rng.randrange(len(head))] = rng.randrange(256)
        head = bytes(head)
    elif kind == 2:  # stray colons, separators and quoting characters
        for _ in range(rng.randint(1, 10)):
            at = rng.randrange(len(head) + 1)
            head = head[:at] + rng.choice(_JUNK) + head[at:]
    elif kind == 3:  # a huge line
        at = head.find(b"\n", rng.randrange(len(head) + 1))
        at = len(head) if at == -1 else at
        head = head[:at] + b"x" * rng.randint(10_000, 200_000) + head[at:]
    elif kind == 4:  # broken header lines
        lines = head.split(b"\n")
        i = rng.randrange(len(lines))
        lines[i] = rng.choice(
            (b"Subject : spaced name", b"no colon here", b": nameless", b" leading", b"")
        )
        head = b"\n".join(lines)
    elif kind == 5:  # broken encoded words and charsets
        head += rng.choice(
            (
                b"\nSubject: =?x-unknown?B?0J/RgNC40LLQtdGC?=",
                b"\nSubject: =?utf-8?B?###?=",
                b"\nSubject: =?utf-8?Q?=D0=9F=D1?=",
                b"\nFrom: =?koi8-r?B?8NLJ18XU?= <a@b.example>",
            )
        )
    elif kind == 6:  # lone CRs as line ends
        head = head.replace(b"\n", b"\r", rng.randint(1, 3))
    elif kind == 7:  # reordered lines (a continuation may come first)
        lines = head.split(b"\n")
        rng.shuffle(lines)
        head = b"\n".join(lines)
    elif kind == 8:  # an odd Date
        head = _replace_field(head, b"Date", rng.choice(_ODD_DATES))
    elif kind == 9:  # a header left out
        head = _replace_field(head, rng.choice(_NAMES), None)
    elif kind == 10:  # folded again at random spaces, with spaces or tabs
        head = re.sub(rb" (?=\S)", lambda m: rng.choice((b" ", b" ", b"\n ", b"\n\t")), head)
    elif kind == 11:  # From_ lines in the body, quoted (mboxrd) and not
        body = b"From the start\n>From quoted\n>>From twice\n" + body
    elif kind == 12:  # CRLF line ends throughout
        first_line, head = first_line + b"\r", head.replace(b"\n", b"\r\n")
        blank, body = blank.replace(b"\n", b"\r\n"), body.replace(b"\n", b"\r\n")
    else:  # an encoded Subject or sender name, possibly split mid-character
        text = rng.choice(("Привет, мир", "Счёт № 5 — оплачен", "Zoë's café"))
        charset = rng.choice(("koi8-r", "windows-1251", "utf-8", "UTF-8", "iso-8859-5"))
        data = text.encode(charset, "replace")
        cut = rng.randrange(1, len(data))
        words = [_raw_word(part, charset, rng.choice("BQ")) for part in (data[:cut], data[cut:])]
        value = rng.choice((b" ", b"\n ", b"")).join(words)
        if rng.random() < 0.5:
            head = _replace_field(head, b"Subject", b"Re: " + value)
        else:
            head = _replace_field(head, b"From", value + b" <x@client.example>")
    out = first_line + b"\n" + head + blank + body
    return out if out.endswith(b"\n") else out + b"\n"


_NAMES = (b"From", b"Date", b"Message-ID", b"To", b"Subject", b"References")
_ODD_DATES = (
    b"Mon, 5 Feb 2024 10:00:00",
    b"05 Feb 24 10:00 +0300",
    b"Mon, 31 Feb 2024 10:00:00 +0300",
    b"2024-02-05T10:00:00Z",
    b"Mon, 05 Feb 2024 10:00:00 EST",
    b"Mon, 05 Feb 2024 25:61:00 +0300",
    b"",
    b"Mon, 05 Feb 2024 10:00:00 +2400",
    b"   Tue,  6 Feb 2024 1:2:3 -0000 (comment)",
    b"Tue, 06 Feb 2024 10:00:00 +0300\n (folded comment)",
    b"Di, 06 Feb 2024 10:00:00 +0100",
    b"Tue, 06 feb 2024 10:00:00 +0100",
)


def _replace_field(head: bytes, name: bytes, value: bytes | None) -> bytes:
    """`head` with field `name` (and its continuation lines) set to `value` or removed."""
    pattern = re.compile(rb"(?im)^" + re.escape(name) + rb":.*(?:\n[ \t].*)*(?:\n|\Z)")
    line = b"" if value is None else name + b": " + value + b"\n"
    replaced, count = pattern.subn(lambda _: line, head, count=1)
    return replaced if count else head + b"\n" + line.rstrip(b"\n")


def _raw_word(data: bytes, charset: str, encoding: str) -> bytes:
    if encoding == "B":
        payload = base64.b64encode(data)
    else:
        payload = b"".join(
            bytes([c]) if 33 <= c < 127 and c not in b"=?_" else b"=%02X" % c for c in data
        )
    return b"=?" + charset.encode() + b"?" + encoding.encode() + b"?" + payload + b"?="


def write_fuzzed_mbox(path: Path, count: int, *, seed: int = 11) -> Path:
    rng = random.Random(seed)
    with path.open("wb") as out:
        for entry in Corpus(seed).entries(count):
            out.write(mutate(entry, rng))
    return path
