"""The mailbox ingest's mbox path: rows, sightings, quarantine and the file cursor."""

from __future__ import annotations

from pathlib import Path

import yaml

from benchmarks.corpus import write_mbox
from clientpulse.config import load_config
from clientpulse.pipeline.ingest_mailboxes import ingest_mailboxes
from connectors.mail_headers import MessageRecord
from connectors.mbox import iter_mbox
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
    undated = [r for r in records if r.sent_at is None]
    assert undated and len(records) < len(items)

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
        # Each bad record once (same file, same offsets); undated ones are kept and flagged.
        assert dict(reasons)["Date"] == len({r.source_ref for r in undated})

    again = ingest_mailboxes(config, "run-2")
    assert (again["files"], again["skipped_unchanged"], again["messages"]) == (0, 2, 0)
