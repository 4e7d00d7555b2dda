"""Microsoft Graph mailboxes through the Graph fake: delta sync, cursors, faults, secrets.

Each test serves a tenant (tests.graph_world) and runs the real ingest against it:
rows, sightings, the item ledger and the cursors land in a real DuckDB file.
"""

from __future__ import annotations

import logging
import multiprocessing
import time
from pathlib import Path

import pytest

from clientpulse.pipeline.ingest import ingest_mailboxes
from connectors.errors import ConnectorError
from connectors.mailboxes.graph import sync as graph_ingest
from connectors.mailboxes.graph.reader import FolderCursor
from tests.factories import mailbox_config
from tests.graph_world import READ, SECRET, graph_config, graph_tenant, mail
from warehouse.db import open_writer

ANNA = "anna@agency.test"
BOB = "bob@agency.test"
TEAM = "team@agency.test"


def inbox(n: int, to: str = ANNA, prefix: str = "m") -> list[bytes]:
    return [mail(f"{prefix}{i}", "ceo@acme.test", to, 100 - i) for i in range(n)]


def query(config, sql: str, *params) -> list[tuple]:
    with open_writer(config.warehouse.path) as con:
        return con.execute(sql, list(params)).fetchall()


def keys(config) -> list[str]:
    return [k for (k,) in query(config, "SELECT message_key FROM raw.email_messages ORDER BY 1")]


@pytest.fixture
def waits(monkeypatch) -> list[float]:
    """The retry waits, recorded instead of slept."""
    recorded: list[float] = []
    monkeypatch.setattr(graph_ingest, "SLEEP", recorded.append)
    return recorded


def test_a_first_sync_then_an_hourly_one_load_every_message_once(tmp_path: Path) -> None:
    reply = mail("r1", ANNA, "ceo@acme.test", 5, irt="m1", subject="Re: Question")
    with graph_tenant({ANNA: [*inbox(7), reply]}) as t:
        config = graph_config(tmp_path, [ANNA])
        first = ingest_mailboxes(config, "run-1", graph_credentials=t.credentials)
        assert (first["messages"], first["graph_mailboxes"], first["graph_pages"]) == (8, 1, 4)
        t.tenant.add(ANNA, mail("m7", "ceo@acme.test", ANNA, 1))
        second = ingest_mailboxes(config, "run-2", graph_credentials=t.credentials)
        assert t.app.state.max_in_flight[ANNA] <= 4
    # Two pages (one per folder) and one token for one new message.
    assert (second["messages"], second["graph_pages"], second["graph_requests"]) == (1, 2, 3)
    assert keys(config) == sorted([*(f"m{i}@mail.test" for i in range(8)), "r1@mail.test"])
    sightings = query(config, "SELECT mailbox, source, split_part(source_ref, '/', 1), count(*) "
                              "FROM raw.email_sightings GROUP BY ALL ORDER BY 3")  # fmt: skip
    assert sightings == [(ANNA, "graph", "inbox", 8), (ANNA, "graph", "sentitems", 1)]
    # Sent Items keep no transport headers: the reply has no In-Reply-To, and the
    # conversation id of the message it answers as its thread hint.
    (row,) = query(config, "SELECT in_reply_to, gmail_thread_id FROM raw.email_messages "
                           "WHERE message_key = 'r1@mail.test'")  # fmt: skip
    (parent,) = query(config, "SELECT in_reply_to, gmail_thread_id FROM raw.email_messages "
                              "WHERE message_key = 'm1@mail.test'")  # fmt: skip
    assert row[0] is None and row[1] == parent[1] is not None
    cursors = dict(query(config, "SELECT scope, value FROM ops.cursors WHERE source = 'graph'"))
    assert set(cursors) == {f"{ANNA}:inbox", f"{ANNA}:sentitems"}
    assert all(FolderCursor.loads(v).complete for v in cursors.values())


def test_read_first_lines_reads_closers_from_the_preview_with_mail_read_only(
    tmp_path: Path, caplog
) -> None:
    thanks = mail("c1", "ceo@acme.test", ANNA, 2, irt="m1", subject="Re: Question",
                  body="Thanks, got it!")  # fmt: skip
    verdicts = {}
    for permission in ("Mail.ReadBasic.All", READ):
        folder = tmp_path / permission
        folder.mkdir()
        with graph_tenant({ANNA: [*inbox(2), thanks]}, permissions=(permission,)) as t:
            config = graph_config(folder, [ANNA], read_first_lines=True)
            with caplog.at_level(logging.WARNING):
                ingest_mailboxes(config, "run", graph_credentials=t.credentials)
        (verdicts[permission],) = query(
            config, "SELECT closing_verdict, closing_rule FROM raw.email_messages "
                    "WHERE message_key = 'c1@mail.test'"
        )  # fmt: skip
    assert verdicts["Mail.ReadBasic.All"] == ("unknown", "body_not_read")
    assert verdicts[READ][0] == "closer"
    assert "grant Mail.Read" in caplog.text and caplog.text.count("no bodyPreview") == 1


