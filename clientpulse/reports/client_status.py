"""The weekly client status email: one client's own tasks and reply times, in their language.

Reply times are last week's email SLA figures (marts.client_sla_weekly), in business hours,
over the client's own calendar week, the same week its task lists cover.

The tasks come as the four lists an account manager answers every week (docs/domain.md §3):
what carries over, what does not and why, what is not started and why, what is new and
why it is needed (`marts.client_status_lists`). Every query is filtered by the one
client id, so a report can hold no other client's data. HTML is rendered with
autoescaping (task names and reasons are external text).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import duckdb
from jinja2 import Environment, FileSystemLoader, select_autoescape

from clientpulse.config import AgencyConfig, Client
from clientpulse.periods import report_week
from clientpulse.reports import i18n
from clientpulse.reports.i18n import STRINGS
from clientpulse.reports.sla_figures import SlaFigures, client_sla_week

TEMPLATES = Path(__file__).resolve().parent / "templates"
MAX_ITEMS = 25

_env = Environment(
    loader=FileSystemLoader(TEMPLATES),
    autoescape=select_autoescape(enabled_extensions=("html.j2",), default=False),
    keep_trailing_newline=True,
)


@dataclass(frozen=True)
class Item:
    name: str
    note: str


LISTS = ("carry_over", "not_carried_over", "not_started", "new")


def _note(t: dict[str, str], language: str, list_name: str, row: tuple) -> str:
    """The short note after a task: its date, or the reason it is (not) on the list."""
    code, reason, due_on, completed_on, days_overdue, section = row[1:7]
    if list_name == "carry_over":
        if code == "overdue":
            return t["days_late"].format(days=days_overdue)
        return t["due"].format(date=i18n.day(due_on, language)) if due_on else t["no_due"]
    if list_name == "not_carried_over":
        if code == "done":
            return t["done_on"].format(date=i18n.day(completed_on, language))
        return t["cancelled_because"].format(reason=reason) if reason else t["cancelled"]
    if reason:
        return reason
    if list_name == "not_started" and section:
        return t["in_section"].format(section=section_name(t, section))
    return t["no_reason"]


def section_name(t: dict[str, str], section: str) -> str:
    """An Asana section's name in the client's language when it is a known one (the
    defaults of client_status.*_sections), else as the agency wrote it."""
    return t.get(f"section:{section.strip().lower()}", section)


def _label(t: dict[str, str], name: str, project: str | None, collides: bool) -> str:
    return t["task_in_project"].format(task=name, project=project) if collides and project else name


def _sections(
    con: duckdb.DuckDBPyConnection, client: Client, t: dict[str, str]
) -> list[dict[str, Any]]:
    """The four lists of docs/domain.md §3 for this client only (marts.client_status_lists), each
    cut at MAX_ITEMS with "and N more"; a task whose name another listed task of a
    different project shares is labelled with its project."""
    sections = []
    for list_name in LISTS:
        rows = con.execute(
            """WITH names AS (
                   SELECT task_name, count(DISTINCT coalesce(project_name, '')) > 1 AS collides
                   FROM marts.client_status_lists WHERE client_id = ? GROUP BY task_name)
               SELECT task_name, reason_code, reason, due_on, completed_on, days_overdue,
                      section_name, project_name, collides, count(*) OVER () AS total
               FROM marts.client_status_lists JOIN names USING (task_name)
               WHERE client_id = ? AND list = ?
               ORDER BY due_on NULLS LAST, task_name, task_gid LIMIT ?""",
            [client.id, client.id, list_name, MAX_ITEMS],
        ).fetchall()
        entries = [
            Item(_label(t, row[0], row[7], row[8]), _note(t, client.language, list_name, row))
            for row in rows
        ]
        more = rows[0][9] - len(rows) if rows else 0
        sections.append(
            {
                "title": t[list_name],
                "entries": entries,
                "more": t["and_more"].format(count=more) if more else "",
            }
        )
    return sections


def _sla_line(t: dict[str, str], language: str, metric: str, figures: SlaFigures) -> str:
    """One metric's line; a figure that cannot be given (nothing decided, no reply
    timed) is said in words, never shown as a dash."""
    if not figures.measurements:
        return t["sla_none"].format(label=t[metric])
    if figures.compliance is None:
        compliance = t["sla_none_decided"]
    else:
        compliance = t["sla_compliance"].format(
            compliance=i18n.percent(figures.compliance, language),
            achieved=figures.achieved,
            decided=figures.decided,
        )
    if figures.median_minutes is None:
        times = t["sla_no_times"]
    else:
        times = t["sla_times"].format(
            median=i18n.decimal(figures.median_minutes / 60, language),
            p90=i18n.decimal(figures.p90_minutes / 60, language),
        )
    return t["sla_line"].format(
        label=t[metric],
        compliance=compliance,
        times=times,
        breached=figures.breached,
        pending=figures.pending,
    )


def compose_client_status(
    con: duckdb.DuckDBPyConnection,
    config: AgencyConfig,
    client: Client,
    as_of: datetime,
    period: str,
) -> dict[str, Any]:
    """Subject, recipients, text and HTML of one client's weekly status email."""
    t = STRINGS[client.language]
    timezone = client.timezone or config.agency.timezone  # the client's weeks, as its task lists
    sla = client_sla_week(con, client.id, report_week(as_of, timezone))
    subject = t["subject"].format(client=client.name, period=i18n.week(period, client.language))
    context = {
        "language": client.language,
        "subject": subject,
        "t": t,
        "agency": config.agency.name,
        "manager": config.manager(client.account_manager).name,
        "sections": _sections(con, client, t),
        "sla_heading": t["sla_heading"].format(
            week=i18n.week(sla.iso_week, client.language), timezone=timezone
        ),
        "sla_lines": [
            _sla_line(t, client.language, metric, figures)
            for metric, figures in sla.figures.items()
        ],
    }
    return {
        "subject": subject,
        "to": sorted(client.report_recipients),
        **render_email("client_weekly_status", context),
    }


def render_email(template: str, context: dict[str, Any]) -> dict[str, str]:
    """The text and HTML parts of a client email from `<template>.txt.j2` / `.html.j2`
    (HTML autoescaped: task names and reasons are external text)."""
    return {
        "text": _env.get_template(f"{template}.txt.j2").render(context),
        "html": _env.get_template(f"{template}.html.j2").render(context),
    }
