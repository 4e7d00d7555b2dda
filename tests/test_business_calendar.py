"""SLA calendars: local hours to UTC per day, across DST, holidays and days off."""

from __future__ import annotations

from datetime import UTC, date, datetime, time

from transforms.business_calendar import Calendar

WORKWEEK = frozenset(range(5))


def utc(month: int, day: int, hour: int) -> datetime:
    return datetime(2026, month, day, hour, tzinfo=UTC)


def test_new_york_hours_follow_the_dst_change_and_skip_thanksgiving():
    calendar = Calendar(
        "America/New_York", WORKWEEK, time(9), time(18), "US", frozenset({date(2026, 11, 4)})
    )
    got = calendar.open_intervals(date(2026, 10, 30), date(2026, 11, 4))
    assert [(d.isoformat(), o, c) for d, o, c in got] == [
        # Fri 30 Oct, EDT (UTC-4): 09:00-18:00 local = 13:00-22:00 UTC
        ("2026-10-30", utc(10, 30, 13), utc(10, 30, 22)),
        # DST ended Sun 1 Nov; Mon 2 Nov, EST (UTC-5) = 14:00-23:00 UTC
        ("2026-11-02", utc(11, 2, 14), utc(11, 2, 23)),
        ("2026-11-03", utc(11, 3, 14), utc(11, 3, 23)),
        # Wed 4 Nov is an agency day off
    ]
    thanksgiving = Calendar("America/New_York", WORKWEEK, time(9), time(18), "US", frozenset())
    days = [d for d, _, _ in thanksgiving.open_intervals(date(2026, 11, 25), date(2026, 11, 27))]
    assert days == [date(2026, 11, 25), date(2026, 11, 27)]  # Thu 26 Nov is Thanksgiving


def test_weekly_hours_are_the_calendars_own():
    sunday_monday = frozenset({6, 0})
    calendar = Calendar("Asia/Dubai", sunday_monday, time(10), time(12, 30), "AE", frozenset())
    got = calendar.open_intervals(date(2026, 2, 1), date(2026, 2, 3))  # Sun, Mon, Tue
    assert [(d.isoformat(), o.hour, c.hour, c.minute) for d, o, c in got] == [
        ("2026-02-01", 6, 8, 30),  # UTC+4
        ("2026-02-02", 6, 8, 30),
    ]
