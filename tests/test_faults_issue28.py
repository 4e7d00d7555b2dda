"""Issue 28's faults (the second hostile probe): each is a row of the fault matrix
(tests/test_fault_matrix.py), and each test here failed before its fix."""

from __future__ import annotations

import html
import json
import os
import re
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from clientpulse.config import CONFIG_ENV, DEFAULT_RISK_FACTORS, ConfigError
from clientpulse.pipeline.alerts import (
    ACCOUNT_MANAGER_ALERTS,
    FeedbackError,
    record_feedback_conf,
)
from clientpulse.pipeline.approval import offers
from clientpulse.pipeline.build_signals import build_models, build_settings
from clientpulse.pipeline.compose import (
    CLIENT_WEEKLY_STATUS,
    DIGEST_KINDS,
    LEADERSHIP_DIGEST,
    compose_client_statuses,
    compose_leadership_digest,
)
from clientpulse.pipeline.deliver import DeliveryFailed, Senders, deliver
from clientpulse.pipeline.ingest import ingest_crm_csv, ingest_mailboxes
from clientpulse.pipeline.risk_backfill import HISTORY
from connectors.errors import ConnectorError
from connectors.mailboxes import headers as mail_headers
from connectors.mailboxes import mbox
from connectors.mailboxes.mbox import MboxRead
from connectors.slack import SlackPoster
from sandbox.fake_slack import create_app
from sandbox.http_server import serving
from sandbox.slack_render import load_capture
from tests.factories import AS_OF, load_small_world, small_config
from tests.test_fault_matrix import _built, _config, _csv_config, _quarantined
from tooling import backfill as backfill_command
from tooling.local_airflow import LocalAirflow
from transforms.catalog import catalog, checks
from transforms.runner import build
from warehouse.db import open_writer
from warehouse.outbox import Delivery, enqueue
from warehouse.quality import run_gate
from warehouse.snapshot import open_snapshot, publish_snapshot

SLACK_TOKEN = "xoxb-test-token"
SLACK_CONN = "AIRFLOW_CONN_CLIENTPULSE_SLACK"


def _slack_connection(server) -> str:
    extra = {"base_url": f"{server.base_url}/api/"}
    return json.dumps({"conn_type": "slack", "password": SLACK_TOKEN, "extra": extra})


@pytest.fixture
def world(tmp_path):
    config = small_config(tmp_path)
    with open_writer(config.warehouse.path) as con:
        load_small_world(con, config)
    return config


def _history_weeks(config) -> list[str]:
    with open_writer(config.warehouse.path) as con:
        rows = con.execute(
            "SELECT DISTINCT week_start FROM intermediate.client_risk_history ORDER BY 1"
        ).fetchall()
    return [r[0].isoformat() for r in rows]


# 1. A backfill into the future, or before any data ----------------------------------


def test_a_backfill_outside_the_data_is_refused_naming_the_weeks_it_would_accept(
    world, monkeypatch, capsys
):
    monkeypatch.setenv(CONFIG_ENV, str(world.source_path))
    before = _history_weeks(world)
    for first, last in (("2027-03-01", "2027-03-15"), ("2020-01-06", "2020-01-20")):
        assert backfill_command.main(["--from", first, "--to", last]) == 2
        err = capsys.readouterr().err
        assert "2026-10-05" in err and "2026-11-16" in err, err  # the range it accepts
    assert _history_weeks(world) == before == ["2026-11-16"]


def test_history_rows_from_the_future_are_dropped_by_the_next_build(world):
    future = datetime(2027, 3, 1, 4, 0, tzinfo=AS_OF.tzinfo)
    with open_writer(world.warehouse.path) as con:  # what an unguarded backfill wrote
        settings = build_settings(world)
        build(con, future, settings["variables"], settings["seeds"], select=[HISTORY])
    assert "2027-03-01" in _history_weeks(world)
    with open_writer(world.warehouse.path) as con:
        build_models(con, world, AS_OF)
        week = con.execute("SELECT max(week_start) FROM marts.client_risk_weekly").fetchone()[0]
        at_risk = con.execute("SELECT at_risk_clients FROM marts.portfolio_health").fetchone()
    assert _history_weeks(world) == ["2026-11-16"]
    assert week == (AS_OF - timedelta(days=AS_OF.weekday())).date()
    assert at_risk is not None


