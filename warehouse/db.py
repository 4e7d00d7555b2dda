"""Opening the warehouse: one writer at a time, migrations applied on open."""

from __future__ import annotations

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
    con = duckdb.connect(str(path))
    try:
        con.execute("SET TimeZone = 'UTC'")
        migrate(con)
        yield con
    finally:
        con.close()


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
