"""Which weeks the risk history may hold: those the ingested data reaches.

From the week of the oldest dated record to the newest week whose Monday build came
after the data was last fetched (and is not in the future). A row from a later week is
not history but a guess (every task "overdue", nobody in touch) that would become the
digest's and the alerts' "latest week"; `make backfill` refuses such weeks and every
build drops rows computed as of a moment still to come.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import duckdb

BUILD_HOUR = time(6, 0)  # build_signals' daily run, agency-local
_DATED = (  # per raw table: its oldest record's date, and when it was last fetched
    "SELECT min(sent_at), max(extracted_at) FROM raw.email_messages",
    "SELECT min(CAST(payload->>'created_at' AS TIMESTAMPTZ)), max(extracted_at) "
    "FROM raw.asana_tasks",
    "SELECT min(created_at), max(extracted_at) FROM raw.asana_stories",
    "SELECT min(updated_at), max(extracted_at) FROM raw.crm_objects",
)


def data_weeks(con: duckdb.DuckDBPyConnection, timezone: str) -> tuple[date, date] | None:
    """The Mondays of the first and last week the data reaches (None without data): the
    week of the oldest dated record, and the newest week whose build instant came after
    the last fetch (and is not in the future)."""
    oldest, fetched = [], []
    for query in _DATED:
        first, last = con.execute(query).fetchone()
        oldest += [first] if first is not None else []
        fetched += [last] if last is not None else []
    if not fetched:
        return None
    zone = ZoneInfo(timezone)
    known = min(max(fetched), datetime.now(UTC)).astimezone(zone)
    newest = known.date() - timedelta(days=known.weekday())
    if datetime.combine(newest, BUILD_HOUR, zone) > known:
        newest -= timedelta(days=7)
    start = min(oldest, default=known).astimezone(zone).date()
    return min(start - timedelta(days=start.weekday()), newest), newest


def drop_future_weeks(con: duckdb.DuckDBPyConnection, as_of: datetime) -> int:
    """Delete history rows computed as of a moment after both `as_of` and now (left by
    a backfill into the future before it was refused); return how many."""
    if not history_exists(con):
        return 0
    return con.execute(
        "DELETE FROM intermediate.client_risk_history "
        "WHERE as_of > greatest(?::TIMESTAMPTZ, now())",
        [as_of],
    ).fetchone()[0]


def history_exists(con: duckdb.DuckDBPyConnection) -> bool:
    return bool(
        con.execute(
            "SELECT count(*) FROM duckdb_tables() WHERE schema_name = 'intermediate' "
            "AND table_name = 'client_risk_history'"
        ).fetchone()[0]
    )
