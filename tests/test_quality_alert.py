"""A failing quality gate on a deliberately broken SLA mart: digests are held back and
ops hear about it in Slack (the fake Slack server), once per failing run."""

from __future__ import annotations

import json

import pytest
import yaml

from clientpulse.config import load_config
from clientpulse.pipeline.build_signals import gate_and_alert
from clientpulse.pipeline.compose import QualityGateFailed, compose_leadership_digest
from clientpulse.pipeline.deliver import Senders, deliver
from clientpulse.pipeline.quality_alert import QUALITY_ALERT
from connectors.slack import SlackPoster
from sandbox.fake_slack import create_app
from sandbox.http_server import serving
from sandbox.slack_render import load_capture
from tests.factories import AS_OF, FIXTURE, load_small_world
from warehouse.db import open_writer

TOKEN = "xoxb-test-token"
NEGATIVE = "core.fct_email_sla: expect_column_values_to_be_between on business_minutes"
DUPLICATE = "core.fct_email_sla: expect_compound_columns_to_be_unique on inbound_message_id,metric"


def _config(tmp_path, dry_run: bool):
    raw = yaml.safe_load(FIXTURE.read_text(encoding="utf-8"))
    raw["delivery"]["dry_run"] = dry_run
    path = tmp_path / "agency.yaml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    return load_config(path)


def _refuse():
    raise AssertionError("no sender may be built here")


def _break_the_sla_mart(con) -> None:
    """A negative duration and a second measurement of the same inbound message."""
    con.execute(
        "UPDATE core.fct_email_sla SET business_minutes = -30 WHERE inbound_message_id = 'a1'"
    )
    con.execute(
        "INSERT INTO core.fct_email_sla SELECT * FROM core.fct_email_sla "
        "WHERE inbound_message_id = 'b1'"
    )


def test_a_passing_gate_queues_no_alert(tmp_path):
    config = _config(tmp_path, dry_run=False)
    with open_writer(config.warehouse.path) as con:
        load_small_world(con, config)
        assert gate_and_alert(con, config, "build-ok") == []
    assert deliver(config, Senders(_refuse, _refuse), "build-ok", [QUALITY_ALERT])["sent"] == 0


def test_failing_gate_holds_digests_and_tells_ops_once(tmp_path):
    config = _config(tmp_path, dry_run=False)
    capture = tmp_path / "slack.jsonl"
    with open_writer(config.warehouse.path) as con:
        load_small_world(con, config)
        _break_the_sla_mart(con)
        failures = gate_and_alert(con, config, "build-7")
    assert sorted(failures) == [f"{NEGATIVE} (1 unexpected)", f"{DUPLICATE} (2 unexpected)"]

    with pytest.raises(QualityGateFailed, match="business_minutes"):
        compose_leadership_digest(config, AS_OF, "digest-1")

    with serving(create_app(TOKEN, capture, channels=("ops", "leadership"))) as server:
        senders = Senders(lambda: SlackPoster.with_token(TOKEN, f"{server.base_url}/api/"), _refuse)
        assert deliver(config, senders, "alert-1", [QUALITY_ALERT])["sent"] == 1
        # the same build run again: its alert is already sent, nothing new is posted
        with open_writer(config.warehouse.path) as con:
            assert gate_and_alert(con, config, "build-7") == failures
        assert deliver(config, senders, "alert-2", [QUALITY_ALERT])["sent"] == 0

    [posted] = load_capture(capture)
    assert posted["channel_name"] == "ops"
    text = json.dumps(posted["blocks"])
    assert "expect_column_values_to_be_between on business_minutes" in text
    assert "build-7" in posted["text"]


def test_dry_run_writes_the_alert_to_a_file(tmp_path):
    config = _config(tmp_path, dry_run=True)
    with open_writer(config.warehouse.path) as con:
        load_small_world(con, config)
        _break_the_sla_mart(con)
        gate_and_alert(con, config, "build-8")
    assert deliver(config, Senders(_refuse, _refuse), "alert", [QUALITY_ALERT])["sent"] == 1
    [path] = (config.delivery.dry_run_dir / QUALITY_ALERT / "build-8").glob("*.json")
    payload = json.loads(path.read_text(encoding="utf-8"))
    assert payload["channel"] == "#ops"
    assert NEGATIVE in payload["text"]
