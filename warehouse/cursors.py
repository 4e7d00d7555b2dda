"""Per-source high-water marks in `ops.cursors`.

Set a cursor inside the same transaction that commits the data it covers, so a
crash can only make the next run re-read (idempotent), never skip.
"""

from __future__ import annotations

import duckdb


def get_cursor(con: duckdb.DuckDBPyConnection, source: str, scope: str) -> str | None:
    row = con.execute(
        "SELECT value FROM ops.cursors WHERE source = ? AND scope = ?", [source, scope]
    ).fetchone()
    return row[0] if row else None


def set_cursor(con: duckdb.DuckDBPyConnection, source: str, scope: str, value: str) -> None:
    con.execute(
        "INSERT OR REPLACE INTO ops.cursors (source, scope, value, updated_at) "
        "VALUES (?, ?, ?, now())",
        [source, scope, value],
    )


def delete_cursor(con: duckdb.DuckDBPyConnection, source: str, scope: str) -> None:
    con.execute("DELETE FROM ops.cursors WHERE source = ? AND scope = ?", [source, scope])
