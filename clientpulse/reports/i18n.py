"""Strings of the client status email in each supported language."""

from __future__ import annotations

STRINGS: dict[str, dict[str, str]] = {
    "en": {
        "subject": "{client}: weekly status, {period}",
        "greeting": "Hello,",
        "intro": "Here is where your work with {agency} stands this week.",
        "completed": "Done last week",
        "overdue": "Past due — we owe you these",
        "due_next": "Due in the coming week",
        "days_late": "{days} days late",
        "due": "due {date}",
        "nothing": "Nothing here this week.",
        "replies": "Our first replies to your emails in the last 28 days: median {median} h.",
        "no_replies": "You have not written to us in the last 28 days.",
        "signature": "Your account manager, {manager}",
    },
    "uk": {
        "subject": "{client}: статус за тиждень, {period}",
        "greeting": "Добрий день!",
        "intro": "Ось як просувається наша з вами робота в {agency} цього тижня.",
        "completed": "Зроблено минулого тижня",
        "overdue": "Прострочено — ми вам це винні",
        "due_next": "Термін на наступному тижні",
        "days_late": "запізнення {days} дн.",
        "due": "термін {date}",
        "nothing": "Цього тижня нічого.",
        "replies": "Наша перша відповідь на ваші листи за 28 днів: медіана {median} год.",
        "no_replies": "За останні 28 днів ви нам не писали.",
        "signature": "Ваш акаунт-менеджер, {manager}",
    },
    "ru": {
        "subject": "{client}: статус за неделю, {period}",
        "greeting": "Добрый день!",
        "intro": "Вот как продвигается наша с вами работа в {agency} на этой неделе.",
        "completed": "Сделано на прошлой неделе",
        "overdue": "Просрочено — мы вам это должны",
        "due_next": "Срок на следующей неделе",
        "days_late": "опоздание {days} дн.",
        "due": "срок {date}",
        "nothing": "На этой неделе ничего.",
        "replies": "Наш первый ответ на ваши письма за 28 дней: медиана {median} ч.",
        "no_replies": "За последние 28 дней вы нам не писали.",
        "signature": "Ваш аккаунт-менеджер, {manager}",
    },
}
