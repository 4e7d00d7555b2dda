"""Upserts into warehouse tables by natural key."""

from __future__ import annotations

from collections.abc import Sequence

import duckdb
import pandas as pd


def upsert(
    con: duckdb.DuckDBPyConnection,
    table: str,
    rows: Sequence[dict] | pd.DataFrame,
    key: Sequence[str],
) -> int:
    """Insert rows, replacing any with the same key; return the number of rows written.

    Later rows win over earlier rows with the same key within one call, so a page
    that repeats a record (overlapping cursors, restarted pagination) is harmless.
    Columns are matched by name; the table's primary key must equal `key`.
    """
    frame = rows if isinstance(rows, pd.DataFrame) else pd.DataFrame(list(rows))
    if frame.empty:
        return 0
    frame = frame.drop_duplicates(subset=list(key), keep="last")
    con.register("_upsert_batch", frame)
    try:
        con.execute(f"INSERT OR REPLACE INTO {table} BY NAME SELECT * FROM _upsert_batch")
    finally:
        con.unregister("_upsert_batch")
    return len(frame)


def replace_all(con: duckdb.DuckDBPyConnection, table: str, rows: Sequence[dict]) -> int:
    """Replace a small reference table's whole contents (call inside a transaction)."""
    con.execute(f"DELETE FROM {table}")
    if not rows:
        return 0
    frame = pd.DataFrame(list(rows))
    con.register("_replace_batch", frame)
    try:
        con.execute(f"INSERT INTO {table} BY NAME SELECT * FROM _replace_batch")
    finally:
        con.unregister("_replace_batch")
    return len(frame)
