"""SLA calendars as UTC open intervals, one per local business day.

A calendar is a time zone, weekly hours, a public-holiday country and the agency's days
off. Local opening times are turned into UTC per day, so daylight-saving changes fall
where they really do. SQL then counts business minutes as overlaps with these intervals.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import holidays


@dataclass(frozen=True)
class Calendar:
    timezone: str
    weekdays: frozenset[int]  # Monday = 0
    opens: time
    closes: time
    holiday_country: str
    days_off: frozenset[date]

    def open_intervals(self, first: date, last: date) -> list[tuple[date, datetime, datetime]]:
        """(local day, opens, closes) in UTC for each business day from `first` to `last`."""
        tz = ZoneInfo(self.timezone)
        public = holidays.country_holidays(
            self.holiday_country, years=range(first.year, last.year + 1)
        )
        out = []
        day = first
        while day <= last:
            if day.weekday() in self.weekdays and day not in public and day not in self.days_off:
                opens = datetime.combine(day, self.opens, tz).astimezone(UTC)
                closes = datetime.combine(day, self.closes, tz).astimezone(UTC)
                out.append((day, opens, closes))
            day += timedelta(days=1)
        return out
