"""SQL models on hand-made raw rows, with the expected figures worked out by hand."""

from __future__ import annotations

import json
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from clientpulse.config import load_config
from clientpulse.pipeline.build_signals import model_variables
from clientpulse.pipeline.config_tables import load_config_tables
from transforms.runner import ModelError, build, discover
from warehouse.db import open_writer
from warehouse.load import upsert

FIXTURE = Path(__file__).parent / "fixtures" / "small_agency.yaml"
AS_OF = datetime(2026, 11, 16, 7, 0, tzinfo=UTC)  # Monday 09:00 in Kyiv


@pytest.fixture
def config(tmp_path):
    shutil.copy(FIXTURE, tmp_path / "agency.yaml")
    return load_config(tmp_path / "agency.yaml")


def message(key, sender, to, at, *, cc=(), refs=(), irt=None, **flags):
    row = {
        "message_key": key,
        "message_id": key,
        "from_addr": sender,
        "from_name": None,
        "to_addrs": list(to),
        "cc_addrs": list(cc),
        "reply_to": None,
        "subject": "s",
        "sent_at": at,
        "date_status": "ok",
        "in_reply_to": irt,
        "references": list(refs),
        "auto_submitted": None,
        "precedence": None,
        "list_id": None,
        "x_autoreply": False,
        "return_path_null": False,
        "is_bounce": False,
        "gmail_labels": [],
        "gmail_thread_id": None,
        "problems": [],
        "extracted_at": AS_OF,
    }
    row.update(flags)
    return row


def task(gid, project, *, due=None, completed=False, created=AS_OF - timedelta(days=30)):
    payload = {
        "gid": gid,
        "name": f"Task {gid}",
        "completed": completed,
        "completed_at": None,
        "created_at": created.isoformat(),
        "modified_at": created.isoformat(),
        "due_on": due,
        "assignee": None,
        "parent": None,
        "memberships": [],
    }
    return {
        "gid": gid,
        "project_gid": project,
        "modified_at": created,
        "payload": json.dumps(payload),
        "extracted_at": AS_OF,
    }


def engagement(eid, kind, company, at):
    payload = {
        "id": eid,
        "properties": {"hs_timestamp": at.isoformat()},
        "associations": {"companies": [company]},
    }
    return {
        "object_type": kind,
        "id": eid,
        "updated_at": at,
        "archived": False,
        "payload": json.dumps(payload),
        "extracted_at": AS_OF,
    }


H = timedelta(hours=1)
D = timedelta(days=1)


@pytest.fixture
def built(config):
    with open_writer(config.warehouse.path) as con:
        upsert(
            con,
            "raw.email_messages",
            [
                # acme: answered in 2 h (achieved)
                message("a1", "ceo@acme.test", ["anna@agency.test"], AS_OF - 3 * D),
                message(
                    "a2",
                    "anna@agency.test",
                    ["ceo@acme.test"],
                    AS_OF - 3 * D + 2 * H,
                    refs=["a1"],
                    irt="a1",
                ),
                # acme: the out-of-office "reply" does not count; the human one at +30 h breaches
                message("a3", "boss.acme@gmail.com", ["anna@agency.test"], AS_OF - 6 * D),
                message(
                    "a4",
                    "anna@agency.test",
                    ["boss.acme@gmail.com"],
                    AS_OF - 6 * D + H,
                    refs=["a3"],
                    irt="a3",
                    auto_submitted="auto-replied",
                ),
                message(
                    "a5",
                    "anna@agency.test",
                    ["boss.acme@gmail.com"],
                    AS_OF - 6 * D + 30 * H,
                    refs=["a3"],
                    irt="a3",
                ),
                # a newsletter from the client's domain is not inbound
                message(
                    "a6", "news@acme.test", ["anna@agency.test"], AS_OF - D, list_id="<n.acme>"
                ),
                # internal-only thread: no client involved
                message("i1", "anna@agency.test", ["bob@agency.test"], AS_OF - D),
                # beta (prospect, 3 h target): unanswered for 5 h → breached; another 1 h → pending
                message("b1", "director@beta.test", ["anna@agency.test"], AS_OF - 5 * H),
                message("b2", "director@beta.test", ["anna@agency.test"], AS_OF - H),
                # undated messages never reach staging
                message("u1", "ceo@acme.test", ["anna@agency.test"], None, date_status="missing"),
            ],
            ["message_key"],
        )
        upsert(
            con,
            "raw.asana_tasks",
            [
                task("t1", "100", due="2026-11-10"),  # overdue 6 days
                task("t2", "100", due="2026-11-15"),  # overdue 1 day
                task("t3", "100", due="2026-11-16"),  # due today: not overdue
                task("t4", "100", due="2026-11-01", completed=True),
                task("t5", "200", due="2026-11-20"),
                task("t6", "100", due="2026-11-01", created=AS_OF + D),  # created after as_of
            ],
            ["gid"],
        )
        upsert(
            con,
            "raw.crm_objects",
            [engagement("e1", "meetings", "600", AS_OF - 40 * D)],
            ["object_type", "id"],
        )
        load_config_tables(con, config)
        build(con, AS_OF, model_variables(config))
        yield con


