"""HubSpot's cursors in `ops.cursors`, typed: per object type, the last-modified mark the
search resumes from, and the progress of a first full listing that has not finished.

Each is set in the transaction that commits the page it covers (warehouse/cursors.py).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from datetime import datetime

import duckdb

from warehouse.cursors import delete_cursor, get_cursor, set_cursor

SOURCE = "hubspot"


@dataclass
class ListingProgress:
    """Where a first listing stands: the page token to resume from, and when it began
    (changes made meanwhile are searched for from then)."""

    after: str | None
    started_at: str


class HubspotCursors:
    def __init__(self, con: duckdb.DuckDBPyConnection) -> None:
        self._con = con

    def modified_since(self, object_type: str) -> datetime | None:
        """The newest last-modified committed; None until a first listing finished."""
        value = get_cursor(self._con, SOURCE, object_type)
        return datetime.fromisoformat(value) if value else None

    def set_modified_since(self, object_type: str, mark: datetime | str) -> None:
        value = mark if isinstance(mark, str) else mark.isoformat()
        set_cursor(self._con, SOURCE, object_type, value)

    def listing(self, object_type: str) -> ListingProgress | None:
        saved = get_cursor(self._con, SOURCE, f"{object_type}:listing")
        return ListingProgress(**json.loads(saved)) if saved else None

    def save_listing(self, object_type: str, progress: ListingProgress) -> None:
        set_cursor(self._con, SOURCE, f"{object_type}:listing", json.dumps(asdict(progress)))

    def finish_listing(self, object_type: str, progress: ListingProgress) -> None:
        """The listing is complete: search from when it began, and forget its page token."""
        self.set_modified_since(object_type, progress.started_at)
        delete_cursor(self._con, SOURCE, f"{object_type}:listing")
