"""The weekly client status email: one client's own tasks and reply times, in their language.

Reply times are last week's email SLA figures (marts.client_sla_weekly), in business hours.

The tasks come as the four lists an account manager answers every week (DOMAIN §3):
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
from clientpulse.reports.i18n import STRINGS
from clientpulse.reports.sla_figures import SlaFigures, client_sla_week, hours, percent

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


def _note(t: dict[str, str], list_name: str, row: tuple) -> str:
    """The short note after a task: its date, or the reason it is (not) on the list."""
    _, code, reason, due_on, completed_on, days_overdue = row
    if list_name == "carry_over":
        if code == "overdue":
            return t["days_late"].format(days=days_overdue)
        return t["due"].format(date=f"{due_on:%Y-%m-%d}") if due_on else t["no_due"]
    if list_name == "not_carried_over":
        if code == "done":
            return t["done_on"].format(date=f"{completed_on:%Y-%m-%d}")
        return t["cancelled_because"].format(reason=reason) if reason else t["cancelled"]
    return reason or t["no_reason"]


def _sections(
    con: duckdb.DuckDBPyConnection, client: Client, t: dict[str, str]
) -> list[dict[str, Any]]:
    """The four lists of DOMAIN §3 for this client only (marts.client_status_lists)."""
    sections = []
    for list_name in LISTS:
        rows = con.execute(
            """SELECT task_name, reason_code, reason, due_on, completed_on, days_overdue
               FROM marts.client_status_lists
               WHERE client_id = ? AND list = ?
               ORDER BY due_on NULLS LAST, task_name, task_gid LIMIT ?""",
            [client.id, list_name, MAX_ITEMS],
        ).fetchall()
        entries = [Item(row[0], _note(t, list_name, row)) for row in rows]
        sections.append({"title": t[list_name], "entries": entries})
    return sections


def _sla_line(t: dict[str, str], metric: str, figures: SlaFigures) -> str:
    if not figures.measurements:
        return t["sla_none"].format(label=t[metric])
    return t["sla_line"].format(
        label=t[metric],
        compliance=percent(figures.compliance),
        achieved=figures.achieved,
        decided=figures.decided,
        median=hours(figures.median_minutes),
        p90=hours(figures.p90_minutes),
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
    sla = client_sla_week(con, client.id, report_week(as_of, config.agency.timezone))
    subject = t["subject"].format(client=client.name, period=period)
    context = {
        "language": client.language,
        "subject": subject,
        "t": t,
        "agency": config.agency.name,
        "manager": config.manager(client.account_manager).name,
        "sections": _sections(con, client, t),
        "sla_heading": t["sla_heading"].format(week=sla.iso_week),
        "sla_lines": [_sla_line(t, metric, figures) for metric, figures in sla.figures.items()],
    }
    return {
        "subject": subject,
        "to": sorted(client.report_recipients),
        "text": _env.get_template("client_weekly_status.txt.j2").render(context),
        "html": _env.get_template("client_weekly_status.html.j2").render(context),
    }
