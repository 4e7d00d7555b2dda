"""The mbox connector against a reference built only on the stdlib, plus focused cases.

The reference splits files with `mailbox.mbox`, parses headers with
`email.parser.BytesHeaderParser` and decodes them with `email.header` and
`email.utils`. Where the stdlib raises (an unknown charset, broken base64) it has no
value to compare, and the connector may decode leniently.
"""

from __future__ import annotations

import csv
import gc
import hashlib
import mailbox
import random
import re
from datetime import UTC, datetime
from email.errors import HeaderParseError
from email.header import decode_header, make_header
from email.parser import BytesHeaderParser
from email.utils import collapse_rfc2231_value, getaddresses, parsedate_to_datetime
from pathlib import Path

import pytest

from benchmarks.corpus import Corpus, encode_word, mutate, write_fuzzed_mbox, write_mbox
from connectors.errors import ConnectorError
from connectors.mailboxes import headers as mail_headers
from connectors.mailboxes import mbox
from connectors.mailboxes.headers import (
    MessageRecord,
    Rejected,
    normalize,
    parse_header_block,
)
from connectors.mailboxes.mbox import MboxRead, iter_mbox

NO_VALUE = object()  # the stdlib raised: nothing to compare
CORPUS_SIZE = 10_000


# -- the reference ------------------------------------------------------------------------


def _raw_values(message, name: str) -> list[bytes]:
    return [
        value.encode("ascii", "surrogateescape")
        for key, value in message.raw_items()
        if key.lower() == name
    ]


def _unfolded(raw: bytes, charset: str = "utf-8") -> str:
    return raw.replace(b"\r", b"").replace(b"\n", b"").decode(charset, "replace")


def _stdlib_text(text: str):
    if not text.isascii():
        return text.strip()
    try:
        return str(make_header(decode_header(text))).strip()
    except (LookupError, ValueError, HeaderParseError):
        return NO_VALUE


def _text(values: list[bytes]):
    return _stdlib_text(_unfolded(values[0])) if values else None


def _optional(values: list[bytes]):
    value = _text(values)
    return value or None if value is not NO_VALUE else NO_VALUE


def _addresses(values: list[bytes]):
    if not values:
        return []
    options = {"strict": False} if "strict" in getaddresses.__code__.co_varnames else {}
    pairs = getaddresses([_unfolded(v) for v in values], **options)
    out = []
    for name, address in pairs:
        if address:
            decoded = _stdlib_text(name)
            out.append((decoded if decoded is NO_VALUE else decoded or None, address.lower()))
    return out


def _ids(text: str) -> list[str]:
    if "<" not in text:
        return text.split() if len(text.split()) == 1 else []
    ids = []
    for piece in text.split("<")[1:]:
        inner, closed, _ = piece.partition(">")
        token = "".join(inner.split())
        if closed and token and token not in ids:
            ids.append(token)
    return ids


def _date(values: list[bytes]):
    if not values:
        return None, "missing"
    try:
        parsed = parsedate_to_datetime(_unfolded(values[0], "ascii").strip())
        if parsed.tzinfo is None:
            return parsed.replace(tzinfo=UTC), "naive"
        return parsed.astimezone(UTC), "ok"
    except (ValueError, OverflowError):
        return None, "unparseable"


def _labels(values: list[bytes]):
    text = _text(values)
    if text is None or text is NO_VALUE:
        return [] if text is None else NO_VALUE
    try:
        row = next(csv.reader([text], skipinitialspace=True), [])
    except csv.Error:  # a NUL byte, a field over csv's size limit
        return NO_VALUE
    return [label.strip() for label in row if label.strip()]


def _is_report(message) -> bool:
    if message.get_content_type() != "multipart/report":
        return False
    report_type = message.get_param("report-type")
    if isinstance(report_type, tuple):
        report_type = collapse_rfc2231_value(report_type)
    return str(report_type).strip().lower() == "delivery-status"


def _fallback_date(from_line: bytes, message) -> tuple:
    """The instant of the From line's date, else of the first Received's, and the flag."""
    stamps = [
        (from_line.decode("ascii").split(None, 2)[2], "sent_at_from_from_line"),
        *(
            (str(value).rpartition(";")[2], "sent_at_from_received")
            for value in (message.get_all("received") or [])[:1]
        ),
    ]
    for text, problem in stamps:
        try:
            moment = parsedate_to_datetime(" ".join(text.split()))
        except (TypeError, ValueError):
            continue
        if moment.tzinfo is not None or problem == "sent_at_from_from_line":
            return moment.replace(tzinfo=moment.tzinfo or UTC).astimezone(UTC), [problem]
    return None, []


