"""The analysts' read-only snapshot of the warehouse.

Analysts must never block the pipeline (DuckDB lets one process write a file) and
never be blocked by it, so after each build the writer's file is checkpointed and
copied, and the copy atomically replaces the previous snapshot. A reader that has
the old snapshot open keeps reading it; the next `duckdb.connect(..., read_only=True)`
sees the new one.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import duckdb


def publish_snapshot(con: duckdb.DuckDBPyConnection, warehouse: Path, snapshot: Path) -> Path:
    """Checkpoint the writer's connection and publish a consistent copy at `snapshot`."""
    con.execute("CHECKPOINT")
    snapshot.parent.mkdir(parents=True, exist_ok=True)
    tmp = snapshot.with_name(f".{snapshot.name}.tmp")
    shutil.copyfile(warehouse, tmp)
    # Prove the copy opens before it replaces the snapshot analysts use.
    duckdb.connect(str(tmp), read_only=True).close()
    os.replace(tmp, snapshot)
    return snapshot
