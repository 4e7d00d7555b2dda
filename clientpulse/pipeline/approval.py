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
from warehouse.db import open_writer
from warehouse.outbox import APPROVE, Decision, drafts_to_offer, mark_offered, record_decision
from warehouse.runlog import run_step

BODY_CHARS = 6000  # what the approval shows of the text part
FIRST_CHARS = 600  # what the manager's DM gets of it (it shows the first lines)
DRAFTS_PER_DM = 24  # two blocks a draft, two more a message: Slack's 50-block limit


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
        client = next((c for c in config.clients if c.id == draft.client_id), None)
        result.append(
            {
                "subject": f"Approve {draft.kind} for {draft.client_id}: {draft.subject}",
                "body": f"To: {', '.join(draft.to)}\n\n{body}",
                "offer": {
                    "key": draft.key,
                    "client_id": draft.client_id,
                    "client_name": client.name if client else draft.client_id,
                    "email_subject": draft.subject,
                    "language": client.language if client else "en",
                    "first_lines": draft.text[:FIRST_CHARS],
                    "manager_id": manager.id,
                    "manager_name": manager.name,
                    "slack_user_id": manager.slack_user_id,
                    "airflow_user": manager.approver,
                    "auto_after_hours": hours,
                },
            }
        )
    return result


def _via(by_person: bool, given: dict[str, Any]) -> str:
    """How an answer came: Slack (through the listener), Airflow's own page or REST API,
    or the policy's default when nobody answered in time."""
    if not by_person:
        return "hitl_timeout_default"
    return "slack" if given.get("via") == "slack" else "airflow_hitl"


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
    A reject's reason (given in Slack's modal) comes as `params_input.reason`, and an answer
    given from Slack says so in `params_input.via` (the trail's `via`: `slack`).
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
            given = answer.get("params_input") or {}
            decision = Decision(
                key=offer["offer"]["key"],
                approved=answer["chosen_options"] == [APPROVE],
                decided_by=(
                    user.get("name") or user.get("id")
                    if by_person
                    else f"policy: auto_after_hours {offer['offer']['auto_after_hours']}"
                ),
                decided_at=_instant(answer.get("responded_at")),
                via=_via(by_person, given),
                ref=f"{ref}/{index}",
                reason=given.get("reason") or None,
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


def approval_dms(
    config: AgencyConfig,
    dag_id: str,
    run_id: str,
    offered: list[dict[str, Any]],
    ui_base_url: str,
) -> list[tuple[str, str, list[dict[str, Any]]]]:
    """One Slack DM per manager listing the run's drafts for them, in their language:
    (Slack user id, fallback text, blocks). Each draft's buttons answer the approval
    task's map index (its place in `offered`); its link opens Airflow's page for it."""
    from urllib.parse import quote

    from clientpulse.slack_listener.blocks import approval_dm

    mine: dict[str, list[dict[str, Any]]] = {}
    for index, item in enumerate(offered):
        offer = item["offer"]
        if not offer.get("slack_user_id"):
            continue
        link = (
            f"{ui_base_url.rstrip('/')}/dags/{dag_id}/runs/{quote(run_id, safe='')}"
            f"/tasks/approve/required_actions?map_index={index}"
        )
        draft = {
            "map_index": index,
            "client_id": offer["client_id"],
            "client_name": offer["client_name"],
            "subject": offer["email_subject"],
            "language": offer["language"],
            "text": offer["first_lines"],
            "manager_id": offer["manager_id"],
            "link": link,
        }
        mine.setdefault(offer["manager_id"], []).append(draft)
    dms = []
    for manager_id, drafts in mine.items():
        manager = config.manager(manager_id)
        for start in range(0, len(drafts), DRAFTS_PER_DM):
            chunk = drafts[start : start + DRAFTS_PER_DM]
            text, blocks = approval_dm(manager.language, dag_id, run_id, chunk)
            dms.append((str(manager.slack_user_id), text, blocks))
    return dms


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
