"""Reporting periods: which week a report is for, on the agency's calendar."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo


def _label(day: date) -> str:
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


def iso_week(as_of: datetime, timezone: str) -> str:
    """The ISO week (`2026-W47`) that `as_of` falls in, on the agency's calendar."""
    return _label(as_of.astimezone(ZoneInfo(timezone)).date())


@dataclass(frozen=True)
class ReportWeek:
    """The full agency-local week a report looks back on: its Monday (the `week_start`
    key of the weekly marts) and its ISO label."""

    start: date
    label: str


def report_week(as_of: datetime, timezone: str) -> ReportWeek:
    """The full agency-local week before the one `as_of` is in."""
    local = as_of.astimezone(ZoneInfo(timezone)).date()
    start = local - timedelta(days=local.weekday() + 7)
    return ReportWeek(start, _label(start))
