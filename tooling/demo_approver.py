"""Answer a local one-off run's approvals as a named demo manager (`make demo`).

`airflow dags test` parks each approval task in AWAITING_INPUT and waits for an answer
from outside, as a real run waits for the manager. A one-off local run has nobody to
ask, so this process answers for them — through the same code as Airflow's REST
endpoint (`PATCH …/taskInstances/{task_id}/{map_index}/hitlDetails`, called in-process
against the run's metadata DB, with Airflow's own auth manager checking who may
answer). An approval assigned to a user (every client email's is: its account
manager's Airflow user) is answered as that user — the demo's managers are fictional —
and one assigned to nobody as the user named on the command line, so the trail in
ops.approvals says who approved: a demo manager, not a person.

Run with the same environment as the `dags test` it answers (AIRFLOW_HOME, …); it stops
when no approval of the DAG is left waiting and the DAG run has finished, or at
--timeout.
"""

from __future__ import annotations

import argparse
import functools
import sys
import time
from dataclasses import dataclass


@dataclass(frozen=True)
class DemoUser:
    """The auth manager's user interface that the HITL endpoint reads."""

    name: str

    def get_id(self) -> str:
        return self.name

    def get_name(self) -> str:
        return self.name


@functools.cache
def _auth_manager_ready() -> None:
    """Initialise Airflow's auth manager once per process (the api-server does it at start)."""
    from airflow.api_fastapi.app import init_auth_manager

    init_auth_manager()


def answer_waiting(dag_id: str, user: DemoUser, reject_clients: set[str]) -> list[str]:
    """Answer every approval of `dag_id` waiting now, each as the user it is assigned to
    (`user` when it names none); return what was answered."""
    from airflow.api_fastapi.core_api.datamodels.hitl import UpdateHITLDetailPayload
    from airflow.api_fastapi.core_api.routes.public.hitl import update_hitl_detail
    from airflow.models.hitl import HITLDetail
    from airflow.models.taskinstance import TaskInstance
    from airflow.utils.session import create_session
    from airflow.utils.state import TaskInstanceState
    from sqlalchemy import select

    answered = []
    with create_session() as session:
        rows = session.execute(
            select(
                TaskInstance.run_id,
                TaskInstance.task_id,
                TaskInstance.map_index,
                HITLDetail.subject,
                HITLDetail.assignees,
            )
            .join(HITLDetail, HITLDetail.ti_id == TaskInstance.id)
            .where(
                TaskInstance.dag_id == dag_id,
                TaskInstance.state == TaskInstanceState.AWAITING_INPUT,
                HITLDetail.responded_at.is_(None),
            )
        ).all()
    if rows:  # the endpoint asks the auth manager whether the user is an assignee
        _auth_manager_ready()
    for run_id, task_id, map_index, subject, assignees in rows:
        reject = any(f" for {client}:" in subject for client in reject_clients)
        option = "Reject" if reject else "Approve"
        answerer = DemoUser(assignees[0]["id"]) if assignees else user
        with create_session() as session:
            update_hitl_detail(
                dag_id=dag_id,
                dag_run_id=run_id,
                task_id=task_id,
                update_hitl_detail_payload=UpdateHITLDetailPayload(chosen_options=[option]),
                user=answerer,
                session=session,
                map_index=map_index,
            )
        answered.append(f"{answerer.name}: {option}: {subject}")
    return answered


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--dag-id", required=True)
    parser.add_argument(
        "--as-user", required=True, help="who answers an approval assigned to nobody"
    )
    parser.add_argument("--reject-client", action="append", default=[])
    parser.add_argument("--timeout", type=float, default=600)
    parser.add_argument("--quiet-seconds", type=float, default=20)
    args = parser.parse_args(argv)
    user = DemoUser(args.as_user)
    deadline = time.monotonic() + args.timeout
    last_activity = time.monotonic()
    while time.monotonic() < deadline:
        for line in answer_waiting(args.dag_id, user, set(args.reject_client)):
            print(f"  {line}", flush=True)
            last_activity = time.monotonic()
        if time.monotonic() - last_activity > args.quiet_seconds and _run_finished(args.dag_id):
            return 0
        time.sleep(1)
    return 1


def _run_finished(dag_id: str) -> bool:
    from airflow.models.dagrun import DagRun
    from airflow.utils.session import create_session
    from airflow.utils.state import DagRunState
    from sqlalchemy import select

    with create_session() as session:
        states = session.scalars(select(DagRun.state).where(DagRun.dag_id == dag_id)).all()
    return bool(states) and DagRunState.RUNNING not in states


if __name__ == "__main__":
    sys.exit(main())
