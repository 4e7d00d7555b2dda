"""The analysts' read-only snapshot of the warehouse.

Analysts must never block the pipeline (DuckDB lets one process write a file) and
never be blocked by it, so after each build the writer's file is checkpointed and
copied, and the copy atomically replaces the previous snapshot. A reader that has
the old snapshot open keeps reading it; the next `open_snapshot` sees the new one.

Not so a second `duckdb.connect(snapshot, read_only=True)` in a process that still has
a connection to it open: DuckDB's instance cache hands back the database instance that
has the replaced file open, so it reads the old build. `open_snapshot` attaches the
file to a new in-memory instance instead, which opens the file as it is now.
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


def open_snapshot(snapshot: Path | str) -> duckdb.DuckDBPyConnection:
    """A read-only connection to the snapshot's current build, whatever connections to
    it this process already holds; its schemas (marts, core, …) are queried as in the
    file itself, and the catalog is named like the file (as `duckdb.connect` names it)."""
    path = Path(snapshot)
    if not path.is_file():
        raise FileNotFoundError(f"no snapshot at {path}: has a build passed its gate yet?")
    con = duckdb.connect(":memory:")
    literal = str(path).replace("'", "''")
    catalog = '"' + path.stem.replace('"', '""') + '"'
    con.execute(f"ATTACH '{literal}' AS {catalog} (READ_ONLY)")
    con.execute(f"USE {catalog}")
    return con
