"""When someone gets round to something: moments in working hours on their calendar."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import numpy as np

from .seasons import Calendar

DAY_START, DAY_END = 9, 18


def work_moment(day: date, tz: str, rng: np.random.Generator) -> datetime:
    """A moment in the working day `day` in `tz` (a little before and after too)."""
    start = datetime.combine(day, time(DAY_START), ZoneInfo(tz)) - timedelta(minutes=30)
    return start + timedelta(minutes=float(rng.uniform(0, (DAY_END - DAY_START + 1) * 60)))


def delay_hours(rng: np.random.Generator, median: float, spread: float = 0.9) -> float:
    """A log-normal wait: most near `median`, some much longer."""
    return float(median * np.exp(rng.normal(0.0, spread)))


def after(
    moment: datetime, hours: float, calendar: Calendar, tz: str, rng: np.random.Generator
) -> datetime:
    """`hours` after `moment`, moved to the next working morning when that falls outside
    working hours or on a day off."""
    then = (moment + timedelta(hours=hours)).astimezone(ZoneInfo(tz))
    day = then.date()
    if calendar.is_workday(day) and DAY_START - 1 <= then.hour < DAY_END + 1:
        return then
    if then.hour >= DAY_START - 1 or not calendar.is_workday(day):
        day += timedelta(days=1)
    while not calendar.is_workday(day):
        day += timedelta(days=1)
    start = datetime.combine(day, time(DAY_START), ZoneInfo(tz))
    return start + timedelta(minutes=float(rng.uniform(0, 120)))


def morning(day: date, tz: str, rng: np.random.Generator) -> datetime:
    """Early in the working day `day`."""
    start = datetime.combine(day, time(DAY_START), ZoneInfo(tz))
    return start + timedelta(minutes=float(rng.uniform(0, 120)))
