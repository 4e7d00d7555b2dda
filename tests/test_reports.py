"""Digest and client email: escaping of external text, one client's data per email,
and dry-run delivery that never sends the same period twice."""

from __future__ import annotations

import json
from datetime import timedelta

import duckdb
import pandas as pd
import pytest

from clientpulse.pipeline.approval import offers, record_decisions
from clientpulse.pipeline.build_signals import model_variables
from clientpulse.pipeline.compose import (
    DIGEST_KINDS,
    QualityGateFailed,
    compose_client_statuses,
    compose_leadership_digest,
)
from clientpulse.pipeline.config_seeds import config_seeds
from clientpulse.pipeline.deliver import Senders, deliver
from clientpulse.reports.client_status import compose_client_status
from clientpulse.reports.leadership_digest import compose_digest
from tests.factories import AS_OF, crm, load_small_world, message, small_config, task
from transforms.catalog import catalog, checks
from transforms.runner import build
from warehouse.db import open_writer
from warehouse.load import upsert
from warehouse.quality import run_gate, validate_checks

HOSTILE_TASK = '<script>alert("x")</script> & <!channel>'


@pytest.fixture
def config(tmp_path):
    config = small_config(tmp_path)
    with open_writer(config.warehouse.path) as con:
        hostile = task("t9", "100", due="2026-11-12")
        hostile["payload"] = hostile["payload"].replace('"Task t9"', json.dumps(HOSTILE_TASK))
        upsert(con, "raw.asana_tasks", [hostile], ["gid"])
        # the mailbox reaches back 20 weeks, so the contact windows are covered by mail
        old = message("o1", "anna@agency.test", ["team@agency.test"], AS_OF - timedelta(weeks=20))
        upsert(con, "raw.email_messages", [old], ["message_key"])
        load_small_world(con, config)
    return config


def test_digest_escapes_every_external_string(config):
    with open_writer(config.warehouse.path) as con:
        message = compose_digest(con, AS_OF, config.agency.timezone, "2026-W47")
        scored = con.execute(
            """SELECT c.client_name, r.at_risk FROM marts.client_risk_weekly AS r
               JOIN staging.cfg_clients AS c USING (client_id)
               WHERE r.week_start = (SELECT max(week_start) FROM marts.client_risk_weekly)
               ORDER BY r.score DESC"""
        ).fetchall()
    chart = message.pop("chart")
    dumped = json.dumps(message, ensure_ascii=False)
    assert "<!channel>" not in dumped and "<Lead>" not in dumped
    assert chart is not None and chart["png"].startswith(b"\x89PNG")
    at_risk = next(b for b in message["blocks"] if "At-risk" in b.get("text", {}).get("text", ""))
    text = at_risk["text"]["text"]
    # the list is marts.client_risk_weekly's at-risk clients, highest score first: beta
    # has gone quiet (first), acme meets a third of its cadence with tasks overdue; the
    # names arrive escaped ("Acme <!channel>")
    escaped = {"Бета Груп": "*Бета Груп*", "Acme <!channel>": "*Acme &lt;!channel&gt;*"}
    flagged = [name for name, at_risk in scored if at_risk]
    assert flagged[:1] == ["Бета Груп"]
    positions = [text.index(escaped[name]) for name in flagged]
    assert positions == sorted(positions)
    assert all(escaped[name] not in text for name, at_risk in scored if not at_risk)
    assert "*Бета Груп* (Anna &lt;Lead&gt;) · risk " in text
    # the factors by name and the playbook's advice for the first, in words
    assert "days without two-way contact" in text and "→ _call today" in text
    assert message["blocks"][0]["text"]["text"] == "ClientPulse weekly digest · 2026-W47"


def test_sla_figures_in_digest_and_emails_are_last_weeks_marts(config):
    # Week 2026-W46 (test_transforms): acme a1 120 and a3 900 business minutes, both on
    # time → median 510 = 8.5 h, P90 822 = 13.7 h; beta b1 unanswered and breached.
    with open_writer(config.warehouse.path) as con:
        message = compose_digest(con, AS_OF, config.agency.timezone, "2026-W47")
        acme = compose_client_status(con, config, config.client("acme"), AS_OF, "2026-W47")
        beta = compose_client_status(con, config, config.client("beta"), AS_OF, "2026-W47")
    sla = next(b for b in message["blocks"] if "Email SLA" in b.get("text", {}).get("text", ""))
    assert sla["text"]["text"].splitlines() == [
        "*Email SLA, 2026-W46* (business hours on each client's calendar)",
        "• First replies: 67% on time (2 of 3) · median 8.5 h · P90 13.7 h"
        " · 1 breached · 0 pending",
        "• Follow-up replies: — on time (0 of 0) · median — h · P90 — h · 0 breached · 0 pending",
    ]
    assert (
        "Our replies to your emails in 2026-W46 (business hours; weeks run Monday to Sunday"
        " on your calendar, Europe/Kyiv)"
    ) in acme["text"]
    line = "First replies: 100% on time (2 of 2); median 8.5 h, P90 13.7 h; 0 late, 0 awaiting"
    assert line in acme["text"] and line in acme["html"]
    assert "Follow-up replies: nothing to answer" in acme["text"]
    assert "Перші відповіді: вчасно 0% (0 з 1); відповідей ще не було" in beta["text"]
    assert "із запізненням 1, чекають на відповідь 0" in beta["html"]


