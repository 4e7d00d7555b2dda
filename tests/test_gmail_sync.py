"""The Gmail API source against the fake: first sync, history, resync, and its faults."""

from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from clientpulse.pipeline.ingest import ingest_mailboxes
from connectors.errors import ConnectorError
from connectors.http import RetryPolicy
from connectors.mailboxes.gmail.auth import GmailConnection, GoogleTokens, RefreshTokenGrant
from connectors.mailboxes.gmail.client import GmailClient
from sandbox.fake_gmail import METADATA
from sandbox.gmail_serving import served_gmail
from tests.factories import mail_rows, mailbox_config
from warehouse.db import open_writer

NOW = datetime.now(UTC)
ANNA, BOB, CARL = "anna@agency.test", "bob@agency.test", "carl@agency.test"


def mail(n: int, to: str, *, days_ago: float = 1, reply_to: int | None = None, body="Hi") -> bytes:
    """A client's message `n` to `to` (or a reply to message `reply_to`)."""
    sent = NOW - timedelta(days=days_ago)
    subject = f"Re: Brief {reply_to}" if reply_to is not None else f"Brief {n}"
    lines = [
        f"Message-ID: <m{n}@acme.test>",
        f"From: Ivan <ivan{n % 3}@acme.test>",
        f"To: {to}",
        f"Subject: {subject}",
        f"Date: {sent.strftime('%a, %d %b %Y %H:%M:%S +0000')}",
        f"X-GM-THRID: {1850000000000000000 + (reply_to or n)}",
        "X-Gmail-Labels: Inbox,Important",
    ]
    if reply_to is not None:
        lines.append(f"In-Reply-To: <m{reply_to}@acme.test>")
    return ("\r\n".join(lines) + "\r\n\r\n" + body + "\r\n").encode()


def gmail_config(tmp_path: Path, **entry):
    return mailbox_config(tmp_path, {"gmail": [{"mailboxes": [ANNA], **entry}]})


def rows(config) -> list[tuple]:
    columns = "s.mailbox, m.message_key, m.gmail_labels, s.deleted_at IS NOT NULL"
    return mail_rows(config, columns, "1, 2")


def run(config, served, run_id="run"):
    return ingest_mailboxes(config, run_id, gmail_connection=lambda _: served.connection)


def test_first_sync_then_history_adds_archives_relabels_and_costs_what_changed(tmp_path):
    with served_gmail() as served:
        box = served.state.mailbox(ANNA)
        stored = [box.add(mail(n, ANNA, days_ago=30 - n)) for n in range(30)]
        box.add(mail(99, ANNA, days_ago=500))  # before the 400-day window
        config = gmail_config(tmp_path)
        first = run(config, served, "run-1")
        assert first["messages"] == 30 and first["gmail_mailboxes"] == 1
        # Listings carry no dates: the old message is fetched, left out, and ends the listing.
        assert (served.state.calls["messages.list"], served.state.calls["messages.get"]) == (1, 31)
        loaded = rows(config)
        assert [key for _, key, _, _ in loaded] == sorted(f"m{n}@acme.test" for n in range(30))
        assert loaded[0][2] == ["INBOX", "IMPORTANT"]

        calls_before = dict(served.state.calls)
        box.add(mail(30, ANNA, days_ago=0))
        box.add(mail(31, ANNA, days_ago=0, reply_to=30))
        box.delete(stored[0].id)
        box.relabel(stored[1].id, add=["STARRED"], remove=["IMPORTANT"])
        second = run(config, served, "run-2")
        spent = {k: v - calls_before.get(k, 0) for k, v in served.state.calls.items()}
        # One history page and the two new messages: nothing else is asked for.
        assert spent == {"getProfile": 0, "messages.list": 0, "history.list": 1, "messages.get": 2}
        assert (second["messages"], second["gmail_archived"]) == (2, 1)
        after = {key: (labels, deleted) for _, key, labels, deleted in rows(config)}
        assert len(after) == 32
        assert after["m0@acme.test"] == (["INBOX", "IMPORTANT"], True)  # archived, kept
        assert after["m1@acme.test"] == (["INBOX", "STARRED"], False)
        third = run(config, served, "run-3")
        assert third["messages"] == 0 and served.state.calls["messages.get"] == 33