def rows(con, sql):
    return con.execute(sql).fetchall()


def test_models_are_built_in_dependency_order():
    order = [m.table for m in discover()]
    assert order.index("staging.email_messages") < order.index("marts.email_first_replies")
    assert order.index("marts.email_first_replies") < order.index("marts.client_first_reply")
    assert order[-1] == "marts.client_health"


def test_a_dependency_cycle_is_reported(tmp_path):
    for schema in ("staging", "marts"):
        (tmp_path / schema).mkdir()
    (tmp_path / "staging" / "a.sql").write_text("SELECT * FROM marts.b")
    (tmp_path / "marts" / "b.sql").write_text("SELECT * FROM staging.a")
    with pytest.raises(ModelError, match="cycle"):
        discover(tmp_path)


def test_messages_are_classified(built):
    got = dict(rows(built, "SELECT message_key, direction FROM staging.email_messages"))
    assert got == {
        "a1": "inbound",
        "a2": "outbound",
        "a3": "inbound",  # freemail address known as acme's contact
        "a4": "automated",
        "a5": "outbound",
        "a6": "automated",
        "i1": "internal",
        "b1": "inbound",
        "b2": "inbound",
    }


def test_first_replies_by_hand(built):
    got = rows(
        built,
        "SELECT client_id, inbound_message_key, reply_message_key, calendar_minutes, "
        "target_minutes, status FROM marts.email_first_replies ORDER BY inbound_message_key",
    )
    assert got == [
        ("acme", "a1", "a2", 120, 1440.0, "achieved"),
        ("acme", "a3", "a5", 1800, 1440.0, "breached"),
        ("beta", "b1", None, 300, 180.0, "breached"),
        ("beta", "b2", None, 60, 180.0, "pending"),
    ]


def test_client_first_reply_compliance(built):
    got = rows(
        built,
        "SELECT client_id, achieved, breached, pending, compliance, median_first_reply_hours "
        "FROM marts.client_first_reply ORDER BY client_id",
    )
    assert got == [("acme", 1, 1, 0, 0.5, 16.0), ("beta", 0, 1, 1, 0.0, None)]


def test_overdue_tasks_on_the_clients_calendar(built):
    got = rows(
        built,
        "SELECT client_id, open_tasks, open_overdue_tasks, max_days_overdue "
        "FROM marts.client_overdue_tasks ORDER BY client_id",
    )
    assert got == [("acme", 3, 2, 6), ("beta", 1, 0, 0)]


def test_last_contact_and_at_risk_reasons(built):
    got = rows(
        built,
        "SELECT client_id, days_since_last_contact, at_risk, risk_reasons "
        "FROM marts.client_health ORDER BY client_id",
    )
    assert got == [
        ("acme", 3, True, ["2 overdue tasks", "first replies on time 50%"]),
        ("beta", 0, True, ["first replies on time 0%"]),
    ]
