"""The outbox: each delivery is rendered once, keyed by (kind, channel, client,
recipient, period), so two clients reporting to one address get a message each.

A client email starts as a `draft` (or `held`, never offered, when it failed its
checks) and becomes `pending` when its account manager approves it, or `rejected`
(never sent); `ops.approvals` keeps who decided, when and how (the approval trail).
States: `pending` → `sending` → `sent`; `failed` when the send broke off before the
receiver could have accepted it (retried next run); `unknown` when it broke off after
(or the run died mid-send): whether it arrived is unknown, so ops checks instead of
it being sent again — at most once beats twice for a message to a client. A pending
or failed delivery older than the configured age is `expired`: last week's report
does not go out with this week's unless someone re-sends it on purpose. Ops is told
once about each `unknown` and `expired` delivery (`alerted_at`).

To send one delivery again on purpose, `python -m tooling.resend` releases
it: its sent-log row is kept in `ops.resend_log` and the outbox entry is cleared, so
the next run of its DAG for that period renders and sends it afresh.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import duckdb

from warehouse.db import transaction


@dataclass(frozen=True)
class Delivery:
    kind: str
    channel: str  # 'slack' | 'email'
    recipient: str
    period: str
    payload: dict[str, Any]
    client_id: str | None = None

    @property
    def key(self) -> str:
        return f"{self.kind}|{self.channel}|{self.client_id or '-'}|{self.recipient}|{self.period}"


def enqueue(con: duckdb.DuckDBPyConnection, delivery: Delivery) -> bool:
    """Add a delivery unless one with the same key exists; return whether it was added."""
    row = con.execute(
        """INSERT INTO ops.outbox (delivery_key, kind, channel, recipient, period, client_id,
                                   payload, status, created_at, updated_at)
           VALUES (?, ?, ?, ?, ?, ?, ?, 'pending', now(), now())
           ON CONFLICT (delivery_key) DO NOTHING
           RETURNING delivery_key""",
        [
            delivery.key,
            delivery.kind,
            delivery.channel,
            delivery.recipient,
            delivery.period,
            delivery.client_id,
            json.dumps(delivery.payload, ensure_ascii=False),
        ],
    ).fetchone()
    return row is not None


@dataclass(frozen=True)
class OutboxItem:
    key: str
    kind: str
    channel: str
    recipient: str
    period: str
    payload: dict[str, Any]
    client_id: str | None = None


def claim_pending(con: duckdb.DuckDBPyConnection, max_age: timedelta) -> list[OutboxItem]:
    """Flag interrupted sends as `unknown` and deliveries older than `max_age` as
    `expired`, then return what is ready to send."""
    con.execute(
        "UPDATE ops.outbox SET status = 'unknown', updated_at = now(), "
        "last_error = 'interrupted while sending; check the recipient before re-sending' "
        "WHERE status = 'sending'"
    )
    con.execute(
        "UPDATE ops.outbox SET status = 'expired', updated_at = now(), "
        "last_error = concat('not sent within ', ?, ' of being composed',"
        "  coalesce(' (last error: ' || last_error || ')', '')) "
        "WHERE status IN ('pending', 'failed') AND created_at < now() - to_seconds(?)",
        [f"{max_age.total_seconds() / 86400:g} day(s)", max_age.total_seconds()],
    )
    rows = con.execute(
        "SELECT delivery_key, kind, channel, recipient, period, payload, client_id "
        "FROM ops.outbox WHERE status IN ('pending', 'failed') ORDER BY created_at, delivery_key"
    ).fetchall()
    return [OutboxItem(r[0], r[1], r[2], r[3], r[4], json.loads(r[5]), r[6]) for r in rows]


def mark_sending(con: duckdb.DuckDBPyConnection, key: str) -> None:
    con.execute(
        "UPDATE ops.outbox SET status = 'sending', attempts = attempts + 1, updated_at = now() "
        "WHERE delivery_key = ?",
        [key],
    )


def mark_sent(
    con: duckdb.DuckDBPyConnection, item: OutboxItem, provider_ref: str | None, dry_run: bool
) -> None:
    con.execute("BEGIN TRANSACTION")
    con.execute(
        "UPDATE ops.outbox SET status = 'sent', last_error = NULL, updated_at = now() "
        "WHERE delivery_key = ?",
        [item.key],
    )
    con.execute(
        """INSERT INTO ops.sent_log (delivery_key, kind, channel, recipient, period, sent_at,
                                     provider_ref, dry_run)
           VALUES (?, ?, ?, ?, ?, now(), ?, ?)""",
        [item.key, item.kind, item.channel, item.recipient, item.period, provider_ref, dry_run],
    )
    con.execute("COMMIT")


def mark_failed(con: duckdb.DuckDBPyConnection, key: str, error: str, *, unknown: bool) -> None:
    """A send raised: `unknown` when it may have reached the receiver, else `failed`."""
    con.execute(
        "UPDATE ops.outbox SET status = ?, last_error = ?, updated_at = now() "
        "WHERE delivery_key = ?",
        ["unknown" if unknown else "failed", error[:1000], key],
    )


@dataclass(frozen=True)
class Unresolved:
    """A delivery ops must look at: `unknown` (did it arrive?), `expired` (resend?) or
    `held` (never offered: what it lacks is in `last_error`)."""

    key: str
    status: str
    last_error: str | None


def unalerted(con: duckdb.DuckDBPyConnection, alert_kind: str) -> list[Unresolved]:
    """`unknown`, `expired` and `held` deliveries ops has not been told about, except
    the alerts themselves (`alert_kind`): an alert about an alert would never end."""
    rows = con.execute(
        "SELECT delivery_key, status, last_error FROM ops.outbox "
        "WHERE status IN ('unknown', 'expired', 'held') AND alerted_at IS NULL AND kind <> ? "
        "ORDER BY delivery_key",
        [alert_kind],
    ).fetchall()
    return [Unresolved(*r) for r in rows]


def mark_alerted(con: duckdb.DuckDBPyConnection, keys: list[str]) -> None:
    con.execute(
        "UPDATE ops.outbox SET alerted_at = now() WHERE list_contains(?, delivery_key)", [keys]
    )


def release_for_resend(
    con: duckdb.DuckDBPyConnection,
    kind: str,
    period: str,
    reason: str,
    recipient: str | None = None,
) -> list[str]:
    """Clear the outbox entries of (kind, period[, recipient]), keeping what was sent in
    `ops.resend_log`; return their keys. Nothing matches: nothing changes."""
    match = "kind = ? AND period = ?" + (" AND recipient = ?" if recipient else "")
    params = [kind, period, *([recipient] if recipient else [])]
    with transaction(con):
        keys = [
            r[0]
            for r in con.execute(
                f"SELECT delivery_key FROM ops.outbox WHERE {match} ORDER BY 1", params
            ).fetchall()
        ]
        for key in keys:
            con.execute(
                """INSERT INTO ops.resend_log (delivery_key, requested_at, reason,
                       previous_status, previous_sent_at, previous_provider_ref)
                   SELECT o.delivery_key, now(), ?, o.status, s.sent_at, s.provider_ref
                   FROM ops.outbox o LEFT JOIN ops.sent_log s USING (delivery_key)
                   WHERE o.delivery_key = ?""",
                [reason, key],
            )
            con.execute("DELETE FROM ops.sent_log WHERE delivery_key = ?", [key])
            con.execute("DELETE FROM ops.outbox WHERE delivery_key = ?", [key])
            # a re-sent client email is a new draft: its manager approves it again
            con.execute("DELETE FROM ops.approvals WHERE delivery_key = ?", [key])
    return keys


# Approval before sending: client emails are drafts until their manager decides.

APPROVE, REJECT = "Approve", "Reject"  # the options offered (Airflow HITL)


@dataclass(frozen=True)
class Draft:
    """A draft offered to its manager: what Airflow's approval task shows."""

    key: str
    kind: str
    period: str
    client_id: str | None
    account_manager: str
    policy: str
    subject: str
    to: list[str]
    text: str


