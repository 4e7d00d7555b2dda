"""Asana's cursors in `ops.cursors`, typed: per project, the high-water mark of
`modified_at`, the Events API sync token, and when it was last reconciled.

The writer sets them in the transaction that commits what they cover (warehouse/cursors.py).
"""

from __future__ import annotations

from datetime import datetime

import duckdb

from warehouse.cursors import get_cursor, set_cursor

SOURCE = "asana"


class AsanaCursors:
    def __init__(self, con: duckdb.DuckDBPyConnection) -> None:
        self._con = con

    def _instant(self, scope: str) -> datetime | None:
        value = get_cursor(self._con, SOURCE, scope)
        return datetime.fromisoformat(value) if value else None

    def modified_high_water(self, project_gid: str) -> datetime | None:
        """The newest `modified_at` committed for the project; None before its first sync."""
        return self._instant(f"project:{project_gid}")

    def advance_modified_high_water(self, project_gid: str, high_water: datetime) -> None:
        """Move the mark forward, never back."""
        old = self.modified_high_water(project_gid)
        if old is None or high_water > old:
            set_cursor(self._con, SOURCE, f"project:{project_gid}", high_water.isoformat())

    def sync_token(self, project_gid: str) -> str | None:
        return get_cursor(self._con, SOURCE, f"events:{project_gid}")

    def set_sync_token(self, project_gid: str, token: str) -> None:
        set_cursor(self._con, SOURCE, f"events:{project_gid}", token)

    def reconciled_at(self, project_gid: str) -> datetime | None:
        return self._instant(f"reconciled:{project_gid}")

    def set_reconciled_at(self, project_gid: str, at: datetime) -> None:
        set_cursor(self._con, SOURCE, f"reconciled:{project_gid}", at.isoformat())