def reference(entry_bytes: bytes):
    """The expected record fields (a dict) or ("rejected", field), for an entry with its
    From line."""
    from_line, _, message_bytes = entry_bytes.partition(b"\n")
    message = BytesHeaderParser().parsebytes(message_bytes)
    if not list(message.raw_items()):
        return ("rejected", "headers")
    raw = {name: _raw_values(message, name) for name in _FIELDS_READ}
    if not raw["from"]:
        return ("rejected", "From")
    senders = _addresses(raw["from"][:1])
    if not senders:
        return ("rejected", "From")
    to = [address for _, address in _addresses(raw["to"])]
    subject = _text(raw["subject"])
    sent_at, date_status = _date(raw["date"])
    ids = _ids(_unfolded(raw["message-id"][0])) if raw["message-id"] else []
    problems = [] if date_status == "ok" else [f"date_{date_status}"]
    if sent_at is None:
        sent_at, fallback = _fallback_date(from_line, message)
        problems += fallback
    if ids:
        key = ids[0]
        if len(raw["message-id"]) > 1:
            problems.append("duplicate_message_id_header")
    else:
        problems.append("missing_message_id")
        date_text = _unfolded(raw["date"][0], "ascii").strip() if raw["date"] else ""
        key = NO_VALUE
        if subject is not NO_VALUE:
            material = "\n".join((senders[0][1], date_text, subject or "", ",".join(to)))
            key = "sha1:" + hashlib.sha1(material.encode("utf-8", "replace")).hexdigest()
    reply_to = _addresses(raw["reply-to"])
    in_reply_to = _ids(_unfolded(raw["in-reply-to"][0])) if raw["in-reply-to"] else []
    return_path = raw["return-path"]
    return {
        "message_key": key,
        "message_id": ids[0] if ids else None,
        "from_addr": senders[0][1],
        "from_name": senders[0][0],
        "to_addrs": to,
        "cc_addrs": [address for _, address in _addresses(raw["cc"])],
        "reply_to": reply_to[0][1] if reply_to else None,
        "subject": subject,
        "sent_at": sent_at,
        "date_status": date_status,
        "in_reply_to": in_reply_to[0] if in_reply_to else None,
        "references": _ids(_unfolded(raw["references"][0])) if raw["references"] else [],
        "auto_submitted": _optional(raw["auto-submitted"]),
        "precedence": _optional(raw["precedence"]),
        "list_id": _optional(raw["list-id"]),
        "x_autoreply": bool(raw["x-autoreply"] or raw["x-autorespond"]),
        "return_path_null": bool(return_path)
        and "".join(_unfolded(return_path[0]).split()) == "<>",
        "is_bounce": senders[0][1].partition("@")[0] in ("mailer-daemon", "postmaster")
        or _is_report(message),
        "gmail_labels": _labels(raw["x-gmail-labels"]),
        "gmail_thread_id": _optional(raw["x-gm-thrid"]),
        "problems": sorted(problems),
    }


_FIELDS_READ = [
    *("from", "to", "cc", "reply-to", "subject", "date", "message-id", "in-reply-to"),
    *("references", "auto-submitted", "precedence", "list-id", "x-autoreply"),
    *("x-autorespond", "return-path", "x-gmail-labels", "x-gm-thrid"),
]


def reference_messages(path: Path) -> list[bytes]:
    box = mailbox.mbox(path, create=False)
    try:
        return [box.get_bytes(key, from_=True) for key in box.iterkeys()]
    finally:
        box.close()


def as_comparable(item: MessageRecord | Rejected):
    if isinstance(item, Rejected):
        return ("rejected", item.field)
    row = item.as_row()
    row["problems"] = sorted(row["problems"])
    return row


def differences(ours, expected) -> dict[str, tuple]:
    """Fields where the connector and the reference disagree (ignoring NO_VALUE)."""
    if isinstance(expected, tuple) or isinstance(ours, tuple):
        return {} if ours == expected else {"record": (ours, expected)}
    return {
        name: (ours[name], value)
        for name, value in expected.items()
        if value is not NO_VALUE and ours[name] != value
    }


def compare_file(path: Path) -> tuple[int, list]:
    data = path.read_bytes()
    ours = list(iter_mbox(path, mailbox="team@agency.example"))
    messages = reference_messages(path)
    assert len(ours) == len(messages), "one record or Rejected per message mailbox.mbox sees"
    offsets = [int(item.source_ref.rpartition(":")[2]) for item in ours]
    assert offsets == sorted(set(offsets))
    assert all(data[offset : offset + 5] == b"From " for offset in offsets)
    mismatches = []
    for n, (item, message) in enumerate(zip(ours, messages, strict=True)):
        diff = differences(as_comparable(item), reference(message))
        if diff:
            mismatches.append((n, item.source_ref, diff))
    return len(ours), mismatches


# -- differential tests -------------------------------------------------------------------


@pytest.fixture(scope="module")
def corpus_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("mbox")


@pytest.mark.parametrize("crlf", [False, True], ids=["lf", "crlf"])
def test_generated_corpus_matches_stdlib_reference(corpus_dir: Path, crlf: bool) -> None:
    path = write_mbox(corpus_dir / f"corpus-{crlf}.mbox", CORPUS_SIZE, seed=3, crlf=crlf)
    count, mismatches = compare_file(path)
    assert count == CORPUS_SIZE
    assert mismatches == []


def test_generated_corpus_covers_the_hard_cases(corpus_dir: Path) -> None:
    records = list(
        iter_mbox(write_mbox(corpus_dir / "cover.mbox", CORPUS_SIZE, seed=3), mailbox="m")
    )
    kept = [r for r in records if isinstance(r, MessageRecord)]
    problems = {p for r in kept for p in r.problems}
    assert problems == {
        "missing_message_id",
        "duplicate_message_id_header",
        "date_missing",
        "date_naive",
        "date_unparseable",
        "sent_at_from_from_line",
    }
    assert any(isinstance(r, Rejected) for r in records)
    subjects = " ".join(r.subject or "" for r in kept)
    assert "Счёт за март" in subjects and "Отчёт по проекту за неделю" in subjects
    assert any(r.is_bounce for r in kept) and any(r.x_autoreply for r in kept)
    assert any(r.return_path_null for r in kept) and any(r.list_id for r in kept)
    assert any(len(r.references) > 3 for r in kept)
    assert any(len(r.to_addrs) > 3 for r in kept)


def test_fuzzed_corpus_never_crashes_and_agrees_where_stdlib_has_a_value(
    corpus_dir: Path,
) -> None:
    path = write_fuzzed_mbox(corpus_dir / "fuzzed.mbox", CORPUS_SIZE, seed=11)
    count, mismatches = compare_file(path)
    assert count >= CORPUS_SIZE
    assert mismatches == []