# 2. A client-email run whose compose failed -----------------------------------------


@pytest.mark.timeout(900)
def test_a_client_email_run_that_composed_nothing_fails_and_record_says_why(world, tmp_path):
    with open_writer(world.warehouse.path) as con:  # November's build, gated
        assert all(r.success for r in run_gate(con, "build-1", checks(catalog())))
    first_of_december = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)  # before December's build
    capture = tmp_path / "slack.jsonl"
    with serving(create_app(SLACK_TOKEN, capture, channels=("ops",))) as slack:
        airflow = LocalAirflow(
            tmp_path / "airflow", world.source_path, {SLACK_CONN: _slack_connection(slack)}
        )
        airflow.prepare()
        result = airflow.airflow(
            "dags", "test", "client_monthly_report", first_of_december.isoformat()
        )
    output = result.stdout + result.stderr
    assert result.returncode != 0, output[-3000:]
    assert "StaleMonthlyMarts" in output
    assert "TypeError" not in output
    assert "nothing was offered for approval" in output, output[-3000:]
    told = [json.loads(line)["text"] for line in capture.read_text().splitlines()]
    assert any("client_monthly_report.compose" in text for text in told), told
    with open_writer(world.warehouse.path) as con:
        assert con.execute("SELECT count(*) FROM ops.outbox").fetchone()[0] == 0


# 3. A UTF-8 export with one row in cp1251 ------------------------------------------


def test_a_utf8_export_with_one_cp1251_row_loads_as_utf8_and_quarantines_that_row(tmp_path):
    header = "contact_id,company_id,email,first_name,job_title\n"
    rows = ["c1,500,oleg@acme.test,Олег,Директор\n", "c2,500,ann@acme.test,Анна,CEO\n"]
    pasted = "c3,500,ivan@acme.test,Іван,Менеджер\n".encode("cp1251")  # from an old program
    data = header.encode() + rows[0].encode() + pasted + rows[1].encode()
    companies = b"company_id,name,domain\n500,Acme,acme.test\n"
    config = _csv_config(tmp_path, {"companies.csv": companies, "contacts.csv": data})
    ingest_crm_csv(config, "run-1")
    with open_writer(config.warehouse.path) as con:
        names = con.execute(
            "SELECT id, payload->>'$.properties.firstname', payload->>'$.properties.jobtitle' "
            "FROM raw.crm_objects WHERE object_type = 'contacts' ORDER BY id"
        ).fetchall()
    assert names == [("c1", "Олег", "Директор"), ("c2", "Анна", "CEO")]
    [(ref, field, reason)] = _quarantined(config, "crm_csv")
    byte = len(header.encode() + rows[0].encode()) + len("c3,500,ivan@acme.test,")
    assert (ref, field) == ("contacts.csv:3", "first_name")
    assert f"byte {byte}" in reason and "UTF-8" in reason


# 4. A client name longer than Slack takes ------------------------------------------

LONG_NAME = "Acme " + "very " * 999  # 5,000 characters: a paste accident


def test_a_name_longer_than_a_sane_one_is_refused_at_config_load(tmp_path):
    def long_client(raw):
        raw["clients"][0]["name"] = LONG_NAME

    def long_manager(raw):
        raw["account_managers"][0]["name"] = LONG_NAME

    for change in (long_client, long_manager):
        with pytest.raises(ConfigError, match=r"name.*at most 120 characters"):
            _config(tmp_path, name=change)


