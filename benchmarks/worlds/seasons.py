"""When people work: the agency's and each client's calendar and the agency-wide seasons.

The whole agency (and its clients) goes quiet from Dec 24 to Jan 8 and in August; public
holidays of a country (the `holidays` library) and the agency's own days off are nearly
silent; weekends carry a trickle of mail.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import date

import holidays

WEEKEND = 0.06  # a weekend day's share of a weekday's activity
HOLIDAY = 0.08  # a public holiday's


@functools.cache
def public_holidays(country: str, years: tuple[int, ...]) -> frozenset[date]:
    return frozenset(holidays.country_holidays(country, years=list(years)))


def in_new_year_lull(day: date) -> bool:
    return (day.month == 12 and day.day >= 24) or (day.month == 1 and day.day <= 8)


@dataclass(frozen=True)
class Seasons:
    """The agency-wide lulls, as factors on activity (1 = an ordinary week)."""

    new_year: float  # Dec 24 – Jan 8
    august: float

    def factor(self, day: date) -> float:
        if in_new_year_lull(day):
            return self.new_year
        return self.august if day.month == 8 else 1.0


@dataclass(frozen=True)
class Calendar:
    """Someone's working days: their country's holidays and any extra days off."""

    country: str
    years: tuple[int, ...]
    days_off: frozenset[date] = frozenset()

    def day_factor(self, day: date) -> float:
        """How much of an ordinary weekday's activity falls on `day`."""
        if day in self.days_off or day in public_holidays(self.country, self.years):
            return HOLIDAY
        return WEEKEND if day.weekday() >= 5 else 1.0

    def is_workday(self, day: date) -> bool:
        return self.day_factor(day) == 1.0
