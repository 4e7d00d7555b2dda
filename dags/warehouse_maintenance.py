"""Warehouse upkeep, daily at 03:30 agency time (before the 06:00 build): retention for
the ops tables (ages in `warehouse.retention`; outbox keys are never deleted, so no
digest is sent twice), a CHECKPOINT, and the file's size and growth since the last
upkeep in the task's result and in ops.runs. See the runbook in docs/operations.md."""

from __future__ import annotations

from airflow.sdk import CronTriggerTimetable, dag, task

from clientpulse.orchestration import AGENCY_TIMEZONE, WRITER_POOL, as_of, dag_settings, run_id


@dag(
    schedule=CronTriggerTimetable("30 3 * * *", timezone=AGENCY_TIMEZONE),
    **dag_settings("maintenance", doc_md=__doc__),
)
def warehouse_maintenance():
    @task(pool=WRITER_POOL)
    def upkeep(**context) -> dict:
        from clientpulse.config import load_config
        from clientpulse.pipeline.maintenance import maintain

        return maintain(load_config(), as_of(context), run_id(context))

    upkeep()


warehouse_maintenance()
