"""The one home of per-language words and formats: the client emails' strings (the
weekly status, and the monthly report's under `monthly_`), the leadership digest's (with
its chart's), the Slack actions' (`slack_`), and, through Babel, how each language writes
counts, decimals, percentages, money, dates and plural forms (uk and ru have three:
1 клієнт, 2 клієнти, 5 клієнтів). The risk evidence (clientpulse/reports/evidence.py)
and the playbook's labels (an agency-editable file) hold their words and format through
these functions."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime, timedelta
from decimal import Decimal

from babel import Locale
from babel.dates import format_date, format_datetime, format_interval, format_skeleton
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


def signed(value: float, language: str) -> str:
    """A change or a net score with its sign: `+4,5`, `−4,5`, `±0`."""
    if value == 0:
        return "±0"
    return ("+" if value > 0 else "−") + decimal(abs(value), language)


def counted(language: str, key: str, number: float) -> str:
    """A STRINGS text with a form per plural category (`key:one`, `key:few`, …, `key:other`)
    for `number`, the number written in."""
    texts = STRINGS[language]
    forms = {c.split(":")[-1]: t for c, t in texts.items() if c.startswith(f"{key}:")}
    return plural(language, forms, number).format(n=decimal(number, language))


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


def day(value: date, language: str) -> str:
    """A date in the language's medium form (`5 Nov 2026`, `5 лист. 2026 р.`)."""
    return format_date(value, "medium", locale=locale(language))


def short_day(value: date, language: str) -> str:
    """A day and month without the year (`5 Nov`, `5 лист.`)."""
    return format_skeleton("MMMd", value, locale=locale(language))


