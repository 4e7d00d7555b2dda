"""A manager's answer to an alert, recorded through the writer pool (one DuckDB writer):
snooze a client until a date, mark its current at-risk episode "not a risk", or log that
they called the client, with who and why. The Slack listener triggers it (run id
`slack__{message ts}__{client}`: one answer per alert); by hand, trigger with conf, e.g.

    airflow dags trigger account_manager_feedback --conf '{"action": "snooze",
      "client": "acme", "until": "2026-12-01", "reason": "on holiday", "by": "james-carter"}'

The run fails (FeedbackError, nothing stored) when `by` is neither an account manager nor
the Airflow user who triggered it, or a snooze's `until` is before the run's day.
"""

from __future__ import annotations

from airflow.sdk import Param, dag, task

from clientpulse.orchestration import WRITER_POOL, dag_settings

PARAMS = {
    "action": Param("snooze", enum=["snooze", "not_a_risk", "called"]),
    "client": Param("", type="string"),
    "reason": Param("", type="string"),
    "by": Param("", type="string"),
    "until": Param(None, type=["null", "string"], format="date"),
}


@dag(schedule=None, params=PARAMS, **dag_settings("alerts", doc_md=__doc__))
def account_manager_feedback():
    @task(pool=WRITER_POOL)
    def record(**context) -> dict:
        from zoneinfo import ZoneInfo

        from clientpulse.config import load_config
        from clientpulse.pipeline.alerts import record_feedback_conf

        config = load_config()
        run = context["dag_run"]
        asked = context.get("logical_date") or run.run_after  # a triggered run: when asked
        return record_feedback_conf(
            config,
            dict(context["params"]),
            today=asked.astimezone(ZoneInfo(config.agency.timezone)).date(),
            acting_user=run.triggering_user_name,
        )

    record()


account_manager_feedback()
