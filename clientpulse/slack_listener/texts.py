"""Every text the Slack actions show — approval and alert DMs, buttons, modals,
confirmations — in the manager's language (en/uk/ru); dates and times through Babel.

Its words are the catalog's `slack_` keys in clientpulse/reports/i18n.py, and so is the
locale each language is written in, as for every other text.
"""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from babel.dates import format_date, format_datetime

from clientpulse.reports.i18n import STRINGS, locale


def text(language: str, key: str, **values: object) -> str:
    """The `key` text in `language` (English when the language is not supported)."""
    catalog = STRINGS.get(language, STRINGS["en"])
    return catalog[f"slack_{key}"].format(**values)


def when(language: str, instant: datetime, timezone: str) -> str:
    """A decision's date and time, in the agency's time zone, as the language writes it."""
    local = instant.astimezone(ZoneInfo(timezone))
    return format_datetime(local, "medium", locale=locale(language))


def day(language: str, value: date) -> str:
    """A date (a snooze's end) as the language writes it."""
    return format_date(value, "long", locale=locale(language))
