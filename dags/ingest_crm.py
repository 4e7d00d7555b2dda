"""CRM → warehouse raw layer: HubSpot (incremental after the first run) or a folder of CSV
exports (`sources.crm.kind`). Updates raw/crm, only when the run changed the raw CRM table
(else the task is skipped: no build)."""

from __future__ import annotations

from airflow.sdk import Asset, CronTriggerTimetable, dag, task

from clientpulse.orchestration import (
    AGENCY_TIMEZONE,
    ASSET_RAW_CRM,
    WRITER_POOL,
    dag_settings,
    run_id,
)


@dag(
    schedule=CronTriggerTimetable("35 * * * *", timezone=AGENCY_TIMEZONE),
    **dag_settings("ingest", "crm", doc_md=__doc__),
)
def ingest_crm():
    @task(pool=WRITER_POOL, outlets=[Asset(ASSET_RAW_CRM)])
    def sync_crm(**context) -> dict:
        from airflow.sdk.exceptions import AirflowSkipException

        from clientpulse.config import load_config

        config = load_config()
        if not config.sources.enabled("crm"):
            raise AirflowSkipException("The CRM is switched off in the agency config")
        from clientpulse.pipeline.build_inputs import ingest_changed

        def ingest() -> dict:
            if config.sources.crm.kind == "csv":
                from clientpulse.pipeline.ingest import ingest_crm_csv

                return ingest_crm_csv(config, run_id(context))
            from clientpulse.pipeline.ingest import ingest_crm as sync
            from clientpulse_connections import hubspot_client

            return sync(config, hubspot_client(config), run_id(context))

        result, changed = ingest_changed(config.warehouse.path, "crm", ingest)
        if not changed:
            raise AirflowSkipException(f"Nothing new, no asset event: {result}")
        return result

    sync_crm()


ingest_crm()