def test_an_expired_history_id_resyncs_within_bounds_and_adds_no_duplicate(tmp_path):
    with served_gmail() as served:
        box = served.state.mailbox(ANNA)
        for n in range(520):  # more than one listing page (500)
            box.add(mail(n, ANNA, days_ago=200 - n / 10))
        config = gmail_config(tmp_path)
        run(config, served, "run-1")
        box.add(mail(5000, ANNA, days_ago=0))
        box.forget_history()
        gets, lists = served.state.calls["messages.get"], served.state.calls["messages.list"]
        again = run(config, served, "run-2")
        assert (again["messages"], again["gmail_resynced_mailboxes"]) == (1, 1)
        # The resync stops at the first page holding a loaded message: one listing, one fetch.
        assert served.state.calls["messages.list"] - lists == 1
        assert served.state.calls["messages.get"] - gets == 1
        loaded = rows(config)
        assert len(loaded) == len({key for _, key, _, _ in loaded}) == 521
        box.add(mail(5001, ANNA, days_ago=0))
        assert run(config, served, "run-3")["messages"] == 1  # history works again


def test_token_expiry_mid_sync_asks_for_one_new_token(tmp_path):
    with served_gmail() as served:
        box = served.state.mailbox(ANNA)
        for n in range(120):
            box.add(mail(n, ANNA, days_ago=10))
        gets = []

        def expire_after_first_batch(method: str, user: str) -> None:
            gets.append(method)
            if gets.count("messages.get") == 51:
                served.state.authority.expire_all()

        served.state.faults.on_request = expire_after_first_batch
        config = gmail_config(tmp_path)
        stats = run(config, served)
        assert stats["messages"] == 120 and len(rows(config)) == 120
        assert served.state.authority.grants == 2


def test_revoked_delegation_for_one_of_three_mailboxes_names_it_and_loads_the_others(
    tmp_path,
):
    with served_gmail() as served:
        for n, user in enumerate((ANNA, BOB, CARL)):
            served.state.mailbox(user).add(mail(n, user))
        served.state.suspend(BOB)
        config = gmail_config(tmp_path, mailboxes=[ANNA, BOB, CARL])
        with pytest.raises(ConnectorError) as raised:
            run(config, served)
        message = str(raised.value)
        assert BOB in message and "invalid_grant" in message and "suspended" in message
        assert ANNA not in message and CARL not in message
        assert [mailbox for mailbox, *_ in rows(config)] == [ANNA, CARL]

        served.state.authority.delegations.clear()  # the admin removed the delegation entry
        with pytest.raises(ConnectorError) as raised:
            run(config, served, "run-2")
        assert "unauthorized_client" in str(raised.value)
        assert "Domain-wide delegation" in str(raised.value) and METADATA in str(raised.value)


def test_a_429_storm_a_403_rate_limit_and_5xx_are_waited_out(tmp_path):
    with served_gmail() as served:
        box = served.state.mailbox(ANNA)
        for n in range(80):
            box.add(mail(n, ANNA))
        faults = served.state.faults
        faults.retry_after_seconds = 0
        faults.fail_next_403_user_rate, faults.fail_next_5xx = 2, 2

        def storm_on_the_first_batch(method: str, user: str) -> None:
            if method == "messages.get" and faults.on_request is not None:
                faults.on_request = None
                faults.fail_next_429 = 40  # most parts of one batch

        faults.on_request = storm_on_the_first_batch
        config = gmail_config(tmp_path)
        stats = run(config, served)
        assert stats["messages"] == 80 and len(rows(config)) == 80
        assert faults.fail_next_429 == faults.fail_next_403_user_rate == faults.fail_next_5xx == 0


def test_a_first_sync_of_three_mailboxes_stays_under_the_quota_without_a_429(tmp_path):
    with served_gmail() as served:
        for user in (ANNA, BOB, CARL):
            box = served.state.mailbox(user)
            for n in range(300):  # 1,500 units each: six seconds of quota after the burst
                box.add(mail(n, user))
        started = time.monotonic()
        stats = run(gmail_config(tmp_path, mailboxes=[ANNA, BOB, CARL]), served)
        elapsed = time.monotonic() - started
        assert stats["messages"] == 900 and stats["gmail_rate_limited"] == 0
        assert served.state.units == {user: 1 + 5 + 1500 for user in (ANNA, BOB, CARL)}
        assert elapsed > (1506 - 500) / 250  # paced: the quota was the limit, not luck


