"""Time helpers for the simulator: API timestamp format, business calendars, random draws."""

from __future__ import annotations

import math
import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from clientpulse.config import WEEKDAYS, Agency, AgencyConfig, Client

MINUTE = timedelta(minutes=1)
DAY = timedelta(days=1)
WEEK = timedelta(days=7)


def iso_z(moment: datetime) -> str:
    """Asana / HubSpot timestamp: UTC, milliseconds, `Z` (`2026-03-01T10:15:00.000Z`)."""
    utc = moment.astimezone(UTC)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"


def weeks(start: datetime, end: datetime) -> Iterator[datetime]:
    """Week-long steps from `start` until `end` (the last step may run past `end`)."""
    moment = start
    while moment < end:
        yield moment
        moment += WEEK


def poisson(rng: random.Random, mean: float) -> int:
    """A Poisson draw (Knuth); the means used here are small."""
    if mean <= 0:
        return 0
    limit, count, product = math.exp(-mean), 0, rng.random()
    while product > limit:
        count += 1
        product *= rng.random()
    return count


def lognormal_minutes(rng: random.Random, median: float, sigma: float) -> float:
    return median * math.exp(rng.gauss(0.0, sigma))


@dataclass(frozen=True)
class BusinessCalendar:
    """Working hours in one time zone; `add_business_minutes` counts only open time."""

    tz: ZoneInfo
    weekdays: frozenset[int]
    opens: time
    closes: time
    days_off: frozenset[date]

    @classmethod
    def for_agency(cls, agency: Agency) -> BusinessCalendar:
        hours = agency.business_hours
        return cls(
            tz=ZoneInfo(agency.timezone),
            weekdays=frozenset(WEEKDAYS.index(day) for day in hours.days),
            opens=hours.start,
            closes=hours.end,
            days_off=frozenset(agency.days_off),
        )

    @classmethod
    def for_client(cls, config: AgencyConfig, client: Client) -> BusinessCalendar:
        """The client's own time zone when it has one (same hours), else the agency's."""
        agency = cls.for_agency(config.agency)
        if client.timezone is None:
            return agency
        return cls(
            ZoneInfo(client.timezone), agency.weekdays, agency.opens, agency.closes, frozenset()
        )

    def is_business_day(self, day: date) -> bool:
        return day.weekday() in self.weekdays and day not in self.days_off

    def is_open(self, moment: datetime) -> bool:
        local = moment.astimezone(self.tz)
        return self.is_business_day(local.date()) and self.opens <= local.time() < self.closes

    def _window(self, day: date) -> tuple[datetime, datetime]:
        return (
            datetime.combine(day, self.opens, self.tz).astimezone(UTC),
            datetime.combine(day, self.closes, self.tz).astimezone(UTC),
        )

    def add_business_minutes(self, moment: datetime, minutes: float) -> datetime:
        remaining = timedelta(minutes=minutes)
        day = moment.astimezone(self.tz).date()
        while True:
            if self.is_business_day(day):
                opens, closes = self._window(day)
                start = max(moment, opens)
                if start < closes:
                    if start + remaining <= closes:
                        return start + remaining
                    remaining -= closes - start
            day += DAY

    def working_moment(
        self, rng: random.Random, day: date, evening_chance: float = 0.0
    ) -> datetime:
        """A random moment on `day` within working hours, sometimes in the evening."""
        opens, closes = self._window(day)
        if rng.random() < evening_chance:
            opens, closes = closes, closes + timedelta(hours=4)
        span = (closes - opens).total_seconds()
        return opens + timedelta(seconds=int(rng.random() * span))

    def business_days(self, start: datetime, end: datetime) -> list[date]:
        first = start.astimezone(self.tz).date()
        last = end.astimezone(self.tz).date()
        days = (first + DAY * i for i in range((last - first).days + 1))
        return [day for day in days if self.is_business_day(day)]
