"""Record each step in `ops.runs` so operators can see what ran, when and with what figures."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import duckdb


@contextmanager
def run_step(con: duckdb.DuckDBPyConnection, run_id: str, step: str) -> Iterator[dict[str, Any]]:
    """Yield a dict the step fills with figures; stored with the outcome when it ends."""
    con.execute(
        "INSERT OR REPLACE INTO ops.runs (run_id, step, started_at, status) "
        "VALUES (?, ?, now(), 'running')",
        [run_id, step],
    )
    stats: dict[str, Any] = {}
    status = "failed"
    try:
        yield stats
        status = "success"
    finally:
        con.execute(
            "UPDATE ops.runs SET finished_at = now(), status = ?, stats = ? "
            "WHERE run_id = ? AND step = ?",
            [status, json.dumps(stats, default=str), run_id, step],
        )


def last_success_stat(con: duckdb.DuckDBPyConnection, step: str, key: str) -> str | None:
    """`key` of the stats the latest successful run of `step` recorded (None if none)."""
    row = con.execute(
        "SELECT json_extract_string(stats, '$.' || ?) FROM ops.runs "
        "WHERE step = ? AND status = 'success' ORDER BY finished_at DESC LIMIT 1",
        [key, step],
    ).fetchone()
    return row[0] if row else None
