"""Every DAG file imports cleanly, cheaply, and carries the settings operators rely on."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from clientpulse.orchestration import OWNER, WRITER_POOL

pytestmark = pytest.mark.airflow

DAGS_DIR = Path(__file__).resolve().parent.parent / "dags"
DAG_FILES = sorted(DAGS_DIR.glob("*.py"))
EXPECTED_DAGS = {
    "ingest_asana",
    "ingest_mailboxes",
    "ingest_crm",
    "build_signals",
    "leadership_digest",
    "client_weekly_status",
    "client_monthly_report",
    "warehouse_maintenance",
    "account_manager_alerts",
    "account_manager_feedback",
}
MANUAL_DAGS = {"account_manager_feedback"}  # triggered with conf only: no clock
# Tasks that never open the warehouse: an approval waiting for a person must not hold
# the one writer slot for days.
OUTSIDE_POOL = {"approve"}
# Modules that mean real work at parse time: the warehouse, data frames, the network.
HEAVY_MODULES = ("duckdb", "pandas", "great_expectations", "requests", "slack_sdk", "connectors")


@pytest.fixture(scope="module")
def dagbag():
    from airflow.dag_processing.dagbag import DagBag

    return DagBag(dag_folder=str(DAGS_DIR), bundle_path=DAGS_DIR.parent, bundle_name="clientpulse")


def test_every_dag_file_imports_without_errors(dagbag):
    assert dagbag.import_errors == {}
    assert set(dagbag.dag_ids) == EXPECTED_DAGS


def test_owner_retries_tags_and_writer_pool(dagbag):
    for dag_id in EXPECTED_DAGS:
        dag = dagbag.dags[dag_id]
        assert "clientpulse" in dag.tags and len(dag.tags) >= 2, dag_id
        assert dag.max_active_runs == 1, dag_id
        assert not dag.catchup, dag_id
        assert dag.doc_md, f"{dag_id} has no docs"
        for task in dag.tasks:
            assert task.owner == OWNER, task.task_id
            assert task.retries >= 1, f"{dag_id}.{task.task_id} has no retries"
            if task.task_id in OUTSIDE_POOL:
                assert task.pool != WRITER_POOL, f"{dag_id}.{task.task_id} would hold the pool"
                continue
            assert task.pool == WRITER_POOL, f"{dag_id}.{task.task_id} writes outside the pool"


def test_every_schedule_runs_on_the_agency_clock(dagbag):
    from clientpulse.orchestration import AGENCY_TIMEZONE

    for dag_id in EXPECTED_DAGS - MANUAL_DAGS:
        timetable = dagbag.dags[dag_id].timetable
        timetable = getattr(timetable, "timetable", timetable)  # asset-or-time: its clock
        assert str(timetable.timezone) == AGENCY_TIMEZONE, dag_id


def test_ingest_dags_feed_the_build_through_assets(dagbag):
    outlets = {
        dag_id: {a.uri for t in dagbag.dags[dag_id].tasks for a in t.outlets}
        for dag_id in ("ingest_asana", "ingest_mailboxes", "ingest_crm")
    }
    build = dagbag.dags["build_signals"]
    scheduled_on = {a.uri for a in build.timetable.asset_condition.objects}
    for dag_id, uris in outlets.items():
        assert uris, f"{dag_id} updates no asset"
        assert uris <= scheduled_on, f"build_signals is not scheduled on {dag_id}'s asset"


def test_alerts_run_daily_on_working_days_and_after_every_build(dagbag):
    from clientpulse.orchestration import ASSET_MARTS

    timetable = dagbag.dags["account_manager_alerts"].timetable
    assert {a.uri for a in timetable.asset_condition.objects} == {ASSET_MARTS}
    assert timetable.timetable.expression == "30 9 * * mon,tue,wed,thu,fri"
    assert type(dagbag.dags["account_manager_feedback"].timetable).__name__ == "NullTimetable"


_PROBE = """
import json, socket, sys
import airflow.sdk  # the baseline every DAG file pays anyway
before = set(sys.modules)
def refuse(*args, **kwargs):
    raise RuntimeError("network access at DAG import")
socket.socket.connect = refuse
socket.create_connection = refuse
import importlib.util
spec = importlib.util.spec_from_file_location("dag_under_test", sys.argv[1])
spec.loader.exec_module(importlib.util.module_from_spec(spec))
print(json.dumps(sorted(set(sys.modules) - before)))
"""


@pytest.mark.parametrize("dag_file", DAG_FILES, ids=[p.stem for p in DAG_FILES])
def test_dag_import_does_no_heavy_work_or_network(dag_file):
    result = subprocess.run(
        [sys.executable, "-c", _PROBE, str(dag_file)],
        capture_output=True,
        text=True,
        check=False,
        cwd=DAGS_DIR.parent,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    loaded = json.loads(result.stdout.strip().splitlines()[-1])
    heavy = [m for m in loaded if m.split(".")[0] in HEAVY_MODULES]
    assert heavy == [], f"{dag_file.name} imports {heavy} at parse time"


def test_digests_carry_a_deadline_alert_and_every_task_the_failure_alert(dagbag):
    for dag_id in ("leadership_digest", "client_weekly_status"):
        deadline = dagbag.dags[dag_id].deadline
        alerts = deadline if isinstance(deadline, list) else [deadline]
        assert [a.callback.kwargs["channel"] for a in alerts] == ["#clientpulse-ops"]
        assert [a.callback.path for a in alerts] == [
            "clientpulse.ops_alerts.digest_deadline_missed"
        ]
    for dag in dagbag.dags.values():
        for task in dag.tasks:
            callbacks = task.on_failure_callback
            callbacks = callbacks if isinstance(callbacks, list) else [callbacks]
            assert any(type(c).__name__ == "TaskFailureAlert" for c in callbacks), task
