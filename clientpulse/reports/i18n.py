"""The one home of per-language words and formats: the client status email's strings,
and, through Babel, how each language writes counts, decimals, percentages, money, dates
and plural forms (uk and ru have three: 1 клієнт, 2 клієнти, 5 клієнтів). Other
catalogs (clientpulse/reports/evidence.py, monthly_i18n.py, the playbook's labels, the
Slack listener's texts) hold their words and format through these functions."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, timedelta
from decimal import Decimal

from babel import Locale
from babel.dates import format_date, format_interval
from babel.numbers import (
    format_currency,
    format_decimal,
    format_percent,
    get_currency_symbol,
)

LANGUAGES = ("en", "uk", "ru")
LOCALES = {"en": "en_GB", "uk": "uk_UA", "ru": "ru_RU"}


def locale(language: str) -> str:
    """The Babel locale a language is written in (English for an unknown one)."""
    return LOCALES.get(language, LOCALES["en"])


def plural(language: str, forms: Mapping[str, str], number: float | Decimal) -> str:
    """The form for `number` by its CLDR plural category (one, few, many, other)."""
    category = Locale.parse(locale(language)).plural_form(abs(number))
    return forms.get(category, forms["other"])


def decimal(value: float, language: str, digits: int = 1) -> str:
    """A figure with at most `digits` decimals, as the language writes it; a whole
    number without any (`24`, never `24.0`)."""
    return format_decimal(round(value, digits), locale=locale(language))


def percent(value: float, language: str) -> str:
    return format_percent(value, locale=locale(language))


def money(amount: float, currency: str, language: str) -> str:
    """An amount in `currency` (ISO 4217): with its symbol, or its name where the
    language has no symbol of its own for it (uk writes `3 500,00 євро`, not `EUR`)."""
    where = locale(language)
    symbol = get_currency_symbol(currency, where)
    kind = "name" if symbol.isascii() and symbol.isalpha() and language != "en" else "standard"
    return format_currency(amount, currency, locale=where, format_type=kind)


def week(iso_week: str, language: str) -> str:
    """An ISO week label (`2026-W47`) as the language writes it: English keeps the label,
    uk and ru name its days (`16–22 лист. 2026 р.`), which reads in any grammatical case."""
    if language == "en":
        return iso_week
    monday = date.fromisocalendar(int(iso_week[:4]), int(iso_week[6:]), 1)
    return format_interval(monday, monday + timedelta(days=6), "yMMMd", locale=locale(language))


def month(value: date, language: str) -> str:
    """The month of `value` as named on its own (`October 2026`, `жовтень 2026`)."""
    return format_date(value, "LLLL y", locale=locale(language))


def signed(value: float, language: str) -> str:
    """A change or a net score with its sign: `+4,5`, `−4,5`, `±0`."""
    if value == 0:
        return "±0"
    return ("+" if value > 0 else "−") + decimal(abs(value), language)


def day(value: date, language: str) -> str:
    """A date in the language's medium form (`5 Nov 2026`, `5 лист. 2026 р.`)."""
    return format_date(value, "medium", locale=locale(language))