# -- focused cases --------------------------------------------------------------------------

FROM_LINE_INSTANT = datetime(2024, 2, 5, 7, 0, tzinfo=UTC)  # the From line `entry` writes
BASE_HEADERS = {
    "From": "Ivan Petrov <Ivan@Client-One.ru>",
    "To": "anna@agency.example",
    "Subject": "Status",
    "Date": "Mon, 05 Feb 2024 10:00:00 +0300",
    "Message-ID": "<abc.1@client-one.ru>",
}


def entry(headers: dict[str, str] | list[tuple[str, str]], body: str = "Hello\n") -> bytes:
    pairs = headers.items() if isinstance(headers, dict) else headers
    head = "".join(f"{name}: {value}\n" for name, value in pairs)
    return f"From 1@xxx Mon Feb 05 07:00:00 +0000 2024\n{head}\n{body}\n".encode()


def one(tmp_path: Path, headers, body: str = "Hello\n") -> MessageRecord | Rejected:
    path = tmp_path / "one.mbox"
    path.write_bytes(entry(headers, body))
    (item,) = iter_mbox(path, mailbox="anna@agency.example")
    return item


def with_headers(**changes: str | None) -> dict[str, str]:
    headers = {**BASE_HEADERS, **{k.replace("_", "-"): v for k, v in changes.items()}}
    return {k: v for k, v in headers.items() if v is not None}


def test_a_plain_message(tmp_path: Path) -> None:
    record = one(tmp_path, BASE_HEADERS)
    assert isinstance(record, MessageRecord)
    assert record.message_key == record.message_id == "abc.1@client-one.ru"
    assert (record.from_addr, record.from_name) == ("ivan@client-one.ru", "Ivan Petrov")
    assert record.sent_at == datetime(2024, 2, 5, 7, 0, tzinfo=UTC)
    assert (record.date_status, record.problems) == ("ok", [])
    assert (record.mailbox, record.source) == ("anna@agency.example", "mbox")
    assert record.source_ref == f"{tmp_path / 'one.mbox'}:0"


def test_missing_message_id_gets_a_stable_content_key(tmp_path: Path) -> None:
    first = one(tmp_path, with_headers(Message_ID=None))
    again = one(tmp_path, with_headers(Message_ID=None))
    other = one(tmp_path, with_headers(Message_ID=None, Subject="Other"))
    assert first.message_id is None and first.problems == ["missing_message_id"]
    assert first.message_key.startswith("sha1:") and len(first.message_key) == 45
    assert first.message_key == again.message_key != other.message_key


def test_duplicate_message_id_header_keeps_the_first(tmp_path: Path) -> None:
    headers = [*BASE_HEADERS.items(), ("Message-Id", "<second@x>")]
    record = one(tmp_path, headers)
    assert record.message_id == "abc.1@client-one.ru"
    assert record.problems == ["duplicate_message_id_header"]


@pytest.mark.parametrize(
    ("date", "status", "sent_at"),
    [
        (None, "missing", FROM_LINE_INSTANT),
        ("Mon, 05 Feb 2024 10:00:00", "naive", datetime(2024, 2, 5, 10, 0, tzinfo=UTC)),
        ("Mon, 05 Feb 2024 10:00:00 -0000", "naive", datetime(2024, 2, 5, 10, 0, tzinfo=UTC)),
        ("sometime last week", "unparseable", FROM_LINE_INSTANT),
        ("Thu, 30 Feb 2024 10:00:00 +0000", "unparseable", FROM_LINE_INSTANT),
        ("Mon, 5 Feb 24 10:00:00 GMT", "ok", datetime(2024, 2, 5, 10, 0, tzinfo=UTC)),
        ("5 Feb 2024 10:00:00 -0500 (EST)", "ok", datetime(2024, 2, 5, 15, 0, tzinfo=UTC)),
    ],
)
def test_date_status(tmp_path: Path, date, status, sent_at) -> None:
    record = one(tmp_path, with_headers(Date=date))
    assert (record.date_status, record.sent_at) == (status, sent_at)
    fallback = ["sent_at_from_from_line"] if sent_at is FROM_LINE_INSTANT else []
    assert record.problems == ([] if status == "ok" else [f"date_{status}", *fallback])


def test_a_garbage_date_takes_its_instant_from_the_from_line(tmp_path: Path) -> None:
    record = one(tmp_path, with_headers(Date="Mon, 45 Foo 2024 25:61"))
    assert record.sent_at == FROM_LINE_INSTANT
    assert record.date_status == "unparseable"
    assert record.problems == ["date_unparseable", "sent_at_from_from_line"]


def test_without_a_from_line_date_the_newest_received_header_counts(tmp_path: Path) -> None:
    headers = [
        ("Received", "by mx.agency.example;\n Tue, 06 Feb 2024 09:30:00 -0800 (PST)"),
        ("Received", "from client-one.ru by relay; Tue, 06 Feb 2024 17:00:00 +0000"),
        *with_headers(Date="yesterday").items(),
    ]
    path = tmp_path / "received.mbox"
    path.write_bytes(entry(headers).replace(b"Mon Feb 05 07:00:00 +0000 2024", b"sometime"))
    (record,) = iter_mbox(path, mailbox="anna@agency.example")
    assert record.sent_at == datetime(2024, 2, 6, 17, 30, tzinfo=UTC)
    assert record.problems == ["date_unparseable", "sent_at_from_received"]


