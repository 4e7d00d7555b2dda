"""A risk factor's evidence in the reader's language.

The models return the evidence as a JSON object: a catalog `key` and the figures and
names its sentence needs (intermediate.client_risk_factors). Here each key has a
sentence per language, each figure its kind (a count, money, a date) or its unit, a
phrase with a form per plural category ("1 задача", "2 задачі", "5 задач"), formatted
through clientpulse/reports/i18n.py. Names (deals, addresses) are passed through as
they are: the caller escapes them for its medium.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import date
from typing import Any

from clientpulse.reports import i18n

Forms = Mapping[str, str]

# Each evidence key's figures: how each is written (a unit below, or one of
# count/money/day/month/signed/stage/text, or people: a list of {address, name, title});
# a key not listed has no figures.
FIELDS: dict[str, dict[str, str]] = {
    "replies_on_time": {"achieved": "count", "decided": "replies", "days": "in_last_days"},
    "unanswered_past_target": {"count": "unanswered"},
    "tasks_on_time": {"on_time": "count", "completed": "tasks", "weeks": "in_last_weeks"},
    "silent_slips": {"count": "silent_slips", "weeks": "in_last_weeks"},
    "revision_rounds": {"count": "revision_rounds", "weeks": "in_last_weeks"},
    "open_overdue_tasks": {"count": "overdue"},
    "contact_vs_cadence": {"per_week": "exchanges_a_week", "expected_per_week": "per_week"},
    "contact_fall": {
        "observed": "exchanges",
        "weeks": "in_last_weeks",
        "expected": "exchanges",
        "usual_per_week": "per_week",
        "z": "noise",
    },
    "contact_as_usual": {"usual_per_week": "per_week"},
    "contact_gap": {"business_days": "business_days", "cadence_days": "days"},
    "on_site_gap": {"days": "days"},
    "revenue_qoq": {"this_quarter": "money", "quarter_before": "money"},
    "revenue_yoy": {"this_quarter": "money", "year_ago": "money"},
    "no_renewal_lost": {"days": "in_last_days"},
    "lifecycle_stage": {"stage": "stage"},
    "active_contacts": {"active": "count", "contacts": "contacts"},
    "senior_contacts": {"count": "senior"},
    # one item of a list (renewals_lost.deals, contacts_left.contacts)
    "renewal_lost": {
        "lost_on": "day",
        "name": "text",
        "amount": "money",
        "times_won": "times",
        "last_won_on": "day",
    },
    "contact_left": {"address": "text", "bounced_on": "day"},
    "manager_away": {"away_weeks": "weeks"},
    "overdue_receivables": {"amount": "money", "days": "days_overdue", "months": "billing_months"},
    "open_conflict": {"subject": "text", "since": "day", "days": "days"},
    "conflict_copied": {"copied": "people"},
    "detractor_answer": {"score": "nps_score", "on": "day", "contact": "text"},
    # the monthly feedback of the leadership digest (marts.portfolio_feedback_monthly)
    "feedback_heading": {"month": "month"},
    "feedback_score": {"nps": "signed"},
    "feedback_answers": {
        "answers": "answers",
        "promoters": "promoters",
        "passives": "passives",
        "detractors": "detractors",
    },
    "feedback_change": {"change": "signed", "previous": "month"},
    "feedback_last": {"previous": "month", "previous_nps": "signed"},
    "feedback_detractor": {"name": "text", "score": "nps_score", "on": "day"},
    "feedback_manager": {"name": "text", "nps": "signed", "answers": "answers"},
    "feedback_more": {"count": "count"},
}
LISTS = {"renewals_lost": ("deals", "renewal_lost"), "contacts_left": ("contacts", "contact_left")}

SENTENCES: dict[str, dict[str, str]] = {
    "en": {
        "replies_on_time": "{achieved} of {decided} on time {days}",
        "unanswered_past_target": "{count}",
        "tasks_on_time": "{on_time} of {completed} done on time {weeks}",
        "silent_slips": "{count} {weeks}",
        "revision_rounds": "{count} {weeks}",
        "open_overdue_tasks": "{count}",
        "contact_vs_cadence": "{per_week}; the agreed rhythm asks for {expected_per_week}",
        "contact_fall": "{observed} {weeks} where {expected} were expected (usually "
        "{usual_per_week}, as busy as the rest of the agency{away}; {z})",
        "manager_away": "; {away_weeks} the manager was away left out",
        "contact_as_usual": "two-way exchanges as usual for this client ({usual_per_week})",
        "no_contact_on_record": "no two-way contact on record",
        "contact_gap": "{business_days} since the last two-way contact "
        "(agreed rhythm: every {cadence_days})",
        "on_site_gap": "{days} since the last on-site visit",
        "revenue_qoq": "revenue {this_quarter} this quarter, {quarter_before} the quarter before",
        "revenue_yoy": "revenue {this_quarter} this quarter, {year_ago} a year ago",
        "no_renewal_lost": "no renewal lost {days}",
        "renewal_lost": "renewal lost {lost_on}: {name} ({amount}, the fee won {times_won} "
        "before, last on {last_won_on})",
        "deal": "deal {deal_id}",
        "lifecycle_stage": "lifecycle stage: {stage}",
        "active_contacts": "{active} of {contacts} in touch lately",
        "senior_contacts": "{count}",
        "no_contact_left": "no named contact has left",
        "contact_left": "{address} left (mail bounced {bounced_on}), no word since",
        "overdue_receivables": "{amount} overdue, the oldest invoice {days} ({months})",
        "nothing_overdue": "no invoice overdue",
        "open_conflict": "written quarrel «{subject}» open since {since} ({days}){copied}",
        "conflict_copied": "; {copied} copied in",
        "no_open_conflict": "no written quarrel open",
        "detractor_answer": "NPS answer {score} from {contact} on {on}",
        "no_detractor": "no NPS answer of 6 of 10 or less in the last 90 days",
        "no_data": "no data yet",
        "feedback_heading": "Client feedback, {month}",
        "feedback_score": "NPS: {nps}",
        "feedback_answers": "{answers}: {promoters}, {passives}, {detractors}",
        "feedback_change": "({change} against the survey of {previous})",
        "feedback_none": "no survey answers",
        "feedback_last": "the last survey was in {previous}, NPS: {previous_nps}",
        "feedback_detractors": "Latest answer from a detractor",
        "feedback_detractor": "{name} ({score}, {on})",
        "feedback_managers": "By manager, lowest NPS first",
        "feedback_manager": "{name} (NPS: {nps}, {answers})",
        "feedback_more": "…and {count} more",
        "stage:prospect": "prospect",
        "stage:honeymoon": "honeymoon (the first order)",
        "stage:storm": "storm (past the honeymoon, no repeat order)",
        "stage:normalization": "normalization",
        "stage:support": "support",
    },
    "uk": {
        "replies_on_time": "вчасно {achieved} з {decided} {days}",
        "unanswered_past_target": "{count}",
        "tasks_on_time": "вчасно {on_time} з {completed} {weeks}",
        "silent_slips": "{count} {weeks}",
        "revision_rounds": "{count} {weeks}",
        "open_overdue_tasks": "{count}",
        "contact_vs_cadence": "{per_week}; домовлений ритм — {expected_per_week}",
        "contact_fall": "{observed} {weeks}, а очікували {expected} (зазвичай "
        "{usual_per_week}, з поправкою на завантаженість агенції{away}; {z})",
        "manager_away": "; не враховано {away_weeks} відсутності менеджера",
        "contact_as_usual": "двосторонні обміни як зазвичай для цього клієнта ({usual_per_week})",
        "no_contact_on_record": "жодного двостороннього контакту в записах",
        "contact_gap": "{business_days} від останнього двостороннього контакту "
        "(домовлений ритм: раз на {cadence_days})",
        "on_site_gap": "{days} від останнього візиту до клієнта",
        "revenue_qoq": "виручка {this_quarter} за цей квартал, {quarter_before} за попередній",
        "revenue_yoy": "виручка {this_quarter} за цей квартал, {year_ago} рік тому",
        "no_renewal_lost": "жодного втраченого продовження {days}",
        "renewal_lost": "продовження втрачено {lost_on}: {name} ({amount}; цю суму вигравали "
        "{times_won}, востаннє {last_won_on})",
        "deal": "угода № {deal_id}",
        "lifecycle_stage": "етап життєвого циклу: {stage}",
        "active_contacts": "на зв’язку {active} з {contacts}",
        "senior_contacts": "{count}",
        "no_contact_left": "жоден названий контакт не пішов",
        "contact_left": "{address} пішов (лист повернувся {bounced_on}), відтоді ні слова",
        "overdue_receivables": "прострочено {amount}, найстаріший рахунок — {days} ({months})",
        "nothing_overdue": "жодного простроченого рахунку",
        "open_conflict": "письмова суперечка «{subject}» триває з {since} ({days}){copied}",
        "conflict_copied": "; у копії {copied}",
        "no_open_conflict": "жодної відкритої письмової суперечки",
        "detractor_answer": "оцінка готовності рекомендувати {score} від {contact}, {on}",
        "no_detractor": "жодної оцінки готовності рекомендувати 6 з 10 і нижче за останні 90 днів",
        "no_data": "даних ще немає",
        "feedback_heading": "Відгуки клієнтів за {month}",
        "feedback_score": "NPS: {nps}",
        "feedback_answers": "{answers}: {promoters}, {passives}, {detractors}",
        "feedback_change": "({change} порівняно з опитуванням за {previous})",
        "feedback_none": "відповідей на опитування немає",
        "feedback_last": "останнє опитування — за {previous}, NPS: {previous_nps}",
        "feedback_detractors": "Остання відповідь — від критика",
        "feedback_detractor": "{name} ({score}, {on})",
        "feedback_managers": "За менеджерами, від найнижчого NPS",
        "feedback_manager": "{name} (NPS: {nps}, {answers})",
        "feedback_more": "… і ще {count}",
        "stage:prospect": "потенційний клієнт",
        "stage:honeymoon": "медовий місяць (перше замовлення)",
        "stage:storm": "шторм (медовий місяць минув, повторного замовлення немає)",
        "stage:normalization": "нормалізація",
        "stage:support": "підтримка",
    },
    "ru": {
        "replies_on_time": "вовремя {achieved} из {decided} {days}",
        "unanswered_past_target": "{count}",
        "tasks_on_time": "вовремя {on_time} из {completed} {weeks}",
        "silent_slips": "{count} {weeks}",
        "revision_rounds": "{count} {weeks}",
        "open_overdue_tasks": "{count}",
        "contact_vs_cadence": "{per_week}; договорённый ритм — {expected_per_week}",
        "contact_fall": "{observed} {weeks}, а ожидалось {expected} (обычно "
        "{usual_per_week}, с поправкой на загрузку агентства{away}; {z})",
        "manager_away": "; не учтены {away_weeks} отсутствия менеджера",
        "contact_as_usual": "двусторонние обмены как обычно для этого клиента ({usual_per_week})",
        "no_contact_on_record": "ни одного двустороннего контакта в записях",
        "contact_gap": "{business_days} с последнего двустороннего контакта "
        "(договорённый ритм: раз в {cadence_days})",
        "on_site_gap": "{days} с последнего визита к клиенту",
        "revenue_qoq": "выручка {this_quarter} за этот квартал, {quarter_before} за предыдущий",
        "revenue_yoy": "выручка {this_quarter} за этот квартал, {year_ago} год назад",
        "no_renewal_lost": "ни одного потерянного продления {days}",
        "renewal_lost": "продление потеряно {lost_on}: {name} ({amount}; эту сумму выигрывали "
        "{times_won}, последний раз {last_won_on})",
        "deal": "сделка № {deal_id}",
        "lifecycle_stage": "этап жизненного цикла: {stage}",
        "active_contacts": "на связи {active} из {contacts}",
        "senior_contacts": "{count}",
        "no_contact_left": "ни один названный контакт не ушёл",
        "contact_left": "{address} ушёл (письмо вернулось {bounced_on}), с тех пор ни слова",
        "overdue_receivables": "просрочено {amount}, самый старый счёт — {days} ({months})",
        "nothing_overdue": "ни одного просроченного счёта",
        "open_conflict": "письменный спор «{subject}» идёт с {since} ({days}){copied}",
        "conflict_copied": "; в копии {copied}",
        "no_open_conflict": "ни одного открытого письменного спора",
        "detractor_answer": "оценка готовности рекомендовать {score} от {contact}, {on}",
        "no_detractor": "ни одной оценки готовности рекомендовать 6 из 10 и ниже "
        "за последние 90 дней",
        "no_data": "данных пока нет",
        "feedback_heading": "Отзывы клиентов за {month}",
        "feedback_score": "NPS: {nps}",
        "feedback_answers": "{answers}: {promoters}, {passives}, {detractors}",
        "feedback_change": "({change} по сравнению с опросом за {previous})",
        "feedback_none": "ответов на опрос нет",
        "feedback_last": "последний опрос — за {previous}, NPS: {previous_nps}",
        "feedback_detractors": "Последний ответ — от критика",
        "feedback_detractor": "{name} ({score}, {on})",
        "feedback_managers": "По менеджерам, от самого низкого NPS",
        "feedback_manager": "{name} (NPS: {nps}, {answers})",
        "feedback_more": "… и ещё {count}",
        "stage:prospect": "потенциальный клиент",
        "stage:honeymoon": "медовый месяц (первый заказ)",
        "stage:storm": "шторм (медовый месяц прошёл, повторного заказа нет)",
        "stage:normalization": "нормализация",
        "stage:support": "поддержка",
    },
}


def _forms(one: str, few: str, many: str, other: str) -> dict[str, str]:
    return {"one": one, "few": few, "many": many, "other": other}


# A figure with its unit, a form per CLDR plural category; en has one and other.
UNITS: dict[str, dict[str, Forms]] = {
    "en": {
        "replies": {"one": "{n} reply", "other": "{n} replies"},
        "tasks": {"one": "{n} task", "other": "{n} tasks"},
        "in_last_days": {"one": "in the last {n} day", "other": "in the last {n} days"},
        "in_last_weeks": {"one": "in the last {n} week", "other": "in the last {n} weeks"},
        "unanswered": {
            "one": "{n} client email unanswered past its target",
            "other": "{n} client emails unanswered past their target",
        },
        "silent_slips": {"one": "{n} silent slip", "other": "{n} silent slips"},
        "revision_rounds": {"one": "{n} revision round", "other": "{n} revision rounds"},
        "overdue": {"one": "{n} open task overdue", "other": "{n} open tasks overdue"},
        "exchanges_a_week": {
            "one": "{n} two-way exchange a week",
            "other": "{n} two-way exchanges a week",
        },
        "per_week": {"other": "{n} a week"},
        "exchanges": {"one": "{n} two-way exchange", "other": "{n} two-way exchanges"},
        "noise": {"other": "{n} × its usual noise"},
        "weeks": {"one": "{n} week", "other": "{n} weeks"},
        "days": {"one": "{n} day", "other": "{n} days"},
        "business_days": {"one": "{n} business day", "other": "{n} business days"},
        "times": {"one": "{n} time", "other": "{n} times"},
        "contacts": {"one": "{n} contact", "other": "{n} contacts"},
        "senior": {"one": "{n} senior contact in touch", "other": "{n} senior contacts in touch"},
        "days_overdue": {"one": "{n} day past due", "other": "{n} days past due"},
        "billing_months": {"other": "{n} × the usual monthly billing"},
        "nps_score": {"other": "{n} of 10"},
        "answers": {"one": "{n} answer", "other": "{n} answers"},
        "promoters": {"one": "{n} promoter", "other": "{n} promoters"},
        "passives": {"one": "{n} passive", "other": "{n} passives"},
        "detractors": {"one": "{n} detractor", "other": "{n} detractors"},
    },
    "uk": {
        "replies": _forms("{n} відповіді", "{n} відповідей", "{n} відповідей", "{n} відповіді"),
        "tasks": _forms("{n} задачі", "{n} задач", "{n} задач", "{n} задачі"),
        "in_last_days": _forms(
            "за останній {n} день",
            "за останні {n} дні",
            "за останні {n} днів",
            "за останні {n} дня",
        ),
        "in_last_weeks": _forms(
            "за останній {n} тиждень",
            "за останні {n} тижні",
            "за останні {n} тижнів",
            "за останні {n} тижня",
        ),
        "unanswered": _forms(
            "{n} лист клієнта без відповіді довше за норму",
            "{n} листи клієнта без відповіді довше за норму",
            "{n} листів клієнта без відповіді довше за норму",
            "{n} листа клієнта без відповіді довше за норму",
        ),
        "silent_slips": _forms(
            "{n} мовчазний зрив терміну",
            "{n} мовчазні зриви термінів",
            "{n} мовчазних зривів термінів",
            "{n} мовчазного зриву терміну",
        ),
        "revision_rounds": _forms(
            "{n} раунд правок", "{n} раунди правок", "{n} раундів правок", "{n} раунду правок"
        ),
        "overdue": _forms(
            "{n} відкрита задача прострочена",
            "{n} відкриті задачі прострочені",
            "{n} відкритих задач прострочено",
            "{n} відкритої задачі прострочено",
        ),
        "exchanges_a_week": _forms(
            "{n} двосторонній обмін на тиждень",
            "{n} двосторонні обміни на тиждень",
            "{n} двосторонніх обмінів на тиждень",
            "{n} двостороннього обміну на тиждень",
        ),
        "per_week": {"other": "{n} на тиждень"},
        "exchanges": _forms(
            "{n} двосторонній обмін",
            "{n} двосторонні обміни",
            "{n} двосторонніх обмінів",
            "{n} двостороннього обміну",
        ),
        "noise": {"other": "{n} × звичайний розкид"},
        "weeks": _forms("{n} тиждень", "{n} тижні", "{n} тижнів", "{n} тижня"),
        "days": _forms("{n} день", "{n} дні", "{n} днів", "{n} дня"),
        "business_days": _forms(
            "{n} робочий день", "{n} робочі дні", "{n} робочих днів", "{n} робочого дня"
        ),
        "times": _forms("{n} раз", "{n} рази", "{n} разів", "{n} раза"),
        "contacts": _forms("{n} контакту", "{n} контактів", "{n} контактів", "{n} контакту"),
        "senior": _forms(
            "{n} контакт з керівництва на зв’язку",
            "{n} контакти з керівництва на зв’язку",
            "{n} контактів з керівництва на зв’язку",
            "{n} контакту з керівництва на зв’язку",
        ),
        "days_overdue": _forms(
            "{n} день після терміну",
            "{n} дні після терміну",
            "{n} днів після терміну",
            "{n} дня після терміну",
        ),
        "billing_months": {"other": "{n} × звичайна місячна сума рахунків"},
        "nps_score": {"other": "{n} з 10"},
        "answers": _forms("{n} відповідь", "{n} відповіді", "{n} відповідей", "{n} відповіді"),
        "promoters": _forms("{n} промоутер", "{n} промоутери", "{n} промоутерів", "{n} промоутера"),
        "passives": _forms("{n} пасивний", "{n} пасивні", "{n} пасивних", "{n} пасивного"),
        "detractors": _forms("{n} критик", "{n} критики", "{n} критиків", "{n} критика"),
    },
    "ru": {
        "replies": _forms("{n} ответа", "{n} ответов", "{n} ответов", "{n} ответа"),
        "tasks": _forms("{n} задачи", "{n} задач", "{n} задач", "{n} задачи"),
        "in_last_days": _forms(
            "за последний {n} день",
            "за последние {n} дня",
            "за последние {n} дней",
            "за последние {n} дня",
        ),
        "in_last_weeks": _forms(
            "за последнюю {n} неделю",
            "за последние {n} недели",
            "за последние {n} недель",
            "за последние {n} недели",
        ),
        "unanswered": _forms(
            "{n} письмо клиента без ответа дольше нормы",
            "{n} письма клиента без ответа дольше нормы",
            "{n} писем клиента без ответа дольше нормы",
            "{n} письма клиента без ответа дольше нормы",
        ),
        "silent_slips": _forms(
            "{n} молчаливый срыв срока",
            "{n} молчаливых срыва сроков",
            "{n} молчаливых срывов сроков",
            "{n} молчаливого срыва срока",
        ),
        "revision_rounds": _forms(
            "{n} раунд правок", "{n} раунда правок", "{n} раундов правок", "{n} раунда правок"
        ),
        "overdue": _forms(
            "{n} открытая задача просрочена",
            "{n} открытые задачи просрочены",
            "{n} открытых задач просрочено",
            "{n} открытой задачи просрочено",
        ),
        "exchanges_a_week": _forms(
            "{n} двусторонний обмен в неделю",
            "{n} двусторонних обмена в неделю",
            "{n} двусторонних обменов в неделю",
            "{n} двустороннего обмена в неделю",
        ),
        "per_week": {"other": "{n} в неделю"},
        "exchanges": _forms(
            "{n} двусторонний обмен",
            "{n} двусторонних обмена",
            "{n} двусторонних обменов",
            "{n} двустороннего обмена",
        ),
        "noise": {"other": "{n} × обычный разброс"},
        "weeks": _forms("{n} неделя", "{n} недели", "{n} недель", "{n} недели"),
        "days": _forms("{n} день", "{n} дня", "{n} дней", "{n} дня"),
        "business_days": _forms(
            "{n} рабочий день", "{n} рабочих дня", "{n} рабочих дней", "{n} рабочего дня"
        ),
        "times": _forms("{n} раз", "{n} раза", "{n} раз", "{n} раза"),
        "contacts": _forms("{n} контакта", "{n} контактов", "{n} контактов", "{n} контакта"),
        "senior": _forms(
            "{n} контакт из руководства на связи",
            "{n} контакта из руководства на связи",
            "{n} контактов из руководства на связи",
            "{n} контакта из руководства на связи",
        ),
        "days_overdue": _forms(
            "{n} день после срока",
            "{n} дня после срока",
            "{n} дней после срока",
            "{n} дня после срока",
        ),
        "billing_months": {"other": "{n} × обычная месячная сумма счетов"},
        "nps_score": {"other": "{n} из 10"},
        "answers": _forms("{n} ответ", "{n} ответа", "{n} ответов", "{n} ответа"),
        "promoters": _forms("{n} промоутер", "{n} промоутера", "{n} промоутеров", "{n} промоутера"),
        "passives": _forms("{n} пассивный", "{n} пассивных", "{n} пассивных", "{n} пассивного"),
        "detractors": _forms("{n} критик", "{n} критика", "{n} критиков", "{n} критика"),
    },
}


def unit(language: str, kind: str, number: float) -> str:
    """A figure with its unit (`3 tasks`, `3 задачі`, `5 задач`), in the plural form for it."""
    written = i18n.decimal(number, language)
    return i18n.plural(language, UNITS[language][kind], number).format(n=written)


def _figure(value: Any, kind: str, language: str, currency: str | None) -> str:
    """One figure as the language writes it, with its unit."""
    if kind == "text":
        return str(value)
    if kind == "people":
        return ", ".join(person(who) for who in value)
    if kind == "day":
        return i18n.day(date.fromisoformat(value), language)
    if kind == "month":
        return i18n.month(date.fromisoformat(value), language)
    if kind == "money":
        if currency is None:
            raise ValueError("an amount without its currency")
        return i18n.money(value, currency, language)
    if kind == "signed":
        return i18n.signed(value, language)
    if kind == "stage":
        return _sentence(language, f"stage:{value}")
    number = int(value) if float(value).is_integer() else float(value)
    if kind == "count":
        return i18n.decimal(number, language)
    return unit(language, kind, number)


def person(who: Mapping[str, str | None]) -> str:
    """Someone the models found by address ({address, name, title}: intermediate.
    client_conflicts.copied_people) as a reader knows them: "Name (title)", the name alone
    without a title, else the address; not escaped (the caller escapes for its medium)."""
    shown = who.get("name") or who["address"]
    title = who.get("title")
    return f"{shown} ({title})" if title else shown


def _sentence(language: str, key: str) -> str:
    return SENTENCES[language if language in SENTENCES else "en"][key]


def _render(key: str, values: Mapping[str, Any], language: str, currency: str | None) -> str:
    fields = FIELDS.get(key, {})
    currency = values.get("currency") or currency  # an invoice's own currency
    if any(values.get(name) is None for name in fields if name != "name"):
        return _sentence(language, "no_data")
    figures = {
        name: _figure(values[name], kind, language, currency)
        for name, kind in fields.items()
        if values.get(name) is not None
    }
    if key == "renewal_lost" and values.get("name") is None:
        figures["name"] = _sentence(language, "deal").format(deal_id=values["deal_id"])
    if key == "contact_fall":
        away = values.get("away_weeks") or 0
        figures["away"] = _render("manager_away", values, language, currency) if away else ""
    if key == "open_conflict":
        copied = values.get("copied")
        figures["copied"] = _render("conflict_copied", values, language, currency) if copied else ""
    return _sentence(language, key).format(**figures)


def sentence(key: str, language: str, **values: Any) -> str:
    """A catalog sentence in `language` with its figures written out (dates and months as
    ISO strings, an amount with its `currency` among the values); names are passed through
    as they are: the caller escapes them."""
    return _render(key, values, language, None)


def render_evidence(evidence: str | None, language: str, currency: str) -> str:
    """The evidence (JSON from the models) as a sentence in `language`; "" without any.
    A plain string is a week built before the evidence was JSON, shown as it was."""
    if evidence is None:
        return ""
    try:
        values = json.loads(evidence)
    except json.JSONDecodeError:
        return evidence
    key = values["key"]
    if key in LISTS:
        name, item = LISTS[key]
        return "; ".join(_render(item, v, language, currency) for v in values[name])
    return _render(key, values, language, currency)
