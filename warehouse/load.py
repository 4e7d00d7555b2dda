"""Upserts into warehouse tables by natural key."""

from __future__ import annotations

import weakref
from collections.abc import Sequence
from dataclasses import dataclass, field

import duckdb
import pandas as pd


@dataclass
class _Known:
    """What one connection has been told or asked already: each table's column types
    (tables here are made by migrations, on open), and the sample size it analyzes."""

    types: dict[str, dict[str, str]] = field(default_factory=dict)
    sample: int = 0


# Two statements fewer a write: they cost a mail page's writer ~5 ms each.
_KNOWN: weakref.WeakKeyDictionary[duckdb.DuckDBPyConnection, _Known] = weakref.WeakKeyDictionary()


def _typed_select(con: duckdb.DuckDBPyConnection, table: str, columns: Sequence[str]) -> str:
    """SELECT list casting each batch column to the table's type: the table, not
    pandas' inference from the batch, decides the types."""
    known = _KNOWN.setdefault(con, _Known())
    if table not in known.types:
        schema, name = table.split(".")
        known.types[table] = dict(
            con.execute(
                "SELECT column_name, data_type FROM duckdb_columns() "
                "WHERE schema_name = ? AND table_name = ?",
                [schema, name],
            ).fetchall()
        )
    types = known.types[table]
    unknown = [c for c in columns if c not in types]
    if unknown:
        raise ValueError(f"{table} has no column(s) {unknown}")
    return ", ".join(f'CAST("{c}" AS {types[c]}) AS "{c}"' for c in columns)


def _frame(con: duckdb.DuckDBPyConnection, rows: Sequence[dict] | pd.DataFrame) -> pd.DataFrame:
    frame = rows if isinstance(rows, pd.DataFrame) else pd.DataFrame(list(rows))
    # DuckDB infers an object column's type from a sample of rows; a column that is
    # None in every sampled row would become NULL-typed. Let it look at every row.
    known = _KNOWN.setdefault(con, _Known())
    if len(frame) > known.sample:
        known.sample = max(len(frame), 1)
        con.execute(f"SET pandas_analyze_sample = {known.sample}")
    return frame


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
    batch = _frame(con, rows)
    if batch.empty:
        return 0
    batch = batch.drop_duplicates(subset=list(key), keep="last")
    select = _typed_select(con, table, list(batch.columns))
    con.execute(f"INSERT OR REPLACE INTO {table} BY NAME SELECT {select} FROM batch")
    return len(batch)


def replace_all(con: duckdb.DuckDBPyConnection, table: str, rows: Sequence[dict]) -> int:
    """Replace a small reference table's whole contents (call inside a transaction)."""
    con.execute(f"DELETE FROM {table}")
    batch = _frame(con, rows)
    if batch.empty:
        return 0
    select = _typed_select(con, table, list(batch.columns))
    con.execute(f"INSERT INTO {table} BY NAME SELECT {select} FROM batch")
    return len(batch)
