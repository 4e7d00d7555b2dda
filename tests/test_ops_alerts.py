"""Ops alerts reach the Slack ops channel through the Slack provider's notifier.

A tiny DAG built with the same `dag_settings()` as ClientPulse's DAGs fails under a
real `airflow dags test`; its failure callback posts to the fake Slack over HTTP. The
Deadline Alert's callback is awaited as the triggerer awaits it, with the context the
scheduler builds. (`make smoke` shows the whole path with a real scheduler and
triggerer: every digest run there misses a zero-minute deadline.)
"""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta
from pathlib import Path

import pytest

from clientpulse.ops_alerts import OpsChannel, digest_deadline, digest_deadline_missed
from clientpulse.paths import DEMO_CONFIG
from sandbox.fake_slack import create_app
from sandbox.http_server import serving
from tooling.local_airflow import LocalAirflow

pytestmark = pytest.mark.airflow

TOKEN = "xoxb-test-token"
HOSTILE = "<!channel> boom & <https://evil.test|click here>"
FAILING_DAG = """
from airflow.sdk import dag, task

from clientpulse.orchestration import dag_settings


@dag(schedule=None, **dag_settings("test"))
def failing_tiny():
    @task
    def explode():
        raise RuntimeError({hostile!r})

    explode()


failing_tiny()
"""


@pytest.fixture
def slack(tmp_path: Path):
    capture = tmp_path / "slack.jsonl"
    with serving(create_app(TOKEN, capture)) as server:
        yield f"{server.base_url}/api/", capture


def _captured(capture: Path) -> list[dict]:
    lines = capture.read_text(encoding="utf-8").splitlines() if capture.exists() else []
    return [json.loads(line) for line in lines]


def _slack_connection(url: str) -> str:
    return json.dumps({"conn_type": "slack", "password": TOKEN, "extra": {"base_url": url}})


@pytest.mark.timeout(600)
def test_a_failed_task_is_reported_to_ops_escaped(slack, tmp_path):
    url, capture = slack
    dags = tmp_path / "dags"
    dags.mkdir()
    (dags / "failing_tiny.py").write_text(FAILING_DAG.format(hostile=HOSTILE), encoding="utf-8")
    airflow = LocalAirflow(
        tmp_path / "airflow",
        DEMO_CONFIG,
        {
            "AIRFLOW__CORE__DAGS_FOLDER": str(dags),
            "AIRFLOW_CONN_CLIENTPULSE_SLACK": _slack_connection(url),
        },
    )
    airflow.prepare()
    result = airflow.airflow("dags", "test", "failing_tiny")
    assert result.returncode != 0, "the tiny DAG should fail"

    messages = _captured(capture)
    assert [m["channel_name"] for m in messages] == ["clientpulse-ops"]
    text = messages[0]["text"]
    assert "failing_tiny.explode" in text and "try 1" in text
    assert "&lt;!channel&gt; boom &amp; &lt;https://evil.test|click here&gt;" in text
    assert "<!channel>" not in text and "<https://" not in text


def test_a_late_digest_alerts_ops_from_the_deadline_callback(slack, monkeypatch):
    url, capture = slack
    monkeypatch.setenv("AIRFLOW_CONN_CLIENTPULSE_SLACK", _slack_connection(url))
    alert = digest_deadline(OpsChannel("clientpulse_slack", "#clientpulse-ops"), timedelta(hours=2))
    assert type(alert.reference).__name__ == "DagRunQueuedAtDeadline"
    assert alert.interval == timedelta(hours=2)
    assert alert.callback.path == "clientpulse.ops_alerts.digest_deadline_missed"
    # What the scheduler puts in the callback's context when the deadline passes.
    context = {
        "dag_run": {"dag_id": "leadership_digest", "dag_run_id": "scheduled__<x>&y"},
        "deadline": {"id": "d1", "deadline_time": "2026-11-16T08:00:00+00:00"},
    }
    asyncio.run(digest_deadline_missed(**alert.callback.kwargs, context=context))

    (message,) = _captured(capture)
    assert message["channel_name"] == "clientpulse-ops"
    assert "*leadership_digest* was not delivered within 120 min" in message["text"]
    assert "scheduled__&lt;x&gt;&amp;y" in message["text"]
