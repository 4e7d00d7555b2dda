"""A manager's answer to an alert, recorded through the writer pool (one DuckDB writer):
snooze a client until a date, or mark its current at-risk episode "not a risk", with who
and why. Trigger with conf, e.g.

    airflow dags trigger account_manager_feedback --conf '{"action": "snooze",
      "client": "acme", "until": "2026-12-01", "reason": "on holiday", "by": "james-carter"}'
"""

from __future__ import annotations

from airflow.sdk import Param, dag, task

from clientpulse.orchestration import WRITER_POOL, dag_settings

PARAMS = {
    "action": Param("snooze", enum=["snooze", "not_a_risk"]),
    "client": Param("", type="string"),
    "reason": Param("", type="string"),
    "by": Param("", type="string"),
    "until": Param(None, type=["null", "string"], format="date"),
}


@dag(schedule=None, params=PARAMS, **dag_settings("alerts", doc_md=__doc__))
def account_manager_feedback():
    @task(pool=WRITER_POOL)
    def record(**context) -> dict:
        from datetime import date

        from clientpulse.config import load_config
        from clientpulse.pipeline.alerts import record_feedback

        p = context["params"]
        until = date.fromisoformat(p["until"]) if p.get("until") else None
        return record_feedback(load_config(), p["action"], p["client"], p["reason"], p["by"], until)

    record()


account_manager_feedback()
