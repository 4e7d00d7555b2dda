"""What a build reads, as one fingerprint: an hour with nothing new skips the build.

A build's result depends on the raw tables' content, the config (model variables and
seeds), the models' code, and the day it reports on (time-based signals such as
overdue tasks move daily; build_signals also runs at 06:00 every day). When all of
those equal the last successful build's, rebuilding would reproduce the same marts, so
build_signals records the fingerprint with its run (ops.runs stats) and skips the next
build that finds the same one. The raw tables are fingerprinted by content (an
order-independent hash of every row, computed in DuckDB), so a re-fetch that changed
nothing does not count as new data, and a changed or deleted row always does. The same
fingerprint, per source, tells an ingest DAG whether the build has something new to read.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import duckdb

from transforms.catalog import MODELS_DIR
from warehouse.db import open_writer
from warehouse.runlog import last_success_stat

BUILD_STEP = "build_signals"
_CODE = MODELS_DIR.parent  # transforms/: the models and the Python they use


def raw_fingerprint(con: duckdb.DuckDBPyConnection) -> dict[str, str]:
    """Per raw table, its row count and an order-independent hash of its rows, leaving
    out when they were fetched (`extracted_at`: no model reads it, and a re-fetch of an
    unchanged record is nothing new)."""
    columns: dict[str, list[str]] = {}
    for table, column in con.execute(
        "SELECT table_name, column_name FROM duckdb_columns() "
        "WHERE database_name = current_database() AND schema_name = 'raw' "
        "AND column_name <> 'extracted_at' ORDER BY table_name, column_index"
    ).fetchall():
        columns.setdefault(table, []).append(f'"{column}"')
    out = {}
    for table, names in columns.items():
        count, digest = con.execute(
            f"SELECT count(*), coalesce(bit_xor(hash({', '.join(names)})), 0) FROM raw.{table}"
        ).fetchone()
        out[table] = f"{count}:{digest}"
    return out


def _code_digest() -> str:
    digest = hashlib.sha256()
    for path in sorted(_CODE.rglob("*")):
        if path.suffix in (".sql", ".py", ".yml"):
            digest.update(str(path.relative_to(_CODE)).encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()


def build_fingerprint(
    raw: Mapping[str, str],
    settings: Mapping[str, object],
    as_of: datetime,
    timezone: str,
) -> str:
    """One digest of everything a build reads: the `raw_fingerprint`, `settings` (the
    config it uses), the models' code and the day."""
    parts = {
        "raw": raw,
        "settings": settings,
        "code": _code_digest(),
        "day": as_of.astimezone(ZoneInfo(timezone)).date().isoformat(),
    }
    text = json.dumps(parts, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def ingest_changed(
    path: Path, source: str, ingest: Callable[[], dict[str, Any]]
) -> tuple[dict[str, Any], bool]:
    """Run `ingest` and tell whether the build has something new from it: this run
    changed the `raw.<source>_*` tables, or they hold what the last successful build
    did not read.

    An ingest DAG with nothing new skips its task, so its Asset gets no event (Airflow
    records one only when the task succeeds) and no build is triggered. Comparing with
    what the build read, not only with this try's start, keeps a retry whose killed try
    already wrote everything from being skipped with its change never announced.
    """

    def fingerprint(con: duckdb.DuckDBPyConnection) -> dict[str, str]:
        return {t: v for t, v in raw_fingerprint(con).items() if t.startswith(f"{source}_")}

    with open_writer(path) as con:
        before = fingerprint(con)
    result = ingest()
    with open_writer(path) as con:
        after = fingerprint(con)
        read = last_success_stat(con, BUILD_STEP, "raw")
    built = (
        {t: v for t, v in json.loads(read).items() if t.startswith(f"{source}_")} if read else None
    )
    return result, after != before or after != built