def test_digest_counts_clients_per_strategy_and_names_those_that_changed(config):
    with open_writer(config.warehouse.path) as con:
        build(con, AS_OF - timedelta(days=7), model_variables(config), config_seeds(config))
        # acme's CRM company: its revenue and contacts give it a segment; beta has none
        upsert(
            con,
            "raw.crm_objects",
            [
                crm("companies", "500", {"name": "Acme"}),
                crm(
                    "deals",
                    "d1",
                    {"amount": 60000, "dealstage": "closedwon", "closedate": "2026-10-01"},
                    companies=["500"],
                ),
            ],
            ["object_type", "id"],
        )
        build(con, AS_OF, model_variables(config), config_seeds(config))
        message = compose_digest(con, AS_OF, config.agency.timezone, "2026-W47")
    texts = [b["text"]["text"] for b in message["blocks"] if b["type"] == "section" and "text" in b]
    strategies = next(t for t in texts if t.startswith("*Strategies*"))
    # acme: revenue 60,000 → 100 (growth: no data) → high; relationship: one won deal
    # → repeat orders 0, no contacts, no visits → 0 → poor: invest actively. Last week it
    # had no CRM data, so its strategy changed; beta's did not.
    assert strategies.splitlines() == [
        "*Strategies* (clients; docs/domain.md §6): Invest 1 · Not enough data 1",
        "Changed strategy since last week: Acme &lt;!channel&gt; (no data → invest)",
    ]
    assert len(message["blocks"]) <= 50
    assert all(len(t) <= 3000 for t in texts)


def test_client_email_holds_only_that_clients_data_escaped(config):
    with open_writer(config.warehouse.path) as con:
        acme = compose_client_status(con, config, config.client("acme"), AS_OF, "2026-W47")
        beta = compose_client_status(con, config, config.client("beta"), AS_OF, "2026-W47")
    assert acme["to"] == ["ceo@acme.test"]
    assert "Task t1" in acme["text"] and "Task t5" not in acme["text"]
    assert "Task t1" not in beta["html"] and "Task t5" in beta["html"]
    assert "Бета" not in acme["html"] + acme["text"]
    assert HOSTILE_TASK not in acme["html"]
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; &amp; &lt;!channel&gt;" in acme["html"]
    assert HOSTILE_TASK in acme["text"]  # plain text needs no escaping
    assert beta["subject"].startswith("Бета Груп: статус за тиждень")
    assert "Добрий день" in beta["text"]


def test_digests_are_held_back_until_a_build_passes_its_gate(config):
    with pytest.raises(QualityGateFailed, match="no gated build yet"):
        compose_leadership_digest(config, AS_OF, "run-1")


def test_dry_run_delivery_writes_files_once_per_period(config):
    with open_writer(config.warehouse.path) as con:
        assert all(r.success for r in run_gate(con, "build-1", checks(catalog())))

    def refuse():
        raise AssertionError("dry-run must not build a real sender")

    senders = Senders(refuse, refuse)
    for attempt in range(2):
        digest = compose_leadership_digest(config, AS_OF, f"run-{attempt}")
        emails = compose_client_statuses(config, AS_OF, f"run-{attempt}")
        # the client emails are drafts until their manager approves them
        offered = offers(config, "client_weekly_status", "2026-W47")
        assert len(offered) == (2 if attempt == 0 else 0)
        approve = {"chosen_options": ["Approve"], "responded_by_user": {"id": "anna"}}
        record_decisions(config, f"run-{attempt}", offered, [approve] * len(offered), "ref")
        sent = deliver(config, senders, f"run-{attempt}", [*DIGEST_KINDS, "client_weekly_status"])
        assert digest["enqueued"] == (1 if attempt == 0 else 0)
        assert digest["chart_enqueued"] == (1 if attempt == 0 else 0)
        assert emails["enqueued"] == (2 if attempt == 0 else 0)
        assert sent["sent"] == (4 if attempt == 0 else 0)
    files = sorted(
        p.relative_to(config.delivery.dry_run_dir) for p in config.delivery.dry_run_dir.rglob("*.*")
    )
    assert [str(p) for p in files] == [
        "client_weekly_status/2026-W47/acme/ceo_acme.test.eml",
        "client_weekly_status/2026-W47/beta/director_beta.test.eml",
        "leadership_digest/2026-W47/leadership.json",
        "leadership_digest_chart/2026-W47/leadership.json",
        "leadership_digest_chart/2026-W47/leadership.png",
    ]


def test_segment_quality_gate_rejects_impossible_scores_and_strategies(tmp_path):
    frame = pd.DataFrame(
        {
            "client_id": ["acme", "beta"],
            "attractiveness_score": [120.0, 50.0],
            "relationship_score": [10.0, None],
            "strategy_key": ["strengthen", "befriend"],
        }
    )
    con = duckdb.connect(str(tmp_path / "gate.duckdb"))
    con.execute("CREATE SCHEMA marts; CREATE SCHEMA staging")
    con.register("segment_rows", frame)
    con.execute("CREATE TABLE marts.client_segment AS SELECT * FROM segment_rows")
    con.execute("CREATE TABLE staging.cfg_clients AS SELECT unnest(['acme', 'beta']) AS client_id")
    declared = [c for c in checks(catalog()) if c.table == "marts.client_segment"]
    results = validate_checks(con, declared)
    assert {r.column for r in results if not r.success} == {"attractiveness_score", "strategy_key"}