def test_the_client_waits_exactly_retry_after_then_gives_up_clearly():
    waits: list[float] = []
    with served_gmail() as served:
        served.state.mailbox(ANNA).add(mail(1, ANNA))
        served.state.faults.retry_after_seconds = 7
        served.state.faults.fail_next_429 = 2
        tokens = GoogleTokens(ANNA, served.key)
        client = GmailClient(tokens, base_url=served.server.base_url, sleep=waits.append)
        assert client.call("getProfile", "/profile")["emailAddress"] == ANNA
        assert waits == [7.0, 7.0]
        served.state.faults.fail_next_5xx = 10
        client.retry = RetryPolicy(max_attempts=3, backoff_base=0.5)
        with pytest.raises(ConnectorError, match=rf"getProfile \({ANNA}\): gave up"):
            client.call("getProfile", "/profile")


def test_a_message_deleted_between_list_and_get_is_not_loaded_and_nothing_fails(tmp_path):
    with served_gmail() as served:
        box = served.state.mailbox(ANNA)
        stored = [box.add(mail(n, ANNA)) for n in range(10)]

        def delete_after_listing(method: str, user: str) -> None:
            if method == "messages.get" and stored[4].id in box.messages:
                box.delete(stored[4].id)

        served.state.faults.on_request = delete_after_listing
        config = gmail_config(tmp_path)
        stats = run(config, served)
        assert (stats["messages"], stats["gmail_vanished"]) == (9, 1)
        assert "m4@acme.test" not in {key for _, key, _, _ in rows(config)}
        served.state.faults.on_request = None
        assert run(config, served, "run-2")["messages"] == 0  # its deletion: nothing to do


def test_a_refresh_token_reads_one_mailbox_and_a_revoked_one_says_what_to_check(tmp_path):
    with served_gmail() as served:
        served.state.mailbox(ANNA).add(mail(1, ANNA))
        authority = served.state.authority
        authority.oauth_clients["desktop-client"] = "s3cret-client"
        authority.refresh_tokens["1//refresh-anna"] = (ANNA, frozenset({METADATA}))
        grant = RefreshTokenGrant(
            "desktop-client", "s3cret-client", "1//refresh-anna", authority.token_uri
        )
        connection = GmailConnection(grant, api_base_url=served.server.base_url)
        config = gmail_config(tmp_path)
        stats = ingest_mailboxes(config, "run-1", gmail_connection=lambda _: connection)
        assert stats["messages"] == 1
        del authority.refresh_tokens["1//refresh-anna"]
        authority.expire_all()
        served.state.mailbox(ANNA).add(mail(2, ANNA))
        with pytest.raises(ConnectorError, match=rf"mailbox {ANNA}: .*invalid_grant.*revoked"):
            ingest_mailboxes(config, "run-2", gmail_connection=lambda _: connection)


def test_all_users_of_the_domain_come_from_the_directory_but_the_excluded(tmp_path):
    with served_gmail() as served:
        for n, user in enumerate((ANNA, BOB, CARL, "ops@agency.test")):
            served.state.mailbox(user).add(mail(n, user))
        served.state.suspend(CARL)
        config = gmail_config(
            tmp_path,
            mailboxes=[],
            all_users=True,
            domain="agency.test",
            admin_email="ops@agency.test",
            exclude=["ops@agency.test"],
        )
        stats = run(config, served)
        assert stats["gmail_mailboxes"] == 2
        assert [mailbox for mailbox, *_ in rows(config)] == [ANNA, BOB]


def test_the_first_lines_are_read_only_with_gmail_readonly(tmp_path):
    with served_gmail() as served:
        box = served.state.mailbox(ANNA)
        box.add(mail(1, ANNA, days_ago=2))
        box.add(mail(2, ANNA, days_ago=1, reply_to=1, body="Thanks, got it!"))
        verdicts = {}
        for read in (False, True):
            config = gmail_config(tmp_path / str(read), read_first_lines=read)
            run(config, served)
            with open_writer(config.warehouse.path) as con:
                verdicts[read] = con.execute(
                    "SELECT closing_verdict, closing_rule FROM raw.email_messages "
                    "WHERE message_key = 'm2@acme.test'"
                ).fetchone()
        assert verdicts[False] == ("unknown", "body_not_read")
        assert verdicts[True][0] == "closer"


