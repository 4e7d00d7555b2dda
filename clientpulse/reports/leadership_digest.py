"""The Monday leadership digest, as Slack Block Kit.

Every string that comes from outside (client names, manager names, reasons built
from them) is escaped for mrkdwn, so a client called `<!channel>` pings nobody.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import duckdb

from clientpulse.periods import ReportWeek, report_week
from clientpulse.reports.sla_figures import SlaWeek, hours, percent, portfolio_sla_week
from connectors.slack import escape_mrkdwn
from transforms.catalog import accepted_values

MAX_AT_RISK_LISTED = 15
SECTION_TEXT_LIMIT = 3000  # Slack's limit on a section block's text


_PORTFOLIO = ("clients", "active_clients", "at_risk", "recently_lost", "open_overdue_tasks")


def _portfolio(con: duckdb.DuckDBPyConnection) -> dict[str, Any]:
    row = con.execute(
        "SELECT clients, active_clients, at_risk_clients, recently_lost_clients, "
        "open_overdue_tasks FROM marts.portfolio_health"
    ).fetchone()
    return dict(zip(_PORTFOLIO, row, strict=True))


SLA_LABELS = {"first_reply": "First replies", "next_reply": "Next replies"}


def _sla_block(week: SlaWeek) -> dict[str, Any]:
    """Last week's email SLA over all clients (marts.portfolio_sla_weekly), per metric."""
    lines = [
        f"• {SLA_LABELS[metric]}: {percent(f.compliance)} on time ({f.achieved} of {f.decided})"
        f" · median {hours(f.median_minutes)} h · P90 {hours(f.p90_minutes)} h"
        f" · {f.breached} breached · {f.pending} pending"
        for metric, f in week.figures.items()
    ]
    heading = f"*Email SLA, {week.iso_week}* (business hours on each client's calendar)"
    return {"type": "section", "text": {"type": "mrkdwn", "text": "\n".join([heading, *lines])}}


_THIS_WEEK = "(SELECT max(week_start) FROM marts.client_risk_weekly)"


def _at_risk_rows(con: duckdb.DuckDBPyConnection) -> list[tuple]:
    """This week's at-risk clients, highest score first (marts.client_risk_weekly)."""
    return con.execute(
        f"""SELECT c.client_name, c.account_manager_name, r.score, r.reasons
            FROM marts.client_risk_weekly AS r JOIN staging.cfg_clients AS c USING (client_id)
            WHERE r.at_risk AND r.week_start = {_THIS_WEEK}
            ORDER BY r.score DESC, c.client_name"""
    ).fetchall()


def _recently_lost_rows(con: duckdb.DuckDBPyConnection) -> list[tuple]:
    """Clients lost lately, with the day the relationship ended."""
    return con.execute(
        f"""SELECT c.client_name, r.lost_on
            FROM marts.client_risk_weekly AS r JOIN staging.cfg_clients AS c USING (client_id)
            WHERE r.lost_recently AND r.week_start = {_THIS_WEEK}
            ORDER BY r.lost_on DESC, c.client_name"""
    ).fetchall()


def fit_section(heading: str, items: list[str], limit: int = SECTION_TEXT_LIMIT) -> str:
    """`heading` and the comma-separated items that fit in `limit` characters, then how
    many were left out. Items must already be escaped."""
    text = heading
    for index, item in enumerate(items):
        rest = len(items) - index - 1
        tail = f" …and {rest} more" if rest else ""
        candidate = text + ("\n" if index == 0 else ", ") + item
        if len(candidate) + len(tail) > limit:
            return text + f" …and {len(items) - index} more"
        text = candidate
    return text