def test_received_mail_is_read_from_the_header_block_it_came_with(tmp_path: Path) -> None:
    """A message sent without a Message-ID is keyed as an mbox keys it, not by the id
    Exchange stamped on it (so its copy in another mailbox or source stays one row); a
    Date nobody can read takes receivedDateTime."""
    from connectors.mailboxes.mbox import iter_mbox
    from sandbox.mbox_writer import write_mbox

    no_id = b"\r\n".join(
        line
        for line in mail("x", "ceo@acme.test", ANNA, 3).split(b"\r\n")
        if not line.startswith(b"Message-ID")
    )
    garbled = mail("g", "ceo@acme.test", ANNA, 2).replace(b"\r\nDate: ", b"\r\nDate: soon, ")
    write_mbox([no_id], tmp_path / "copy.mbox")
    (takeout,) = iter_mbox(tmp_path / "copy.mbox", mailbox=ANNA, workers=1)
    with graph_tenant({ANNA: [no_id, garbled]}) as t:
        stamped = {i.resource["internetMessageId"] for i in t.tenant.mailboxes[ANNA].items.values()}
        config = graph_config(tmp_path, [ANNA])
        ingest_mailboxes(config, "run", graph_credentials=t.credentials)
    rows = query(config, "SELECT message_key, message_id, sent_at IS NOT NULL, problems "
                         "FROM raw.email_messages ORDER BY 2 NULLS FIRST")  # fmt: skip
    assert any("@FAKE.PROD" in i for i in stamped)
    assert rows[0][:3] == (takeout.message_key, None, True)
    assert takeout.message_key.startswith("sha1:")
    assert rows[1][:3] == ("g@mail.test", "g@mail.test", True)
    assert "sent_at_from_received_date_time" in rows[1][3]


def test_a_sent_copy_without_headers_keeps_what_another_mailboxs_copy_told(
    tmp_path: Path,
) -> None:
    """The shared inbox's Sent Items copy (Graph: no transport headers) of a reply a
    manager's Gmail mailbox also holds: in whichever order the two are read, the row
    keeps the reply's In-Reply-To, References, thread and the verdict read as a reply."""
    from sandbox.gmail_serving import served_gmail

    question = mail("q", "ceo@acme.test", TEAM, 5)
    thanks = mail("t", TEAM, "ceo@acme.test", 2, irt="q", subject="Re: Question",
                  body="Thanks, got it!", extra=f"Cc: {ANNA}")  # fmt: skip
    sections = {
        "graph": {"graph": [{"mailboxes": [TEAM], "read_first_lines": True}]},
        "gmail": {"gmail": [{"mailboxes": [ANNA], "read_first_lines": True}]},
    }
    sql = (
        'SELECT in_reply_to, "references", gmail_thread_id, closing_verdict, '
        "(SELECT count(*) FROM raw.email_sightings) FROM raw.email_messages "
        "WHERE message_key = 't@mail.test'"
    )
    found = {}
    for order in (("gmail", "graph"), ("graph", "gmail")):
        folder = tmp_path / "-".join(order)
        folder.mkdir()
        tenant = graph_tenant({TEAM: [question, thanks]}, permissions=(READ,))
        with served_gmail() as served, tenant as t:
            served.state.mailbox(ANNA).add(thanks)
            for source in order:
                config = mailbox_config(folder, sections[source])
                connection = served.connection
                ingest_mailboxes(config, source, None, t.credentials, lambda _, c=connection: c)
        found[order] = query(config, sql)
    assert found[("gmail", "graph")] == found[("graph", "gmail")]
    ((in_reply_to, references, thread, verdict, sightings),) = found[("gmail", "graph")]
    assert (in_reply_to, references, verdict, sightings) == (
        "q@mail.test",
        ["q@mail.test"],
        "closer",
        3,
    )
    assert thread is not None and not thread.startswith("AAQk")  # Gmail's, not Graph's


