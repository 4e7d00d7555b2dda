"""SQL models on hand-made raw rows, with the expected figures worked out by hand."""

from __future__ import annotations

import pytest

from tests.factories import load_small_world, small_config
from transforms.runner import ModelError, discover
from warehouse.db import open_writer


@pytest.fixture
def built(tmp_path):
    config = small_config(tmp_path)
    with open_writer(config.warehouse.path) as con:
        load_small_world(con, config)
        yield con


def rows(con, sql):
    return con.execute(sql).fetchall()


def test_models_are_built_in_dependency_order():
    order = [m.table for m in discover()]
    assert order.index("staging.email_messages") < order.index("marts.email_first_replies")
    assert order.index("marts.email_first_replies") < order.index("marts.client_first_reply")
    for upstream in ("marts.client_first_reply", "marts.client_overdue_tasks"):
        assert order.index(upstream) < order.index("marts.client_health")
    assert order.index("staging.asana_due_periods") < order.index("marts.fct_task_slips")
    assert order.index("marts.fct_task_slips") < order.index("marts.fct_task_delivery")
    assert order.index("marts.fct_task_delivery") < order.index("marts.client_status_lists")


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
        "SELECT client_id, days_since_last_contact, at_risk, risk_reasons, risk_severity "
        "FROM marts.client_health ORDER BY client_id",
    )
    # acme: 2 overdue at threshold 2 → 1.0; compliance 0.5 against 0.8 → 2 - 0.625 = 1.375
    assert got == [
        ("acme", 3, True, ["2 overdue tasks", "first replies on time 50%"], 2.38),
        ("beta", 0, True, ["first replies on time 0%"], 2.0),
    ]