def enqueue_draft(
    con: duckdb.DuckDBPyConnection,
    delivery: Delivery,
    account_manager: str,
    policy: str,
    problems: list[str],
) -> bool:
    """Add a client email as a `draft` awaiting its manager (`held`, never offered, when
    it has problems; `pending` at once when the policy is `auto`, recorded as such);
    return whether it was added. An existing key is left as it is: a rerun neither
    offers nor sends anything twice."""
    with transaction(con):
        if not enqueue(con, delivery):
            return False
        status = "held" if problems else ("pending" if policy == "auto" else "draft")
        con.execute(
            "UPDATE ops.outbox SET status = ?, last_error = ? WHERE delivery_key = ?",
            [status, "; ".join(problems) or None, delivery.key],
        )
        auto = status == "pending"
        con.execute(
            """INSERT INTO ops.approvals (delivery_key, kind, period, client_id,
                   account_manager, policy, decision, decided_by, decided_at, via)
               VALUES (?, ?, ?, ?, ?, ?, ?, ?, CASE WHEN ? THEN now() END, ?)""",
            [
                delivery.key,
                delivery.kind,
                delivery.period,
                delivery.client_id,
                account_manager,
                policy,
                "approved" if auto else None,
                "policy: auto" if auto else None,
                auto,
                "policy_auto" if auto else None,
            ],
        )
    return True


