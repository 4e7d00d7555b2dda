"""The mailbox ingest's mbox path: rows, sightings, quarantine and the file cursor."""

from __future__ import annotations

import gc
from pathlib import Path

import pytest
import yaml

from benchmarks.corpus import write_mbox
from clientpulse.config import load_config
from clientpulse.pipeline.ingest import ingest_mailboxes
from connectors.mailboxes import ingest
from connectors.mailboxes.headers import MessageRecord
from connectors.mailboxes.mbox import MboxRead, iter_mbox
from connectors.mailboxes.mbox_cursor import MboxCursor
from tests.factories import mail_rows, mailbox_config
from warehouse.db import open_writer

FIXTURE = Path(__file__).parent / "fixtures" / "small_agency.yaml"


def test_mbox_import_lands_every_message_once_and_skips_an_unchanged_file(
    tmp_path: Path,
) -> None:
    shared = write_mbox(tmp_path / "shared.mbox", 400, seed=5)
    document = yaml.safe_load(FIXTURE.read_text())
    document["sources"]["mailboxes"] = {
        "mbox": [
            {"path": str(shared), "mailbox": "team@agency.test"},
            {"path": str(shared), "mailbox": "anna@agency.test"},
        ]
    }
    (tmp_path / "agency.yaml").write_text(yaml.safe_dump(document))
    config = load_config(tmp_path / "agency.yaml")
    items = list(iter_mbox(shared, mailbox="m"))
    records = [item for item in items if isinstance(item, MessageRecord)]
    from_line_dated = [r for r in records if "sent_at_from_from_line" in r.problems]
    assert from_line_dated and len(records) < len(items)

    stats = ingest_mailboxes(config, "run-1")
    assert (stats["files"], stats["rejected"]) == (2, 2 * (len(items) - len(records)))
    with open_writer(config.warehouse.path) as con:
        keys = con.execute("SELECT count(*), count(DISTINCT message_key) FROM raw.email_messages")
        assert keys.fetchone() == (len({r.message_key for r in records}),) * 2
        sightings = con.execute(
            "SELECT mailbox, count(*) FROM raw.email_sightings GROUP BY 1 ORDER BY 1"
        ).fetchall()
        distinct = len({r.message_key for r in records})
        assert sightings == [("anna@agency.test", distinct), ("team@agency.test", distinct)]
        reasons = con.execute(
            "SELECT field, count(*) FROM ops.quarantine WHERE source = 'mbox' GROUP BY 1"
        ).fetchall()
        # Each bad record once (same file, same offsets); messages with an unusable Date
        # are dated by their From line and stay in the figures.
        assert "Date" not in dict(reasons)
        dated = con.execute(
            "SELECT count(*) FROM raw.email_messages "
            "WHERE list_contains(problems, 'sent_at_from_from_line') AND sent_at IS NOT NULL"
        ).fetchone()
        assert dated == (len({r.message_key for r in from_line_dated}),)

    again = ingest_mailboxes(config, "run-2")
    assert (again["files"], again["skipped_unchanged"], again["messages"]) == (0, 2, 0)


def mbox_config(tmp_path: Path, path: Path):
    return mailbox_config(tmp_path, {"mbox": [{"path": str(path), "mailbox": "team@agency.test"}]})


def message_rows(config) -> list[tuple]:
    columns = "m.message_key, m.to_addrs, s.source_ref, m.closing_verdict, m.closing_rule"
    return mail_rows(config, columns, "s.source_ref")


def test_a_file_cut_mid_message_then_completed_leaves_exactly_the_real_message(
    tmp_path: Path,
) -> None:
    path = write_mbox(tmp_path / "takeout.mbox", 30, seed=8)
    whole = path.read_bytes()
    config = mbox_config(tmp_path, path)
    last = whole.rindex(b"\nFrom ") + 1
    # The copy stops inside the last message's header block (`to: anna@agen`).
    cut = whole.index(b"\nTo: ", last) + len(b"\nTo: ") + 5
    path.write_bytes(whole[:cut])
    first = ingest_mailboxes(config, "run-1")
    partial = message_rows(config)
    assert all(int(ref.rpartition(":")[2]) < last for _, _, ref, _, _ in partial)
    assert first["messages"] == len(partial)

    path.write_bytes(whole)
    ingest_mailboxes(config, "run-2")
    config_full = mbox_config(tmp_path / "full", path)
    ingest_mailboxes(config_full, "run-full")
    assert message_rows(config) == message_rows(config_full)


