"""Every text the Slack actions show — approval and alert DMs, buttons, modals,
confirmations — in the manager's language (en/uk/ru); dates and times through Babel.

Its words are its own; the locale each language is written in is
clientpulse/reports/i18n.py's, as for every other text.
"""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from babel.dates import format_date, format_datetime

from clientpulse.reports.i18n import locale

TEXTS: dict[str, dict[str, str]] = {
    "en": {
        "approvals_header": "Client emails waiting for your approval ({count})",
        "approvals_intro": "Approve or reject each one here; the Airflow page stays the fallback.",
        "draft_line": "*{client}* · {subject} · {email_language}",
        "see_email": "See the whole email",
        "approve": "Approve",
        "reject": "Reject",
        "approved_by": "✅ Approved by {who} at {when}",
        "rejected_by": "❌ Rejected by {who} at {when}: {reason}",
        "reject_title": "Reject the email",
        "reject_label": "Why? (kept with the decision)",
        "reject_submit": "Reject",
        "cancel": "Cancel",
        "alert_snooze_week": "Snooze 1 week",
        "alert_snooze_until": "Snooze until…",
        "alert_not_a_risk": "Not a risk",
        "alert_called": "I called them",
        "snoozed_by": "💤 Snoozed until {until} by {who} at {when}",
        "not_a_risk_by": "👌 Marked not a risk by {who} at {when}: {reason}",
        "called_by": "📞 Called by {who} at {when}",
        "not_a_risk_title": "Not a risk",
        "not_a_risk_label": "Why is this client not at risk?",
        "not_a_risk_submit": "Save",
        "not_yours": "This is not yours: only {manager} (or an admin) can answer it.",
        "already_decided": "Already decided by {who} at {when}; nothing changed.",
        "not_recorded": "Not recorded: Airflow did not answer. Please try again in a minute.",
        "not_ready": "This request is not open in Airflow yet (or any more); nothing changed.",
        "refused": "Airflow refused this action for you; nothing changed.",
        "reason_required": "Please give a reason.",
        "language:en": "English",
        "language:uk": "Ukrainian",
        "language:ru": "Russian",
    },
    "uk": {
        "approvals_header": "Листи клієнтам чекають на ваше схвалення ({count})",
        "approvals_intro": "Схваліть або відхиліть кожен тут; сторінка Airflow — запасний шлях.",
        "draft_line": "*{client}* · {subject} · {email_language}",
        "see_email": "Переглянути весь лист",
        "approve": "Схвалити",
        "reject": "Відхилити",
        "approved_by": "✅ Схвалено: {who}, {when}",
        "rejected_by": "❌ Відхилено: {who}, {when}: {reason}",
        "reject_title": "Відхилити лист",
        "reject_label": "Чому? (збережеться з рішенням)",
        "reject_submit": "Відхилити",
        "cancel": "Скасувати",
        "alert_snooze_week": "Відкласти на тиждень",
        "alert_snooze_until": "Відкласти до…",
        "alert_not_a_risk": "Не ризик",
        "alert_called": "Я їм подзвонив(ла)",
        "snoozed_by": "💤 Відкладено до {until}: {who}, {when}",
        "not_a_risk_by": "👌 Позначено «не ризик»: {who}, {when}: {reason}",
        "called_by": "📞 Дзвінок: {who}, {when}",
        "not_a_risk_title": "Не ризик",
        "not_a_risk_label": "Чому цей клієнт не під ризиком?",
        "not_a_risk_submit": "Зберегти",
        "not_yours": "Це не ваше: відповісти може лише {manager} (або адміністратор).",
        "already_decided": "Уже вирішено: {who}, {when}; нічого не змінено.",
        "not_recorded": "Не збережено: Airflow не відповів. Спробуйте ще раз за хвилину.",
        "not_ready": "Цей запит ще не відкритий в Airflow (або вже закритий); нічого не змінено.",
        "refused": "Airflow не дозволив вам цю дію; нічого не змінено.",
        "reason_required": "Вкажіть, будь ласка, причину.",
        "language:en": "англійська",
        "language:uk": "українська",
        "language:ru": "російська",
    },
    "ru": {
        "approvals_header": "Письма клиентам ждут вашего одобрения ({count})",
        "approvals_intro": "Одобрите или отклоните каждое здесь; страница Airflow — запасной путь.",
        "draft_line": "*{client}* · {subject} · {email_language}",
        "see_email": "Посмотреть письмо целиком",
        "approve": "Одобрить",
        "reject": "Отклонить",
        "approved_by": "✅ Одобрено: {who}, {when}",
        "rejected_by": "❌ Отклонено: {who}, {when}: {reason}",
        "reject_title": "Отклонить письмо",
        "reject_label": "Почему? (сохранится с решением)",
        "reject_submit": "Отклонить",
        "cancel": "Отмена",
        "alert_snooze_week": "Отложить на неделю",
        "alert_snooze_until": "Отложить до…",
        "alert_not_a_risk": "Не риск",
        "alert_called": "Я им позвонил(а)",
        "snoozed_by": "💤 Отложено до {until}: {who}, {when}",
        "not_a_risk_by": "👌 Отмечено «не риск»: {who}, {when}: {reason}",
        "called_by": "📞 Звонок: {who}, {when}",
        "not_a_risk_title": "Не риск",
        "not_a_risk_label": "Почему этот клиент не под риском?",
        "not_a_risk_submit": "Сохранить",
        "not_yours": "Это не ваше: ответить может только {manager} (или администратор).",
        "already_decided": "Уже решено: {who}, {when}; ничего не изменено.",
        "not_recorded": "Не сохранено: Airflow не ответил. Попробуйте ещё раз через минуту.",
        "not_ready": "Этот запрос ещё не открыт в Airflow (или уже закрыт); ничего не изменено.",
        "refused": "Airflow не разрешил вам это действие; ничего не изменено.",
        "reason_required": "Укажите, пожалуйста, причину.",
        "language:en": "английский",
        "language:uk": "украинский",
        "language:ru": "русский",
    },
}


def text(language: str, key: str, **values: object) -> str:
    """The `key` text in `language` (English when the language is not supported)."""
    catalog = TEXTS.get(language, TEXTS["en"])
    return catalog[key].format(**values)


def when(language: str, instant: datetime, timezone: str) -> str:
    """A decision's date and time, in the agency's time zone, as the language writes it."""
    local = instant.astimezone(ZoneInfo(timezone))
    return format_datetime(local, "medium", locale=locale(language))


def day(language: str, value: date) -> str:
    """A date (a snooze's end) as the language writes it."""
    return format_date(value, "long", locale=locale(language))