STRINGS: dict[str, dict[str, str]] = {
    "en": {
        "subject": "{client}: weekly status, {period}",
        "greeting": "Hello,",
        "intro": "Here is where your work with {agency} stands this week.",
        "carry_over": "Carrying over into the coming week",
        "not_carried_over": "Not carrying over, and why",
        "not_started": "Not started yet, and why",
        "new": "New last week, and why they are needed",
        "days_late": "{days} days late",
        "due": "due {date}",
        "no_due": "no date set yet",
        "done_on": "done {date}",
        "cancelled": "cancelled",
        "cancelled_because": "cancelled: {reason}",
        "no_reason": "reason not recorded yet",
        "nothing": "Nothing here this week.",
        "sla_heading": (
            "Our replies to your emails in {week} (business hours; weeks run Monday to Sunday"
            " on your calendar, {timezone})"
        ),
        "first_reply": "First replies",
        "next_reply": "Follow-up replies",
        "sla_line": "{label}: {compliance}; {times}; {breached} late, {pending} awaiting a reply",
        "sla_compliance": "{compliance} on time ({achieved} of {decided})",
        "sla_none_decided": "none answered or overdue yet, so no on-time share",
        "sla_times": "median {median} h, P90 {p90} h",
        "sla_no_times": "no reply yet, so no reply time to show",
        "in_section": "in {section}",
        "task_in_project": "{task} [{project}]",
        "and_more": "… and {count} more",
        "section:backlog": "Backlog",
        "section:on hold": "On hold",
        "section:cancelled": "Cancelled",
        "sla_none": "{label}: nothing to answer",
        "signature": "Your account manager, {manager}",
    },
    "uk": {
        "subject": "{client}: статус за тиждень, {period}",
        "greeting": "Добрий день!",
        "intro": "Ось як просувається наша з вами робота в {agency} цього тижня.",
        "carry_over": "Переходить на наступний тиждень",
        "not_carried_over": "Не переходить, і чому",
        "not_started": "Ще не розпочато, і чому",
        "new": "Нове минулого тижня, і навіщо воно",
        "days_late": "запізнення {days} дн.",
        "due": "термін {date}",
        "no_due": "термін ще не визначено",
        "done_on": "зроблено {date}",
        "cancelled": "скасовано",
        "cancelled_because": "скасовано: {reason}",
        "no_reason": "причину ще не вказано",
        "nothing": "Цього тижня нічого.",
        "sla_heading": (
            "Наші відповіді на ваші листи за {week} (робочі години; тиждень триває з"
            " понеділка до неділі за вашим часом, {timezone})"
        ),
        "first_reply": "Перші відповіді",
        "next_reply": "Наступні відповіді",
        "sla_line": "{label}: {compliance}; {times}; із запізненням {breached}, "
        "чекають на відповідь {pending}",
        "sla_compliance": "вчасно {compliance} ({achieved} з {decided})",
        "sla_none_decided": "ще жодного листа не відповіли і не прострочили, частки вчасних немає",
        "sla_times": "медіана {median} год, 90-й процентиль {p90} год",
        "sla_no_times": "відповідей ще не було, тож часу відповіді немає",
        "in_section": "у розділі «{section}»",
        "task_in_project": "{task} [{project}]",
        "and_more": "… і ще {count}",
        "section:backlog": "Черга",
        "section:on hold": "Призупинено",
        "section:cancelled": "Скасовано",
        "sla_none": "{label}: листів, що потребують відповіді, не було",
        "signature": "Ваш акаунт-менеджер, {manager}",
    },
    "ru": {
        "subject": "{client}: статус за неделю, {period}",
        "greeting": "Добрый день!",
        "intro": "Вот как продвигается наша с вами работа в {agency} на этой неделе.",
        "carry_over": "Переходит на следующую неделю",
        "not_carried_over": "Не переходит, и почему",
        "not_started": "Ещё не начато, и почему",
        "new": "Новое на прошлой неделе, и зачем оно",
        "days_late": "опоздание {days} дн.",
        "due": "срок {date}",
        "no_due": "срок ещё не назначен",
        "done_on": "сделано {date}",
        "cancelled": "отменено",
        "cancelled_because": "отменено: {reason}",
        "no_reason": "причина ещё не указана",
        "nothing": "На этой неделе ничего.",
        "sla_heading": (
            "Наши ответы на ваши письма за {week} (рабочие часы; неделя длится с"
            " понедельника по воскресенье по вашему времени, {timezone})"
        ),
        "first_reply": "Первые ответы",
        "next_reply": "Последующие ответы",
        "sla_line": "{label}: {compliance}; {times}; с опозданием {breached}, "
        "ждут ответа {pending}",
        "sla_compliance": "вовремя {compliance} ({achieved} из {decided})",
        "sla_none_decided": "ни на одно письмо ещё не ответили и не просрочили, доли вовремя нет",
        "sla_times": "медиана {median} ч, 90-й процентиль {p90} ч",
        "sla_no_times": "ответов ещё не было, поэтому времени ответа нет",
        "in_section": "в разделе «{section}»",
        "task_in_project": "{task} [{project}]",
        "and_more": "… и ещё {count}",
        "section:backlog": "Очередь задач",
        "section:on hold": "Приостановлено",
        "section:cancelled": "Отменено",
        "sla_none": "{label}: писем, требующих ответа, не было",
        "signature": "Ваш аккаунт-менеджер, {manager}",
    },
}
