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


def set_cursors(con: duckdb.DuckDBPyConnection, source: str, values: dict[str, str]) -> None:
    """`set_cursor` for many scopes in one statement."""
    if values:
        con.execute(
            "INSERT OR REPLACE INTO ops.cursors (source, scope, value, updated_at) "
            "SELECT ?, unnest(?::VARCHAR[]), unnest(?::VARCHAR[]), now()",
            [source, list(values), list(values.values())],
        )


def delete_cursor(con: duckdb.DuckDBPyConnection, source: str, scope: str) -> None:
    con.execute("DELETE FROM ops.cursors WHERE source = ? AND scope = ?", [source, scope])