def _segment_blocks(con: duckdb.DuckDBPyConnection) -> list[dict[str, Any]]:
    """One section per strategy, its clients with their segment (DOMAIN §6)."""
    rows = con.execute(
        "SELECT strategy_key, strategy, client_name, segment FROM marts.client_segment "
        "ORDER BY client_name"
    ).fetchall()
    groups: dict[str | None, tuple[str, list[str]]] = {}
    for key, strategy, name, segment in rows:
        label = (strategy or "not enough data to segment").capitalize()
        entry = escape_mrkdwn(name) + (f" ({escape_mrkdwn(segment)})" if segment else "")
        groups.setdefault(key, (label, []))[1].append(entry)
    blocks: list[dict[str, Any]] = [
        {"type": "divider"},
        {
            "type": "section",
            "text": {
                "type": "mrkdwn",
                "text": "*Segments and strategies* (attractiveness / relationship)",
            },
        },
    ]
    strategies = accepted_values("marts.client_segment", "strategy_key")
    for key in (*strategies, None):  # clients without enough data come last
        if key not in groups:
            continue
        label, entries = groups[key]
        text = fit_section(f"*{escape_mrkdwn(label)}* · {len(entries)}", entries)
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": text}})
    return blocks


def compose_digest(
    con: duckdb.DuckDBPyConnection, as_of: datetime, timezone: str, period: str
) -> dict[str, Any]:
    """Build the digest message (`text` fallback plus `blocks`) from the portfolio marts,
    `marts.client_risk_weekly` and `marts.client_segment`."""
    portfolio = _portfolio(con)
    week: ReportWeek = report_week(as_of, timezone)
    sla = portfolio_sla_week(con, week)
    first_reply = sla.figures["first_reply"].compliance
    compliance = percent(first_reply) if first_reply is not None else "no data"
    local = as_of.astimezone(ZoneInfo(timezone))
    blocks: list[dict[str, Any]] = [
        {
            "type": "header",
            "text": {"type": "plain_text", "text": f"ClientPulse weekly digest · {period}"},
        },
        {
            "type": "section",
            "fields": [
                {"type": "mrkdwn", "text": f"*Clients*\n{portfolio['clients']}"},
                {
                    "type": "mrkdwn",
                    "text": f"*Open overdue tasks*\n{portfolio['open_overdue_tasks']}",
                },
                {"type": "mrkdwn", "text": f"*At risk*\n{portfolio['at_risk']}"},
                {"type": "mrkdwn", "text": f"*Lost lately*\n{portfolio['recently_lost']}"},
            ],
        },
        _sla_block(sla),
        {"type": "divider"},
    ]
    rows = _at_risk_rows(con)
    if rows:
        lines = [
            f"• *{escape_mrkdwn(name)}* ({escape_mrkdwn(manager)}) · risk {score:.0f}: "
            + "; ".join(escape_mrkdwn(r) for r in reasons)
            for name, manager, score, reasons in rows[:MAX_AT_RISK_LISTED]
        ]
        if len(rows) > MAX_AT_RISK_LISTED:
            lines.append(f"…and {len(rows) - MAX_AT_RISK_LISTED} more")
        blocks.append(
            {
                "type": "section",
                "text": {"type": "mrkdwn", "text": "*At-risk clients*\n" + "\n".join(lines)},
            }
        )
    else:
        blocks.append(
            {
                "type": "section",
                "text": {"type": "mrkdwn", "text": "*At-risk clients*\nNone this week."},
            }
        )
    lost = _recently_lost_rows(con)
    if lost:
        names = [f"{escape_mrkdwn(name)} ({lost_on:%Y-%m-%d})" for name, lost_on in lost]
        blocks.append(
            {
                "type": "section",
                "text": {"type": "mrkdwn", "text": fit_section("*Lost lately*", names)},
            }
        )
    blocks.extend(_segment_blocks(con))
    blocks.append(
        {
            "type": "context",
            "elements": [
                {
                    "type": "mrkdwn",
                    "text": f"As of {local:%Y-%m-%d %H:%M} {escape_mrkdwn(timezone)} · "
                    "SLA clocks: business hours",
                }
            ],
        }
    )
    text = (
        f"ClientPulse weekly digest {period}: {portfolio['at_risk']} of "
        f"{portfolio['active_clients']} active clients at risk, {portfolio['recently_lost']} "
        f"lost lately; first replies on time in {week.label}: {compliance}."
    )
    return {"text": text, "blocks": blocks}
