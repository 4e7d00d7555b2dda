"""staging.email_threads: every dated message's conversation, by JWZ threading.

Threading walks References and In-Reply-To chains message by message, which is clearer
in Python than in SQL (transforms/jwz_threads.py).
"""

from __future__ import annotations

from datetime import datetime

import duckdb

from transforms.jwz_threads import ThreadMessage, thread_messages

DEPENDS_ON = ("raw.email_messages",)


def compute(con: duckdb.DuckDBPyConnection, as_of: datetime) -> list[dict]:
    rows = con.execute(
        """SELECT message_key, message_id, in_reply_to, "references", subject, gmail_thread_id
           FROM raw.email_messages WHERE sent_at IS NOT NULL ORDER BY sent_at, message_key"""
    ).fetchall()
    threads = thread_messages(
        ThreadMessage(key, mid, irt, tuple(refs or ()), subject, thrid)
        for key, mid, irt, refs, subject, thrid in rows
    )
    return [{"message_key": k, "conversation_id": c} for k, c in threads.items()]
