"""Monthly Plan-Do-Check-Act report to each active client, in their language, on the
first working day of the month (agency calendar: weekends, public holidays and days off
skipped; the schedule fires on days 1-7 and the first task lets only that day through).
Each email is a draft until the client's account manager approves it; rejected drafts
are never sent; a rerun sends nothing twice.
"""

from __future__ import annotations

from airflow.sdk import CronTriggerTimetable, dag, task
from clientpulse_approval import approve_and_send

from clientpulse.orchestration import AGENCY_TIMEZONE, WRITER_POOL, as_of, dag_settings, run_id


@dag(
    schedule=CronTriggerTimetable("0 10 1-7 * *", timezone=AGENCY_TIMEZONE),
    **dag_settings("client", "email", doc_md=__doc__),
)
def client_monthly_report():
    @task.short_circuit(pool=WRITER_POOL)
    def first_working_day(**context) -> bool:
        from clientpulse.config import load_config
        from clientpulse.periods import is_first_working_day

        agency = load_config().agency
        return is_first_working_day(
            as_of(context), agency.timezone, agency.holiday_country, agency.days_off
        )

    @task(pool=WRITER_POOL)
    def compose(**context) -> dict:
        from clientpulse.config import load_config
        from clientpulse.pipeline.compose import compose_client_monthly_reports

        return compose_client_monthly_reports(load_config(), as_of(context), run_id(context))

    composed = compose()
    first_working_day() >> composed
    approve_and_send("client_monthly_report", composed)


client_monthly_report()
