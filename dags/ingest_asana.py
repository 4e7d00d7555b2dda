"""Asana → warehouse raw layer, incremental per project. Updates the raw/asana asset, only
when the run changed the raw Asana tables (else the task is skipped: no build)."""

from __future__ import annotations

from airflow.sdk import Asset, CronTriggerTimetable, dag, task

from clientpulse.orchestration import (
    AGENCY_TIMEZONE,
    ASSET_RAW_ASANA,
    WRITER_POOL,
    dag_settings,
    run_id,
)


@dag(
    schedule=CronTriggerTimetable("15 * * * *", timezone=AGENCY_TIMEZONE),
    **dag_settings("ingest", "asana", doc_md=__doc__),
)
def ingest_asana():
    @task(pool=WRITER_POOL, outlets=[Asset(ASSET_RAW_ASANA)])
    def sync_projects(**context) -> dict:
        from airflow.sdk.exceptions import AirflowSkipException

        from clientpulse.config import load_config
        from clientpulse.pipeline.build_inputs import ingest_changed
        from clientpulse.pipeline.ingest import ingest_asana as sync
        from clientpulse_connections import asana_client

        config = load_config()
        if not config.sources.enabled("asana"):
            raise AirflowSkipException("Asana is switched off in the agency config")
        client = asana_client(config)
        result, changed = ingest_changed(
            config.warehouse.path, "asana", lambda: sync(config, client, run_id(context))
        )
        if not changed:
            raise AirflowSkipException(f"Nothing new, no asset event: {result}")
        return result

    sync_projects()


ingest_asana()
