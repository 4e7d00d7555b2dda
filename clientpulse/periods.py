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
    """The full week before the one `as_of` is in, on the calendar of `timezone`."""
    local = as_of.astimezone(ZoneInfo(timezone)).date()
    start = local - timedelta(days=local.weekday() + 7)
    return ReportWeek(start, _label(start))


def month_label(as_of: datetime, timezone: str) -> str:
    """The month (`2026-11`) that `as_of` falls in, on the agency's calendar."""
    return f"{as_of.astimezone(ZoneInfo(timezone)).date():%Y-%m}"


def is_first_week_of_month(as_of: datetime, timezone: str) -> bool:
    """Whether `as_of`'s agency-local day is one of the month's first seven: the first run
    in the month of a report sent once a week."""
    return as_of.astimezone(ZoneInfo(timezone)).day <= 7


def is_first_working_day(
    as_of: datetime, timezone: str, holiday_country: str, days_off: list[date]
) -> bool:
    """Whether `as_of`'s agency-local day is the month's first working day: no weekend,
    public holiday (the `holidays` library) or agency day off before it in the month."""
    import holidays

    local = as_of.astimezone(ZoneInfo(timezone)).date()
    public = holidays.country_holidays(holiday_country, years=local.year)

    def working(day: date) -> bool:
        return day.weekday() < 5 and day not in public and day not in days_off

    first = local.replace(day=1)
    while not working(first):
        first += timedelta(days=1)
    return local == first