def test_a_message_re_read_at_the_same_place_replaces_what_was_loaded_from_there(
    tmp_path: Path,
) -> None:
    """A copy cut after a header block that looked whole, without Message-ID yet."""
    real = b"From 1@xxx Mon Feb 05 07:00:00 +0000 2024\nFrom: ivan@client-one.ru\nTo: anna@agen\n\n"
    path = tmp_path / "growing.mbox"
    path.write_bytes(real)
    config = mbox_config(tmp_path, path)
    ingest_mailboxes(config, "run-1")
    (phantom,) = message_rows(config)
    assert phantom[1] == ["anna@agen"]
    path.write_bytes(
        real.replace(b"anna@agen\n", b"anna@agency.test\nMessage-ID: <real@x>\n") + b"Hi\n\n"
    )
    ingest_mailboxes(config, "run-2")
    assert [(key, to) for key, to, *_ in message_rows(config)] == [("real@x", ["anna@agency.test"])]


def test_an_appended_file_reads_only_the_new_bytes(tmp_path: Path) -> None:
    path = write_mbox(tmp_path / "takeout.mbox", 60, seed=9)
    whole = path.read_bytes()
    half = whole.index(b"\nFrom ", len(whole) // 2) + 1
    path.write_bytes(whole[:half])
    config = mbox_config(tmp_path, path)
    before = ingest_mailboxes(config, "run-1")
    with path.open("ab") as out:
        out.write(whole[half:])
    after = ingest_mailboxes(config, "run-2")
    expected_new = [i for i in MboxRead(path, mailbox="m", start=half)]
    assert after["messages"] + after["rejected"] == len(expected_new)
    assert before["messages"] + before["rejected"] + len(expected_new) == len(
        list(iter_mbox(path, mailbox="m"))
    )
    with open_writer(config.warehouse.path) as con:
        (value,) = con.execute("SELECT value FROM ops.cursors WHERE source = 'mbox'").fetchone()
    assert MboxCursor.loads(value).offset == len(whole)
    config_full = mbox_config(tmp_path / "full", path)
    ingest_mailboxes(config_full, "run-full")
    assert message_rows(config) == message_rows(config_full)


def test_a_file_rewritten_in_place_is_read_again_in_full(tmp_path: Path) -> None:
    path = write_mbox(tmp_path / "takeout.mbox", 40, seed=10)
    config = mbox_config(tmp_path, path)
    ingest_mailboxes(config, "run-1")
    other = write_mbox(tmp_path / "other.mbox", 50, seed=11).read_bytes()
    path.write_bytes(other)
    again = ingest_mailboxes(config, "run-2")
    assert again["messages"] + again["rejected"] == len(list(iter_mbox(path, mailbox="m")))


def test_a_file_that_grows_while_read_is_read_again_next_run(tmp_path: Path, monkeypatch) -> None:
    path = write_mbox(tmp_path / "takeout.mbox", 40, seed=12)
    config = mbox_config(tmp_path, path)
    grown = write_mbox(tmp_path / "more.mbox", 5, seed=13).read_bytes()

    class GrowingRead(MboxRead):
        def __iter__(self):
            with path.open("ab") as out:
                out.write(grown)
            yield from super().__iter__()

    monkeypatch.setattr(ingest, "MboxRead", GrowingRead)
    first = ingest_mailboxes(config, "run-1")
    assert (first["changed_while_read"], first["messages"]) == (1, 0)
    assert message_rows(config) == []
    monkeypatch.undo()
    second = ingest_mailboxes(config, "run-2")
    assert second["changed_while_read"] == 0
    assert second["messages"] + second["rejected"] == len(list(iter_mbox(path, mailbox="m")))


def test_api_pages_are_read_with_fewer_collections_and_the_threshold_comes_back() -> None:
    before = gc.get_threshold()
    with pytest.raises(RuntimeError), ingest._fewer_collections():
        assert gc.get_threshold()[0] >= ingest.GC_ALLOCATIONS
        assert gc.get_threshold()[1:] == before[1:]
        raise RuntimeError("a sync failing half-way")
    assert gc.get_threshold() == before
