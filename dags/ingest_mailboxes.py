"""Mailboxes (mbox files, IMAP folders, the Gmail API, Microsoft Graph) → raw layer, headers
only. Updates raw/mailboxes, only when the run changed the raw mail tables (else the task
is skipped: no build)."""

from __future__ import annotations

from airflow.sdk import Asset, CronTriggerTimetable, dag, task

from clientpulse.orchestration import (
    AGENCY_TIMEZONE,
    ASSET_RAW_MAILBOXES,
    WRITER_POOL,
    dag_settings,
    run_id,
)


@dag(
    schedule=CronTriggerTimetable("5 * * * *", timezone=AGENCY_TIMEZONE),
    **dag_settings("ingest", "email", doc_md=__doc__),
)
def ingest_mailboxes():
    @task(pool=WRITER_POOL, outlets=[Asset(ASSET_RAW_MAILBOXES)])
    def import_mailboxes(**context) -> dict:
        from airflow.sdk.exceptions import AirflowSkipException

        from clientpulse.config import load_config
        from clientpulse.pipeline.build_inputs import ingest_changed
        from clientpulse.pipeline.ingest import ingest_mailboxes as import_all
        from clientpulse_connections import gmail_connection, graph_credentials, imap_login

        config = load_config()
        if not config.sources.enabled("mailboxes"):
            raise AirflowSkipException("Mailboxes are switched off in the agency config")
        result, changed = ingest_changed(
            config.warehouse.path,
            "email",
            lambda: import_all(
                config, run_id(context), imap_login, graph_credentials, gmail_connection
            ),
        )
        if not changed:
            raise AirflowSkipException(f"Nothing new, no asset event: {result}")
        return result

    import_mailboxes()


ingest_mailboxes()
