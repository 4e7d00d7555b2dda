"""Weekly status email to each active client: their own tasks and reply times, in their
language. Each email is a draft until the client's account manager approves it
(Airflow's Required Actions, or the HITL REST API; policy per client in the config);
rejected drafts are never sent. Sent at most once per client and ISO week, whatever
reruns happen.
"""

from __future__ import annotations

from airflow.sdk import CronTriggerTimetable, dag, task
from clientpulse_approval import approve_and_send

from clientpulse.orchestration import AGENCY_TIMEZONE, WRITER_POOL, as_of, dag_settings, run_id


@dag(
    schedule=CronTriggerTimetable("0 10 * * 1", timezone=AGENCY_TIMEZONE),
    **dag_settings("client", "email", doc_md=__doc__, digest=True),
)
def client_weekly_status():
    @task(pool=WRITER_POOL)
    def compose(**context) -> dict:
        from clientpulse.config import load_config
        from clientpulse.pipeline.compose import compose_client_statuses

        return compose_client_statuses(load_config(), as_of(context), run_id(context))

    approve_and_send("client_weekly_status", compose())


client_weekly_status()