def drafts_to_offer(con: duckdb.DuckDBPyConnection, kind: str, period: str) -> list[Draft]:
    """The drafts of (kind, period) still awaiting a decision, in key order."""
    rows = con.execute(
        """SELECT o.delivery_key, o.kind, o.period, o.client_id, a.account_manager, a.policy,
                  o.payload
           FROM ops.outbox o JOIN ops.approvals a USING (delivery_key)
           WHERE o.kind = ? AND o.period = ? AND o.status = 'draft' AND a.decision IS NULL
           ORDER BY o.delivery_key""",
        [kind, period],
    ).fetchall()
    drafts = []
    for key, kind_, period_, client_id, manager, policy, payload in rows:
        email = json.loads(payload)
        drafts.append(
            Draft(
                key,
                kind_,
                period_,
                client_id,
                manager,
                policy,
                email["subject"],
                email["to"],
                email["text"],
            )
        )
    return drafts


def mark_offered(con: duckdb.DuckDBPyConnection, keys: list[str]) -> None:
    con.execute(
        "UPDATE ops.approvals SET offered_at = coalesce(offered_at, now()) "
        "WHERE list_contains(?, delivery_key)",
        [keys],
    )


@dataclass(frozen=True)
class Decision:
    key: str
    approved: bool
    decided_by: str
    decided_at: Any  # datetime
    via: str
    ref: str
    reason: str | None = None  # why it was rejected, when the manager said


def record_decision(con: duckdb.DuckDBPyConnection, decision: Decision) -> bool:
    """Record a manager's decision on a draft once: approved → `pending` (the sender
    takes it), rejected → `rejected` (never sent). A draft already decided is left as it
    is; return whether this decision was recorded."""
    with transaction(con):
        row = con.execute(
            """UPDATE ops.approvals SET decision = ?, decided_by = ?, decided_at = ?, via = ?,
                   approval_ref = ?, reason = ?
               WHERE delivery_key = ? AND decision IS NULL RETURNING delivery_key""",
            [
                "approved" if decision.approved else "rejected",
                decision.decided_by,
                decision.decided_at,
                decision.via,
                decision.ref,
                decision.reason,
                decision.key,
            ],
        ).fetchone()
        if row is None:
            return False
        con.execute(
            "UPDATE ops.outbox SET status = ?, updated_at = now() "
            "WHERE delivery_key = ? AND status = 'draft'",
            ["pending" if decision.approved else "rejected", decision.key],
        )
    return True


def approval_trail(
    con: duckdb.DuckDBPyConnection, kind: str | None = None, period: str | None = None
) -> list[tuple]:
    """(delivery key, manager, policy, decision, decided by, decided at, via, outbox
    status) of each client email, optionally of one kind and period."""
    return con.execute(
        """SELECT a.delivery_key, a.account_manager, a.policy, coalesce(a.decision, '-'),
                  coalesce(a.decided_by, '-'), a.decided_at, coalesce(a.via, '-'), o.status
           FROM ops.approvals a JOIN ops.outbox o USING (delivery_key)
           WHERE (? IS NULL OR a.kind = ?) AND (? IS NULL OR a.period = ?)
           ORDER BY a.kind, a.period, a.delivery_key""",
        [kind, kind, period, period],
    ).fetchall()
