"""Inputs of the email SLA models that are clearer in Python than in SQL: the JWZ
threads of all dated mail and every client's business-hours calendar."""

from __future__ import annotations

from datetime import datetime, timedelta

import duckdb

from clientpulse.business_calendar import Calendar
from clientpulse.config import AgencyConfig
from transforms.jwz_threads import ThreadMessage, thread_messages
from warehouse.db import transaction
from warehouse.load import replace_all


def load_email_sla_inputs(
    con: duckdb.DuckDBPyConnection, config: AgencyConfig, as_of: datetime
) -> dict[str, int]:
    """Replace `staging.email_threads` and `staging.cfg_business_hours` (one transaction)."""
    rows = con.execute(
        """SELECT message_key, message_id, in_reply_to, "references", subject, gmail_thread_id
           FROM raw.email_messages WHERE sent_at IS NOT NULL ORDER BY sent_at, message_key"""
    ).fetchall()
    threads = thread_messages(
        ThreadMessage(key, mid, irt, tuple(refs or ()), subject, thrid)
        for key, mid, irt, refs, subject, thrid in rows
    )
    earliest = con.execute("SELECT min(sent_at) FROM raw.email_messages").fetchone()[0]
    first = (min(earliest, as_of) if earliest else as_of).date() - timedelta(days=1)
    last = as_of.date() + timedelta(days=1)
    hours = [
        {"client_id": client.id, "local_day": day, "opens_at": opens, "closes_at": closes}
        for client in config.clients
        for day, opens, closes in Calendar.for_client(config, client).open_intervals(first, last)
    ]
    with transaction(con):
        replace_all(
            con,
            "staging.email_threads",
            [{"message_key": k, "conversation_id": c} for k, c in threads.items()],
        )
        replace_all(con, "staging.cfg_business_hours", hours)
    return {"threaded_messages": len(threads), "business_days": len(hours)}
