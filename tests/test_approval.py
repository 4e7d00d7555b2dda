"""Approval before sending: client emails wait as drafts for their account manager; an
approved draft is sent once, a rejected one never; the trail says who decided and when."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from clientpulse.config import load_config
from clientpulse.pipeline.approval import offers, record_decisions
from clientpulse.pipeline.build_signals import model_variables
from clientpulse.pipeline.compose import (
    CLIENT_MONTHLY_REPORT,
    compose_client_monthly_reports,
    email_problems,
)
from clientpulse.pipeline.config_seeds import config_seeds
from clientpulse.pipeline.deliver import Senders, deliver
from tests.factories import AS_OF, load_small_world, small_config
from transforms.catalog import catalog, checks
from transforms.runner import build
from warehouse.db import open_writer
from warehouse.outbox import approval_trail
from warehouse.quality import run_gate

pytestmark = pytest.mark.airflow


def _refuse():
    raise AssertionError("dry-run must not build a real sender")


def _ready(config):
    with open_writer(config.warehouse.path) as con:
        load_small_world(con, config)
        build(con, AS_OF, model_variables(config), config_seeds(config))
        assert all(r.success for r in run_gate(con, "build-1", checks(catalog())))


@pytest.fixture
def config(tmp_path):
    config = small_config(tmp_path)
    _ready(config)
    return config


def _sent(config):
    return sorted(p.parent.name for p in config.delivery.dry_run_dir.rglob("*.eml"))


def test_drafts_wait_approved_is_sent_once_rejected_never(config):
    composed = compose_client_monthly_reports(config, AS_OF, "run-1")
    assert composed["period"] == "2026-11" and composed["enqueued"] == 2
    # nothing leaves before a decision
    assert deliver(config, Senders(_refuse, _refuse), "run-1", [CLIENT_MONTHLY_REPORT])["sent"] == 0
    offered = offers(config, CLIENT_MONTHLY_REPORT, "2026-11")
    assert [o["offer"]["client_id"] for o in offered] == ["acme", "beta"]
    assert offered[1]["subject"].endswith("Бета Груп: звіт за місяць, листопад 2026")
    assert offered[1]["body"].startswith("To: director@beta.test\n\nДобрий день!")
    at = datetime(2026, 11, 16, 9, 30, tzinfo=UTC)
    answers = [
        {
            "chosen_options": ["Approve"],
            "responded_by_user": {"id": "anna", "name": "Anna"},
            "responded_at": at.isoformat(),
        },
        {
            "chosen_options": ["Reject"],
            "responded_by_user": {"id": "anna", "name": "Anna"},
            "responded_at": at.isoformat(),
            "params_input": {"via": "slack", "reason": "wrong figures for October"},
        },
    ]
    recorded = record_decisions(config, "run-1", offered, answers, "dag/run/approve")
    with open_writer(config.warehouse.path) as con:
        reasons = con.execute(
            "SELECT client_id, decision, reason FROM ops.approvals ORDER BY client_id"
        ).fetchall()
    assert reasons == [
        ("acme", "approved", None),
        ("beta", "rejected", "wrong figures for October"),
    ]
    assert (recorded["approved"], recorded["rejected"]) == (1, 1)
    assert deliver(config, Senders(_refuse, _refuse), "run-1", [CLIENT_MONTHLY_REPORT])["sent"] == 1
    assert _sent(config) == ["acme"]
    # a rerun composes, offers and sends nothing again; a late answer changes nothing
    again = compose_client_monthly_reports(config, AS_OF, "run-2")
    assert (again["enqueued"], again["already_queued"]) == (0, 2)
    assert offers(config, CLIENT_MONTHLY_REPORT, "2026-11") == []
    assert record_decisions(config, "run-2", offered, answers[::-1], "x")["approved"] == 0
    assert deliver(config, Senders(_refuse, _refuse), "run-2", [CLIENT_MONTHLY_REPORT])["sent"] == 0
    assert _sent(config) == ["acme"]
    with open_writer(config.warehouse.path) as con:
        trail = approval_trail(con, CLIENT_MONTHLY_REPORT, "2026-11")
    assert [(r[1], r[2], r[3], r[4], r[6], r[7]) for r in trail] == [
        ("anna", "required", "approved", "Anna", "airflow_hitl", "sent"),
        ("anna", "required", "rejected", "Anna", "slack", "rejected"),  # a click in Slack
    ]
    assert trail[0][5] == at


def test_policy_auto_sends_without_asking_and_says_so(tmp_path):
    small_config(tmp_path)
    path = tmp_path / "agency.yaml"
    raw = path.read_text(encoding="utf-8")
    beta_auto = raw.replace("    stage: prospect\n", "    stage: prospect\n    approval: auto\n")
    path.write_text(beta_auto)
    raw = path.read_text(encoding="utf-8")
    path.write_text(
        raw.replace("    language: en\n", "    language: en\n    approval: {auto_after_hours: 4}\n")
    )
    config = load_config(path)
    _ready(config)
    compose_client_monthly_reports(config, AS_OF, "run-1")
    offered = offers(config, CLIENT_MONTHLY_REPORT, "2026-11")
    # beta (auto) is not offered; acme is, with the policy's timeout
    assert [(o["offer"]["client_id"], o["offer"]["auto_after_hours"]) for o in offered] == [
        ("acme", 4)
    ]
    # the timeout's default answer has no person: the trail names the policy
    timeout = [
        {
            "chosen_options": ["Approve"],
            "responded_by_user": None,
            "responded_at": AS_OF.isoformat(),
        }
    ]
    record_decisions(config, "run-1", offered, timeout, "dag/run/approve")
    deliver(config, Senders(_refuse, _refuse), "run-1", [CLIENT_MONTHLY_REPORT])
    assert _sent(config) == ["acme", "beta"]
    with open_writer(config.warehouse.path) as con:
        trail = {r[0].split("|")[2]: r for r in approval_trail(con)}
    assert trail["beta"][2:5] == ("auto", "approved", "policy: auto")
    assert trail["acme"][2:5] == ("auto_after_hours:4", "approved", "policy: auto_after_hours 4")
    assert trail["acme"][6] == "hitl_timeout_default"


def test_a_draft_with_problems_is_held_not_offered():
    assert email_problems({"to": [], "subject": "s", "text": "t", "html": "h"}) == [
        "no recipients: the client's report_recipients is empty"
    ]
    assert email_problems({"to": ["a@b.test"], "subject": " ", "text": "t", "html": "h"}) == [
        "empty subject"
    ]


def test_an_unanswered_approval_fails_the_run_and_is_offered_again(config):
    from clientpulse.pipeline.approval import ApprovalMissing

    compose_client_monthly_reports(config, AS_OF, "run-1")
    offered = offers(config, CLIENT_MONTHLY_REPORT, "2026-11")
    approve = {"chosen_options": ["Approve"], "responded_by_user": {"id": "anna"}}
    with pytest.raises(ApprovalMissing, match="1 of 2 approvals got no answer"):
        record_decisions(config, "run-1", offered, [approve, None], "ref")
    again = offers(config, CLIENT_MONTHLY_REPORT, "2026-11")
    assert [o["offer"]["client_id"] for o in again] == ["beta"]


def test_one_dm_per_manager_lists_the_runs_drafts_escaped_in_their_language(tmp_path):
    from clientpulse.pipeline.approval import approval_dms

    small_config(tmp_path)
    path = tmp_path / "agency.yaml"
    raw = path.read_text(encoding="utf-8")
    path.write_text(
        raw.replace(
            "email: anna@agency.test}",
            "email: anna@agency.test, slack_user_id: U0ANNA0001, language: uk}",
        )
    )
    config = load_config(path)
    _ready(config)
    compose_client_monthly_reports(config, AS_OF, "run-1")
    offered = offers(config, CLIENT_MONTHLY_REPORT, "2026-11")
    run = "scheduled__2026-12-01T07:00:00+00:00"
    [(user, text, blocks)] = approval_dms(
        config, "client_monthly_report", run, offered, "http://af/"
    )
    assert user == "U0ANNA0001"
    assert text == "Листи клієнтам чекають на ваше схвалення (2)"
    sections = [b["text"]["text"] for b in blocks if b["type"] == "section"]
    assert sections[0].startswith("*Acme &lt;!channel&gt;* · ")
    assert "· англійська\n>" in sections[0] and "· українська\n>" in sections[1]
    assert "<!channel>" not in "".join(sections)
    actions = [b for b in blocks if b["type"] == "actions"]
    assert [[e["text"]["text"] for e in a["elements"]] for a in actions] == [
        ["Схвалити", "Відхилити", "Переглянути весь лист"]
    ] * 2
    assert actions[1]["elements"][2]["url"] == (
        "http://af/dags/client_monthly_report/runs/scheduled__2026-12-01T07%3A00%3A00%2B00%3A00"
        "/tasks/approve/required_actions?map_index=1"
    )
