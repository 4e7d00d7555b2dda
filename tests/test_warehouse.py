"""Warehouse mechanics on a real DuckDB file: migrations, upserts, cursors, quarantine,
the outbox's at-most-once states, and the analyst snapshot."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb
import pytest

from warehouse.cursors import get_cursor, set_cursor
from warehouse.db import open_writer, transaction
from warehouse.load import upsert
from warehouse.migrate import MIGRATIONS_DIR, MigrationError, migrate
from warehouse.outbox import Delivery, claim_pending, enqueue, mark_failed, mark_sending, mark_sent
from warehouse.quarantine import QuarantinedRecord, quarantine
from warehouse.snapshot import publish_snapshot

NOW = datetime(2026, 11, 16, 7, 0, tzinfo=UTC)
DAY = timedelta(days=1)


@pytest.fixture
def db_path(tmp_path) -> Path:
    return tmp_path / "wh" / "clientpulse.duckdb"


def test_migrations_apply_once_and_create_the_four_schemas(db_path):
    with open_writer(db_path) as con:
        schemas = {r[0] for r in con.execute("SELECT schema_name FROM duckdb_schemas()").fetchall()}
        assert {"raw", "staging", "marts", "ops"} <= schemas
        applied = con.execute("SELECT count(*) FROM ops.schema_migrations").fetchone()[0]
        assert applied == len(list(MIGRATIONS_DIR.glob("*.sql")))
        assert migrate(con) == []  # idempotent


def test_an_edited_applied_migration_is_refused(tmp_path, db_path):
    migrations = tmp_path / "migrations"
    migrations.mkdir()
    (migrations / "0001_a.sql").write_text("CREATE SCHEMA IF NOT EXISTS raw;")
    db_path.parent.mkdir(parents=True)
    con = duckdb.connect(str(db_path))
    assert migrate(con, migrations) == [1]
    (migrations / "0001_a.sql").write_text("CREATE SCHEMA IF NOT EXISTS marts;")
    with pytest.raises(MigrationError, match="changed after it was applied"):
        migrate(con, migrations)


def test_a_failing_migration_leaves_nothing_half_done(tmp_path, db_path):
    migrations = tmp_path / "migrations"
    migrations.mkdir()
    (migrations / "0001_ok.sql").write_text("CREATE SCHEMA IF NOT EXISTS raw;")
    (migrations / "0002_bad.sql").write_text(
        "CREATE TABLE raw.t (a INTEGER); SELECT * FROM no_such_table;"
    )
    db_path.parent.mkdir(parents=True)
    con = duckdb.connect(str(db_path))
    with pytest.raises(MigrationError, match="0002_bad failed"):
        migrate(con, migrations)
    tables = con.execute(
        "SELECT table_name FROM duckdb_tables() WHERE schema_name='raw'"
    ).fetchall()
    assert tables == []
    assert con.execute("SELECT version FROM ops.schema_migrations").fetchall() == [(1,)]


def _project_row(gid: str, payload: str) -> dict:
    return {"gid": gid, "payload": payload, "extracted_at": NOW}


def test_upsert_replaces_by_key_and_dedups_within_a_batch(db_path):
    with open_writer(db_path) as con:
        upsert(con, "raw.asana_projects", [_project_row("1", '{"v": 1}')], ["gid"])
        written = upsert(
            con,
            "raw.asana_projects",
            [
                _project_row("1", '{"v": 2}'),
                _project_row("2", '{"v": 1}'),
                _project_row("1", '{"v": 3}'),
            ],
            ["gid"],
        )
        assert written == 2
        rows = con.execute(
            "SELECT gid, payload->>'v' FROM raw.asana_projects ORDER BY gid"
        ).fetchall()
        assert rows == [("1", "3"), ("2", "1")]


def test_cursor_rolls_back_with_the_data(db_path):
    with open_writer(db_path) as con:
        with pytest.raises(RuntimeError), transaction(con):
            upsert(con, "raw.asana_projects", [_project_row("9", "{}")], ["gid"])
            set_cursor(con, "asana", "project:9", "2026-11-01T00:00:00+00:00")
            raise RuntimeError("killed mid-load")
        assert get_cursor(con, "asana", "project:9") is None
        assert con.execute("SELECT count(*) FROM raw.asana_projects").fetchone()[0] == 0
        set_cursor(con, "asana", "project:9", "v1")
        set_cursor(con, "asana", "project:9", "v2")
        assert get_cursor(con, "asana", "project:9") == "v2"


def test_quarantine_keeps_one_row_per_bad_record_and_reason(db_path):
    bad = QuarantinedRecord("mbox", "file.mbox@120", "From", "no From address", {"line": 3})
    with open_writer(db_path) as con:
        quarantine(con, [bad])
        quarantine(con, [bad])
        rows = con.execute(
            "SELECT source, record_ref, field, reason FROM ops.quarantine"
        ).fetchall()
        assert rows == [("mbox", "file.mbox@120", "From", "no From address")]


def test_outbox_sends_each_delivery_at_most_once(db_path):
    digest = Delivery("leadership_digest", "slack", "#leadership", "2026-W47", {"text": "hi"})
    with open_writer(db_path) as con:
        assert enqueue(con, digest)
        assert not enqueue(con, digest)  # a rerun renders again but queues nothing
        [item] = claim_pending(con, DAY)
        mark_sending(con, item.key)
        mark_sent(con, item, "C1:1.0", dry_run=False)
        assert claim_pending(con, DAY) == []
        assert not enqueue(con, digest)
        assert con.execute("SELECT count(*) FROM ops.sent_log").fetchone()[0] == 1


def test_failed_sends_retry_but_interrupted_sends_are_not_repeated(db_path):
    failed = Delivery("client_weekly_status", "email", "a@x.test", "2026-W47", {"s": 1}, "a")
    interrupted = Delivery("client_weekly_status", "email", "b@y.test", "2026-W47", {"s": 2}, "b")
    with open_writer(db_path) as con:
        enqueue(con, failed)
        enqueue(con, interrupted)
        mark_sending(con, failed.key)
        mark_failed(con, failed.key, "SMTP 451 try later", unknown=False)
        mark_sending(con, interrupted.key)  # the process dies here
        pending = claim_pending(con, DAY)
        assert [i.key for i in pending] == [failed.key]
        status = con.execute(
            "SELECT status FROM ops.outbox WHERE delivery_key = ?", [interrupted.key]
        ).fetchone()[0]
        assert status == "unknown"


def test_snapshot_is_readable_by_another_process_while_the_writer_holds_the_file(db_path, tmp_path):
    snapshot = tmp_path / "snap" / "clientpulse_snapshot.duckdb"
    with open_writer(db_path) as con:
        upsert(con, "raw.asana_projects", [_project_row("1", "{}")], ["gid"])
        publish_snapshot(con, db_path, snapshot)
        upsert(con, "raw.asana_projects", [_project_row("2", "{}")], ["gid"])
        reader = (
            "import duckdb, sys; con = duckdb.connect(sys.argv[1], read_only=True); "
            "print(con.execute('SELECT count(*) FROM raw.asana_projects').fetchone()[0])"
        )
        out = subprocess.run(
            [sys.executable, "-c", reader, str(snapshot)],
            capture_output=True,
            text=True,
            check=True,
        )
        assert out.stdout.strip() == "1"  # the published state, while the writer is mid-work
        publish_snapshot(con, db_path, snapshot)
    out = subprocess.run(
        [sys.executable, "-c", reader, str(snapshot)], capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "2"


def test_a_column_that_is_null_in_most_rows_keeps_its_values(db_path):
    """pandas leaves such a column untyped; DuckDB must not guess NULL from a sample."""
    from tests.factories import message

    rows = [message(str(i), "a@x.test", ["b@y.test"], NOW) for i in range(5000)]
    rows[-1]["reply_to"] = "someone@x.test"
    with open_writer(db_path) as con:
        assert upsert(con, "raw.email_messages", [], ["message_key"]) == 0
        assert upsert(con, "raw.email_messages", rows, ["message_key"]) == 5000
        assert con.execute("SELECT count(reply_to) FROM raw.email_messages").fetchone()[0] == 1


def test_the_risk_history_keeps_its_weeks_when_the_old_rules_flag_is_renamed(db_path):
    # a history built before migration 0022: the rule's flag was called rule_at_risk
    db_path.parent.mkdir(parents=True)
    con = duckdb.connect(str(db_path))
    con.execute("CREATE SCHEMA intermediate")
    con.execute(
        "CREATE TABLE intermediate.client_risk_history AS "
        "SELECT 'acme' AS client_id, DATE '2026-11-09' AS week_start, true AS rule_at_risk"
    )
    migrate(con)
    assert con.execute(
        "SELECT client_id, threshold_rule_flagged FROM intermediate.client_risk_history"
    ).fetchall() == [("acme", True)]
