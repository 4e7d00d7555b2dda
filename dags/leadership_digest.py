"""Monday-morning leadership digest to Slack: portfolio SLA, at-risk clients and why.

Sent at most once per ISO week and channel, whatever reruns happen.
"""

from __future__ import annotations

from airflow.sdk import CronTriggerTimetable, dag, task

from clientpulse.orchestration import AGENCY_TIMEZONE, WRITER_POOL, as_of, dag_settings, run_id


@dag(
    schedule=CronTriggerTimetable("0 8 * * 1", timezone=AGENCY_TIMEZONE),
    **dag_settings("digest", "slack", doc_md=__doc__, digest=True),
)
def leadership_digest():
    @task(pool=WRITER_POOL)
    def compose(**context) -> dict:
        from clientpulse.config import load_config
        from clientpulse.pipeline.compose import compose_leadership_digest

        return compose_leadership_digest(load_config(), as_of(context), run_id(context))

    @task(pool=WRITER_POOL)
    def send(**context) -> dict:
        from clientpulse.config import load_config
        from clientpulse.pipeline.compose import DIGEST_KINDS
        from clientpulse.pipeline.deliver import deliver
        from clientpulse_connections import senders

        config = load_config()
        return deliver(config, senders(config), run_id(context), DIGEST_KINDS)

    compose() >> send()


leadership_digest()
