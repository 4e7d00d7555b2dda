"""staging.email_threads: every dated message's conversation, by JWZ threading.

Threading walks References and In-Reply-To chains message by message in date order
(transforms/jwz_threads.py): DuckDB prepares the chains, Python walks them as integers.
"""

from __future__ import annotations

from datetime import datetime

import duckdb

from transforms.jwz_threads import thread_relation

DEPENDS_ON = ("raw.email_messages",)


def compute(con: duckdb.DuckDBPyConnection, as_of: datetime) -> duckdb.DuckDBPyRelation:
    return thread_relation(
        con,
        # the order is numbered on the two sort keys alone, then joined back: sorting the
        # whole rows (reference lists, subjects) costs a third more
        """SELECT m.message_key AS key, m.message_id, m.in_reply_to, m."references", m.subject,
                  m.gmail_thread_id AS provider_thread_id, o.seq
           FROM raw.email_messages AS m
           JOIN (SELECT message_key, row_number() OVER (ORDER BY sent_at, message_key) AS seq
                 FROM raw.email_messages WHERE sent_at IS NOT NULL) AS o USING (message_key)""",
    )
