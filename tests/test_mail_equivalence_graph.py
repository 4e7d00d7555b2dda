"""One simulated mailbox, loaded through each mail source, gives the same figures.

The demo agency's shared inbox (two months of the simulator's mail) is loaded into a
fresh warehouse once as an mbox file (the reference) and once per other source; the
models are built as of the same instant and `staging.email_messages` and
`core.fct_email_sla` are compared row by row. A Graph permission is one more entry of
`SOURCES` (a function that loads the mailbox into a fresh warehouse). Its sibling,
tests/test_mail_equivalence.py, holds IMAP and the Gmail API to the same mbox.

Documented differences, asserted as such (not hidden):
- Graph: Exchange keeps no transport headers for the mailbox's own sent mail (Sent
  Items), so those rows have no In-Reply-To / References (and so are never `is_closing`);
  they still land in the right conversation through Graph's `conversationId`.
- Graph: the mailbox's own automatic replies are not in Sent Items (automated rows,
  which never end a wait, are missing).
- Graph: Exchange stamps an internetMessageId on a message that had no Message-ID, so
  such a message is keyed by that id instead of the mbox's content hash.
- Graph with Mail.ReadBasic.All (the default): no body, so a closing reply is known by
  its subject only; a "thanks" whose subject is not a closing one opens a wait the mbox
  source does not. `graph` reads the first lines (Mail.Read, `read_first_lines`) and
  gives the same SLA figures; `graph_basic` differs only in conversations holding such
  a body-only closer.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from clientpulse.config import DEMO_CONFIG, AgencyConfig, load_config
from clientpulse.pipeline.build_signals import build_models
from clientpulse.pipeline.ingest import ingest_mailboxes
from sandbox.mbox_writer import write_mbox
from sandbox.simulator import DEMO_AS_OF, simulate
from tests.graph_world import READ, READ_BASIC, graph_tenant
from warehouse.db import open_writer

MAILBOX = "team@northwind.test"
MONTHS = 2
STAGING_COLUMNS = (
    "message_key, message_id, sent_at, subject, from_addr, to_addrs, cc_addrs, in_reply_to, "
    '"references", is_bounce, conversation_id, is_forward, is_automated, sender_party, '
    "sender_client_id, recipient_client_ids, reaches_internal, is_closing, direction, client_id"
)
SLA_COLUMNS = (
    "client_id, conversation_id, metric, inbound_message_id, reply_message_id, responder, "
    "business_minutes, calendar_minutes, target_minutes, status"
)


def _config(folder: Path, mailboxes: dict) -> AgencyConfig:
    raw = yaml.safe_load(DEMO_CONFIG.read_text(encoding="utf-8"))
    raw["warehouse"] = {"path": "wh/cp.duckdb", "snapshot_path": "wh/cp_snapshot.duckdb"}
    raw["sources"]["asana"]["enabled"] = False
    del raw["sources"]["crm"]
    raw["sources"]["mailboxes"] = {"mbox": [], **mailboxes}
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "agency.yaml").write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    return load_config(folder / "agency.yaml")


def load_mbox(messages: list[bytes], folder: Path) -> AgencyConfig:
    write_mbox(messages, folder / "inbox.mbox")
    config = _config(folder, {"mbox": [{"path": "inbox.mbox", "mailbox": MAILBOX}]})
    ingest_mailboxes(config, "equivalence")
    return config


def _load_graph(messages: list[bytes], folder: Path, first_lines: bool) -> AgencyConfig:
    permissions = (READ,) if first_lines else (READ_BASIC,)
    with graph_tenant({MAILBOX: messages}, permissions=permissions) as tenant:
        account = {"mailboxes": [MAILBOX], "page_size": 500, "read_first_lines": first_lines}
        config = _config(folder, {"graph": [account]})
        ingest_mailboxes(config, "equivalence", graph_credentials=tenant.credentials)
    return config


def load_graph(messages: list[bytes], folder: Path) -> AgencyConfig:
    return _load_graph(messages, folder, first_lines=True)


def load_graph_basic(messages: list[bytes], folder: Path) -> AgencyConfig:
    return _load_graph(messages, folder, first_lines=False)


SOURCES: dict[str, Callable[[list[bytes], Path], AgencyConfig]] = {
    "graph": load_graph,
    "graph_basic": load_graph_basic,
}
# What each source cannot give (see the module docstring).
NO_SENT_REFERENCES = {"graph", "graph_basic"}
NO_OWN_AUTO_REPLIES = {"graph", "graph_basic"}
NO_BODY = {"graph_basic"}


def _figures(config: AgencyConfig) -> dict[str, list[tuple]]:
    with open_writer(config.warehouse.path) as con:
        build_models(con, config, DEMO_AS_OF)
        return {
            "staging": con.execute(
                f"SELECT {STAGING_COLUMNS} FROM staging.email_messages ORDER BY message_key"
            ).fetchall(),
            "sla": con.execute(
                f"SELECT {SLA_COLUMNS} FROM core.fct_email_sla ORDER BY ALL"
            ).fetchall(),
            "sent": [
                key
                for (key,) in con.execute(
                    "SELECT message_key FROM raw.email_messages WHERE from_addr = ?", [MAILBOX]
                ).fetchall()
            ],
            "own_auto": [
                key
                for (key,) in con.execute(
                    "SELECT message_key FROM raw.email_messages WHERE from_addr = ? "
                    "AND coalesce(lower(auto_submitted), 'no') <> 'no'",
                    [MAILBOX],
                ).fetchall()
            ],
            "body_closers": [
                key
                for (key,) in con.execute(
                    "SELECT message_key FROM raw.email_messages WHERE closing_verdict = 'closer'"
                ).fetchall()
            ],
            "no_id": [
                key
                for (key,) in con.execute(
                    "SELECT message_key FROM raw.email_messages WHERE message_id IS NULL"
                ).fetchall()
            ],
        }


@pytest.fixture(scope="module")
def world(tmp_path_factory) -> tuple[list[bytes], dict[str, list[tuple]]]:
    folder = tmp_path_factory.mktemp("mbox")
    config = _config(folder, {})
    messages = simulate(config, months=MONTHS).messages
    return messages, _figures(load_mbox(messages, folder))


@pytest.mark.parametrize("source", sorted(SOURCES))
def test_a_source_gives_the_mbox_rows_and_sla_figures(source, world, tmp_path) -> None:
    messages, reference = world
    got = _figures(SOURCES[source](messages, tmp_path))
    assert len(reference["staging"]) > 500 and len(reference["sla"]) > 100
    # the documented differences are exercised
    assert reference["sent"] and reference["no_id"] and reference["own_auto"]
    assert reference["body_closers"]
    expected = [_documented(row, reference, source) for row in reference["staging"]]
    expected = [row for row in expected if row is not None]
    open_keys = set(reference["body_closers"]) if source in NO_BODY else set()
    assert _keyed_alike(got["staging"], open_keys) == _keyed_alike(expected, open_keys)
    assert len(got["staging"]) == len(expected)
    got_sla, reference_sla = _sla_alike(got["sla"]), _sla_alike(reference["sla"])
    if source not in NO_BODY:
        assert got_sla == reference_sla
        return
    # Without bodies: the SLA rows that differ are those of conversations that hold a
    # closer only its body showed, and there are such rows.
    closer_threads = {
        row[10] for row in reference["staging"] if row[0] in reference["body_closers"]
    }
    changed = set(got_sla) ^ set(reference_sla)
    assert changed and {row[1] for row in changed} <= closer_threads


def _documented(row: tuple, reference: dict, source: str) -> tuple | None:
    """The mbox row as `source` documents it (None: the source does not have it)."""
    key = row[0]
    if source in NO_OWN_AUTO_REPLIES and key in reference["own_auto"]:
        return None
    values = list(row)
    if source in NO_SENT_REFERENCES and key in reference["sent"]:
        values[7], values[8], values[17] = None, [], False  # in_reply_to, references, is_closing
    return tuple(values)


def _no_id(key: str | None) -> bool:
    return key is not None and (key.strip("<").startswith("sha1:") or "@FAKE.PROD" in key)


def _sla_alike(rows: list[tuple]) -> list[tuple]:
    """SLA rows with the keys of messages that had no Message-ID made alike."""
    alike = (
        tuple("<no Message-ID>" if i in (1, 3, 4) and _no_id(v) else v for i, v in enumerate(row))
        for row in rows
    )
    return sorted(alike, key=repr)


def _keyed_alike(rows: list[tuple], open_keys: set[str]) -> list[tuple]:
    """Rows of messages that had a Message-ID (the others are keyed differently), with
    is_closing left out for `open_keys`."""
    return [
        (*row[:17], None, *row[18:]) if row[0] in open_keys else row
        for row in rows
        if not _no_id(row[0])
    ]