def moment(value: datetime, language: str) -> str:
    """A local date and time (`23 Nov 2026, 09:00`, `23 лист. 2026 р., 09:00`)."""
    time = format_datetime(value, "HH:mm", locale=locale(language))
    return f"{day(value.date(), language)}, {time}"


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
        # the Slack actions' texts (clientpulse/slack_listener/texts.py)
        "slack_approvals_header": "Client emails waiting for your approval ({count})",
        "slack_approvals_intro": "Approve or reject each one here; the Airflow page stays the "
        "fallback.",
        "slack_draft_line": "*{client}* · {subject} · {email_language}",
        "slack_see_email": "See the whole email",
        "slack_approve": "Approve",
        "slack_reject": "Reject",
        "slack_approved_by": "✅ Approved by {who} at {when}",
        "slack_rejected_by": "❌ Rejected by {who} at {when}: {reason}",
        "slack_reject_title": "Reject the email",
        "slack_reject_label": "Why? (kept with the decision)",
        "slack_reject_submit": "Reject",
        "slack_cancel": "Cancel",
        "slack_alert_snooze_week": "Snooze 1 week",
        "slack_alert_snooze_until": "Snooze until…",
        "slack_alert_not_a_risk": "Not a risk",
        "slack_alert_called": "I called them",
        "slack_snoozed_by": "💤 Snoozed until {until} by {who} at {when}",
        "slack_not_a_risk_by": "👌 Marked not a risk by {who} at {when}: {reason}",
        "slack_called_by": "📞 Called by {who} at {when}",
        "slack_not_a_risk_title": "Not a risk",
        "slack_not_a_risk_label": "Why is this client not at risk?",
        "slack_not_a_risk_submit": "Save",
        "slack_not_yours": "This is not yours: only {manager} (or an admin) can answer it.",
        "slack_already_decided": "Already decided by {who} at {when}; nothing changed.",
        "slack_not_recorded": "Not recorded: Airflow did not answer. Please try again in a minute.",
        "slack_not_ready": "This request is not open in Airflow yet (or any more); nothing "
        "changed.",
        "slack_refused": "Airflow refused this action for you; nothing changed.",
        "slack_reason_required": "Please give a reason.",
        "slack_language:en": "English",
        "slack_language:uk": "Ukrainian",
        "slack_language:ru": "Russian",
        # the monthly PDCA report (clientpulse/reports/monthly_report.py; the keys
        # without `monthly_` it shares with the weekly email: monthly_report.SHARED)
        "monthly_subject": "{client}: monthly report, {month}",
        "monthly_intro": "Here is our monthly report: what we delivered, how we did and what "
        "changed (month reported: {last_month}), and what is planned (month: {month}).",
        "monthly_plan": "Plan · {month}: what is due",
        "monthly_do": "Do · {last_month}: what we delivered",
        "monthly_check": "Check · {last_month}: how we did",
        "monthly_act": "Act · {last_month}: what changed, and why",
        "monthly_hypotheses": "Hypotheses · {last_month}: what we tested and learned",
        "monthly_no_hypotheses": "No hypothesis was being tested or decided last month.",
        "monthly_hypothesis_testing": "set {set}, being tested",
        "monthly_hypothesis_confirmed": "set {set}, confirmed {date}",
        "monthly_hypothesis_refuted": "set {set}, refuted {date}",
        "monthly_hypothesis_tested": "set {set}, testing finished {date}, result not recorded yet",
        "monthly_nothing_planned": "Nothing is due this month.",
        "monthly_nothing_done": "Nothing was completed last month.",
        "monthly_nothing_changed": "No dates moved and no new tasks.",
        "monthly_milestone": "milestone",
        "monthly_overdue": "overdue",
        "monthly_not_started": "not started yet",
        "monthly_done_on_time": "done {date}, on time",
        "monthly_done_late": "done {date}, late (due {due})",
        "monthly_done_undated": "done {date}",
        "monthly_moved": "date moved from {old} to {new}",
        "monthly_new_task": "new task",
        "monthly_new_task_due": "new task, due {date}",
        "monthly_first_reply": "First replies to your emails",
        "monthly_sla_figures": "{label}: {share} on time ({achieved} of {decided}), median "
        "{hours} h",
        "monthly_sla_no_median": "{label}: {share} on time ({achieved} of {decided}), none "
        "answered yet, so no reply time",
        "monthly_sla_none": "{label}: none to measure this month",
        "monthly_delivery": "Tasks completed: {completed}, on time {on_time}, late {late}",
        "monthly_slips": "Dates moved with notice: {announced}; dates missed without notice: "
        "{silent}",
        "monthly_revisions": "Revision rounds (work reopened after completion): {rounds}",
        "monthly_weak_spots": "Where we fell short",
        "monthly_no_weak_spots": "No late work, silent slips or late replies this month.",
        "monthly_weak_late": "{count} tasks finished late",
        "monthly_weak_silent": "{count} dates missed without telling you first",
        "monthly_weak_replies": "{label} on time in {share} of cases",
        "monthly_weak_revisions": "{count} revision rounds",
        # the Monday leadership digest (clientpulse/reports/leadership_digest.py)
        "digest_header": "ClientPulse weekly digest · {period}",
        "digest_legend": "(±N) = change since last week",
        "digest_summary": "ClientPulse weekly digest {period}: {at_risk} of {active} active clients"
        " at risk{since}, {lost} lost this month; first replies on time in {week}: "
        "{compliance}{points}.",
        "digest_no_data": "no data",
        "digest_points": " ({change} pts)",
        "digest_clients:one": "{n} client",
        "digest_clients:other": "{n} clients",
        "digest_at_risk": "*Clients at risk*\n{at_risk} of {active} active{since}",
        "digest_lost": "*Lost this month*\n{lost}{since}",
        "digest_no_history": "no history yet",
        "digest_on_time": "*Delivered on time{week}*\n{on_time}",
        "digest_on_time_week": ", {week}",
        "digest_tasks_share": "{share} of {tasks}",
        "digest_no_dated_task": "no dated task completed",
        "digest_overdue_tasks": "*Open overdue tasks*\n{count}",
        "digest_playbook": "*Overdue invoices* {receivables} · *Recent detractors* {detractors}"
        " · *Open conflicts* {conflicts}",
        "digest_receivables": "{amounts} at {clients} (the oldest {days})",
        "digest_no_receivables": "none",
        "digest_sla_heading": "*Email SLA, {week}* (business hours on each client's calendar)",
        "digest_sla_line": "• {label}: {compliance} on time ({achieved} of {decided}){points}"
        " · median {median} h · P90 {p90} h · {breached} breached · {pending} pending",
        "digest_movers": "*Biggest movers* (risk score 0–100)",
        "digest_no_movers": "No risk score moved since last week.",
        "digest_mover": "{arrow} *{name}* {before} → {score} ({change}){why}",
        "digest_at_risk_none": "*At-risk clients*\nNone this week.",
        "digest_at_risk_heading": "*At-risk clients* · {count} of {active} active, "
        "highest risk first",
        "digest_at_risk_line": "• *{name}* ({manager}) · risk {score}: {reasons} → _{action}_",
        "digest_at_risk_more": "…and {count} more at risk",
        "digest_lost_lately": "*Lost lately* · {count}: {names}",
        "digest_more": " …and {count} more",
        "digest_managers": "*By account manager* (at risk of active · replies on time, {week})",
        "digest_manager": "• {name}: {at_risk} of {active} · first {first} · next {next}",
        "digest_managers_more": "…and {count} more managers with {at_risk} clients at risk",
        "digest_strategies": "*Strategies* (clients; docs/domain.md §6): {counts}",
        "digest_strategy_count": "{strategy} {count}",
        "digest_strategy_changed": "Changed strategy since last week: {moved}{more}",
        "digest_strategy_unchanged": "No client changed strategy since last week.",
        "strategy:strengthen": "strengthen",
        "strategy:invest": "invest",
        "strategy:invest_loyal": "invest loyal",
        "strategy:protect": "protect",
        "strategy:earn": "earn",
        "strategy:consider_ending": "consider ending",
        "strategy:none": "not enough data",
        "strategy:no_data": "no data",
        "digest_footer": "As of {when} {timezone} · SLA clocks: business hours",
        "digest_threshold_calibrated": " · at risk from score {threshold}, calibrated this week on"
        " the year before to {budget} false-alarm weeks per retained client a year",
        "digest_threshold_default": " · at risk from score {threshold} (the default: too little"
        " history to calibrate)",
        "digest_chart_below": " · chart of the last {weeks} posted below",
        # the digest's chart (clientpulse/reports/digest_chart.py)
        "chart_title": "Clients at risk and SLA compliance, by week",
        "chart_heading": "ClientPulse: clients at risk and SLA compliance, by week",
        "chart_at_risk": "Clients at risk",
        "chart_at_risk_axis": "at risk",
        "chart_on_time_axis": "% on time",
        "chart_first_reply": "First replies on time",
        "chart_next_reply": "Next replies on time",
        "chart_on_time": "Tasks delivered on time",
        "chart_tick": "W{week}",
        "chart_no_weeks": "Chart of clients at risk and SLA compliance: no weeks of history yet.",
        "chart_alt": "Two line charts over {weeks}, {first} to {last}. Clients at risk: "
        "{at_risk_first} to {at_risk_last} (highest {at_risk_max}). First replies on time: "
        "{first_reply_first} to {first_reply_last}; next replies {next_reply_first} to "
        "{next_reply_last}; tasks on time {on_time_first} to {on_time_last}.",
        "chart_fallback_heading": "Last {weeks} ({ticks}):",
        "chart_fallback_week": "• {week}: {at_risk} at risk · first replies {first_reply}"
        " · next replies {next_reply} · tasks {on_time} on time",
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
        # the Slack actions' texts (clientpulse/slack_listener/texts.py)
        "slack_approvals_header": "Листи клієнтам чекають на ваше схвалення ({count})",
        "slack_approvals_intro": "Схваліть або відхиліть кожен тут; сторінка Airflow — запасний "
        "шлях.",
        "slack_draft_line": "*{client}* · {subject} · {email_language}",
        "slack_see_email": "Переглянути весь лист",
        "slack_approve": "Схвалити",
        "slack_reject": "Відхилити",
        "slack_approved_by": "✅ Схвалено: {who}, {when}",
        "slack_rejected_by": "❌ Відхилено: {who}, {when}: {reason}",
        "slack_reject_title": "Відхилити лист",
        "slack_reject_label": "Чому? (збережеться з рішенням)",
        "slack_reject_submit": "Відхилити",
        "slack_cancel": "Скасувати",
        "slack_alert_snooze_week": "Відкласти на тиждень",
        "slack_alert_snooze_until": "Відкласти до…",
        "slack_alert_not_a_risk": "Не ризик",
        "slack_alert_called": "Я їм подзвонив(ла)",
        "slack_snoozed_by": "💤 Відкладено до {until}: {who}, {when}",
        "slack_not_a_risk_by": "👌 Позначено «не ризик»: {who}, {when}: {reason}",
        "slack_called_by": "📞 Дзвінок: {who}, {when}",
        "slack_not_a_risk_title": "Не ризик",
        "slack_not_a_risk_label": "Чому цей клієнт не під ризиком?",
        "slack_not_a_risk_submit": "Зберегти",
        "slack_not_yours": "Це не ваше: відповісти може лише {manager} (або адміністратор).",
        "slack_already_decided": "Уже вирішено: {who}, {when}; нічого не змінено.",
        "slack_not_recorded": "Не збережено: Airflow не відповів. Спробуйте ще раз за хвилину.",
        "slack_not_ready": "Цей запит ще не відкритий в Airflow (або вже закритий); нічого не "
        "змінено.",
        "slack_refused": "Airflow не дозволив вам цю дію; нічого не змінено.",
        "slack_reason_required": "Вкажіть, будь ласка, причину.",
        "slack_language:en": "англійська",
        "slack_language:uk": "українська",
        "slack_language:ru": "російська",
        # the monthly PDCA report (clientpulse/reports/monthly_report.py)
        "monthly_subject": "{client}: звіт за місяць, {month}",
        "monthly_intro": "Ось наш щомісячний звіт: що зроблено, як ми впоралися і що змінилося "
        "(звітний місяць: {last_month}), і що заплановано (місяць: {month}).",
        "monthly_plan": "План · {month}: що має бути готово",
        "monthly_do": "Виконано · {last_month}",
        "monthly_check": "Перевірка · {last_month}: як ми впоралися",
        "monthly_act": "Зміни · {last_month}: що змінилося і чому",
        "monthly_hypotheses": "Гіпотези · {last_month}: що ми перевіряли і що з’ясували",
        "monthly_no_hypotheses": "Минулого місяця жодної гіпотези не перевіряли і не закрили.",
        "monthly_hypothesis_testing": "поставлена {set}, перевіряється",
        "monthly_hypothesis_confirmed": "поставлена {set}, підтвердилася {date}",
        "monthly_hypothesis_refuted": "поставлена {set}, не підтвердилася {date}",
        "monthly_hypothesis_tested": "поставлена {set}, перевірку завершено {date}, висновок ще "
        "не записано",
        "monthly_nothing_planned": "Цього місяця термінів немає.",
        "monthly_nothing_done": "Минулого місяця нічого не завершено.",
        "monthly_nothing_changed": "Жоден термін не перенесено, нових задач немає.",
        "monthly_milestone": "віха",
        "monthly_overdue": "прострочено",
        "monthly_not_started": "ще не розпочато",
        "monthly_done_on_time": "зроблено {date}, вчасно",
        "monthly_done_late": "зроблено {date}, із запізненням (термін {due})",
        "monthly_done_undated": "зроблено {date}",
        "monthly_moved": "термін перенесено з {old} на {new}",
        "monthly_new_task": "нова задача",
        "monthly_new_task_due": "нова задача, термін {date}",
        "monthly_first_reply": "Перші відповіді на ваші листи",
        "monthly_sla_figures": "{label}: вчасно {share} ({achieved} з {decided}), медіана "
        "{hours} год",
        "monthly_sla_no_median": "{label}: вчасно {share} ({achieved} з {decided}), відповідей "
        "ще не було, тож часу відповіді немає",
        "monthly_sla_none": "{label}: цього місяця нічого вимірювати",
        "monthly_delivery": "Завершено задач: {completed}, вчасно {on_time}, із запізненням {late}",
        "monthly_slips": "Терміни перенесено з попередженням: {announced}; пропущено без "
        "попередження: {silent}",
        "monthly_revisions": "Раунди правок (робота відкрита знову після завершення): {rounds}",
        "monthly_weak_spots": "Де ми не дотягнули",
        "monthly_no_weak_spots": "Цього місяця без запізнень, мовчазних переносів і пізніх "
        "відповідей.",
        "monthly_weak_late": "задач завершено із запізненням: {count}",
        "monthly_weak_silent": "термінів пропущено, не попередивши вас: {count}",
        "monthly_weak_replies": "{label}: вчасно лише {share}",
        "monthly_weak_revisions": "раундів правок: {count}",
        # the Monday leadership digest (clientpulse/reports/leadership_digest.py)
        "digest_header": "Щотижневий огляд ClientPulse · {period}",
        "digest_legend": "(±…) у дужках — зміна за тиждень",
        "digest_summary": "Щотижневий огляд ClientPulse, {period}: під ризиком {at_risk} з {active}"
        " активних клієнтів{since}, втрачено цього місяця: {lost}; перші відповіді вчасно за "
        "{week}: {compliance}{points}.",
        "digest_no_data": "даних немає",
        "digest_points": " ({change} в. п.)",
        "digest_clients:one": "{n} клієнт",
        "digest_clients:few": "{n} клієнти",
        "digest_clients:many": "{n} клієнтів",
        "digest_clients:other": "{n} клієнта",
        "digest_at_risk": "*Клієнти під ризиком*\n{at_risk} з {active} активних{since}",
        "digest_lost": "*Втрачено цього місяця*\n{lost_clients}{since}",
        "digest_no_history": "історії ще немає",
        "digest_on_time": "*Задачі вчасно{week}*\n{on_time}",
        "digest_on_time_week": ", {week}",
        "digest_tasks_share": "{share} з {tasks}",
        "digest_no_dated_task": "жодної задачі з терміном не завершено",
        "digest_overdue_tasks": "*Прострочені задачі*\n{overdue}",
        "digest_playbook": "*Прострочені рахунки*: {receivables} · *Нещодавні критики*: "
        "{detractors} · *Відкриті конфлікти*: {conflicts}",
        "digest_receivables": "{amounts}, боржників: {owing} (найстаріший рахунок — {days})",
        "digest_no_receivables": "немає",
        "digest_sla_heading": "*Відповіді на листи, {week}* (робочі години за календарем "
        "кожного клієнта)",
        "digest_sla_line": "• {label}: вчасно {compliance} ({achieved} з {decided}){points}"
        " · медіана {median} год · 90-й процентиль {p90} год · із запізненням {breached}"
        " · чекають на відповідь {pending}",
        "digest_movers": "*Найбільші зміни* (ризик за шкалою 0–100 балів)",
        "digest_no_movers": "За тиждень жоден бал ризику не змінився.",
        "digest_mover": "{arrow} *{name}* бал {before} → {score} ({change}){why}",
        "digest_at_risk_none": "*Клієнти під ризиком*\nЦього тижня немає.",
        "digest_at_risk_heading": "*Клієнти під ризиком* · {count} з {active} активних, "
        "від найвищого ризику",
        "digest_at_risk_line": "• *{name}* ({manager}) · ризик {score}: {reasons} → _{action}_",
        "digest_at_risk_more": "…і ще {count} під ризиком",
        "digest_lost_lately": "*Нещодавно втрачені* · {clients}: {names}",
        "digest_more": " …і ще {count}",
        "digest_managers": "*За акаунт-менеджерами* (під ризиком з активних · відповіді вчасно,"
        " {week})",
        "digest_manager": "• {name}: під ризиком {at_risk} з {active} · перші {first}"
        " · наступні {next}",
        "digest_managers_more": "…і ще менеджерів: {count}, у них під ризиком {at_risk}",
        "digest_strategies": "*Стратегії* (кількість клієнтів): {counts}",
        "digest_strategy_count": "{strategy}: {count}",
        "digest_strategy_changed": "Змінили стратегію за тиждень: {moved}{more}",
        "digest_strategy_unchanged": "За тиждень жоден клієнт не змінив стратегію.",
        "strategy:strengthen": "зміцнювати партнерство",
        "strategy:invest": "інвестувати",
        "strategy:invest_loyal": "інвестувати в лояльних",
        "strategy:protect": "захищати",
        "strategy:earn": "заробляти",
        "strategy:consider_ending": "обміркувати завершення",
        "strategy:none": "замало даних",
        "strategy:no_data": "даних немає",
        "digest_footer": "Станом на {when} {timezone} · час відповіді — у робочих годинах",
        "digest_threshold_calibrated": " · поріг ризику — бал {threshold}, відкалібрований цього"
        " тижня на попередньому році: {budget_weeks} хибної тривоги на утриманого клієнта на рік",
        "digest_threshold_default": " · поріг ризику — бал {threshold} (типовий: замало історії"
        " для калібрування)",
        "digest_chart_below": " · графік за останні {weeks} — нижче",
        # the digest's chart (clientpulse/reports/digest_chart.py)
        "chart_title": "Клієнти під ризиком і відповіді вчасно, за тижнями",
        "chart_heading": "ClientPulse: клієнти під ризиком і відповіді вчасно, за тижнями",
        "chart_at_risk": "Клієнти під ризиком",
        "chart_at_risk_axis": "під ризиком",
        "chart_on_time_axis": "% вчасно",
        "chart_first_reply": "Перші відповіді вчасно",
        "chart_next_reply": "Наступні відповіді вчасно",
        "chart_on_time": "Задачі вчасно",
        "chart_tick": "тиж. {week}",
        "chart_no_weeks": "Графік клієнтів під ризиком і відповідей вчасно: історії ще немає.",
        "chart_alt": "Два лінійні графіки за {weeks} (з {first} по {last}). Клієнти під ризиком:"
        " {at_risk_first} → {at_risk_last}, найбільше: {at_risk_max}. Перші відповіді вчасно: "
        "{first_reply_first} → {first_reply_last}; наступні: {next_reply_first} → "
        "{next_reply_last}; задачі вчасно: {on_time_first} → {on_time_last}.",
        "chart_fallback_heading": "Останні {weeks}:",
        "chart_fallback_week": "• {week}: під ризиком {at_risk} · перші відповіді {first_reply}"
        " · наступні {next_reply} · задачі вчасно {on_time}",
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
        # the Slack actions' texts (clientpulse/slack_listener/texts.py)
        "slack_approvals_header": "Письма клиентам ждут вашего одобрения ({count})",
        "slack_approvals_intro": "Одобрите или отклоните каждое здесь; страница Airflow — "
        "запасной путь.",
        "slack_draft_line": "*{client}* · {subject} · {email_language}",
        "slack_see_email": "Посмотреть письмо целиком",
        "slack_approve": "Одобрить",
        "slack_reject": "Отклонить",
        "slack_approved_by": "✅ Одобрено: {who}, {when}",
        "slack_rejected_by": "❌ Отклонено: {who}, {when}: {reason}",
        "slack_reject_title": "Отклонить письмо",
        "slack_reject_label": "Почему? (сохранится с решением)",
        "slack_reject_submit": "Отклонить",
        "slack_cancel": "Отмена",
        "slack_alert_snooze_week": "Отложить на неделю",
        "slack_alert_snooze_until": "Отложить до…",
        "slack_alert_not_a_risk": "Не риск",
        "slack_alert_called": "Я им позвонил(а)",
        "slack_snoozed_by": "💤 Отложено до {until}: {who}, {when}",
        "slack_not_a_risk_by": "👌 Отмечено «не риск»: {who}, {when}: {reason}",
        "slack_called_by": "📞 Звонок: {who}, {when}",
        "slack_not_a_risk_title": "Не риск",
        "slack_not_a_risk_label": "Почему этот клиент не под риском?",
        "slack_not_a_risk_submit": "Сохранить",
        "slack_not_yours": "Это не ваше: ответить может только {manager} (или администратор).",
        "slack_already_decided": "Уже решено: {who}, {when}; ничего не изменено.",
        "slack_not_recorded": "Не сохранено: Airflow не ответил. Попробуйте ещё раз через минуту.",
        "slack_not_ready": "Этот запрос ещё не открыт в Airflow (или уже закрыт); ничего не "
        "изменено.",
        "slack_refused": "Airflow не разрешил вам это действие; ничего не изменено.",
        "slack_reason_required": "Укажите, пожалуйста, причину.",
        "slack_language:en": "английский",
        "slack_language:uk": "украинский",
        "slack_language:ru": "русский",
        # the monthly PDCA report (clientpulse/reports/monthly_report.py)
        "monthly_subject": "{client}: отчёт за месяц, {month}",
        "monthly_intro": "Вот наш ежемесячный отчёт: что сделано, как мы справились и что "
        "изменилось (отчётный месяц: {last_month}), и что запланировано (месяц: {month}).",
        "monthly_plan": "План · {month}: что должно быть готово",
        "monthly_do": "Выполнено · {last_month}",
        "monthly_check": "Проверка · {last_month}: как мы справились",
        "monthly_act": "Изменения · {last_month}: что изменилось и почему",
        "monthly_hypotheses": "Гипотезы · {last_month}: что мы проверяли и что узнали",
        "monthly_no_hypotheses": "В прошлом месяце ни одну гипотезу не проверяли и не закрыли.",
        "monthly_hypothesis_testing": "поставлена {set}, проверяется",
        "monthly_hypothesis_confirmed": "поставлена {set}, подтвердилась {date}",
        "monthly_hypothesis_refuted": "поставлена {set}, не подтвердилась {date}",
        "monthly_hypothesis_tested": "поставлена {set}, проверка завершена {date}, вывод ещё не "
        "записан",
        "monthly_nothing_planned": "В этом месяце сроков нет.",
        "monthly_nothing_done": "В прошлом месяце ничего не завершено.",
        "monthly_nothing_changed": "Ни один срок не перенесён, новых задач нет.",
        "monthly_milestone": "веха",
        "monthly_overdue": "просрочено",
        "monthly_not_started": "ещё не начато",
        "monthly_done_on_time": "сделано {date}, вовремя",
        "monthly_done_late": "сделано {date}, с опозданием (срок {due})",
        "monthly_done_undated": "сделано {date}",
        "monthly_moved": "срок перенесён с {old} на {new}",
        "monthly_new_task": "новая задача",
        "monthly_new_task_due": "новая задача, срок {date}",
        "monthly_first_reply": "Первые ответы на ваши письма",
        "monthly_sla_figures": "{label}: вовремя {share} ({achieved} из {decided}), медиана "
        "{hours} ч",
        "monthly_sla_no_median": "{label}: вовремя {share} ({achieved} из {decided}), ответов "
        "ещё не было, поэтому времени ответа нет",
        "monthly_sla_none": "{label}: в этом месяце нечего измерять",
        "monthly_delivery": "Завершено задач: {completed}, вовремя {on_time}, с опозданием {late}",
        "monthly_slips": "Сроки перенесены с предупреждением: {announced}; пропущены без "
        "предупреждения: {silent}",
        "monthly_revisions": "Раунды правок (работа открыта снова после завершения): {rounds}",
        "monthly_weak_spots": "Где мы недотянули",
        "monthly_no_weak_spots": "В этом месяце без опозданий, молчаливых переносов и поздних "
        "ответов.",
        "monthly_weak_late": "задач завершено с опозданием: {count}",
        "monthly_weak_silent": "сроков пропущено, не предупредив вас: {count}",
        "monthly_weak_replies": "{label}: вовремя лишь {share}",
        "monthly_weak_revisions": "раундов правок: {count}",
        # the Monday leadership digest (clientpulse/reports/leadership_digest.py)
        "digest_header": "Еженедельный обзор ClientPulse · {period}",
        "digest_legend": "(±…) в скобках — изменение за неделю",
        "digest_summary": "Еженедельный обзор ClientPulse, {period}: под риском {at_risk} из"
        " {active} активных клиентов{since}, потеряно в этом месяце: {lost}; первые ответы вовремя"
        " за {week}: {compliance}{points}.",
        "digest_no_data": "данных нет",
        "digest_points": " ({change} п. п.)",
        "digest_clients:one": "{n} клиент",
        "digest_clients:few": "{n} клиента",
        "digest_clients:many": "{n} клиентов",
        "digest_clients:other": "{n} клиента",
        "digest_at_risk": "*Клиенты под риском*\n{at_risk} из {active} активных{since}",
        "digest_lost": "*Потеряно в этом месяце*\n{lost_clients}{since}",
        "digest_no_history": "истории пока нет",
        "digest_on_time": "*Задачи вовремя{week}*\n{on_time}",
        "digest_on_time_week": ", {week}",
        "digest_tasks_share": "{share} из {tasks}",
        "digest_no_dated_task": "ни одной задачи со сроком не завершено",
        "digest_overdue_tasks": "*Просроченные задачи*\n{overdue}",
        "digest_playbook": "*Просроченные счета*: {receivables} · *Недавние критики*: "
        "{detractors} · *Открытые конфликты*: {conflicts}",
        "digest_receivables": "{amounts}, должников: {owing} (самый старый счёт — {days})",
        "digest_no_receivables": "нет",
        "digest_sla_heading": "*Ответы на письма, {week}* (рабочие часы по календарю "
        "каждого клиента)",
        "digest_sla_line": "• {label}: вовремя {compliance} ({achieved} из {decided}){points}"
        " · медиана {median} ч · 90-й процентиль {p90} ч · с опозданием {breached}"
        " · ждут ответа {pending}",
        "digest_movers": "*Самые большие изменения* (риск по шкале 0–100 баллов)",
        "digest_no_movers": "За неделю ни один балл риска не изменился.",
        "digest_mover": "{arrow} *{name}* балл {before} → {score} ({change}){why}",
        "digest_at_risk_none": "*Клиенты под риском*\nНа этой неделе нет.",
        "digest_at_risk_heading": "*Клиенты под риском* · {count} из {active} активных, "
        "от самого высокого риска",
        "digest_at_risk_line": "• *{name}* ({manager}) · риск {score}: {reasons} → _{action}_",
        "digest_at_risk_more": "…и ещё {count} под риском",
        "digest_lost_lately": "*Недавно потерянные* · {clients}: {names}",
        "digest_more": " …и ещё {count}",
        "digest_managers": "*По аккаунт-менеджерам* (под риском из активных · ответы вовремя,"
        " {week})",
        "digest_manager": "• {name}: под риском {at_risk} из {active} · первые {first}"
        " · последующие {next}",
        "digest_managers_more": "…и ещё менеджеров: {count}, у них под риском {at_risk}",
        "digest_strategies": "*Стратегии* (число клиентов): {counts}",
        "digest_strategy_count": "{strategy}: {count}",
        "digest_strategy_changed": "Сменили стратегию за неделю: {moved}{more}",
        "digest_strategy_unchanged": "За неделю ни один клиент не сменил стратегию.",
        "strategy:strengthen": "укреплять партнёрство",
        "strategy:invest": "инвестировать",
        "strategy:invest_loyal": "инвестировать в лояльных",
        "strategy:protect": "защищать",
        "strategy:earn": "зарабатывать",
        "strategy:consider_ending": "обдумать завершение",
        "strategy:none": "мало данных",
        "strategy:no_data": "данных нет",
        "digest_footer": "По состоянию на {when} {timezone} · время ответа — в рабочих часах",
        "digest_threshold_calibrated": " · порог риска — балл {threshold}, откалиброван на этой"
        " неделе по предыдущему году: {budget_weeks} ложной тревоги на удержанного клиента в год",
        "digest_threshold_default": " · порог риска — балл {threshold} (по умолчанию: мало истории"
        " для калибровки)",
        "digest_chart_below": " · график за последние {weeks} — ниже",
        # the digest's chart (clientpulse/reports/digest_chart.py)
        "chart_title": "Клиенты под риском и ответы вовремя, по неделям",
        "chart_heading": "ClientPulse: клиенты под риском и ответы вовремя, по неделям",
        "chart_at_risk": "Клиенты под риском",
        "chart_at_risk_axis": "под риском",
        "chart_on_time_axis": "% вовремя",
        "chart_first_reply": "Первые ответы вовремя",
        "chart_next_reply": "Последующие ответы вовремя",
        "chart_on_time": "Задачи вовремя",
        "chart_tick": "нед. {week}",
        "chart_no_weeks": "График клиентов под риском и ответов вовремя: истории пока нет.",
        "chart_alt": "Два линейных графика за {weeks} (с {first} по {last}). Клиенты под риском:"
        " {at_risk_first} → {at_risk_last}, наибольшее: {at_risk_max}. Первые ответы вовремя: "
        "{first_reply_first} → {first_reply_last}; последующие: {next_reply_first} → "
        "{next_reply_last}; задачи вовремя: {on_time_first} → {on_time_last}.",
        "chart_fallback_heading": "Последние {weeks}:",
        "chart_fallback_week": "• {week}: под риском {at_risk} · первые ответы {first_reply}"
        " · последующие {next_reply} · задачи вовремя {on_time}",
    },
}
