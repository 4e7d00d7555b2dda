"""core.client_public_holidays: the public holidays of each client's country ahead of as_of.

A holiday that matters to the client is a date worth a greeting (docs/domain.md §4). Names
come from the `holidays` library in English, Ukrainian and Russian where it has them (else
in the country's own language), so a reminder can name the holiday in the manager's
language; which is why this model is Python.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import duckdb
import holidays

HORIZON_DAYS = 60  # the greeting horizon (signals.relationship) is kept below this
LANGUAGES = {"name_en": "en_US", "name_uk": "uk", "name_ru": "ru"}
DEPENDS_ON = ("staging.cfg_client_calendars",)


def _holidays(country: str, first: date, last: date) -> dict[date, dict[str, str]]:
    """{day: {column: name}} of `country`'s public holidays from `first` to `last`: each name
    in its language where the library has it, else in English, else in the country's own."""
    years = range(first.year, last.year + 1)
    own = holidays.country_holidays(country, years=years)
    named = {
        column: holidays.country_holidays(country, years=years, language=code)
        if code in own.supported_languages
        else {}
        for column, code in LANGUAGES.items()
    }
    return {
        day: {
            column: named[column].get(day) or named["name_en"].get(day) or name
            for column in LANGUAGES
        }
        for day, name in own.items()
        if first <= day <= last
    }


def compute(con: duckdb.DuckDBPyConnection, as_of: datetime) -> list[dict]:
    calendars = con.execute(
        """SELECT client_id, timezone, holiday_country FROM staging.cfg_client_calendars
           WHERE holiday_country IS NOT NULL ORDER BY client_id"""
    ).fetchall()
    rows = []
    for client_id, timezone, country in calendars:
        today = as_of.astimezone(ZoneInfo(timezone)).date()
        ahead = _holidays(country, today, today + timedelta(days=HORIZON_DAYS))
        for day, names in sorted(ahead.items()):
            rows.append({"client_id": client_id, "country": country, "holiday_on": day, **names})
    return rows
