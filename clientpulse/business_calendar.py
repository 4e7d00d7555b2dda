"""SLA calendars as UTC open intervals, one per local business day.

A client's calendar is its own time zone, weekly hours and holiday country where the
config gives them, else the agency's; the agency's days off close every calendar. Local
opening times are turned into UTC per day, so daylight-saving changes fall where they
really do. SQL then counts business minutes as overlaps with these intervals.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import holidays

from clientpulse.config import WEEKDAYS, AgencyConfig, BusinessHours, Client


@dataclass(frozen=True)
class Calendar:
    timezone: str
    hours: BusinessHours
    holiday_country: str
    days_off: frozenset[date]

    @classmethod
    def for_client(cls, config: AgencyConfig, client: Client) -> Calendar:
        agency = config.agency
        return cls(
            timezone=client.timezone or agency.timezone,
            hours=client.business_hours or agency.business_hours,
            holiday_country=client.holiday_country or agency.holiday_country,
            days_off=frozenset(agency.days_off),
        )

    def open_intervals(self, first: date, last: date) -> list[tuple[date, datetime, datetime]]:
        """(local day, opens, closes) in UTC for each business day from `first` to `last`."""
        tz = ZoneInfo(self.timezone)
        public = holidays.country_holidays(
            self.holiday_country, years=range(first.year, last.year + 1)
        )
        weekdays = {WEEKDAYS.index(day) for day in self.hours.days}
        out = []
        day = first
        while day <= last:
            if day.weekday() in weekdays and day not in public and day not in self.days_off:
                opens = datetime.combine(day, self.hours.start, tz).astimezone(UTC)
                closes = datetime.combine(day, self.hours.end, tz).astimezone(UTC)
                out.append((day, opens, closes))
            day += timedelta(days=1)
        return out
