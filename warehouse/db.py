"""Opening the warehouse: one writer at a time, migrations applied on open."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb

from warehouse.migrate import migrate


@contextmanager
def open_writer(path: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    """A read-write connection with the schema up to date.

    DuckDB allows one read-write process per file; Airflow's `duckdb_writer` pool
    (one slot) keeps writer tasks from contending for it.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        con = duckdb.connect(str(path))
    except duckdb.IOException as exc:
        if "lock" not in str(exc).lower():
            raise
        raise WarehouseLocked(
            f"{path} is held open by another process ({_holder(str(exc))}), and DuckDB lets "
            "only one process use a file that is being written. Close that process and "
            "rerun. Analysts query the snapshot (warehouse.snapshot_path in the config), "
            "never this file."
        ) from None
    try:
        con.execute("SET TimeZone = 'UTC'")
        migrate(con)
        yield con
    finally:
        con.close()


class WarehouseLocked(RuntimeError):
    """Another process holds the warehouse file (often an analyst's session)."""


def _holder(duckdb_message: str) -> str:
    """DuckDB names the holder as 'held in <program> (PID n)'. Its command line is left
    out: it may carry a password."""
    match = re.search(r"held in (.+?) \(PID (\d+)\)", duckdb_message)
    if match is None:
        return "DuckDB does not say which"
    program, pid = match.groups()
    return f"PID {pid}, {program}"


def set_limits(con: duckdb.DuckDBPyConnection, memory_limit: str, threads: int | None) -> None:
    """Bound DuckDB's memory (it spills past the limit) and, when given, its threads."""
    con.execute(f"SET memory_limit = '{memory_limit}'")  # validated by the config
    if threads is not None:
        con.execute(f"SET threads = {int(threads)}")


@contextmanager
def transaction(con: duckdb.DuckDBPyConnection) -> Iterator[duckdb.DuckDBPyConnection]:
    """Commit on success, roll back on any error."""
    con.execute("BEGIN TRANSACTION")
    try:
        yield con
    except BaseException:
        con.execute("ROLLBACK")
        raise
    con.execute("COMMIT")
