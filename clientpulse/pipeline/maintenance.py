"""Warehouse upkeep: retention for the operational tables, a checkpoint, and a report of
the file's size and its growth since the last upkeep.

Retention never removes what keeps the pipeline idempotent: an outbox row's key is what
stops a rerun from sending a digest twice, so outbox rows stay; a delivered row only
loses its rendered payload. The latest successful build's run row (its input
fingerprint lets an unchanged hour skip the build), the latest upkeep's (the size the
next report compares with) and the latest gate's results (the delivery steps read them)
are kept whatever their age.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb

from clientpulse.config import AgencyConfig
from clientpulse.pipeline.build_inputs import BUILD_STEP
from warehouse.db import open_writer, transaction
from warehouse.runlog import last_success_stat, run_step

MAINTENANCE_STEP = "warehouse_maintenance"


def apply_retention(
    con: duckdb.DuckDBPyConnection, config: AgencyConfig, as_of: datetime
) -> dict[str, int]:
    """Delete (or, for delivered outbox rows, empty) rows past their age; rows affected."""
    keep = config.warehouse.retention

    def before(days: int) -> datetime:
        return as_of - timedelta(days=days)

    statements = {
        "runs": (
            "DELETE FROM ops.runs AS r WHERE coalesce(finished_at, started_at) < ? "
            "AND status <> 'running' AND NOT EXISTS (SELECT 1 FROM ("
            "  SELECT step, arg_max(run_id, finished_at) AS run_id FROM ops.runs"
            "  WHERE status = 'success' AND step IN (?, ?) GROUP BY step) AS latest"
            " WHERE latest.step = r.step AND latest.run_id = r.run_id)",
            [before(keep.runs_days), BUILD_STEP, MAINTENANCE_STEP],
        ),
        "quality_checks": (
            "DELETE FROM ops.quality_checks WHERE checked_at < ? AND run_id <> coalesce("
            "(SELECT run_id FROM ops.quality_checks ORDER BY checked_at DESC LIMIT 1), '')",
            [before(keep.runs_days)],
        ),
        "outbox_payloads": (
            "UPDATE ops.outbox SET payload = '{}' "
            "WHERE status = 'sent' AND updated_at < ? AND payload <> '{}'",
            [before(keep.outbox_payload_days)],
        ),
        "sent_log": (
            "DELETE FROM ops.sent_log WHERE sent_at < ?",
            [before(keep.sent_log_days)],
        ),
        "quarantine": (
            "DELETE FROM ops.quarantine WHERE last_seen_at < ?",
            [before(keep.quarantine_days)],
        ),
        "resend_log": (
            "DELETE FROM ops.resend_log WHERE requested_at < ?",
            [before(keep.resend_log_days)],
        ),
    }
    affected = {}
    with transaction(con):
        for name, (sql, params) in statements.items():
            affected[name] = con.execute(sql, params).fetchone()[0]
    return affected


def maintain(config: AgencyConfig, as_of: datetime, run_id: str) -> dict[str, Any]:
    """Retention, then CHECKPOINT (which also returns freed blocks), then the size report."""
    path: Path = config.warehouse.path
    with open_writer(path) as con:
        previous = last_success_stat(con, MAINTENANCE_STEP, "size_bytes")
        with run_step(con, run_id, MAINTENANCE_STEP) as stats:
            stats["removed"] = apply_retention(con, config, as_of)
            con.execute("CHECKPOINT")
            size = path.stat().st_size
            stats["size_bytes"] = size
            stats["growth_bytes"] = None if previous is None else size - int(previous)
            stats["largest_tables"] = [
                {"table": f"{schema}.{table}", "rows": rows}
                for schema, table, rows in con.execute(
                    "SELECT schema_name, table_name, estimated_size FROM duckdb_tables() "
                    "WHERE database_name = current_database() "
                    "ORDER BY estimated_size DESC LIMIT 5"
                ).fetchall()
            ]
        return dict(stats)
