"""Weekly status email to each client: their own tasks and reply times, in their language.

Sent at most once per client and ISO week, whatever reruns happen.
"""

from __future__ import annotations

from airflow.sdk import CronTriggerTimetable, dag, task

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

    @task(pool=WRITER_POOL)
    def send(**context) -> dict:
        from clientpulse.config import load_config
        from clientpulse.pipeline.compose import CLIENT_WEEKLY_STATUS
        from clientpulse.pipeline.deliver import deliver
        from clientpulse_connections import senders

        config = load_config()
        return deliver(config, senders(config), run_id(context), [CLIENT_WEEKLY_STATUS])

    compose() >> send()


client_weekly_status()
