"""Reporting periods and the 'as of' instant of a run."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo


def iso_week(as_of: datetime, timezone: str) -> str:
    """The ISO week (`2026-W47`) that `as_of` falls in, on the agency's calendar."""
    year, week, _ = as_of.astimezone(ZoneInfo(timezone)).isocalendar()
    return f"{year}-W{week:02d}"


def previous_week_bounds(as_of: datetime, timezone: str) -> tuple[datetime, datetime]:
    """Start and end (UTC) of the full agency-local week before the one `as_of` is in."""
    local = as_of.astimezone(ZoneInfo(timezone))
    this_monday = (local - timedelta(days=local.weekday())).replace(
        hour=0, minute=0, second=0, microsecond=0
    )
    start = this_monday - timedelta(days=7)
    return start.astimezone(ZoneInfo("UTC")), this_monday.astimezone(ZoneInfo("UTC"))
