"""Approval before sending: the drafts a run offers to account managers, and the
decisions that come back (Airflow's human-in-the-loop operators ask; this module keeps
the outbox and the approval trail in ops.approvals).

Each draft is one decision (one client's email). The offer carries what the manager
sees — subject, recipients, the text part — and the policy's timeout: with
`auto_after_hours: N` an unanswered draft is approved by the policy after N hours and
recorded so; with `required` it waits for the manager.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from clientpulse.config import AgencyConfig
from clientpulse.pipeline.runlog import run_step
from warehouse.db import open_writer
from warehouse.outbox import APPROVE, Decision, drafts_to_offer, mark_offered, record_decision

BODY_CHARS = 6000  # what the approval shows of the text part


def offers(config: AgencyConfig, kind: str, period: str) -> list[dict[str, Any]]:
    """One approval request per draft of (kind, period) awaiting its manager."""
    with open_writer(config.warehouse.path) as con:
        drafts = drafts_to_offer(con, kind, period)
        mark_offered(con, [d.key for d in drafts])
    result = []
    for draft in drafts:
        manager = config.manager(draft.account_manager)
        hours = (
            int(draft.policy.split(":", 1)[1])
            if draft.policy.startswith("auto_after_hours:")
            else None
        )
        body = draft.text if len(draft.text) <= BODY_CHARS else draft.text[:BODY_CHARS] + "…"
        result.append(
            {
                "subject": f"Approve {draft.kind} for {draft.client_id}: {draft.subject}",
                "body": f"To: {', '.join(draft.to)}\n\n{body}",
                "offer": {
                    "key": draft.key,
                    "client_id": draft.client_id,
                    "manager_id": manager.id,
                    "manager_name": manager.name,
                    "slack_user_id": manager.slack_user_id,
                    "airflow_user": manager.airflow_user,
                    "auto_after_hours": hours,
                },
            }
        )
    return result


def record_decisions(
    config: AgencyConfig,
    run_id: str,
    offered: list[dict[str, Any]] | None,
    answers: list[dict[str, Any] | None],
    ref: str,
) -> dict[str, Any]:
    """Record the answer to each offer (same order): approved drafts become `pending`
    for the sender, rejected ones `rejected`; an offer with no answer (its approval task
    failed or was skipped) stays a draft. Who answered comes from Airflow's HITL detail
    (`responded_by_user`); an answer with none is the policy's default after the timeout.
    `offered` is None when compose or offer failed earlier in the run: nothing to record."""
    if offered is None:
        raise NothingOffered(
            "nothing was offered for approval: compose or offer failed earlier in this run "
            "(see its log), so no decision was recorded and no email of this run is sent"
        )
    approved = rejected = unanswered = 0
    with open_writer(config.warehouse.path) as con, run_step(con, run_id, "approval") as stats:
        for index, (offer, answer) in enumerate(zip(offered, answers, strict=True)):
            if not answer or not answer.get("chosen_options"):
                unanswered += 1
                continue
            user = answer.get("responded_by_user") or {}
            by_person = bool(user)
            decision = Decision(
                key=offer["offer"]["key"],
                approved=answer["chosen_options"] == [APPROVE],
                decided_by=(
                    user.get("name") or user.get("id")
                    if by_person
                    else f"policy: auto_after_hours {offer['offer']['auto_after_hours']}"
                ),
                decided_at=_instant(answer.get("responded_at")),
                via="airflow_hitl" if by_person else "hitl_timeout_default",
                ref=f"{ref}/{index}",
            )
            if record_decision(con, decision):
                approved += decision.approved
                rejected += not decision.approved
        stats.update(approved=approved, rejected=rejected, unanswered=unanswered)
    if unanswered:  # recorded what was answered; the rest stay drafts for a rerun
        raise ApprovalMissing(
            f"{unanswered} of {len(offered)} approvals got no answer (their approve task "
            "failed or was skipped): those drafts stay drafts, offered again on a rerun"
        )
    return dict(stats)


class NothingOffered(RuntimeError):
    """The run's compose or offer failed: there was nothing to approve."""


class ApprovalMissing(RuntimeError):
    """An approval task ended without an answer."""


def _instant(value: Any) -> datetime:
    if isinstance(value, datetime):
        return value
    if isinstance(value, str):
        return datetime.fromisoformat(value)
    return datetime.now(UTC)