def test_an_expired_token_mid_sync_is_renewed_once_and_nothing_is_lost(tmp_path: Path) -> None:
    with graph_tenant({ANNA: inbox(10)}) as t:
        t.faults.on_page = lambda n: t.tenant.expire_tokens() if n == 2 else None
        config = graph_config(tmp_path, [ANNA])
        stats = ingest_mailboxes(config, "run", graph_credentials=t.credentials)
        assert t.app.state.request_counts["token"] == 2
    assert stats["messages"] == 10 and len(keys(config)) == 10


@pytest.mark.parametrize(
    ("refusal", "says"),
    [
        ("consent_revoked", "grant admin consent for Mail.ReadBasic.All"),
        ("policy_excluded", "application access policy leaves it out"),
        ("missing", "no such mailbox"),
    ],
)
def test_a_refused_mailbox_is_named_with_the_admins_action_and_the_others_load(
    tmp_path: Path, refusal: str, says: str
) -> None:
    boxes = {ANNA: inbox(4, ANNA, "a"), BOB: inbox(4, BOB, "b"), TEAM: inbox(4, TEAM, "t")}
    with graph_tenant(boxes) as t:
        if refusal == "missing":
            del t.tenant.mailboxes[BOB]
        else:
            getattr(t.tenant, refusal).add(BOB)
        config = graph_config(tmp_path, [ANNA, BOB, TEAM])
        with pytest.raises(ConnectorError) as raised:
            ingest_mailboxes(config, "run", graph_credentials=t.credentials)
    assert f"mailbox {BOB}" in str(raised.value) and says in str(raised.value)
    assert ANNA not in str(raised.value) and TEAM not in str(raised.value)
    loaded = query(
        config, "SELECT mailbox, count(*) FROM raw.email_sightings GROUP BY 1 ORDER BY 1"
    )
    assert loaded == [(ANNA, 4), (TEAM, 4)]


def test_an_expired_delta_link_resyncs_the_folder_once_without_duplicates(tmp_path: Path) -> None:
    with graph_tenant({ANNA: inbox(6)}) as t:
        config = graph_config(tmp_path, [ANNA])
        ingest_mailboxes(config, "run-1", graph_credentials=t.credentials)
        box = t.tenant.mailboxes[ANNA]
        gone = next(
            i for i in box.items.values() if i.resource["internetMessageId"] == "<m2@mail.test>"
        )
        t.tenant.delete(ANNA, gone.id)
        t.tenant.add(ANNA, mail("m9", "ceo@acme.test", ANNA, 1))
        t.tenant.expire_sync_state(ANNA)
        stats = ingest_mailboxes(config, "run-2", graph_credentials=t.credentials)
    assert stats["graph_resynced_folders"] == 2  # inbox and sent items, once each
    assert len(keys(config)) == 7 and "m9@mail.test" in keys(config)
    # The deleted message is archived in the ledger, its row kept.
    archived = query(config, "SELECT message_key, removed_reason FROM raw.email_graph_items "
                             "WHERE removed_at IS NOT NULL")  # fmt: skip
    assert archived == [("m2@mail.test", "gone_at_resync")]
    assert "m2@mail.test" in keys(config)


def test_a_429_storm_waits_exactly_retry_after_and_loads_everything(
    tmp_path: Path, waits: list[float]
) -> None:
    with graph_tenant({ANNA: inbox(5)}) as t:
        t.faults.script = [(429, 7), (429, 7), (429, 11), (503, 5)]
        config = graph_config(tmp_path, [ANNA])
        stats = ingest_mailboxes(config, "run", graph_credentials=t.credentials)
    assert sorted(waits) == [5, 7, 7, 11]  # folders are read side by side
    assert stats["messages"] == 5 and len(keys(config)) == 5


def test_server_errors_are_retried_with_backoff_and_nothing_is_lost(
    tmp_path: Path, waits: list[float]
) -> None:
    with graph_tenant({ANNA: inbox(5)}) as t:
        t.faults.script = [(500, None), (502, None), (504, None)]
        config = graph_config(tmp_path, [ANNA])
        ingest_mailboxes(config, "run", graph_credentials=t.credentials)
    assert len(waits) == 3 and set(waits) <= {0.5, 1.0, 2.0}  # exponential backoff
    assert len(keys(config)) == 5


