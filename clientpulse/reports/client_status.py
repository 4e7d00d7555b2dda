"""The weekly client status email: one client's own tasks and reply times, in their language.

Every query is filtered by the one client id, so a report can hold no other client's
data. HTML is rendered with autoescaping (task names are external text).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import duckdb
from jinja2 import Environment, FileSystemLoader, select_autoescape

from clientpulse.config import AgencyConfig, Client
from clientpulse.periods import previous_week_bounds
from clientpulse.reports.i18n import STRINGS

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


def _local_today(con: duckdb.DuckDBPyConnection, client_id: str) -> date:
    return con.execute(
        "SELECT CAST(timezone(timezone, getvariable('as_of')) AS DATE) "
        "FROM staging.cfg_clients WHERE client_id = ?",
        [client_id],
    ).fetchone()[0]


def _sections(
    con: duckdb.DuckDBPyConnection, client: Client, as_of: datetime, tz: str, t: dict[str, str]
) -> list[dict[str, Any]]:
    week_start, week_end = previous_week_bounds(as_of, tz)
    con.execute("SET VARIABLE as_of = ?::TIMESTAMPTZ", [as_of])
    today = _local_today(con, client.id)
    completed = con.execute(
        """SELECT task_name, completed_at FROM staging.asana_tasks
           WHERE client_id = ? AND completed AND completed_at >= ? AND completed_at < ?
           ORDER BY completed_at LIMIT ?""",
        [client.id, week_start, week_end, MAX_ITEMS],
    ).fetchall()
    overdue = con.execute(
        """SELECT task_name, due_on FROM staging.asana_tasks
           WHERE client_id = ? AND NOT completed AND due_on < ? AND created_at <= ?
           ORDER BY due_on LIMIT ?""",
        [client.id, today, as_of, MAX_ITEMS],
    ).fetchall()
    due_next = con.execute(
        """SELECT task_name, due_on FROM staging.asana_tasks
           WHERE client_id = ? AND NOT completed AND due_on >= ? AND due_on < ? + 7
             AND created_at <= ?
           ORDER BY due_on LIMIT ?""",
        [client.id, today, today, as_of, MAX_ITEMS],
    ).fetchall()
    return [
        {
            "title": t["completed"],
            "entries": [Item(n, f"{at.astimezone(ZoneInfo(tz)):%Y-%m-%d}") for n, at in completed],
        },
        {
            "title": t["overdue"],
            "entries": [Item(n, t["days_late"].format(days=(today - d).days)) for n, d in overdue],
        },
        {
            "title": t["due_next"],
            "entries": [Item(n, t["due"].format(date=f"{d:%Y-%m-%d}")) for n, d in due_next],
        },
    ]


def compose_client_status(
    con: duckdb.DuckDBPyConnection,
    config: AgencyConfig,
    client: Client,
    as_of: datetime,
    period: str,
) -> dict[str, Any]:
    """Subject, recipients, text and HTML of one client's weekly status email."""
    t = STRINGS[client.language]
    tz = client.timezone or config.agency.timezone
    median = con.execute(
        "SELECT median_first_reply_hours FROM marts.client_health WHERE client_id = ?", [client.id]
    ).fetchone()
    replies = (
        t["replies"].format(median=median[0])
        if median and median[0] is not None
        else t["no_replies"]
    )
    subject = t["subject"].format(client=client.name, period=period)
    context = {
        "language": client.language,
        "subject": subject,
        "t": t,
        "agency": config.agency.name,
        "manager": config.manager(client.account_manager).name,
        "sections": _sections(con, client, as_of, tz, t),
        "replies": replies,
    }
    return {
        "subject": subject,
        "to": sorted(client.report_recipients),
        "text": _env.get_template("client_weekly_status.txt.j2").render(context),
        "html": _env.get_template("client_weekly_status.html.j2").render(context),
    }
