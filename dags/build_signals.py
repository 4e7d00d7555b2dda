"""Transforms, quality gate and analyst snapshot.

Runs when any ingest DAG updates its asset, and daily at 06:00 agency time so
time-based signals (overdue tasks, days since contact) move even on a quiet day.
"""

from __future__ import annotations

from airflow.sdk import Asset, AssetOrTimeSchedule, CronTriggerTimetable, dag, task

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


@dag(schedule=schedule, **dag_settings("build", doc_md=__doc__))
def build_signals():
    @task(pool=WRITER_POOL, outlets=[Asset(ASSET_MARTS)])
    def build(**context) -> dict:
        from clientpulse.config import load_config
        from clientpulse.pipeline.build_signals import build_signals as build_all

        return build_all(load_config(), as_of(context), run_id(context))

    build()


build_signals()
