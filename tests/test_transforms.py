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
    assert order.index("staging.client_mail_identities") < order.index("staging.email_messages")
    assert order.index("staging.email_messages") < order.index("core.fct_email_sla")
    assert order.index("core.dim_client") < order.index("core.fct_email_sla")
    assert order.index("core.fct_email_sla") < order.index("marts.client_sla_weekly")
    for upstream in ("core.fct_email_sla", "intermediate.client_overdue_tasks"):
        assert order.index(upstream) < order.index("marts.client_health")
    assert order.index("core.asana_due_periods") < order.index("core.fct_task_slips")
    assert order.index("core.fct_task_slips") < order.index("core.fct_task_delivery")
    assert order.index("core.fct_task_delivery") < order.index("marts.client_status_lists")


def test_a_dependency_cycle_is_reported(tmp_path):
    (tmp_path / "marts").mkdir()
    (tmp_path / "marts" / "a.sql").write_text("SELECT * FROM marts.b")
    (tmp_path / "marts" / "b.sql").write_text("SELECT * FROM marts.a")
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
    # Kyiv business hours Mon-Fri 09-18 = 07-16 UTC (UTC+2 in November); as_of Mon 07:00 UTC
    got = rows(
        built,
        "SELECT client_id, inbound_message_id, reply_message_id, business_minutes, "
        "calendar_minutes, target_minutes, status FROM core.fct_email_sla "
        "ORDER BY inbound_message_id",
    )
    assert got == [
        # Fri 07:00 → 09:00 UTC, all open
        ("acme", "a1", "a2", 120.0, 120.0, 1440.0, "achieved"),
        # the auto-reply a4 does not count; Tue 07:00 → Wed 13:00 UTC: 540 (Tue) + 360 (Wed)
        ("acme", "a3", "a5", 900.0, 1800.0, 1440.0, "achieved"),
        # prospect target 3 h; unanswered Fri 07:00 → as_of: 540 (Fri), weekend closed
        ("beta", "b1", None, 540.0, 4320.0, 180.0, "breached"),
        # 06:00 → 07:00 UTC is before opening: 0 business minutes, not yet due
        ("beta", "b2", None, 0.0, 60.0, 180.0, "pending"),
    ]


def test_client_sla_weekly_by_hand(built):
    got = rows(
        built,
        "SELECT client_id, iso_week, metric, measurements, achieved, breached, pending, "
        "compliance, median_business_minutes, p90_business_minutes "
        "FROM marts.client_sla_weekly ORDER BY client_id, iso_week",
    )
    assert got == [
        # median of 120 and 900 = 510; P90 = 120 + 0.9 * (900 - 120) = 822
        ("acme", "2026-W46", "first_reply", 2, 2, 0, 0, 1.0, 510.0, 822.0),
        ("beta", "2026-W46", "first_reply", 1, 0, 1, 0, 0.0, None, None),
        ("beta", "2026-W47", "first_reply", 1, 0, 0, 1, None, None, None),
    ]


def test_overdue_tasks_on_the_clients_calendar(built):
    got = rows(
        built,
        "SELECT client_id, open_tasks, open_overdue_tasks, max_days_overdue "
        "FROM intermediate.client_overdue_tasks ORDER BY client_id",
    )
    assert got == [("acme", 3, 2, 6), ("beta", 1, 0, 0)]


def test_last_contact_and_the_threshold_rules_breaches(built):
    got = rows(
        built,
        "SELECT client_id, days_since_last_contact, threshold_rule_flagged, "
        "threshold_rule_breaches, threshold_rule_severity "
        "FROM intermediate.client_threshold_rule ORDER BY client_id",
    )
    # acme: 2 overdue at threshold 2 → 1.0; first replies all on time (business hours)
    # beta: compliance 0 against 0.8 → 2 - 0 / 0.8 = 2.0
    assert got == [
        ("acme", 3, True, ["overdue_tasks"], 1.0),
        ("beta", 0, True, ["first_reply_compliance"], 2.0),
    ]