def test_a_digest_with_a_huge_name_is_cut_to_slacks_limits_and_posted(tmp_path):
    config = _config(tmp_path)
    managers = [m.model_copy(update={"name": LONG_NAME}) for m in config.account_managers]
    huge = config.model_copy(update={"account_managers": managers})  # queued before the cap
    _built(huge)
    compose_leadership_digest(huge, AS_OF, "run-1")
    capture = tmp_path / "slack.jsonl"
    with serving(create_app(SLACK_TOKEN, capture, channels=("ops", "leadership"))) as slack:
        poster = Senders(
            lambda: SlackPoster.with_token(SLACK_TOKEN, f"{slack.base_url}/api/"), None
        )
        assert deliver(config, poster, "run-1", DIGEST_KINDS)["sent"] == 2
    digest, chart = load_capture(capture)
    assert chart.get("files") and not digest.get("files")
    sections = [
        b["text"]["text"] for b in digest["blocks"] if b["type"] == "section" and "text" in b
    ]
    assert max(map(len, sections)) <= 3000
    assert any("Acme very very" in s and s.endswith("…") for s in sections)


def test_a_post_slack_refuses_names_the_block_and_the_client(tmp_path):
    config = _built(_config(tmp_path))
    blocks = [
        {"type": "section", "text": {"type": "mrkdwn", "text": "fine"}},
        {"type": "sparkles", "text": {"type": "mrkdwn", "text": "*Acme* · risk 80"}},
    ]
    payload = {"channel": "#leadership", "text": "digest", "blocks": blocks}
    with open_writer(config.warehouse.path) as con:
        enqueue(con, Delivery(LEADERSHIP_DIGEST, "slack", "#leadership", "2026-W47", payload))
    capture = tmp_path / "slack.jsonl"
    with serving(create_app(SLACK_TOKEN, capture, channels=("ops", "leadership"))) as slack:
        poster = Senders(
            lambda: SlackPoster.with_token(SLACK_TOKEN, f"{slack.base_url}/api/"), None
        )
        with pytest.raises(DeliveryFailed) as failed:
            deliver(config, poster, "run-1", DIGEST_KINDS)
    message = str(failed.value)
    assert "invalid_blocks" in message and "blocks/1" in message and "*Acme* · risk 80" in message


# Weak spots: recipients, approvals, re-send, config --------------------------------


def _queued_dm(config, user: str) -> None:
    payload = {"user": user, "channel": None, "text": "Acme is at risk", "blocks": None}
    with open_writer(config.warehouse.path) as con:
        enqueue(con, Delivery(ACCOUNT_MANAGER_ALERTS, "slack", "anna", "2026-W47", payload))


def _with_slack_user(user: str | None):
    def change(raw):
        raw["account_managers"][0]["slack_user_id"] = user

    return change


def test_a_queued_dm_goes_to_the_slack_user_the_config_names_at_send_time(tmp_path):
    config = _built(_config(tmp_path, user=_with_slack_user("U0WRONG01")))
    _queued_dm(config, "U0WRONG01")
    (tmp_path / "fixed").mkdir()
    fixed = _config(tmp_path / "fixed", user=_with_slack_user("U0ANNA001"))  # the fix
    fixed = fixed.model_copy(update={"warehouse": config.warehouse})
    capture = tmp_path / "slack.jsonl"
    with serving(create_app(SLACK_TOKEN, capture, channels=("ops",))) as slack:
        poster = Senders(
            lambda: SlackPoster.with_token(SLACK_TOKEN, f"{slack.base_url}/api/"), None
        )
        assert deliver(fixed, poster, "run-1", [ACCOUNT_MANAGER_ALERTS])["sent"] == 1
    assert [m["channel_name"] for m in load_capture(capture)] == ["dm-U0ANNA001"]
    with open_writer(config.warehouse.path) as con:
        [ref] = con.execute("SELECT provider_ref FROM ops.sent_log").fetchone()
    assert "U0ANNA001" in ref


def test_a_queued_dm_whose_manager_lost_the_slack_id_is_sent_to_nobody_else(tmp_path):
    config = _built(_config(tmp_path, user=_with_slack_user("U0WRONG01")))
    _queued_dm(config, "U0WRONG01")
    capture = tmp_path / "slack.jsonl"
    with serving(create_app(SLACK_TOKEN, capture, channels=("ops",))) as slack:
        poster = Senders(
            lambda: SlackPoster.with_token(SLACK_TOKEN, f"{slack.base_url}/api/"), None
        )
        (tmp_path / "bare").mkdir()
        bare = _config(tmp_path / "bare").model_copy(update={"warehouse": config.warehouse})
        with pytest.raises(DeliveryFailed, match="anna has no slack_user_id"):
            deliver(bare, poster, "run-1", [ACCOUNT_MANAGER_ALERTS])
    assert not any(m["channel_name"].startswith("dm-") for m in load_capture(capture))