def test_no_token_key_or_assertion_appears_in_the_logs_of_a_sync(tmp_path, caplog):
    caplog.set_level(logging.DEBUG)
    for name in ("urllib3", "requests", "connectors", "clientpulse"):
        logging.getLogger(name).setLevel(logging.DEBUG)
    with served_gmail() as served:
        box = served.state.mailbox(ANNA)
        for n in range(60):
            box.add(mail(n, ANNA))
        served.state.faults.fail_next_429 = 3
        served.state.faults.retry_after_seconds = 0
        served.state.faults.on_request = lambda method, _: (
            served.state.authority.expire_all() if method == "messages.list" else None
        )
        config = gmail_config(tmp_path)
        run(config, served)
        issued_before = set(served.state.authority.issued)
        served.state.mailbox(BOB).add(mail(1, BOB))
        served.state.suspend(BOB)
        bad = gmail_config(tmp_path / "bad", mailboxes=[BOB])
        with pytest.raises(ConnectorError) as raised:
            run(bad, served)
        logged = caplog.text + str(raised.value)
        assert "HTTP 429" in logged or "retry" in logged  # the logs were captured
        secrets = [*issued_before, *served.state.authority.issued]
        secrets += [line for line in served.key.private_key.splitlines() if "---" not in line]
        secrets.append("eyJ")  # any JWT (the signed assertion) starts so
        assert served.state.authority.grants >= 2
        assert not [s for s in secrets if s in logged]


def test_a_sync_killed_mid_batch_then_rerun_loads_every_message_once(tmp_path):
    with served_gmail() as served:
        box = served.state.mailbox(ANNA)
        for n in range(600):
            box.add(mail(n, ANNA, days_ago=10 - n / 100))
        config = gmail_config(tmp_path)
        key_file = tmp_path / "key.json"
        key = served.key
        key_file.write_text(
            json.dumps(
                {
                    "type": "service_account",
                    "client_email": key.client_email,
                    "private_key": key.private_key,
                    "token_uri": key.token_uri,
                }
            )
        )
        child: list[subprocess.Popen] = []

        def kill_inside_the_second_chunk(method: str, user: str) -> None:
            if method == "messages.get" and served.state.calls["messages.get"] == 520:
                os.kill(child[0].pid, signal.SIGKILL)

        served.state.faults.on_request = kill_inside_the_second_chunk
        command = [sys.executable, "-m", "tests.gmail_fake", str(config.source_path)]
        child.append(subprocess.Popen([*command, str(key_file), served.server.base_url]))
        assert child[0].wait(timeout=120) == -signal.SIGKILL
        committed = rows(config)
        assert len(committed) == 500  # the first fetch chunk and its cursor, no more
        served.state.faults.on_request = None
        gets = served.state.calls["messages.get"]
        stats = run(config, served, "rerun")
        assert stats["messages"] == 100 and served.state.calls["messages.get"] - gets == 100
        loaded = rows(config)
        assert len(loaded) == len({key for _, key, _, _ in loaded}) == 600


def test_the_airflow_connection_holds_the_key_and_nothing_else_does(tmp_path, monkeypatch):
    from clientpulse_connections import gmail_connection

    with served_gmail() as served:
        served.state.mailbox(ANNA).add(mail(1, ANNA))
        key = served.key
        keyfile = {
            "type": "service_account",
            "client_email": key.client_email,
            "private_key": key.private_key,
            "token_uri": key.token_uri,
        }
        connection = {
            "conn_type": "google_cloud_platform",
            "extra": {"keyfile_dict": json.dumps(keyfile), "api_base_url": served.server.base_url},
        }
        monkeypatch.setenv("AIRFLOW_CONN_CLIENTPULSE_GMAIL", json.dumps(connection))
        config = gmail_config(tmp_path)
        assert "private" not in config.sources.mailboxes.model_dump_json()
        stats = ingest_mailboxes(config, "run-1", gmail_connection=gmail_connection)
        assert stats["messages"] == 1


def test_a_message_also_in_an_mbox_keeps_the_verdict_read_from_its_body(tmp_path):
    from sandbox.mbox_writer import write_mbox

    thanks = mail(2, ANNA, days_ago=1, reply_to=1, body="Thanks, got it!")
    mbox = tmp_path / "team.mbox"
    write_mbox([mail(1, ANNA, days_ago=2), thanks], mbox)
    with served_gmail() as served:
        served.state.mailbox(ANNA).add(thanks)
        config = mailbox_config(
            tmp_path,
            {
                "mbox": [{"path": str(mbox), "mailbox": "team@agency.test"}],
                "gmail": [{"mailboxes": [ANNA]}],
            },
        )
        run(config, served)
    with open_writer(config.warehouse.path) as con:
        found = con.execute(
            "SELECT closing_verdict, (SELECT count(*) FROM raw.email_sightings "
            "WHERE message_key = 'm2@acme.test') FROM raw.email_messages "
            "WHERE message_key = 'm2@acme.test'"
        ).fetchone()
    assert found == ("closer", 2)
