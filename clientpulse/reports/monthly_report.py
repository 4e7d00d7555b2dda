"""The monthly client report in Plan-Do-Check-Act form (docs/domain.md §3), in the client's
language: Plan (due this month, milestones), Do (delivered last month, on time or not),
Check (reply figures, slips announced and silent, revision rounds: weak spots named),
Hypotheses (being tested, confirmed, refuted, or tested without a recorded verdict),
Act (dates moved and new tasks, with their reasons).

Every figure is a column of marts.client_monthly_plan / _delivered / _check / _hypotheses /
_changes;
this module selects one client's rows (every query is filtered by its id) and formats
them with Babel for the language. HTML is rendered with autoescaping.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import duckdb
from babel.dates import format_date
from babel.numbers import format_decimal, format_percent

from clientpulse.config import AgencyConfig, Client
from clientpulse.reports.client_status import MAX_ITEMS, render_email
from clientpulse.reports.i18n import STRINGS

# the weekly email's texts the monthly report says the same way (clientpulse/reports/i18n.py);
# its own are the catalog's `monthly_` keys
SHARED = (
    "greeting",
    "due",
    "no_due",
    "no_reason",
    "task_in_project",
    "and_more",
    "next_reply",
    "signature",
)


def monthly_texts(language: str) -> dict[str, str]:
    """The report's words in `language`, by their keys without `monthly_`."""
    strings = STRINGS[language]
    own = {k.removeprefix("monthly_"): v for k, v in strings.items() if k.startswith("monthly_")}
    return {**{k: strings[k] for k in SHARED}, **own}


def _day(day: date | None, lang: str) -> str:
    return format_date(day, "d MMMM yyyy", locale=lang) if day else ""


def month_label(month_start: date, lang: str) -> str:
    """A month as the client's language names it ("листопад 2026")."""
    return format_date(month_start, "LLLL yyyy", locale=lang)


def _share(value: float, lang: str) -> str:
    return format_percent(value, locale=lang)


def _labelled(t: dict[str, str], rows: list[tuple]) -> list[str]:
    """Task names (the first column), with the project (the second) where two rows of
    different projects share a name."""
    projects: dict[str, set] = {}
    for row in rows:
        projects.setdefault(row[0], set()).add(row[1])
    return [
        t["task_in_project"].format(task=r[0], project=r[1])
        if len(projects[r[0]]) > 1 and r[1]
        else r[0]
        for r in rows
    ]


def _section(t: dict[str, str], title: str, entries: list[dict], total: int, empty: str) -> dict:
    more = total - len(entries)
    return {
        "title": title,
        "entries": entries,
        "more": t["and_more"].format(count=more) if more > 0 else "",
        "empty": empty,
    }


def _plan(con, client: Client, t, lang, month: str) -> dict:
    rows = con.execute(
        """SELECT task_name, project_name, due_on, milestone, status, count(*) OVER ()
           FROM marts.client_monthly_plan WHERE client_id = ?
           ORDER BY due_on NULLS LAST, task_name, task_gid LIMIT ?""",
        [client.id, MAX_ITEMS],
    ).fetchall()
    entries = []
    for name, (_, _, due, milestone, status, _) in zip(_labelled(t, rows), rows, strict=True):
        notes = [t["due"].format(date=_day(due, lang)) if due else t["no_due"]]
        if milestone:
            notes.insert(0, t["milestone"])
        if status in ("overdue", "not_started"):
            notes.append(t[status])
        entries.append({"name": name, "note": ", ".join(notes)})
    total = rows[0][5] if rows else 0
    return _section(t, t["plan"].format(month=month), entries, total, t["nothing_planned"])


def _do(con, client: Client, t, lang, last_month: str) -> dict:
    rows = con.execute(
        """SELECT task_name, project_name, due_on, completed_on, on_time, count(*) OVER ()
           FROM marts.client_monthly_delivered WHERE client_id = ?
           ORDER BY completed_on, task_name, task_gid LIMIT ?""",
        [client.id, MAX_ITEMS],
    ).fetchall()
    entries = []
    for name, (_, _, due, done, on_time, _) in zip(_labelled(t, rows), rows, strict=True):
        if on_time is None:
            note = t["done_undated"].format(date=_day(done, lang))
        elif on_time:
            note = t["done_on_time"].format(date=_day(done, lang))
        else:
            note = t["done_late"].format(date=_day(done, lang), due=_day(due, lang))
        entries.append({"name": name, "note": note})
    total = rows[0][5] if rows else 0
    return _section(t, t["do"].format(last_month=last_month), entries, total, t["nothing_done"])


def _sla(t, lang, label: str, decided: int, achieved: int, share, hours) -> str:
    if not decided:
        return t["sla_none"].format(label=label)
    args = {"label": label, "share": _share(share, lang), "achieved": achieved, "decided": decided}
    if hours is None:
        return t["sla_no_median"].format(**args)
    return t["sla_figures"].format(**args, hours=format_decimal(hours, locale=lang))


