"""The Monday leadership digest, as Slack Block Kit.

Every string that comes from outside (client names, manager names, reasons built
from them) is escaped for mrkdwn, so a client called `<!channel>` pings nobody.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import duckdb

from connectors.slack import escape_mrkdwn

MAX_AT_RISK_LISTED = 15


def _portfolio(con: duckdb.DuckDBPyConnection) -> dict[str, Any]:
    row = con.execute(
        """SELECT count(*), sum(achieved), sum(achieved + breached), sum(pending),
                  sum(open_overdue_tasks), count(*) FILTER (WHERE at_risk)
           FROM marts.client_health"""
    ).fetchone()
    clients, achieved, decided, pending, overdue, at_risk = row
    return {
        "clients": clients,
        "compliance": (achieved / decided) if decided else None,
        "decided": decided or 0,
        "pending": pending or 0,
        "open_overdue_tasks": overdue or 0,
        "at_risk": at_risk,
    }


def _at_risk_rows(con: duckdb.DuckDBPyConnection) -> list[tuple]:
    return con.execute(
        """SELECT client_name, account_manager_name, risk_reasons
           FROM marts.client_health WHERE at_risk
           ORDER BY risk_severity DESC, client_name"""
    ).fetchall()


def compose_digest(
    con: duckdb.DuckDBPyConnection, as_of: datetime, timezone: str, period: str
) -> dict[str, Any]:
    """Build the digest message (`text` fallback plus `blocks`) from `marts.client_health`."""
    portfolio = _portfolio(con)
    compliance = (
        f"{portfolio['compliance']:.0%}" if portfolio["compliance"] is not None else "no data"
    )
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
                    "text": f"*First replies on time (28 days)*\n{compliance} "
                    f"of {portfolio['decided']}",
                },
                {
                    "type": "mrkdwn",
                    "text": f"*Open overdue tasks*\n{portfolio['open_overdue_tasks']}",
                },
                {"type": "mrkdwn", "text": f"*At risk*\n{portfolio['at_risk']}"},
            ],
        },
        {"type": "divider"},
    ]
    rows = _at_risk_rows(con)
    if rows:
        lines = [
            f"• *{escape_mrkdwn(name)}* ({escape_mrkdwn(manager)}): "
            + "; ".join(escape_mrkdwn(r) for r in reasons)
            for name, manager, reasons in rows[:MAX_AT_RISK_LISTED]
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
    blocks.append(
        {
            "type": "context",
            "elements": [
                {
                    "type": "mrkdwn",
                    "text": f"As of {local:%Y-%m-%d %H:%M} {escape_mrkdwn(timezone)} · "
                    "first-reply clock: calendar hours",
                }
            ],
        }
    )
    text = (
        f"ClientPulse weekly digest {period}: {portfolio['at_risk']} of {portfolio['clients']} "
        f"clients at risk; first replies on time {compliance}."
    )
    return {"text": text, "blocks": blocks}