def test_the_resend_command_in_the_ops_alert_is_one_that_works(tmp_path):
    config = _built(_config(tmp_path, fresh=lambda raw: raw["delivery"].update(dry_run=True)))
    compose_client_statuses(config, AS_OF, "last-week")
    with open_writer(config.warehouse.path) as con:  # it failed all last week
        con.execute("UPDATE ops.outbox SET created_at = now() - INTERVAL 8 DAY, status = 'failed'")
    deliver(config, Senders(None, None), "run-1", [CLIENT_WEEKLY_STATUS])
    [alert] = (config.delivery.dry_run_dir / "delivery_alert").rglob("*.json")
    text = json.loads(alert.read_text())["text"]
    commands = [html.unescape(c) for c in re.findall(r"`(python -m [^`]+)`", text)]
    assert len(commands) == 2, text  # one per expired email
    acme = next(c for c in commands if "ceo@acme.test" in c)
    ran = subprocess.run(  # what ops would paste, with this interpreter as `python`
        ["bash", "-c", acme.replace("python", sys.executable, 1)],
        env={**os.environ, CONFIG_ENV: str(config.source_path)},
        capture_output=True,
        text=True,
        check=False,
    )
    assert ran.returncode == 0, ran.stdout + ran.stderr
    assert "client_weekly_status|email|acme|ceo@acme.test|2026-W47" in ran.stdout
    with open_writer(config.warehouse.path) as con:
        left = con.execute("SELECT client_id, status FROM ops.outbox ORDER BY 1").fetchall()
    assert left == [("beta", "expired"), (None, "sent")]


def test_a_mention_as_slack_user_id_or_an_empty_fallback_channel_is_refused_at_load(tmp_path):
    def mention(raw):
        raw["account_managers"][0]["slack_user_id"] = "<!channel>"

    def no_channel(raw):
        raw.setdefault("alerts", {})["fallback_channel"] = ""

    for change, key in ((mention, "slack_user_id"), (no_channel, "fallback_channel")):
        with pytest.raises(ConfigError, match=key):
            _config(tmp_path, change=change)


# Approvals: never open to any Airflow user ------------------------------------------


def test_an_approval_without_a_named_approver_is_assigned_to_the_managers_airflow_user(world):
    from clientpulse_approval import ClientEmailApproval

    assert world.manager("anna").airflow_user is None  # the fixture names no approver
    with open_writer(world.warehouse.path) as con:
        assert all(r.success for r in run_gate(con, "build-1", checks(catalog())))
    compose_client_statuses(world, AS_OF, "run-1")
    offered = offers(world, CLIENT_WEEKLY_STATUS, "2026-W47")
    assert [o["offer"]["airflow_user"] for o in offered] == ["anna", "anna"]
    approval = ClientEmailApproval(
        task_id="approve", subject=offered[0]["subject"], offer=offered[0]["offer"]
    )
    assert approval.assigned_users == [{"id": "anna", "name": "anna"}]


# Config checks: one CRM company per client, a score with a weight -----------------


def test_two_clients_with_one_crm_company_are_refused_naming_both_and_the_id(tmp_path):
    def shared(raw):
        raw["clients"][1]["crm_company_id"] = raw["clients"][0]["crm_company_id"]

    with pytest.raises(ConfigError) as caught:
        _config(tmp_path, shared=shared)
    assert "clients[1] (beta).crm_company_id: '500' is also clients[0] (acme)'s" in str(
        caught.value
    )
    assert "agency.yaml" in str(caught.value)


def test_risk_weights_all_zero_are_refused_at_config_load(tmp_path):
    def weightless(raw):
        raw.setdefault("signals", {})["risk"] = {
            "factors": {name: {"weight": 0} for name in DEFAULT_RISK_FACTORS}
        }

    with pytest.raises(ConfigError, match=r"signals\.risk: factors: every weight is 0"):
        _config(tmp_path, weightless=weightless)


