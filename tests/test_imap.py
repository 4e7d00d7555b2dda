"""The IMAP connector and the mailbox ingest against a real Dovecot server.

Messages are APPENDed over IMAP; each test gets fresh users. What the connector
requested is read from `ImapMailboxReader.requested`, what the server holds from
plain IMAP sessions, and what landed from the warehouse.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import yaml

from clientpulse.config import AgencyConfig, load_config
from clientpulse.pipeline.ingest import ingest_mailboxes
from connectors.errors import ConnectorError
from connectors.mailboxes.imap import (
    FolderCursor,
    ImapLogin,
    ImapMailboxReader,
    decode_modified_utf7,
    encode_modified_utf7,
    fetch_records,
    uid_ranges,
)
from tests.dovecot import PASSWORD, Dovecot, dovecot_binary
from warehouse.db import open_writer

pytestmark = pytest.mark.server

FIXTURE = Path(__file__).parent / "fixtures" / "small_agency.yaml"
_users = itertools.count()


@pytest.fixture(scope="module")
def dovecot() -> Iterator[Dovecot]:
    binary = dovecot_binary()
    if binary is None:
        pytest.fail(
            "Dovecot is not installed: `make test` installs it (apt-get install "
            "dovecot-imapd); these IMAP integration tests need a real server"
        )
    server = Dovecot(binary, [f"user{n}@agency.test" for n in range(40)])
    yield server
    server.stop()


@pytest.fixture
def user(dovecot: Dovecot) -> str:
    return dovecot.users[next(_users)]


def login(dovecot: Dovecot, user: str) -> ImapLogin:
    return ImapLogin("127.0.0.1", dovecot.port, user, PASSWORD, use_ssl=False)


def message(n: int, **headers: str | None) -> bytes:
    fields = {
        "From": f"Client {n} <client{n}@acme.test>",
        "To": "team@agency.test",
        "Subject": f"Question {n}",
        "Date": f"Mon, 16 Nov 2026 09:{n % 60:02d}:00 +0200",
        "Message-ID": f"<m{n}@acme.test>",
    } | headers
    head = "".join(f"{k}: {v}\r\n" for k, v in fields.items() if v is not None)
    return head.encode() + f"\r\nBody text {n} must never be read.\r\n".encode()


def append(dovecot: Dovecot, user: str, folder: str, *messages: bytes) -> None:
    """APPEND `messages` to `folder` (a Unicode name), creating it unless it is INBOX."""
    folder = f'"{encode_modified_utf7(folder)}"'
    imap = dovecot.client(user)
    try:
        if folder != '"INBOX"':
            imap.create(folder)
        for raw in messages:
            received = datetime(2026, 11, 16, 12, 0, tzinfo=UTC)
            status, detail = imap.append(folder, None, received, raw)
            assert status == "OK", detail
    finally:
        imap.logout()


def flags(dovecot: Dovecot, user: str, folder: str) -> list[bytes]:
    imap = dovecot.client(user)
    try:
        imap.select(folder, readonly=True)
        status, data = imap.uid("FETCH", "1:*", "(FLAGS)")
        assert status == "OK"
        return [line for line in data if line]
    finally:
        imap.logout()


def sync(dovecot: Dovecot, user: str, folder: str, cursor: FolderCursor | None, batch: int = 500):
    """One read of `folder`: (items, cursor after, what was requested)."""
    with ImapMailboxReader(login(dovecot, user), mailbox=user, batch_size=batch) as reader:
        items, last = [], cursor
        for fetched in reader.folder_batches(folder, cursor):
            items.extend(fetched.items)
            last = fetched.cursor
        return items, last, reader.requested


def imap_config(tmp_path: Path, mailboxes: list[dict]) -> AgencyConfig:
    document = yaml.safe_load(FIXTURE.read_text())
    document["sources"]["mailboxes"] = {"imap": mailboxes}
    path = tmp_path / "agency.yaml"
    path.write_text(yaml.safe_dump(document))
    return load_config(path)


def rows(config: AgencyConfig, sql: str) -> list[tuple]:
    with open_writer(config.warehouse.path) as con:
        return con.execute(sql).fetchall()


# --- the connector against the server ------------------------------------------------


def test_incremental_sync_fetches_only_new_uids_in_batches(dovecot: Dovecot, user: str) -> None:
    append(dovecot, user, "INBOX", *(message(n) for n in range(1, 6)))
    items, cursor, requested = sync(dovecot, user, "INBOX", None, batch=2)
    assert [item.message_key for item in items] == [f"m{n}@acme.test" for n in range(1, 6)]
    assert requested == [("INBOX", "1:2"), ("INBOX", "3:4"), ("INBOX", "5")]
    assert cursor is not None and cursor.last_uid == 5

    append(dovecot, user, "INBOX", message(6), message(7))
    items, after, requested = sync(dovecot, user, "INBOX", cursor)
    assert [item.message_key for item in items] == ["m6@acme.test", "m7@acme.test"]
    assert requested == [("INBOX", "6:7")]
    assert after == FolderCursor(cursor.uidvalidity, 7)

    items, unchanged, requested = sync(dovecot, user, "INBOX", after)
    assert (items, requested, unchanged) == ([], [], after)


def test_headers_are_read_without_marking_anything_seen(dovecot: Dovecot, user: str) -> None:
    append(dovecot, user, "INBOX", message(1), message(2))
    before = flags(dovecot, user, "INBOX")
    assert before and not any(rb"\Seen" in line for line in before)
    items, _, _ = sync(dovecot, user, "INBOX", None)
    assert len(items) == 2
    after = flags(dovecot, user, "INBOX")
    assert len(after) == 2 and not any(rb"\Seen" in line for line in after)


def test_a_body_only_thanks_is_read_from_a_partial_fetch_without_marking_it_seen(
    dovecot: Dovecot, user: str
) -> None:
    reply = {"In-Reply-To": "<a1@agency.test>", "Content-Type": "text/plain; charset=utf-8"}
    thanks = message(1, **reply).replace(
        b"Body text 1 must never be read.", "Дякую, отримали!\r\n\r\nЗ повагою,\r\nОксана".encode()
    )
    asks = message(2, **reply).replace(
        b"Body text 2 must never be read.",
        b"Thanks! Could you also send the invoice?\r\n" + b"> quoted line\r\n" * 400,
    )
    append(dovecot, user, "INBOX", thanks, asks, message(3))
    items, _, _ = sync(dovecot, user, "INBOX", None)
    assert [(i.closing_verdict, i.closing_rule) for i in items] == [
        ("closer", "uk_thanks"),
        ("not_closer", "question"),
        ("unknown", "not_a_reply"),
    ]
    assert not any(rb"\Seen" in line for line in flags(dovecot, user, "INBOX"))


def test_real_world_headers_arrive_decoded(dovecot: Dovecot, user: str) -> None:
    folded = "Re: a very long subject line that a client's mail program\r\n folded in two"
    append(
        dovecot,
        user,
        "INBOX",
        message(1, Subject="=?koi8-r?B?8NLJ18XU?= =?utf-8?Q?_=D1=81=D0=B2=D1=96=D1=82?="),
        message(2, Subject=folded, From="=?windows-1251?B?zeDy4Pjg?= <natasha@acme.test>"),
        message(3, Date="yesterday-ish"),
    )
    first, second, third = sync(dovecot, user, "INBOX", None)[0]
    assert first.subject == "Привет світ"
    assert second.subject == folded.replace("\r\n", "")
    assert (second.from_name, second.from_addr) == ("Наташа", "natasha@acme.test")
    # An unparseable Date falls back to the server's INTERNALDATE, flagged.
    assert third.date_status == "unparseable"
    assert third.sent_at == datetime(2026, 11, 16, 12, 0, tzinfo=UTC)
    assert third.problems == ["date_unparseable", "sent_at_from_internaldate"]
    assert first.source_ref.startswith(f"imap://{user}/INBOX;UIDVALIDITY=")
    assert first.source_ref.endswith("/;UID=1")


def test_a_new_uidvalidity_reads_the_folder_again(dovecot: Dovecot, user: str) -> None:
    append(dovecot, user, "Clients", message(1), message(2))
    _, cursor, _ = sync(dovecot, user, "Clients", None)
    assert cursor is not None

    # Deleting and re-creating a folder gives it a new UIDVALIDITY; UIDs start again.
    imap = dovecot.client(user)
    assert imap.delete("Clients")[0] == "OK"
    imap.logout()
    append(dovecot, user, "Clients", message(1), message(2), message(3))
    with ImapMailboxReader(login(dovecot, user), mailbox=user) as reader:
        batches = list(reader.folder_batches("Clients", cursor))
    assert [batch.resync for batch in batches] == [True]
    assert batches[0].cursor.uidvalidity != cursor.uidvalidity
    assert batches[0].cursor.last_uid == 3
    assert reader.requested == [("Clients", "1:3")]
    assert len(batches[0].items) == 3


def test_a_folder_with_a_non_ascii_name(dovecot: Dovecot, user: str) -> None:
    append(dovecot, user, "Клиенты ACME", message(1))
    items, _, requested = sync(dovecot, user, "Клиенты ACME", None)
    assert [item.message_key for item in items] == ["m1@acme.test"]
    assert requested == [("Клиенты ACME", "1")]
    assert "/Клиенты ACME;UIDVALIDITY=" in items[0].source_ref


def test_gmail_all_mail_needs_the_gmail_extension(dovecot: Dovecot, user: str) -> None:
    with (
        ImapMailboxReader(login(dovecot, user), mailbox=user) as reader,
        pytest.raises(ConnectorError, match="X-GM-EXT-1"),
    ):
        reader.all_mail_folder()


def test_a_wrong_password_is_a_clear_error_without_the_secret(dovecot: Dovecot, user: str) -> None:
    wrong = ImapLogin("127.0.0.1", dovecot.port, user, "not-the-password", use_ssl=False)
    with pytest.raises(ConnectorError, match="cannot log in") as raised:
        ImapMailboxReader(wrong, mailbox=user).__enter__()
    assert "not-the-password" not in str(raised.value)


# --- through the pipeline into the warehouse -----------------------------------------


def test_ingest_writes_one_record_per_message_across_folders_and_mailboxes(
    dovecot: Dovecot, tmp_path: Path
) -> None:
    shared, personal = dovecot.users[next(_users)], dovecot.users[next(_users)]
    append(dovecot, shared, "INBOX", message(1), message(2), message(3, From=None))
    append(dovecot, shared, "Archive", message(1))
    append(dovecot, personal, "INBOX", message(1), message(4, **{"Message-ID": None}))
    config = imap_config(
        tmp_path,
        [
            {"connection_id": "imap_shared", "mailbox": shared, "folders": ["INBOX", "Archive"]},
            {"connection_id": "imap_personal", "mailbox": personal},
        ],
    )
    logins = {"imap_shared": shared, "imap_personal": personal}

    def login_for(box) -> ImapLogin:
        return login(dovecot, logins[box.connection_id])

    stats = ingest_mailboxes(config, "run-1", login_for)
    assert stats["imap_mailboxes"] == 2 and stats["rejected"] == 1

    keys = rows(config, "SELECT message_key FROM raw.email_messages ORDER BY 1")
    assert [k for (k,) in keys if not k.startswith("sha1:")] == ["m1@acme.test", "m2@acme.test"]
    assert len(keys) == 3  # message 4 has no Message-ID: a content key
    sightings = rows(
        config,
        "SELECT mailbox, source FROM raw.email_sightings "
        "WHERE message_key = 'm1@acme.test' ORDER BY 1",
    )
    assert sightings == sorted([(shared, "imap"), (personal, "imap")])
    quarantined = rows(config, "SELECT source, record_ref, field, reason FROM ops.quarantine")
    assert len(quarantined) == 1
    source, ref, field, reason = quarantined[0]
    assert (source, field, reason) == ("imap", "From", "no From header")
    assert ref.startswith(f"imap://{shared}/INBOX;UIDVALIDITY=") and ref.endswith(";UID=3")
    cursors = dict(rows(config, "SELECT scope, value FROM ops.cursors WHERE source = 'imap'"))
    assert json.loads(cursors[f"{shared}:INBOX"])["last_uid"] == 3
    assert json.loads(cursors[f"{shared}:Archive"])["last_uid"] == 1
    assert json.loads(cursors[f"{personal}:INBOX"])["last_uid"] == 2

    # Another run with one new message and a re-created folder: nothing lost or doubled.
    append(dovecot, shared, "INBOX", message(5))
    imap = dovecot.client(shared)
    imap.delete("Archive")
    imap.logout()
    append(dovecot, shared, "Archive", message(1), message(2))
    stats = ingest_mailboxes(config, "run-2", login_for)
    assert stats["imap_resynced_folders"] == 1
    assert stats["imap_fetches"] == 2  # INBOX UID 4 and the re-created Archive
    keys_after = rows(config, "SELECT message_key FROM raw.email_messages ORDER BY 1")
    assert sorted(set(keys_after)) == keys_after
    assert sorted([*keys, ("m5@acme.test",)]) == keys_after
    assert not any(
        rb"\Seen" in line
        for folder in ("INBOX", "Archive")
        for line in flags(dovecot, shared, folder)
    )


def test_a_failed_run_keeps_what_it_committed_and_the_next_resumes(
    dovecot: Dovecot, user: str, tmp_path: Path
) -> None:
    append(dovecot, user, "INBOX", *(message(n) for n in range(1, 6)))
    box = {"connection_id": "c", "mailbox": user, "folders": ["INBOX", "Later"]}
    config = imap_config(tmp_path, [{**box, "batch_size": 2}])
    with pytest.raises(ConnectorError, match="EXAMINE Later"):
        ingest_mailboxes(config, "run-1", lambda _: login(dovecot, user))
    # INBOX's three batches were committed with their cursor before "Later" failed.
    assert rows(config, "SELECT count(*) FROM raw.email_messages") == [(5,)]
    (cursor,) = rows(config, f"SELECT value FROM ops.cursors WHERE scope = '{user}:INBOX'")[0]
    assert json.loads(cursor)["last_uid"] == 5

    append(dovecot, user, "Later", message(6))
    stats = ingest_mailboxes(config, "run-2", lambda _: login(dovecot, user))
    assert (stats["imap_fetches"], stats["messages"]) == (1, 1)
    assert rows(config, "SELECT count(*) FROM raw.email_messages") == [(6,)]


def test_ingest_needs_logins_when_imap_is_configured(tmp_path: Path) -> None:
    config = imap_config(tmp_path, [{"connection_id": "imap_x", "mailbox": "a@agency.test"}])
    with pytest.raises(ValueError, match="IMAP login"):
        ingest_mailboxes(config, "run-1")


# --- response pieces servers other than Dovecot send ---------------------------------


def test_gmail_fetch_answer_gives_labels_and_thread() -> None:
    """Gmail's answer as imaplib returns it: items on both sides of the header literal."""
    header = b"From: a@acme.test\r\nMessage-ID: <g1@acme.test>\r\nSubject: Hi\r\n\r\n"
    answer = [
        (
            b'1 (X-GM-THRID 1500000000000000001 UID 42 INTERNALDATE "16-Nov-2026 12:00:00 +0000"'
            b" BODY[HEADER.FIELDS (FROM MESSAGE-ID SUBJECT)] {%d}" % len(header),
            header,
        ),
        rb' X-GM-LABELS ("\\Important" \Inbox "Clients/ACME (key)" &BBoEOwQ4BDUEPQRCBEs-))',
    ]
    (record,) = fetch_records(answer, "team@agency.test", "[Gmail]/All Mail", 7)
    assert record.message_key == "g1@acme.test"
    assert record.gmail_labels == ["\\Important", "\\Inbox", "Clients/ACME (key)", "Клиенты"]
    assert record.gmail_thread_id == "1500000000000000001"
    assert record.source_ref == "imap://team@agency.test/[Gmail]/All Mail;UIDVALIDITY=7/;UID=42"
    assert record.sent_at == datetime(2026, 11, 16, 12, 0, tzinfo=UTC)
    assert record.problems == ["date_missing", "sent_at_from_internaldate"]


def test_uid_sets_and_modified_utf7() -> None:
    assert uid_ranges([1, 2, 3, 7, 9, 10]) == "1:3,7,9:10"
    assert uid_ranges([4]) == "4"
    assert decode_modified_utf7("Sent &- Archive") == "Sent & Archive"
    for name in ("Клиенты ACME & Co", "[Gmail]/Вся почта", "日本語", "plain"):
        assert decode_modified_utf7(encode_modified_utf7(name)) == name
    assert encode_modified_utf7("Клиенты") == "&BBoEOwQ4BDUEPQRCBEs-"
