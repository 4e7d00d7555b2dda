"""Conversations from Message-ID / In-Reply-To / References, after Jamie Zawinski's
threading algorithm (https://www.jwz.org/doc/threading.html).

Only the reference links build threads: JWZ's last step (gathering roots by subject) is
left out on purpose, because unrelated mail often shares a subject ("Invoice"), and a
subject changed mid-thread stays in its thread anyway. A provider's thread id (Gmail's
X-GM-THRID) is a hint only: it places a reply that lost its reference headers (its
subject starts with a reply prefix) in the one thread the provider put it with.

At agency scale (millions of messages) the work is split by what each side does well:
DuckDB turns ids into integers, builds each message's reference chain and applies the
provider hint, set-based; Python only walks the chains in message order (JWZ's links
are order-dependent: the first parent a container gets stays, unless the message itself
names another), on integers streamed in chunks, so no per-message Python objects are
kept. The working tables are temporary and dropped once the result (temporary table
`jwz_threads`) is made.
"""

from __future__ import annotations

from array import array
from collections.abc import Iterable
from dataclasses import dataclass
from itertools import pairwise

import duckdb
import numpy as np
import pandas as pd

# Python's re and DuckDB's RE2 read this the same way.
REPLY_PREFIX = r"(?i)^\s*(re|aw|sv|відп|отв|ответ)\s*(\[\d+\])?\s*:"
_CHUNK_VECTORS = 256  # × 2048 rows per fetched chunk


@dataclass(frozen=True)
class ThreadMessage:
    key: str
    message_id: str | None
    in_reply_to: str | None = None
    references: tuple[str, ...] = ()
    subject: str | None = None
    provider_thread_id: str | None = None


def _link(parents: array, parent: int, child: int, *, override: bool) -> None:
    node = parent
    while node:  # linking under its own descendant would make a loop
        if node == child:
            return
        node = parents[node]
    if override or not parents[child]:
        parents[child] = parent


def _walk_chains(con: duckdb.DuckDBPyConnection, containers: int) -> array:
    """Container → parent (0: none), from the chains in message order (JWZ step 1).

    Container ids run from 1 to `containers`, so the links are a flat array of 8 bytes a
    container (a dict of them held ~10× that at the peak of a large build)."""
    parents = array("q", bytes(8 * (containers + 1)))
    result = con.execute("SELECT seq, own, ref FROM jwz_chains ORDER BY seq, pos")
    current, own, chain = None, 0, []
    while True:
        chunk = result.fetch_df_chunk(_CHUNK_VECTORS)
        if chunk.empty:
            break
        for seq, this, ref in zip(
            chunk["seq"].tolist(), chunk["own"].tolist(), chunk["ref"].tolist(), strict=True
        ):
            if seq != current:
                if chain:
                    _link_message(parents, own, chain)
                current, own, chain = seq, this, []
            chain.append(ref)
    if chain:
        _link_message(parents, own, chain)
    return parents


def _link_message(parents: array, own: int, chain: list[int]) -> None:
    for parent, child in pairwise(chain):
        _link(parents, parent, child, override=False)
    _link(parents, chain[-1], own, override=True)


def _root_links(parents: array) -> pd.DataFrame:
    """(node, root) for each linked container, each path walked once."""
    roots = array("q", bytes(8 * len(parents)))
    linked = np.flatnonzero(np.frombuffer(parents, dtype=np.int64))
    for start in linked.tolist():
        path, node = [], start
        while parents[node] and not roots[node]:
            path.append(node)
            node = parents[node]
        root = roots[node] or node
        for item in path:
            roots[item] = root
    return pd.DataFrame({"node": linked, "root": np.frombuffer(roots, dtype=np.int64)[linked]})


