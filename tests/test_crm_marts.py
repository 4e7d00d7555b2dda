"""CRM marts on hand-made raw rows (the two-client test agency), worked out by hand.

As of Monday 2026-11-16 07:00 UTC (09:00 Kyiv). Lifecycle thresholds for these tests:
honeymoon 30 days, support after 450 days; the budget comes from the company property
`annual_marketing_budget`.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

import pytest
import yaml

from clientpulse.config import load_config
from clientpulse.pipeline.build_signals import build_models, model_variables
from clientpulse.pipeline.config_seeds import config_seeds
from tests.factories import AS_OF, FIXTURE, crm, engagement
from transforms.runner import build
from warehouse.db import open_writer
from warehouse.load import upsert

D = timedelta(days=1)


def deal(deal_id, company, close, amount, stage="closedwon", pipeline="default", **extra):
    properties = {
        "dealname": deal_id,
        "amount": amount,
        "dealstage": stage,
        "pipeline": pipeline,
        "closedate": f"{close}T10:00:00Z",
    }
    return crm("deals", deal_id, properties, companies=[company], **extra)


ROWS = [
    crm("companies", "500", {"name": "Acme", "annual_marketing_budget": 48000}),
    crm("companies", "600", {"name": "Beta"}),
    deal("d1", "500", "2025-10-05", 4000),
    deal("d2", "500", "2026-10-20", 5000),  # larger than d1: upsell, and the repeat order
    deal("d3", "500", "2026-11-02", 3000, pipeline="seo"),  # a new pipeline: cross-sell
    deal("d4", "500", "2026-11-05", 9000, stage="closedlost"),
    deal("d5", "500", "2026-11-03", 7000, archived=True),  # a tombstone
    deal("d6", "500", "2026-12-01", 8000),  # closes after as_of
    deal("d7", "600", "2026-11-01", 2000),  # beta's first deal
    crm("contacts", "c1", {"jobtitle": "CEO", "date_of_birth": "1980-11-20"}, companies=["500"]),
    crm(
        "contacts", "c2", {"jobtitle": "Brand Manager", "date_of_birth": "1985-12-25"},
        companies=["500"],
    ),
    crm("contacts", "c3", {"firstname": "No", "lastname": "Title"}, companies=["500"]),
    engagement("k1", "calls", "500", AS_OF - 10 * D, contacts=["c1"]),
    engagement("k2", "meetings", "500", AS_OF - 100 * D, contacts=["c2"]),
    engagement(
        "m1", "meetings", "500", AS_OF - 5 * D, contacts=["c1"],
        hs_meeting_location="On-site: client office", hs_meeting_outcome="COMPLETED",
    ),
    engagement(
        "m2", "meetings", "500", AS_OF - 40 * D, contacts=["c2"],
        hs_meeting_location="On-site: client office", hs_meeting_outcome="NO_SHOW",
    ),
    engagement(
        "m3", "meetings", "500", AS_OF - 70 * D, contacts=["c3"],
        hs_meeting_location="client office", hs_meeting_outcome="COMPLETED",
    ),
    engagement(
        "m4", "meetings", "500", AS_OF + 3 * D, contacts=["c1"],
        hs_meeting_location="Zoom", hs_meeting_outcome="SCHEDULED",
    ),
]  # fmt: skip


@pytest.fixture
def warehouse(tmp_path):
    raw = yaml.safe_load(FIXTURE.read_text(encoding="utf-8"))
    raw["sources"]["crm"] = {"budget_property": "annual_marketing_budget"}
    raw["signals"]["lifecycle"] = {"honeymoon_days": 30, "support_after_days": 450}
    (tmp_path / "agency.yaml").write_text(yaml.safe_dump(raw, allow_unicode=True))
    config = load_config(tmp_path / "agency.yaml")
    with open_writer(config.warehouse.path) as con:
        upsert(con, "raw.crm_objects", ROWS, ["object_type", "id"])

        def build_as_of(as_of: datetime):
            build(con, as_of, model_variables(config), config_seeds(config))
            return con

        yield build_as_of


def test_lifecycle_stage_deal_history_and_owner(warehouse):
    con = warehouse(AS_OF)
    got = con.execute(
        "SELECT client_id, first_deal_date::VARCHAR, won_deals, lifetime_revenue, repeat_order, "
        "repeat_order_date::VARCHAR, repeat_order_larger, open_deals, lifecycle_stage "
        "FROM core.dim_client ORDER BY client_id"
    ).fetchall()
    # acme: 407 days since 2025-10-05, repeat order 2026-10-20 (5000 > 4000), under 450
    #       days → normalization; d6 closes in December, so it is not won yet as of today:
    #       on that day it is still an open deal
    # beta: one won deal 15 days ago, under the 30-day honeymoon
    assert got == [
        ("acme", "2025-10-05", 3, Decimal("12000"), True, "2026-10-20", True, 1, "normalization"),
        ("beta", "2026-11-01", 1, Decimal("2000.00"), False, None, None, 0, "honeymoon"),
    ]  # fmt: skip
    # five weeks later beta is past the honeymoon with no repeat order: the storm
    later = warehouse(AS_OF + 35 * D)
    stages = dict(
        later.execute("SELECT client_id, lifecycle_stage FROM core.dim_client").fetchall()
    )
    assert stages == {"acme": "normalization", "beta": "storm"}


def test_commercial_monthly_changes_upsell_cross_sell_and_share_of_wallet(warehouse):
    con = warehouse(AS_OF)
    rows = con.execute(
        "SELECT month::VARCHAR, won_deals, revenue, average_deal, revenue_change_vs_prev_month, "
        "revenue_change_yoy, revenue_ttm, revenue_ttm_growth_yoy, upsell_deals, "
        "cross_sell_deals, share_of_wallet FROM core.client_commercial_monthly "
        "WHERE client_id = 'acme' AND month IN ('2025-10-01', '2026-10-01', '2026-11-01') "
        "ORDER BY month"
    ).fetchall()
    assert rows == [
        # first month: nothing before it; TTM 4000 / 48000 = 0.0833
        ("2025-10-01", 1, 4000, 4000.0, 4000, 4000, 4000, None, 0, 0, 0.0833),
        # d2: 5000 > 4000 is an upsell; October 2025 had 4000 (+1000), and so did the
        # twelve months before (Nov 2024-Oct 2025): TTM 5000 / 4000 − 1 = +25%
        ("2026-10-01", 1, 5000, 5000.0, 5000, 1000, 5000, 0.25, 1, 0, 0.1042),
        # d3 only (d4 lost, d5 archived, d6 in December): 3000 vs October's 5000 → −2000;
        # Nov 2025 had 0 → +3000; TTM Dec 2025-Nov 2026 = 5000 + 3000 = 8000 against
        # 4000 a year before → +100%; its pipeline is new: cross-sell; 8000 / 48000
        ("2026-11-01", 1, 3000, 3000.0, -2000, 3000, 8000, 1.0, 0, 1, 0.1667),
    ]
    months = con.execute(
        "SELECT count(*), min(month)::VARCHAR, max(month)::VARCHAR "
        "FROM core.client_commercial_monthly WHERE client_id = 'acme'"
    ).fetchone()
    assert months == (14, "2025-10-01", "2026-11-01")


def test_relationship_depth_facts(warehouse):
    con = warehouse(AS_OF)
    got = con.execute(
        "SELECT contacts, active_contacts, senior_contacts, manager_contacts, "
        "date_diff('day', last_meeting_at, ?), date_diff('day', last_call_at, ?), "
        "on_site_visits_90d, on_site_months_90d, days_since_on_site, on_site_this_month, "
        "date_diff('day', ?, next_meeting_at) FROM core.client_relationship "
        "WHERE client_id = 'acme'",
        [AS_OF, AS_OF, AS_OF],
    ).fetchone()
    # active in 90 days: c1 (call k1, visit m1), c3 (visit m3); c2 only at k2 (100 days)
    # and the no-show m2. Visits held 5 and 70 days ago: windows 0 and 2 of the last three.
    assert got == (3, 2, 1, 0, 5, 10, 2, 2, 5, True, 3)
    seniority = dict(
        con.execute("SELECT contact_id, seniority FROM staging.crm_contacts").fetchall()
    )
    assert seniority == {"c1": "executive", "c2": "manager", "c3": None}


def test_upcoming_dates_worth_a_greeting(warehouse):
    con = warehouse(AS_OF)
    got = con.execute(
        "SELECT client_id, occasion, occurs_on::VARCHAR, days_until, years "
        "FROM marts.client_upcoming_dates ORDER BY occurs_on"
    ).fetchall()
    # c1 turns 46 on 20 November; c2's birthday (25 December) is past the 14-day horizon
    assert got == [("acme", "birthday", "2026-11-20", 4, 46)]
    # a year after acme's first deal, the anniversary shows up in time
    anniversary = (
        warehouse(datetime.fromisoformat("2026-09-28T07:00:00+00:00"))
        .execute(
            "SELECT occasion, occurs_on::VARCHAR, years FROM marts.client_upcoming_dates "
            "WHERE client_id = 'acme'"
        )
        .fetchall()
    )
    assert anniversary == [("first deal anniversary", "2026-10-05", 1)]


def test_the_public_holidays_of_a_clients_country_are_dates_worth_a_greeting(tmp_path):
    raw = yaml.safe_load(FIXTURE.read_text(encoding="utf-8"))
    next(c for c in raw["clients"] if c["id"] == "beta")["holiday_country"] = "PL"
    (tmp_path / "agency.yaml").write_text(yaml.safe_dump(raw, allow_unicode=True))
    config = load_config(tmp_path / "agency.yaml")
    with open_writer(config.warehouse.path) as con:
        build_models(con, config, datetime.fromisoformat("2026-12-20T07:00:00+00:00"))
        got = con.execute(
            "SELECT client_id, occasion, occurs_on::VARCHAR, days_until, holiday_name_en, "
            "holiday_name_uk, holiday_name_ru FROM marts.client_upcoming_dates ORDER BY occurs_on"
        ).fetchall()
    # acme is in Ukraine, whose public holidays are suspended under martial law; beta is in
    # Poland: Christmas and New Year fall within the 14-day horizon, named in English and
    # Ukrainian (Polish has no Russian names in the library: English stands in)
    en = ["Christmas Eve", "Christmas Day", "Second Day of Christmas", "New Year's Day"]
    uk = ["Святий вечір", "Різдво Христове", "Другий день Різдва", "Новий рік"]
    assert got == [
        ("beta", "public holiday", day, days, name_en, name_uk, name_en)
        for day, days, name_en, name_uk in zip(
            ["2026-12-24", "2026-12-25", "2026-12-26", "2027-01-01"],
            [4, 5, 6, 12],
            en,
            uk,
            strict=True,
        )
    ]
