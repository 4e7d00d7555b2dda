"""Approval before sending through Airflow's human-in-the-loop operators: one decision
per client email; each account manager gets one Slack DM per run listing their drafts
with Approve / Reject buttons (answered through the Slack listener) and a link to each.

`ClientEmailApproval` is a `HITLOperator` with the options Approve / Reject, mapped over
the drafts a run offers (`clientpulse.pipeline.approval.offers`); each mapped instance
takes its draft's subject, body, respondent and the policy's timeout. A manager answers
in the UI (Browse → Required Actions) or over the REST API:
`PATCH /api/v2/dags/{dag_id}/dagRuns/{run_id}/taskInstances/approve/{map_index}/hitlDetails`
with `{"chosen_options": ["Approve"]}` (or `["Reject"]`).
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from airflow.providers.standard.operators.hitl import HITLOperator

# The options offered; warehouse.outbox.APPROVE / REJECT say the same (imported lazily:
# DAG files parse this module and must not load the warehouse).
APPROVE, REJECT = "Approve", "Reject"
log = logging.getLogger(__name__)


def _ui_base_url() -> str:
    """Airflow's public URL (`[api] base_url`, AIRFLOW__API__BASE_URL): set it in
    production so the link opens the real UI; unset (one-off local runs) a local one."""
    from airflow.configuration import conf

    return conf.get("api", "base_url", fallback=None) or "http://localhost:8080"


def post_approval_dms(config: Any, dag_id: str, run_id: str, offered: list[dict]) -> int:
    """One DM per manager listing the run's drafts with Approve / Reject (answered by the
    Slack listener, clientpulse.slack_listener); return how many were posted. A DM that
    cannot be posted blocks nothing: the approvals stay open on Airflow's page."""
    from clientpulse.pipeline.approval import approval_dms
    from clientpulse_connections import slack_poster

    posted = 0
    try:
        dms = approval_dms(config, dag_id, run_id, offered, _ui_base_url())
        poster = slack_poster(config) if dms else None
    except Exception:
        log.exception("no approval DMs for %s/%s", dag_id, run_id)
        return 0
    for user, text, blocks in dms:
        try:
            poster.post(user, text, blocks)
            posted += 1
        except Exception:
            log.exception("could not DM %s the approvals of %s/%s", user, dag_id, run_id)
    return posted


class ClientEmailApproval(HITLOperator):
    """Approve or reject one client email draft (`offer` from approval.offers)."""

    def __init__(self, *, offer: dict[str, Any], **kwargs: Any) -> None:
        hours = offer.get("auto_after_hours")
        user = offer.get("airflow_user")
        super().__init__(
            options=[APPROVE, REJECT],
            defaults=[APPROVE] if hours else None,
            response_timeout=timedelta(hours=hours) if hours else None,
            assigned_users=[{"id": user, "name": user}] if user else None,
            **kwargs,
        )
        self.offer = offer


def approve_and_send(kind: str, composed: Any) -> None:
    """The tasks after `composed` (a compose task's output, with its `period`) in a
    client-email DAG: offer → approve (one mapped ClientEmailApproval per draft) →
    record the decisions (whatever the approvals' states) → send what was approved;
    `run_failed` fails the run if any of them failed."""
    from airflow.sdk import task

    from clientpulse.orchestration import WRITER_POOL, run_id

    @task(pool=WRITER_POOL)
    def offer(composed: dict, **context) -> list[dict]:
        from clientpulse.config import load_config
        from clientpulse.pipeline.approval import offers

        config = load_config()
        offered = offers(config, kind, composed["period"])
        post_approval_dms(config, context["dag"].dag_id, context["run_id"], offered)
        return offered

    @task(pool=WRITER_POOL, trigger_rule="all_done")
    def record(offered: list[dict], **context) -> dict:
        from clientpulse.config import load_config
        from clientpulse.pipeline.approval import record_decisions

        ti = context["ti"]
        answers = [
            ti.xcom_pull(task_ids="approve", map_indexes=index)
            for index in range(len(offered or ()))
        ]
        ref = f"{context['dag'].dag_id}/{context['run_id']}/approve"
        return record_decisions(load_config(), run_id(context), offered, answers, ref)

    @task(pool=WRITER_POOL, trigger_rule="all_done")
    def send(**context) -> dict:
        from clientpulse.config import load_config
        from clientpulse.pipeline.deliver import deliver
        from clientpulse_connections import senders

        config = load_config()
        return deliver(config, senders(config), run_id(context), [kind])

    @task(pool=WRITER_POOL, trigger_rule="one_failed")
    def run_failed() -> None:
        """Fails the run when any task before it failed: `send` runs whatever happened
        (it delivers what earlier runs approved), and a run is judged by its last tasks."""
        raise RuntimeError(
            f"{kind}: a task of this run failed (compose, offer, an approval or record; "
            "see its log); what it did not do is said there, and nothing unapproved is sent"
        )

    offered = offer(composed)
    approvals = ClientEmailApproval.partial(task_id="approve").expand_kwargs(offered)
    recorded = record(offered)
    sent = send()
    approvals >> recorded >> sent
    [composed, offered, approvals, recorded, sent] >> run_failed()
