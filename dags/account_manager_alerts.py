"""Account-manager alerts in Slack: one DM per manager per run, only what changed.

Daily on the agency's working days at `alerts.daily_at` (after the 06:00 build): clients
newly at risk, risk up sharply, still at risk (after the cooldown), recovered, and mail
about to breach its SLA; on `alerts.portfolio_weekday` also each manager's portfolio
view. After every build (each mailbox ingest triggers one) an asset-triggered run sends
only the early warnings. Reruns, retries and backfills send nothing again.
"""

from __future__ import annotations

from airflow.sdk import Asset, AssetOrTimeSchedule, CronTriggerTimetable, dag, task

from clientpulse.orchestration import (
    AGENCY_TIMEZONE,
    ALERTS_CRON,
    ASSET_MARTS,
    WRITER_POOL,
    as_of,
    dag_settings,
    run_id,
)

schedule = AssetOrTimeSchedule(
    timetable=CronTriggerTimetable(ALERTS_CRON, timezone=AGENCY_TIMEZONE),
    assets=[Asset(ASSET_MARTS)],
)


@dag(schedule=schedule, **dag_settings("alerts", "slack", doc_md=__doc__))
def account_manager_alerts():
    @task(pool=WRITER_POOL)
    def compose(**context) -> dict:
        from clientpulse.config import load_config
        from clientpulse.pipeline.alerts import compose_alerts

        run_type = str(context["dag_run"].run_type)
        return compose_alerts(
            load_config(),
            as_of(context),
            run_id(context),
            early_warnings_only=run_type == "asset_triggered",
            backfill=run_type == "backfill",
        )

    @task(pool=WRITER_POOL)
    def send(**context) -> dict:
        from clientpulse.config import load_config
        from clientpulse.pipeline.alerts import ACCOUNT_MANAGER_ALERTS, PORTFOLIO_VIEW
        from clientpulse.pipeline.deliver import deliver
        from clientpulse_connections import senders

        config = load_config()
        kinds = [ACCOUNT_MANAGER_ALERTS, PORTFOLIO_VIEW]
        return deliver(config, senders(config), run_id(context), kinds)

    compose() >> send()


account_manager_alerts()