APPROVALS_DAG = """
from airflow.sdk import dag

from clientpulse.orchestration import dag_settings
from clientpulse_approval import ClientEmailApproval


def _offer(client, user):
    return {
        "subject": f"Approve client_weekly_status for {client}: status",
        "body": "To: ceo@" + client + ".test",
        "offer": {"key": "k-" + client, "client_id": client, "manager_id": "anna",
                  "airflow_user": user, "auto_after_hours": None, "slack_user_id": None},
    }


@dag(schedule=None, **dag_settings("test"))
def approvals_tiny():
    ClientEmailApproval.partial(task_id="approve").expand_kwargs(
        [_offer("acme", "anna"), _offer("beta", "anna"), _offer("gamma", None)]
    )


approvals_tiny()
"""


@pytest.mark.airflow
@pytest.mark.timeout(900)
def test_the_demo_approver_answers_an_approval_as_the_user_it_is_assigned_to(world, tmp_path):
    dags = tmp_path / "dags"
    dags.mkdir()
    (dags / "approvals_tiny.py").write_text(APPROVALS_DAG, encoding="utf-8")
    airflow = LocalAirflow(
        tmp_path / "airflow", world.source_path, {"AIRFLOW__CORE__DAGS_FOLDER": str(dags)}
    )
    airflow.prepare()
    run = subprocess.Popen(  # the venv's airflow, parked on the approvals
        [str(Path(sys.executable).with_name("airflow")), "dags", "test", "approvals_tiny"],
        env=airflow.env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        answered = subprocess.run(
            [
                *(sys.executable, "-m", "tooling.demo_approver", "--dag-id", "approvals_tiny"),
                *("--as-user", "demo (test)", "--reject-client", "beta", "--quiet-seconds", "3"),
            ],
            env=airflow.env,
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
        assert answered.returncode == 0, (answered.stdout + answered.stderr)[-3000:]
        assert run.wait(timeout=300) == 0
    finally:
        run.kill()
    lines = sorted(line for line in answered.stdout.splitlines() if line.startswith("  "))
    assert lines == [
        "  anna: Approve: Approve client_weekly_status for acme: status",
        "  anna: Reject: Approve client_weekly_status for beta: status",
        "  demo (test): Approve: Approve client_weekly_status for gamma: status",
    ], answered.stdout


# A snooze that ended before it was given, or given by nobody the agency knows -----


def test_a_snooze_already_over_or_by_someone_unknown_is_refused_naming_why(world):
    def stored() -> list[tuple]:
        with open_writer(world.warehouse.path) as con:
            return con.execute("SELECT action, recorded_by FROM ops.alert_feedback").fetchall()

    over = {"action": "snooze", "client": "acme", "reason": "on holiday", "by": "anna"}
    with pytest.raises(FeedbackError, match=r"snooze until 2026-11-01 is in the past"):
        record_feedback_conf(world, {**over, "until": "2026-11-01"})
    typo = {**over, "by": "jmaes", "until": "2099-01-01"}
    with pytest.raises(
        FeedbackError, match=r"by 'jmaes' is not an account manager \(known: anna\)"
    ):
        record_feedback_conf(world, typo)
    assert stored() == []
    # an admin answering from Slack names themselves, the Airflow user who asked
    record_feedback_conf(world, {**typo, "by": "boss"}, acting_user="boss")
    assert stored() == [("snooze", "boss")]


# An active client without report recipients ----------------------------------------


def test_an_active_client_without_recipients_is_held_by_name_and_ops_told(tmp_path):
    def nobody(raw):
        raw["clients"][0]["report_recipients"] = []

    config = _built(
        _config(tmp_path, nobody=nobody, dry=lambda raw: raw["delivery"].update(dry_run=True))
    )
    composed = compose_client_statuses(config, AS_OF, "run-1")
    assert (composed["enqueued"], composed["held"]) == (2, 1)
    deliver(config, Senders(None, None), "run-1", [CLIENT_WEEKLY_STATUS])
    with open_writer(config.warehouse.path) as con:
        outbox = con.execute(
            "SELECT client_id, status, last_error FROM ops.outbox WHERE client_id IS NOT NULL "
            "ORDER BY 1"
        ).fetchall()
    assert outbox[0] == ("acme", "held", "no recipients: the client's report_recipients is empty")
    assert outbox[1][:2] == ("beta", "sent")
    [alert] = (config.delivery.dry_run_dir / "delivery_alert").rglob("*.json")
    text = json.loads(alert.read_text())["text"]
    assert "`client_weekly_status|email|acme||2026-W47` was held, never offered" in text
    assert "report_recipients is empty" in text and "tooling.resend" not in text


# An mbox whose From line is followed by garbage ------------------------------------

FROM_LINE = b"From MAILER-DAEMON Mon Nov 16 10:00:00 2026\n"
GARBAGE = bytes(range(256)) * 8


def test_an_mbox_starting_with_a_from_line_then_garbage_fails_naming_the_file(tmp_path):
    path = tmp_path / "takeout.mbox"
    path.write_bytes(FROM_LINE + GARBAGE)

    def mailboxes(raw):
        raw["sources"]["mailboxes"] = {"mbox": [{"path": str(path), "mailbox": "team@x.test"}]}

    config = _config(tmp_path, mailboxes=mailboxes)
    for attempt in (1, 2):  # not skipped as "unchanged" the second time
        with pytest.raises(ConnectorError, match=rf"{path}.*no mail header after"):
            ingest_mailboxes(config, f"run-{attempt}")


def test_garbage_after_the_last_from_line_is_quarantined_naming_file_and_offset(
    tmp_path, monkeypatch
):
    good = (
        b"From ann@acme.test Mon Nov 16 10:00:00 2026\nFrom: Ann <ann@acme.test>\n"
        b"To: team@agency.test\nSubject: hi\nDate: Mon, 16 Nov 2026 10:00:00 +0000\n"
        b"Message-ID: <1@acme.test>\n\nHello\n\n"
    )
    path = tmp_path / "takeout.mbox"
    path.write_bytes(good + FROM_LINE + GARBAGE)
    read = MboxRead(path, mailbox="team@agency.test", workers=1)
    items = list(read)
    monkeypatch.setattr(mail_headers, "_native", None)  # the pure-Python path agrees
    monkeypatch.setattr(mbox, "_native", None)
    assert list(MboxRead(path, mailbox="team@agency.test", workers=1)) == items
    record, rejected = items
    assert record.message_id == "1@acme.test"
    assert (rejected.source_ref, rejected.field) == (f"{path}:{len(good)}", "headers")
    assert "no mail header after the From line" in rejected.reason
    # a message still being written (its header block cut short) is only waited for
    path.write_bytes(good + FROM_LINE + b"From: Bob <bob@acme.test>\nSubj")
    read = MboxRead(path, mailbox="team@agency.test", workers=1)
    assert len(list(read)) == 1 and read.resume_offset == len(good)


# A second reader of the snapshot in one process -------------------------------------


def test_a_reader_opened_after_a_rebuild_sees_the_new_build_beside_an_open_one(tmp_path):
    warehouse, snapshot = tmp_path / "wh.duckdb", tmp_path / "snap" / "clientpulse_snapshot.duckdb"

    def build(number: int) -> None:
        with open_writer(warehouse) as con:
            con.execute("CREATE OR REPLACE TABLE ops.build AS SELECT ? AS number", [number])
            publish_snapshot(con, warehouse, snapshot)

    def number(con) -> int:
        return con.execute("SELECT number FROM ops.build").fetchone()[0]

    build(1)
    first = open_snapshot(snapshot)  # an analyst's notebook, left open
    assert number(first) == 1
    build(2)
    second = open_snapshot(snapshot)  # a report opened in the same process
    assert (number(second), number(first)) == (2, 1)  # the open one keeps its build
    first.close()
    assert number(open_snapshot(snapshot)) == 2
    assert second.execute("SELECT current_database()").fetchone()[0] == "clientpulse_snapshot"
    with pytest.raises(FileNotFoundError, match="no snapshot at"):
        open_snapshot(tmp_path / "none.duckdb")