def test_undated_messages_inside_a_file_are_dated_alike_by_both_paths(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Messages followed by another are built by the compiled scan, which dates them
    from the envelope as `mbox._item` does: From line, else newest Received, else none."""
    received = ("Received", "from relay; Tue, 06 Feb 2024 17:00:00 +0000")
    undated = [(name, value) for name, value in with_headers(Date="yesterday").items()]
    no_date = b"Mon Feb 05 07:00:00 +0000 2024"
    entries = [
        entry(with_headers(Date=None)),
        entry([received, *undated]),
        entry([received, *undated]).replace(no_date, b"sometime"),
        entry(undated).replace(no_date, b"sometime"),
        entry(with_headers(Date=None, Message_ID="<last@x>")),
    ]
    path = tmp_path / "undated.mbox"
    path.write_bytes(b"".join(entries))
    compiled = list(iter_mbox(path, mailbox="m", workers=1))
    monkeypatch.setattr(mail_headers, "_native", None)
    monkeypatch.setattr(mbox, "_native", None)
    assert compiled == list(iter_mbox(path, mailbox="m", workers=1))
    assert [(r.sent_at, r.problems[-1]) for r in compiled[:4]] == [
        (FROM_LINE_INSTANT, "sent_at_from_from_line"),
        (FROM_LINE_INSTANT, "sent_at_from_from_line"),
        (datetime(2024, 2, 6, 17, 0, tzinfo=UTC), "sent_at_from_received"),
        (None, "date_unparseable"),
    ]


def test_takeout_labels_and_thread_id(tmp_path: Path) -> None:
    label = encode_word("Клиенты", "UTF-8", "Q")
    record = one(
        tmp_path,
        with_headers(
            X_Gmail_Labels=f'Inbox,{label},"Clients, key",Opened', X_GM_THRID="1789012345678901234"
        ),
    )
    assert record.gmail_labels == ["Inbox", "Клиенты", "Clients, key", "Opened"]
    assert record.gmail_thread_id == "1789012345678901234"


def test_message_without_from_is_rejected_naming_the_field(tmp_path: Path) -> None:
    rejected = one(tmp_path, with_headers(From=None))
    assert rejected == Rejected(f"{tmp_path / 'one.mbox'}:0", "From", "no From header")
    no_address = one(tmp_path, with_headers(From="undisclosed-recipients:;"))
    assert isinstance(no_address, Rejected) and no_address.field == "From"


def test_message_without_headers_is_rejected(tmp_path: Path) -> None:
    path = tmp_path / "bad.mbox"
    path.write_bytes(b"From a\n\nbody only\nFrom b\nnot a header line\n\n")
    assert [(r.field, r.source_ref) for r in iter_mbox(path, mailbox="m")] == [
        ("headers", f"{path}:0"),
        ("headers", f"{path}:18"),
    ]


@pytest.mark.parametrize(
    ("subject", "expected"),
    [
        (encode_word("Счёт за март", "UTF-8", "B"), "Счёт за март"),
        (encode_word("Счёт за март", "utf-8", "Q"), "Счёт за март"),
        (encode_word("Акт выполненных работ", "koi8-r", "B"), "Акт выполненных работ"),
        (encode_word("Акт выполненных работ", "windows-1251", "Q"), "Акт выполненных работ"),
        (
            "Re: "
            + encode_word("Отчёт по проекту ", "UTF-8", "B")
            + "\n "
            + encode_word("за неделю", "UTF-8", "B")
            + " #12",
            "Re: Отчёт по проекту за неделю #12",
        ),
        ("=?x-unknown?Q?caf=C3=A9?=", "café"),
    ],
)
def test_subject_decoding(tmp_path: Path, subject: str, expected: str) -> None:
    assert one(tmp_path, with_headers(Subject=subject)).subject == expected


def test_recipients_names_and_reply_headers(tmp_path: Path) -> None:
    name = encode_word("Мария Соколова", "koi8-r", "B")
    record = one(
        tmp_path,
        with_headers(
            From=f"{name} <Maria@Acme.example>",
            To='"Smith, John" <John@Acme.example>,\n Anna <anna@agency.example>, b@c.example',
            Cc="(team) support@agency.example",
            Reply_To="Billing <billing@acme.example>",
            In_Reply_To="<a@x> (sent earlier)",
            References="<a@x>\n <b@x>\n\t<a@x>",
        ),
    )
    assert (record.from_addr, record.from_name) == ("maria@acme.example", "Мария Соколова")
    assert record.to_addrs == ["john@acme.example", "anna@agency.example", "b@c.example"]
    assert record.cc_addrs == ["support@agency.example"]
    assert record.reply_to == "billing@acme.example"
    assert (record.in_reply_to, record.references) == ("a@x", ["a@x", "b@x"])


def test_automation_and_bounce_flags(tmp_path: Path) -> None:
    auto = one(
        tmp_path,
        with_headers(
            Auto_Submitted="auto-replied", X_Autorespond="1", Precedence="bulk", Return_Path="< >"
        ),
    )
    assert (auto.auto_submitted, auto.precedence) == ("auto-replied", "bulk")
    assert auto.x_autoreply and auto.return_path_null and not auto.is_bounce
    report = one(
        tmp_path,
        with_headers(Content_Type='multipart/report; report-type="delivery-status"; boundary=x'),
    )
    assert report.is_bounce
    daemon = one(tmp_path, with_headers(From="MAILER-DAEMON@mx.example"))
    assert daemon.is_bounce and not daemon.x_autoreply


def test_no_body_text_in_any_record(corpus_dir: Path) -> None:
    marker = "BODY-MARKER-7f3a"
    corpus = Corpus(5)
    path = corpus_dir / "bodies.mbox"
    with path.open("wb") as out:
        for n in range(200):
            out.write(entry(with_headers(Message_ID=f"<{n}@x>"), f"{marker} {n}\nFrom: {marker}\n"))
            out.write(corpus.message(n))
    records = list(iter_mbox(path, mailbox="m"))
    assert len(records) == 400
    assert marker not in repr(records)
    assert "Добрый день" not in repr(records)


def test_from_lines_in_bodies_are_quoted_so_do_not_split(tmp_path: Path) -> None:
    body = ">From the last call: we agreed.\n>>From here on\nFrom: not a header\n"
    path = tmp_path / "quoted.mbox"
    path.write_bytes(entry(BASE_HEADERS, body) + entry(with_headers(Message_ID="<2@x>")))
    assert [r.message_id for r in iter_mbox(path, mailbox="m")] == ["abc.1@client-one.ru", "2@x"]


def test_empty_file_and_leading_garbage(tmp_path: Path) -> None:
    empty = tmp_path / "empty.mbox"
    empty.write_bytes(b"")
    assert list(iter_mbox(empty, mailbox="m")) == []
    garbage = tmp_path / "garbage.mbox"
    garbage.write_bytes(b"not mbox\n" + entry(BASE_HEADERS))
    assert [r.source_ref for r in iter_mbox(garbage, mailbox="m")] == [f"{garbage}:9"]


def test_a_mutated_message_still_yields_one_item(tmp_path: Path) -> None:
    """Followed by a sound message: a damaged last one may be a file still being written."""
    rng = random.Random(1)
    corpus = Corpus(2)
    for n in range(50):
        path = tmp_path / f"m{n}.mbox"
        path.write_bytes(mutate(corpus.message(n), rng) + b"\n" + corpus.message(n + 50))
        assert len(list(iter_mbox(path, mailbox="m"))) == len(reference_messages(path))


def test_header_block_api_for_other_sources() -> None:
    raw = b"Subject: a\r\n b\r\nFrom: x@y.example\r\n\r\nFrom: body@y.example\r\n"
    assert parse_header_block(raw) == [(b"Subject", b"a\r\n b"), (b"From", b"x@y.example")]
    record = normalize(
        {"From": "x@y.example", "Message-ID": "<1@y>", "Subject": "=?utf-8?q?caf=C3=A9?="},
        mailbox="inbox",
        source="imap",
        source_ref="INBOX:42",
    )
    assert (record.subject, record.source, record.date_status) == ("café", "imap", "missing")


def test_worker_processes_yield_the_same_items_in_file_order(
    corpus_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write_mbox(corpus_dir / "parallel.mbox", 600, seed=9)
    monkeypatch.setattr(mbox, "CHUNK_BYTES", 64 << 10)  # ranges are cut in this process
    in_process = list(iter_mbox(path, mailbox="m", workers=1))
    parallel = list(iter_mbox(path, mailbox="m", workers=3))
    assert path.stat().st_size > 10 * mbox.CHUNK_BYTES
    assert parallel == in_process


@pytest.mark.parametrize("parent_parses", [True, False])
def test_ranges_parsed_by_the_parent_or_the_workers_give_the_same_items(
    corpus_dir: Path, monkeypatch: pytest.MonkeyPatch, parent_parses: bool
) -> None:
    """The parent parses a range itself whenever a worker's result is not ready yet:
    here always (as far as the ranges it may hold allow), or never."""
    path = write_mbox(corpus_dir / "parallel.mbox", 600, seed=9)
    monkeypatch.setattr(mbox, "CHUNK_BYTES", 64 << 10)
    in_process = list(iter_mbox(path, mailbox="m", workers=1))
    monkeypatch.setattr(mbox._Worker, "ready", lambda self: not parent_parses)
    assert list(iter_mbox(path, mailbox="m", workers=2)) == in_process
    assert list(iter_mbox(path, mailbox="m", workers=3)) == in_process


def test_a_read_stopped_early_ends_its_workers(
    corpus_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write_mbox(corpus_dir / "parallel.mbox", 600, seed=9)
    monkeypatch.setattr(mbox, "CHUNK_BYTES", 64 << 10)
    closed: list[mbox._Worker] = []
    close = mbox._Worker.close
    monkeypatch.setattr(mbox._Worker, "close", lambda self: (close(self), closed.append(self)))
    items = iter_mbox(path, mailbox="m", workers=3)
    assert len([next(items) for _ in range(10)]) == 10
    items.close()
    assert len(closed) == 2
    assert all(worker._process.returncode is not None for worker in closed)


def test_reading_leaves_the_garbage_collector_as_it_found_it(
    corpus_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Batches of records are built with the collector paused, never left paused."""
    path = write_mbox(corpus_dir / "parallel.mbox", 600, seed=9)
    monkeypatch.setattr(mbox, "CHUNK_BYTES", 64 << 10)
    assert gc.isenabled()
    for workers in (1, 2):
        items = iter_mbox(path, mailbox="m", workers=workers)
        next(items)
        assert gc.isenabled()
        assert len(list(items)) == 599
        assert gc.isenabled()
    gc.disable()
    try:
        assert len(list(iter_mbox(path, mailbox="m", workers=2))) == 600
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_reading_in_small_chunks_gives_the_same_items(
    corpus_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Messages straddling reads, bodies longer than the header window (skipped unread),
    a header block that never ends and a From line without a message, in a file read
    a few KiB at a time."""
    path = corpus_dir / "chunks.mbox"
    corpus = Corpus(4)
    with path.open("wb") as out:
        for n in range(300):
            out.write(corpus.message(n))
            if n % 50 == 7:
                out.write(entry(with_headers(Message_ID=f"<big{n}@x>"), "long line\n" * 5000))
        out.write(entry([*BASE_HEADERS.items(), *[("X-Filler", "y" * 70)] * 900]))
        out.write(b"From 1@xxx Mon Feb 05 07:00:00 +0000 2024\n" + b"X-No-End: z\n" * 9000)
        out.write(b"From 1@xxx Mon Feb 05 07:00:00 +0000 2024")
    expected = list(iter_mbox(path, mailbox="m", workers=1))
    # The final From line has no message yet (a file still being written): not read.
    assert len(expected) + 1 == len(reference_messages(path)) == 300 + 6 + 3
    monkeypatch.setattr(mbox, "READ_BYTES", 3000)
    monkeypatch.setattr(mbox, "PROBE_BYTES", 700)
    monkeypatch.setattr(mbox, "MAX_HEADER_BYTES", 80_000)
    read = MboxRead(path, mailbox="m", workers=1)
    small = list(read)
    assert small[:-1] == expected[:-1]
    assert (small[-1].field, small[-1].reason) == (
        "headers",
        "no end of the header block in its first 80000 bytes",
    )
    assert read.resume_offset == path.stat().st_size - len(
        b"From 1@xxx Mon Feb 05 07:00:00 +0000 2024"
    )


def test_a_failing_worker_is_an_error_not_a_hang(
    corpus_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write_mbox(corpus_dir / "broken-worker.mbox", 50, seed=9)
    monkeypatch.setattr(mbox.sys, "executable", "/bin/false")
    with pytest.raises(ConnectorError, match=r"mbox worker for .* exited with 1"):
        list(iter_mbox(path, mailbox="m", workers=2))


# -- the compiled reader against the pure-Python path -------------------------------------


@pytest.mark.parametrize("kind", ["generated", "generated-crlf", "fuzzed"])
@pytest.mark.compiled_mail
def test_compiled_and_pure_python_paths_give_identical_records(
    corpus_dir: Path, kind: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    if kind == "fuzzed":
        path = write_fuzzed_mbox(corpus_dir / "diff-fuzzed.mbox", CORPUS_SIZE, seed=17)
    else:
        path = corpus_dir / f"diff-{kind}.mbox"
        write_mbox(path, CORPUS_SIZE, seed=19, crlf=kind.endswith("crlf"))
    compiled = list(iter_mbox(path, mailbox="m", workers=1))
    monkeypatch.setattr(mail_headers, "_native", None)
    monkeypatch.setattr(mbox, "_native", None)
    pure = list(iter_mbox(path, mailbox="m", workers=1))
    assert len(compiled) == len(pure) >= CORPUS_SIZE
    assert [i for i, (a, b) in enumerate(zip(compiled, pure, strict=True)) if a != b] == []


@pytest.mark.parametrize("workers", [1, 2])
def test_a_read_from_an_offset_gives_exactly_the_messages_from_there(
    corpus_dir: Path, workers: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(mbox, "CHUNK_BYTES", 64 << 10)  # several ranges per worker
    path = write_mbox(corpus_dir / "offset.mbox", 2_000, seed=23)
    whole = list(iter_mbox(path, mailbox="m", workers=1))
    offsets = [int(item.source_ref.rpartition(":")[2]) for item in whole]
    start = offsets[1_234]
    read = MboxRead(path, mailbox="m", start=start, workers=workers)
    assert list(read) == whole[1_234:]
    assert read.resume_offset == path.stat().st_size


@pytest.mark.parametrize(
    "text",
    [
        "Mon, 5 Feb 2024 10:00:00 +0300",
        "05 Feb 2024 10:00:00 -0000",
        "Sun, 31 Dec 2023 23:30:00 -0130 (NST)",
        "29 Feb 2024 00:00:00 +0000",
        "29 Feb 2023 00:00:00 +0000",
        "Thu, 1 Jan 1970 00:00:00 +2359",
        "31 Dec 9999 23:59:59 -0001",
        "1 Jan 1000 00:00:00 +0100",
        "5 Feb 2024 24:00:00 +0000",
        "5 Feb 2024 10:60:00 +0000",
        "5 Feb 2024 10:00:60 +0000",
        "5 Feb 2024 10:00:00 +2400",
        "0 Feb 2024 10:00:00 +0000",
        "5 Feb 2024 10:00:00 +0300x",
        "5 feb 2024 10:00:00 +0300",
        "Mon,5 Feb 2024 10:00:00 +0300",
        "5 Feb 0999 10:00:00 +0300",
        "5 Feb 2024 10:00 +0300",
    ],
)
@pytest.mark.compiled_mail
def test_compiled_date_reader_agrees_with_the_python_one(text: str) -> None:
    assert mail_headers._native.parse_date(text) == mail_headers._fast_date(text)


_BASE_BLOCK = (
    b"From: Anna <anna@client.example>\n"
    b"To: team@agency.example\n"
    b"Subject: Homepage draft\n"
    b"Date: Mon, 5 Feb 2024 10:00:00 +0300\n"
    b"Message-ID: <m1@client.example>\n"
)


@pytest.mark.parametrize(
    "extra",
    [
        b"",
        b'To: =?utf-8?b?0JDQvdC90LA=?= <Anna@Client.Example>, "Bob, Jr" <bob@x.example>\n',
        b'Cc: "Back\\\\slash" <b@x.example>, plain name <P@X.example>,, ,\n',
        b"Cc: a@x.example <b@x.example>\nCc: c@x.example\n",
        b"Cc: undisclosed-recipients:;\n",
        b"Reply-To: =?koi8-r?q?=F0=D2=C9?= <r@x.example>\n",
        b"Reply-To: \xd0\x90\xd0\xbd\xd0\xbd\xd0\xb0 <u@x.example>\n",
        b"Return-Path: < >\n",
        b"Return-Path: \n <>\n",
        b"Return-Path: <bounce@x.example>\n",
        b"Content-Type: multipart/report; report-type=delivery-status; boundary=b\n",
        b'Content-Type: Multipart/Report;\n report-type="delivery-status"\n',
        b"Content-Type: multipart/\n report; report-type=delivery-status\n",
        b"Content-Type: text/plain; charset=\xd1\x83\n",
        b"In-Reply-To: <a@x> <b@x>\nReferences: <a@x>\n <b@x> <a@x>\n",
        b"In-Reply-To: a@x\nReferences: <a b@x> junk <c@x>\n",
        b"References: <>\n",
        b"References: \xd1\x83<a@x>\n",
        b"X-Autoreply: yes\nAuto-Submitted: auto-replied\nPrecedence:  bulk \n",
        b"List-ID: =?utf-8?q?News?= <news.x.example>\nX-GM-THRID: 1234\n",
        b'From: "Koval, Anna" <Anna@Client.Example>\n',
        b"From: =?utf-8?b?0JDQvdC90LA=?= =?koi8-r?q?=F0=D2=C9?= <a@x.example>\n",
        b"From: Anna   Maria\t Koval <a@x.example>, b@y.example\n",
        b"From: a@x.example\nFrom: <b@y.example>\n",
        b'From: "" <a@x.example>\n',
        b'From: "  =?utf-8?q?x?=  " <a@x.example>\n',
        b"From: , B@y.example\n",
        b"From: =?x-unknown?q?a?= <a@x.example>\n",
        b"From: Anna <a@x.example> (comment)\n",
        b'X-Gmail-Labels: Inbox,"Clients, VIP",Important\n',
        b"X-Gmail-Labels: Inbox, ,Important,\xc2\xa0,\n",
        b"X-Gmail-Labels: =?UTF-8?Q?=D0=92=D0=B0=D0=B6=D0=BD=D0=BE=D0=B5?=,Sent\n",
        b"X-Gmail-Labels: \xd0\x92\xd0\xb0\xd0\xb6\xd0\xbd\xd0\xbe\xd0\xb5 ,\xc2\xa0Inbox\n",
        b"X-Gmail-Labels:  \n",
        b"Subject:\n",
        b"Subject: =?utf-8?q?=D0=9F=D1=80=D0=B8=D0=B2=D0=B5=D1=82?= again\n",
        b"Subject: \xd0\x9f\xd1\x80\xd0\xb8\xd0\xb2\xd0\xb5\xd1\x82\n",
        b"Subject: folded\n  over two lines\x0b\n",
    ],
)
@pytest.mark.parametrize("variant", ["as-is", "no-date", "bad-date", "no-id", "two-ids"])
@pytest.mark.compiled_mail
def test_compiled_record_builder_agrees_with_python_on_every_form(
    extra: bytes, variant: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    block = extra + _BASE_BLOCK  # a field given twice: the first counts (To and Cc add up)
    if variant == "no-date":
        block = block.replace(b"Date: Mon, 5 Feb 2024 10:00:00 +0300\n", b"")
    elif variant == "bad-date":
        block = block.replace(b"Mon, 5 Feb 2024 10:00:00 +0300", b"Feb 5th \xff 2024")
    elif variant == "no-id":
        block = block.replace(b"Message-ID: <m1@client.example>\n", b"")
    elif variant == "two-ids":
        block += b"Message-ID: <m2@client.example>\n"
    body = (b"Thanks, got it!\n", True)

    def build():
        return mail_headers.record_from_block(
            block, mailbox="m", source="mbox", source_ref="f:0", body=body
        )

    compiled = build()
    monkeypatch.setattr(mail_headers, "_native", None)
    assert compiled == build()


@pytest.mark.compiled_mail
def test_compiled_record_builder_rejects_as_python_does(monkeypatch: pytest.MonkeyPatch) -> None:
    blocks = [b"To: a@x\nSubject: no sender\n", b"From: ,\nTo: a@x\n", b" folded first\n"]
    compiled = [
        mail_headers.record_from_block(b, mailbox="m", source="mbox", source_ref="r")
        for b in blocks
    ]
    monkeypatch.setattr(mail_headers, "_native", None)
    pure = [
        mail_headers.record_from_block(b, mailbox="m", source="mbox", source_ref="r")
        for b in blocks
    ]
    assert compiled == pure
    assert [type(item) for item in compiled] == [Rejected, Rejected, Rejected]


@pytest.mark.compiled_mail
def test_the_compiled_builder_takes_the_common_form_itself() -> None:
    values = mail_headers._native.record(_BASE_BLOCK, "m", "mbox", "f:0")
    assert values is not None and values[0] == "m1@client.example"
    assert values[7] == ["team@agency.example"]


# -- compiled RFC 2047 decoding against the Python decoder --------------------------------

_WORD_TEXTS = ("Привет, мир", "Счёт № 5", "Zoë's café", "a_b=c?d", " ", "", "Ёж")
_WORD_CHARSETS = (
    *("utf-8", "UTF-8", "utf8", "koi8-r", "KOI8-R", "windows-1251", "cp1251", "iso-8859-5"),
    *("iso-8859-1", "latin-1", "us-ascii", "x-unknown", "utf-8*ru", "koi8-u", "windows-1252"),
)
_PLAIN_PIECES = ("Re:", "Fwd: ", "#123", "(x)", "\\", "a=b", "=?", "?=", "=?utf-8?", "\t", "==")
_DAMAGE = ("=", "_", "?", "#", " ", "=d0", "=D", "==", "A", "\t", "\x01")


def _encoded_value(rng: random.Random) -> bytes:
    pieces = []
    for _ in range(rng.randint(1, 6)):
        if rng.random() < 0.3:
            pieces.append(rng.choice(_PLAIN_PIECES))
            continue
        charset = rng.choice(_WORD_CHARSETS)
        text = rng.choice(_WORD_TEXTS)
        try:
            data = text.encode(charset.partition("*")[0], "replace")
        except LookupError:
            data = text.encode("utf-8")
        cut = rng.randint(0, len(data))  # a character split over two words
        for part in (data[:cut], data[cut:]) if rng.random() < 0.3 else (data,):
            word = encode_word(part.decode("latin-1"), "latin-1", rng.choice("BQbq"))
            word = word.replace("latin-1", charset, 1)
            if rng.random() < 0.15:
                at = rng.randrange(len(word))
                word = word[:at] + rng.choice(_DAMAGE) + word[at:]
            pieces.append(word)
    separators = (" ", "", "\n ", "\t", "  ", "\n\t")
    value = "".join(piece + rng.choice(separators) for piece in pieces)
    raw = value.encode("latin-1", "replace")
    return raw + "é".encode() if rng.random() < 0.05 else raw


@pytest.mark.compiled_mail
def test_compiled_encoded_words_agree_with_python_and_settle_most() -> None:
    rng = random.Random(29)
    values = [_encoded_value(rng) for _ in range(20_000)]
    compiled = [mail_headers._native.header_text(value) for value in values]
    wrong = [
        (value, ours)
        for value, ours in zip(values, compiled, strict=True)
        if ours is not None and ours != mail_headers.header_text(value)
    ]
    assert wrong == []
    assert sum(ours is not None for ours in compiled) > len(values) // 3  # damaged on purpose


@pytest.mark.compiled_mail
def test_compiled_and_python_closing_verdicts_agree_in_the_scan(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Replies with the closing table's generated bodies, some past the bytes read."""
    from tests.test_closing import _shortcut_cases

    date = "Date: Mon, 5 Feb 2024 10:00:00 +0300\n"  # undated ones are Python's
    rng = random.Random(31)
    path = tmp_path / "replies.mbox"
    with path.open("wb") as out:
        for n, (content_type, encoding, body, _) in enumerate(_shortcut_cases(4_000, seed=7)):
            head = f"From: a{n}@client.example\nIn-Reply-To: <r{n}@agency.example>\n{date}"
            if content_type is not None:
                head += "Content-Type: " + content_type.replace("\n", "\n ") + "\n"
            if encoding is not None:
                head += f"Content-Transfer-Encoding: {encoding}\n"
            if rng.random() < 0.2:
                body += b"\n" + b"filler line\n" * rng.randint(100, 200)
            body = re.sub(rb"(?m)^(>*From )", rb">\1", body)
            out.write(b"From a@b Mon Feb  5 10:00:00 2024\n" + head.encode() + b"\n")
            out.write(body + b"\n\n")
        for j in range(1_510, 1_550):  # the last byte read lands on, or next to, "Sure"
            body = b"Thanks!\n> " + b"q" * j + b"\nSure\n" + b"x\n" * 1_000
            out.write(b"From a@b Mon Feb  5 10:00:00 2024\nFrom: a@x.example\nReferences: <r>\n")
            out.write(date.encode() + b"\n" + body + b"\n")
    compiled = list(iter_mbox(path, mailbox="m", workers=1))
    monkeypatch.setattr(mail_headers, "_native", None)
    monkeypatch.setattr(mbox, "_native", None)
    pure = list(iter_mbox(path, mailbox="m", workers=1))
    assert len(compiled) == len(pure) == 4_040
    assert [i for i, (a, b) in enumerate(zip(compiled, pure, strict=True)) if a != b] == []


@pytest.mark.compiled_mail
def test_compiled_packing_between_processes_agrees_with_python() -> None:
    import dataclasses
    import marshal
    from datetime import timedelta, timezone

    record = mail_headers.record_from_block(_BASE_BLOCK, mailbox="m", source="mbox", source_ref="r")
    moments = [
        None,
        datetime(2024, 2, 5, 7, 0, 0, 123456, UTC),
        datetime(1969, 12, 31, 23, 59, 59, 999999, UTC),
        datetime(1, 1, 1, tzinfo=UTC),
        datetime(9999, 12, 31, 23, 59, 59, 999999, UTC),
        datetime(2024, 2, 5, 10, 0, tzinfo=timezone(timedelta(hours=3))),  # Python packs it
    ]
    items = [dataclasses.replace(record, sent_at=moment) for moment in moments]
    items += [Rejected("r", "From", "no From header"), mbox.Pending(42)]
    packed = mail_headers._native.pack(items, mbox._pack)
    assert packed == [mbox._pack(item) for item in items]
    assert list(mbox._unpack(marshal.dumps(packed))) == items


@pytest.mark.parametrize(
    "blank",
    [b"\n\n", b"\n\r\n", b"\n\r\n\n", b"\n\r\r\n\n", b"\n\r\n\r\n", b"\r\n\r\n", b"\n\rX\n\n"],
)
@pytest.mark.compiled_mail
def test_compiled_scan_ends_header_blocks_where_python_does(
    tmp_path: Path, blank: bytes, monkeypatch: pytest.MonkeyPatch
) -> None:
    head = _BASE_BLOCK + b"In-Reply-To: <r@x>\nX-Pad: " + b"p" * 40
    body = b"Thanks" + b" " * 1_528 + b"?" + b"x" * 100  # the "?" is read, or cut off
    entry = b"From a@b Mon Feb  5 10:00:00 2024\n" + head + blank + body + b"\n\n"
    path = tmp_path / "blank.mbox"
    path.write_bytes(entry * 3)
    compiled = list(iter_mbox(path, mailbox="m", workers=1))
    monkeypatch.setattr(mail_headers, "_native", None)
    monkeypatch.setattr(mbox, "_native", None)
    assert compiled == list(iter_mbox(path, mailbox="m", workers=1))