def test_a_message_moved_between_folders_mid_sync_is_one_row_with_two_sightings(
    tmp_path: Path,
) -> None:
    with graph_tenant({ANNA: inbox(6)}, extra_folders=("Clients",)) as t:
        box = t.tenant.mailboxes[ANNA]
        first = next(
            i.id for i in box.items.values() if i.resource["internetMessageId"] == "<m0@mail.test>"
        )
        moved = []
        t.faults.on_page = lambda n: (
            moved.append(t.tenant.move(ANNA, first, "Clients")) if n == 4 else None
        )
        # Four pages (inbox 2, sent items 1, Clients 1): before the fourth, inbox page 1
        # (holding m0) has been read, whatever order the folders go in.
        config = graph_config(tmp_path, [ANNA], folders=["Clients"])
        ingest_mailboxes(config, "run-1", graph_credentials=t.credentials)
        ingest_mailboxes(config, "run-2", graph_credentials=t.credentials)
    assert len(keys(config)) == 6
    items = query(config, "SELECT folder, item_id, removed_reason FROM raw.email_graph_items "
                          "WHERE message_key = 'm0@mail.test' ORDER BY folder")  # fmt: skip
    assert items == [("Clients", moved[0], None), ("inbox", first, "deleted")]
    (ref,) = query(
        config, "SELECT source_ref FROM raw.email_sightings WHERE message_key = 'm0@mail.test'"
    )
    assert ref == (f"Clients/{moved[0]}",)


def _run_until_killed(config_path: str, base_url: str) -> None:
    from clientpulse.config import load_config
    from tests.graph_world import Tenant

    tenant = Tenant(None, None, None, base_url)  # only its credentials are used
    ingest_mailboxes(load_config(config_path), "killed", graph_credentials=tenant.credentials)


def test_a_run_killed_mid_page_resumes_from_its_last_committed_page(tmp_path: Path) -> None:
    with graph_tenant({ANNA: inbox(12)}) as t:
        config = graph_config(tmp_path, [ANNA])
        t.faults.hold_after_pages = 2
        child = multiprocessing.get_context("fork").Process(
            target=_run_until_killed, args=(str(tmp_path / "agency.yaml"), t.base_url)
        )
        child.start()
        deadline = time.monotonic() + 60
        while t.app.state.delta_pages < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        # pages 1 and 2 are committed; the third is being waited for (4 s: a second was
        # too short for the child's commit on a loaded 2-core machine)
        time.sleep(4.0)
        child.kill()
        child.join()
        committed = query(config, "SELECT value FROM ops.cursors WHERE source = 'graph'")
        (before,) = query(config, "SELECT count(*) FROM raw.email_messages")[0]
        t.faults.hold_after_pages = None
        rerun = ingest_mailboxes(config, "rerun", graph_credentials=t.credentials)
    assert False in [FolderCursor.loads(v).complete for (v,) in committed]  # inbox mid-round
    assert 0 < before < 12
    assert rerun["messages"] == 12 - before  # resumed at the next link: no page read twice
    counts = query(config, "SELECT count(*), count(DISTINCT message_key) FROM raw.email_sightings")
    assert counts == [(12, 12)] and len(keys(config)) == 12


def test_no_secret_or_token_reaches_the_logs_even_at_debug(
    tmp_path: Path, caplog, waits, monkeypatch
) -> None:
    # Every logger reaches caplog at DEBUG, whatever logging state earlier tests (an Airflow
    # import's dictConfig, a logging.disable) left in this process.
    monkeypatch.setattr(logging.root.manager, "disable", logging.NOTSET)
    for name in ("urllib3", "urllib3.connectionpool", "requests", "connectors", "clientpulse"):
        monkeypatch.setattr(logging.getLogger(name), "disabled", False)
        monkeypatch.setattr(logging.getLogger(name), "propagate", True)
    with graph_tenant({ANNA: inbox(5)}) as t:
        t.faults.script = [(429, 1)]
        t.faults.on_page = lambda n: t.tenant.expire_tokens() if n == 2 else None
        config = graph_config(tmp_path, [ANNA])
        for name in ("", "urllib3", "requests", "connectors", "clientpulse"):
            caplog.set_level(logging.DEBUG, logger=name)
        ingest_mailboxes(config, "run", graph_credentials=t.credentials)
        tokens = list(t.tenant.tokens)
        credentials = repr(t.credentials())
    # One token, or two when the expiry lands before the folders' last request (they are read
    # side by side, so which request comes second depends on timing; the renewal itself is
    # test_an_expired_token_mid_sync_is_renewed_once_and_nothing_is_lost's). Each must stay out.
    assert tokens and "HTTP 429" in caplog.text and "GET /v1.0/users" in caplog.text
    for secret in (SECRET, *tokens, *(token.split(".")[1] for token in tokens)):
        assert secret not in caplog.text
    assert SECRET not in credentials