def thread_relation(con: duckdb.DuckDBPyConnection, source: str) -> duckdb.DuckDBPyRelation:
    """(message_key, conversation_id) for the messages `source` selects.

    `source` is a SELECT of key, message_id, in_reply_to, "references", subject,
    provider_thread_id and seq (the processing order: by date, then key). The
    conversation id is the Message-ID at the root of the thread; it stays the same when
    a missing ancestor arrives later, because a referenced but unseen message already
    holds its place. A duplicated Message-ID keeps its later messages apart (`id#key`).
    """
    con.execute(  # a duplicated id: the first message by seq keeps it (a group, not a sort)
        f"""CREATE OR REPLACE TEMP TABLE jwz_messages AS
            WITH based AS (
                SELECT *, coalesce(nullif(message_id, ''), '<' || key || '>') AS base
                FROM ({source})
            ),
            firsts AS (
                SELECT base, min(seq) AS first_seq FROM based GROUP BY base HAVING count(*) > 1
            )
            SELECT b.seq, b.key, b.in_reply_to, b."references", b.provider_thread_id,
                   CASE WHEN f.first_seq < b.seq THEN b.base || '#' || b.key
                        ELSE b.base END AS ident,
                   len(coalesce(b."references", [])) = 0
                   AND coalesce(b.in_reply_to, '') = ''
                   AND coalesce(b.provider_thread_id, '') <> ''
                   AND regexp_matches(coalesce(b.subject, ''), '{REPLY_PREFIX}') AS orphan
            FROM based AS b LEFT JOIN firsts AS f USING (base)"""
    )
    # Each message's chain: References in order (first mention), then In-Reply-To if
    # not among them, never the message itself.
    con.execute(
        """CREATE OR REPLACE TEMP TABLE jwz_refs AS
           SELECT seq, ident, ref, min(pos) AS pos FROM (
               SELECT seq, ident, unnest("references") AS ref,
                      generate_subscripts("references", 1) AS pos
               FROM jwz_messages
               UNION ALL
               SELECT seq, ident, in_reply_to, 2147483647 FROM jwz_messages
           )
           WHERE coalesce(ref, '') <> '' AND ref <> ident
           GROUP BY ALL"""
    )
    # Working tables are dropped (or narrowed) as soon as read: at 2M messages each
    # holds hundreds of MB.
    con.execute('ALTER TABLE jwz_messages DROP COLUMN "references"')
    con.execute("ALTER TABLE jwz_messages DROP COLUMN in_reply_to")
    con.execute(
        """CREATE OR REPLACE TEMP TABLE jwz_ids AS
           SELECT name, CAST(row_number() OVER () AS BIGINT) AS id
           FROM (SELECT ident AS name FROM jwz_messages UNION SELECT ref FROM jwz_refs)"""
    )
    con.execute(
        """CREATE OR REPLACE TEMP TABLE jwz_chains AS
           SELECT r.seq, o.id AS own, i.id AS ref, r.pos
           FROM jwz_refs AS r
           JOIN jwz_ids AS o ON o.name = r.ident
           JOIN jwz_ids AS i ON i.name = r.ref"""
    )
    con.execute("DROP TABLE jwz_refs")
    containers = con.execute("SELECT count(*) FROM jwz_ids").fetchone()[0]
    jwz_links = _root_links(_walk_chains(con, containers))  # read by the SQL below
    con.execute("CREATE OR REPLACE TEMP TABLE jwz_links AS SELECT * FROM jwz_links")
    del jwz_links
    con.execute(
        """CREATE OR REPLACE TEMP TABLE jwz_threads AS
            WITH threaded AS (
                SELECT m.*, coalesce(l.root, o.id) AS root
                FROM jwz_messages AS m
                JOIN jwz_ids AS o ON o.name = m.ident
                LEFT JOIN jwz_links AS l ON l.node = o.id
            ),
            hinted AS (  -- the threads each provider id points to, orphans aside
                SELECT provider_thread_id, min(root) AS root
                FROM threaded
                WHERE NOT orphan AND coalesce(provider_thread_id, '') <> ''
                GROUP BY ALL
                HAVING count(DISTINCT root) = 1
            ),
            moved AS (  -- an orphan's thread (its replies too) joins that one thread
                SELECT t.root AS from_root, arg_max(h.root, t.seq) AS to_root
                FROM threaded AS t
                JOIN hinted AS h USING (provider_thread_id)
                WHERE t.orphan
                GROUP BY ALL
            )
            SELECT t.key AS message_key, i.name AS conversation_id
            FROM threaded AS t
            LEFT JOIN moved AS v ON v.from_root = t.root
            JOIN jwz_ids AS i ON i.id = coalesce(v.to_root, t.root)"""
    )
    for table in ("jwz_messages", "jwz_ids", "jwz_chains", "jwz_links"):
        con.execute(f"DROP TABLE {table}")  # temporary tables hold memory until dropped
    return con.sql("SELECT message_key, conversation_id FROM jwz_threads")


def thread_messages(messages: Iterable[ThreadMessage]) -> dict[str, str]:
    """Message key → conversation id, for messages given in processing order."""
    con = duckdb.connect()
    try:
        con.execute(
            """CREATE TABLE given (key VARCHAR, message_id VARCHAR, in_reply_to VARCHAR,
                   "references" VARCHAR[], subject VARCHAR, provider_thread_id VARCHAR,
                   seq BIGINT)"""
        )
        con.executemany(
            "INSERT INTO given VALUES (?, ?, ?, ?, ?, ?, ?)",
            [
                [
                    m.key,
                    m.message_id,
                    m.in_reply_to,
                    list(m.references),
                    m.subject,
                    m.provider_thread_id,
                    seq,
                ]
                for seq, m in enumerate(messages)
            ],
        )
        return dict(thread_relation(con, "SELECT * FROM given").fetchall())
    finally:
        con.close()
