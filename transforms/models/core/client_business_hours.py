"""core.client_business_hours: each client's open business hours as UTC intervals.

One row per local business day of the client's SLA calendar (staging.cfg_client_calendars:
time zone, weekly hours, holiday country; staging.cfg_days_off), from the day before the
oldest message to 31 days after `as_of` (the days ahead place early-warning and breach
instants of waits still open). Public holidays come from the `holidays`
library, which is why this model is Python.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import duckdb

from transforms.business_calendar import Calendar

HORIZON_DAYS = 31  # ahead of as_of: when a wait open now will breach
DEPENDS_ON = ("staging.cfg_client_calendars", "staging.cfg_days_off", "raw.email_messages")


def compute(con: duckdb.DuckDBPyConnection, as_of: datetime) -> list[dict]:
    earliest = con.execute("SELECT min(sent_at) FROM raw.email_messages").fetchone()[0]
    first = (min(earliest, as_of) if earliest else as_of).date() - timedelta(days=1)
    last = as_of.date() + timedelta(days=HORIZON_DAYS)
    days_off = frozenset(
        r[0] for r in con.execute("SELECT day FROM staging.cfg_days_off").fetchall()
    )
    calendars = con.execute(
        """SELECT client_id, timezone, weekdays, opens, closes, holiday_country
           FROM staging.cfg_client_calendars ORDER BY client_id"""
    ).fetchall()
    return [
        {"client_id": client_id, "local_day": day, "opens_at": opens_at, "closes_at": closes_at}
        for client_id, timezone, weekdays, opens, closes, country in calendars
        for day, opens_at, closes_at in Calendar(
            timezone, frozenset(weekdays), opens, closes, country, days_off
        ).open_intervals(first, last)
    ]
