"""Bad records go to `ops.quarantine` with the reason, never silently dropped."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import duckdb


@dataclass(frozen=True)
class QuarantinedRecord:
    source: str
    record_ref: str
    field: str | None
    reason: str
    payload: dict[str, Any] | None = None


def quarantine(con: duckdb.DuckDBPyConnection, records: list[QuarantinedRecord]) -> int:
    """Record bad input; seeing the same bad record again only updates `last_seen_at`."""
    for record in records:
        con.execute(
            """INSERT INTO ops.quarantine
                   (source, record_ref, field, reason, payload, first_seen_at, last_seen_at)
               VALUES (?, ?, ?, ?, ?, now(), now())
               ON CONFLICT (source, record_ref, reason) DO UPDATE SET last_seen_at = now()""",
            [
                record.source,
                record.record_ref,
                record.field,
                record.reason,
                json.dumps(record.payload) if record.payload is not None else None,
            ],
        )
    return len(records)