def _check(con, client: Client, t, lang, last_month: str) -> dict:
    row = con.execute(
        """SELECT first_reply_decided, first_reply_achieved, first_reply_compliance,
                  first_reply_median_hours, next_reply_decided, next_reply_achieved,
                  next_reply_compliance, next_reply_median_hours, completed_tasks,
                  completed_on_time, completed_late, announced_slips, silent_slips,
                  revision_rounds
           FROM marts.client_monthly_check WHERE client_id = ?""",
        [client.id],
    ).fetchone() or (0, 0, None, None, 0, 0, None, None, 0, 0, 0, 0, 0, 0)
    first = (t["first_reply"], *row[0:4])
    follow = (t["next_reply"], *row[4:8])
    completed, on_time, late, announced, silent, rounds = row[8:14]
    lines = [
        _sla(t, lang, *first),
        _sla(t, lang, *follow),
        t["delivery"].format(completed=completed, on_time=on_time, late=late),
        t["slips"].format(announced=announced, silent=silent),
        t["revisions"].format(rounds=rounds),
    ]
    weak = []
    if late:
        weak.append(t["weak_late"].format(count=late))
    if silent:
        weak.append(t["weak_silent"].format(count=silent))
    for label, decided, _, share, _ in (first, follow):
        if decided and share is not None and share < 1:
            weak.append(t["weak_replies"].format(label=label, share=_share(share, lang)))
    if rounds:
        weak.append(t["weak_revisions"].format(count=rounds))
    return {
        "title": t["check"].format(last_month=last_month),
        "lines": lines,
        "weak_title": t["weak_spots"],
        "weak": weak,
        "no_weak": t["no_weak_spots"],
    }


def _hypotheses(con, client: Client, t, lang, last_month: str) -> dict:
    """Decided ones first (confirmed, refuted, tested without a verdict), then those still
    being tested; the part stays when empty and says so, like the other three."""
    rows = con.execute(
        """SELECT task_name, project_name, state, set_on, decided_on, count(*) OVER ()
           FROM marts.client_monthly_hypotheses WHERE client_id = ?
           ORDER BY list_position(['confirmed', 'refuted', 'tested', 'testing'], state),
                    coalesce(decided_on, set_on), task_name, task_gid
           LIMIT ?""",
        [client.id, MAX_ITEMS],
    ).fetchall()
    entries = [
        {
            "name": name,
            "note": t[f"hypothesis_{state}"].format(
                set=_day(set_on, lang), date=_day(decided_on, lang)
            ),
        }
        for name, (_, _, state, set_on, decided_on, _) in zip(_labelled(t, rows), rows, strict=True)
    ]
    total = rows[0][5] if rows else 0
    title = t["hypotheses"].format(last_month=last_month)
    return _section(t, title, entries, total, t["no_hypotheses"])


def _act(con, client: Client, t, lang, last_month: str) -> dict:
    rows = con.execute(
        """SELECT task_name, project_name, change, old_due_on, new_due_on, reason,
                  count(*) OVER ()
           FROM marts.client_monthly_changes WHERE client_id = ?
           ORDER BY changed_on, change, task_name, task_gid LIMIT ?""",
        [client.id, MAX_ITEMS],
    ).fetchall()
    entries = []
    for name, (_, _, change, old, new, reason, _) in zip(_labelled(t, rows), rows, strict=True):
        if change == "date_moved":
            what = t["moved"].format(old=_day(old, lang), new=_day(new, lang))
        else:
            what = t["new_task_due"].format(date=_day(new, lang)) if new else t["new_task"]
        entries.append({"name": name, "note": what, "reason": reason or t["no_reason"]})
    total = rows[0][6] if rows else 0
    return _section(t, t["act"].format(last_month=last_month), entries, total, t["nothing_changed"])


def report_months(con: duckdb.DuckDBPyConnection, client_id: str) -> tuple[date, date] | None:
    """(month planned, month reported on) of the client's rows in the monthly marts."""
    row = con.execute(
        "SELECT month_start FROM marts.client_monthly_check WHERE client_id = ?", [client_id]
    ).fetchone()
    if row is None:
        return None
    last = row[0]
    this = date(last.year + last.month // 12, last.month % 12 + 1, 1)
    return this, last


def compose_monthly_report(
    con: duckdb.DuckDBPyConnection, config: AgencyConfig, client: Client, as_of: datetime
) -> dict[str, Any]:
    """Subject, recipients, text and HTML of one client's monthly PDCA email."""
    lang = client.language
    t = monthly_texts(lang)
    months = report_months(con, client.id)
    if months is None:
        raise LookupError(f"no monthly figures for {client.id}: build the marts first")
    month, last_month = (month_label(m, lang) for m in months)
    subject = t["subject"].format(client=client.name, month=month)
    context = {
        "language": lang,
        "subject": subject,
        "t": t,
        "intro": t["intro"].format(month=month, last_month=last_month),
        "manager": config.manager(client.account_manager).name,
        "plan": _plan(con, client, t, lang, month),
        "do": _do(con, client, t, lang, last_month),
        "check": _check(con, client, t, lang, last_month),
        "hypotheses": _hypotheses(con, client, t, lang, last_month),
        "act": _act(con, client, t, lang, last_month),
    }
    return {
        "subject": subject,
        "to": sorted(client.report_recipients),
        **render_email("client_monthly_report", context),
    }
