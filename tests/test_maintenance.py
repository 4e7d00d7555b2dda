"""warehouse_maintenance: old operational rows go, idempotency keys and the rows later
runs read stay, and the size report compares with the previous upkeep."""

from __future__ import annotations

from datetime import timedelta

from clientpulse.pipeline.maintenance import maintain
from tests.factories import AS_OF, small_config
from warehouse.db import open_writer
from warehouse.outbox import Delivery, enqueue

OLD = AS_OF - timedelta(days=1000)
RECENT = AS_OF - timedelta(days=1)


def _fill(con) -> None:
    for run_id, step, at in (
        ("build-old", "build_signals", OLD - timedelta(days=1)),
        ("build-last-ok", "build_signals", OLD),  # the latest successful build
        ("ingest-old", "ingest_mailboxes", OLD),
        ("ingest-new", "ingest_mailboxes", RECENT),
    ):
        con.execute(
            "INSERT INTO ops.runs VALUES (?, ?, ?, ?, 'success', '{}')", [run_id, step, at, at]
        )
    for run_id, at in (("build-old", OLD - timedelta(days=1)), ("build-last-ok", OLD)):
        con.execute(
            "INSERT INTO ops.quality_checks VALUES (?, 'marts.t', 'e', 'c', true, 0, ?)",
            [run_id, at],
        )
    for key, at in (("old", OLD), ("new", RECENT)):
        con.execute(
            "INSERT INTO ops.sent_log VALUES (?, 'k', 'slack', 'r', 'p', ?, NULL, true)", [key, at]
        )
        con.execute(
            "INSERT INTO ops.quarantine VALUES ('mbox', ?, NULL, 'bad', NULL, ?, ?)", [key, at, at]
        )
        con.execute(
            "INSERT INTO ops.resend_log VALUES (?, ?, 'why', 'sent', NULL, NULL)", [key, at]
        )
    for recipient, at in (("old", OLD), ("new", RECENT)):
        enqueue(con, Delivery("leadership_digest", "slack", recipient, "2023-W01", {"text": "x"}))
        con.execute(
            "UPDATE ops.outbox SET status = 'sent', updated_at = ? WHERE recipient = ?",
            [at, recipient],
        )


def _keys(con, sql: str) -> set:
    return {row[0] for row in con.execute(sql).fetchall()}


def test_retention_keeps_keys_and_what_later_runs_read(tmp_path):
    config = small_config(tmp_path)
    with open_writer(config.warehouse.path) as con:
        _fill(con)
    first = maintain(config, AS_OF, "maintenance-1")
    with open_writer(config.warehouse.path) as con:
        runs = _keys(con, "SELECT run_id FROM ops.runs")
        assert runs == {"build-last-ok", "ingest-new", "maintenance-1"}
        assert _keys(con, "SELECT run_id FROM ops.quality_checks") == {"build-last-ok"}
        assert _keys(con, "SELECT delivery_key FROM ops.sent_log") == {"new"}
        assert _keys(con, "SELECT record_ref FROM ops.quarantine") == {"new"}
        assert _keys(con, "SELECT delivery_key FROM ops.resend_log") == {"new"}
        payloads = dict(con.execute("SELECT recipient, payload FROM ops.outbox").fetchall())
        assert payloads == {"old": "{}", "new": '{"text": "x"}'}
        # the old delivery's key still stops a rerun of its period from sending again
        again = Delivery("leadership_digest", "slack", "old", "2023-W01", {"text": "x"})
        assert enqueue(con, again) is False
    assert first["removed"]["runs"] == 2 and first["growth_bytes"] is None
    second = maintain(config, AS_OF + timedelta(days=1), "maintenance-2")
    assert second["growth_bytes"] == second["size_bytes"] - first["size_bytes"]
    assert all(v == 0 for k, v in second["removed"].items() if k != "runs")
