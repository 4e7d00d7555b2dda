"""Transforms, quality gate and analyst snapshot; a failed gate alerts the ops channel.

Runs when any ingest DAG updates its asset, and daily at 06:00 agency time so
time-based signals (overdue tasks, days since contact) move even on a quiet day. A run
whose inputs equal the last successful build's does nothing; trigger with
`{"full_refresh": true}` to rebuild anyway.
"""

from __future__ import annotations

from airflow.sdk import Asset, AssetOrTimeSchedule, CronTriggerTimetable, Param, dag, task

from clientpulse.orchestration import (
    AGENCY_TIMEZONE,
    ASSET_MARTS,
    ASSET_RAW_ASANA,
    ASSET_RAW_CRM,
    ASSET_RAW_MAILBOXES,
    WRITER_POOL,
    as_of,
    dag_settings,
    run_id,
)

schedule = AssetOrTimeSchedule(
    timetable=CronTriggerTimetable("0 6 * * *", timezone=AGENCY_TIMEZONE),
    assets=(Asset(ASSET_RAW_ASANA) | Asset(ASSET_RAW_MAILBOXES) | Asset(ASSET_RAW_CRM)),
)


@dag(
    schedule=schedule,
    params={"full_refresh": Param(False, type="boolean")},
    **dag_settings("build", doc_md=__doc__),
)
def build_signals():
    @task(pool=WRITER_POOL, outlets=[Asset(ASSET_MARTS)])
    def build(**context) -> dict:
        from clientpulse.config import load_config
        from clientpulse.pipeline.build_signals import build_signals as build_all

        full_refresh = bool(context["params"]["full_refresh"])
        return build_all(load_config(), as_of(context), run_id(context), full_refresh)

    @task(pool=WRITER_POOL)
    def alert_ops(**context) -> dict:
        """Post the quality-gate alert this run queued, if any (at most once)."""
        from clientpulse.config import load_config
        from clientpulse.pipeline.deliver import deliver
        from clientpulse.pipeline.quality_alert import QUALITY_ALERT
        from clientpulse_connections import senders

        config = load_config()
        return deliver(config, senders(config), run_id(context), [QUALITY_ALERT])

    build() >> alert_ops()


build_signals()
