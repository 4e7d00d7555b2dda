"""`marts.client_segment` for the demo agency, checked by hand for three clients.

The demo world (seed 7) is served by the fake HubSpot, synced with `ingest_crm` and
built as of the demo's Monday, 2026-11-16. The arithmetic below uses the demo config's
inputs (config/demo.yaml, `signals.segmentation`): each input scores
100 × (value − zero_at) / (full_at − zero_at), clipped to 0..100; an axis is the
weighted mean over the inputs that have data; 67 and 34 are the band edges.
"""

from __future__ import annotations

import shutil
from decimal import Decimal

import pytest

from clientpulse.config import DEMO_CONFIG, load_config
from clientpulse.pipeline.build_signals import build_models
from clientpulse.pipeline.ingest import ingest_crm
from connectors.crm.hubspot import HubSpotClient
from sandbox.fake_hubspot import create_app
from sandbox.http_server import serving
from sandbox.simulator import DEMO_AS_OF, simulate
from warehouse.db import open_writer

TOKEN = "demo-segment-test"


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    root = tmp_path_factory.mktemp("segment")
    (root / "config").mkdir()
    shutil.copy(DEMO_CONFIG, root / "config" / "demo.yaml")
    config = load_config(root / "config" / "demo.yaml")
    world = simulate(config, seed=7)
    with serving(create_app(world.hubspot, TOKEN)) as server:
        ingest_crm(config, HubSpotClient(server.base_url, TOKEN), "segment-test")
    with open_writer(config.warehouse.path) as con:
        build_models(con, config, DEMO_AS_OF)
        yield con


def segment(con, client_id):
    names = (
        "segment, strategy_key, attractiveness_score, attractiveness_coverage, "
        "relationship_score, relationship_coverage, attractiveness_inputs, relationship_inputs"
    )
    row = con.execute(
        f"SELECT {names} FROM marts.client_segment WHERE client_id = ?", [client_id]
    ).fetchone()
    return dict(zip([n.strip() for n in names.split(",")], row, strict=True))


def won_deals(con, client_id):
    return con.execute(
        "SELECT close_date::VARCHAR, amount FROM staging.crm_deals "
        "WHERE client_id = ? AND is_won ORDER BY close_date",
        [client_id],
    ).fetchall()


def test_harbor_lane_coffee_by_hand(demo):
    # Won deals; the trailing twelve months are Dec 2025 - Nov 2026.
    assert won_deals(demo, "harbor-lane-coffee") == [
        ("2024-11-12", Decimal("3000.00")),
        ("2026-01-10", Decimal("3500.00")),
        ("2026-03-23", Decimal("3500.00")),
        ("2026-05-31", Decimal("3900.00")),
        ("2026-08-06", Decimal("3500.00")),
    ]
    got = segment(demo, "harbor-lane-coffee")
    # attractiveness
    #   revenue_ttm    3500 + 3500 + 3900 + 3500 = 14,400 → 14400 / 60000 = 24.0 (weight 2)
    #   revenue_growth the year before (Dec 2024 - Nov 2025) had no won deal → no data
    #   potential      the CRM's annual_marketing_budget 90,000 → 90000 / 300000 = 30.0
    #   (2 × 24.0 + 30.0) / 3 = 26.0 → low; coverage 3 of 4 weight = 0.75
    assert got["attractiveness_inputs"] == [
        "potential=90000 (crm:annual_marketing_budget) → 30.0",
        "revenue_growth=no data",
        "revenue_ttm=14400 (metric:revenue_ttm) → 24.0",
    ]
    assert (got["attractiveness_score"], got["attractiveness_coverage"]) == (26.0, 0.75)
    # relationship
    #   share_of_wallet 14400 / 90000 = 0.16 → 0.16 / 0.5 = 32.0 (weight 2)
    #   5 active contacts → 100 (full at 4); 4 of them executives → 100 (full at 2)
    #   5 won deals → (5 − 1) / (5 − 1) = 100; on site in 1 of the last three
    #   30-day windows → 33.3; loyalty: no value in the config → no data
    #   (2 × 32 + 100 + 100 + 100 + 33.3) / 6 = 397.3 / 6 = 66.2 → medium (below 67)
    #   coverage 6 of 7 = 0.86
    assert got["relationship_inputs"] == [
        "active_contacts=5 (metric:active_contacts) → 100.0",
        "loyalty=no data",
        "on_site_visits=1 (metric:on_site_months_90d) → 33.3",
        "repeat_orders=5 (metric:won_deals) → 100.0",
        "senior_contacts=4 (metric:senior_contacts) → 100.0",
        "share_of_wallet=0.16 (metric:share_of_wallet) → 32.0",
    ]
    assert (got["relationship_score"], got["relationship_coverage"]) == (66.2, 0.86)
    # low attractiveness, medium relationship: earn while it lasts
    assert (got["segment"], got["strategy_key"]) == ("low / medium", "earn")


def test_meridian_legal_by_hand(demo):
    assert won_deals(demo, "meridian-legal") == [
        ("2024-12-17", Decimal("9000.00")),
        ("2026-02-08", Decimal("10000.00")),
        ("2026-04-17", Decimal("9300.00")),
        ("2026-07-07", Decimal("11500.00")),
        ("2026-09-12", Decimal("11800.00")),
    ]
    got = segment(demo, "meridian-legal")
    # attractiveness
    #   revenue_ttm    10000 + 9300 + 11500 + 11800 = 42,600 → 42600 / 60000 = 71.0 (×2)
    #   revenue_growth 42600 / 9000 (Dec 2024 - Nov 2025) − 1 = 3.7333 → clipped 100.0
    #   potential      no CRM budget and no config value → no data
    #   (2 × 71 + 100) / 3 = 80.7 → high
    assert got["attractiveness_inputs"] == [
        "potential=no data",
        "revenue_growth=3.7333 (metric:revenue_growth_yoy) → 100.0",
        "revenue_ttm=42600 (metric:revenue_ttm) → 71.0",
    ]
    assert (got["attractiveness_score"], got["attractiveness_coverage"]) == (80.7, 0.75)
    # relationship
    #   share_of_wallet 42600 / 200000 (the config's annual_marketing_budget) = 0.213
    #                   → 0.213 / 0.5 = 42.6 (×2)
    #   active 5 → 100; executives 2 → 100; won 5 → 100; no on-site visit in 90 days → 0;
    #   loyalty 9 from the config → 90
    #   (2 × 42.6 + 100 + 90 + 0 + 100 + 100) / 7 = 475.2 / 7 = 67.9 → excellent
    assert got["relationship_inputs"] == [
        "active_contacts=5 (metric:active_contacts) → 100.0",
        "loyalty=9 (config) → 90.0",
        "on_site_visits=0 (metric:on_site_months_90d) → 0.0",
        "repeat_orders=5 (metric:won_deals) → 100.0",
        "senior_contacts=2 (metric:senior_contacts) → 100.0",
        "share_of_wallet=0.213 (metric:share_of_wallet) → 42.6",
    ]
    assert (got["relationship_score"], got["relationship_coverage"]) == (67.9, 1.0)
    assert (got["segment"], got["strategy_key"]) == ("high / excellent", "strengthen")


def test_vector_fintech_prospect_by_hand(demo):
    assert won_deals(demo, "vector-fintech") == []  # one open deal, none won yet
    got = segment(demo, "vector-fintech")
    # attractiveness
    #   revenue_ttm 0 → 0.0 (×2); growth: no data
    #   potential: no CRM budget, the config's 250,000 → 250000 / 300000 = 83.3
    #   (2 × 0 + 83.3) / 3 = 27.8 → low
    assert got["attractiveness_inputs"] == [
        "potential=250000 (config) → 83.3",
        "revenue_growth=no data",
        "revenue_ttm=0 (metric:revenue_ttm) → 0.0",
    ]
    assert got["attractiveness_score"] == 27.8
    # relationship
    #   active 3 → 75; executives 1 → 50; won 0 → below zero_at 1 → 0;
    #   on site in 1 window → 33.3; loyalty 6 (config) → 60; share of wallet: no budget
    #   (75 + 60 + 33.3 + 0 + 50) / 5 = 218.3 / 5 = 43.7 → medium; coverage 5/7 = 0.71
    assert got["relationship_inputs"] == [
        "active_contacts=3 (metric:active_contacts) → 75.0",
        "loyalty=6 (config) → 60.0",
        "on_site_visits=1 (metric:on_site_months_90d) → 33.3",
        "repeat_orders=0 (metric:won_deals) → 0.0",
        "senior_contacts=1 (metric:senior_contacts) → 50.0",
        "share_of_wallet=no data",
    ]
    assert (got["relationship_score"], got["relationship_coverage"]) == (43.7, 0.71)
    assert (got["segment"], got["strategy_key"]) == ("low / medium", "earn")


def test_every_demo_client_has_a_segment_and_a_lifecycle_stage(demo):
    rows = demo.execute(
        "SELECT s.strategy_key IS NOT NULL, d.lifecycle_stage FROM marts.client_segment AS s "
        "JOIN core.dim_client AS d USING (client_id)"
    ).fetchall()
    assert len(rows) == 36
    assert all(has_strategy for has_strategy, _ in rows)
    stages = {stage for _, stage in rows}
    assert stages <= {"prospect", "honeymoon", "storm", "normalization", "support"}
    assert {"prospect", "support"} <= stages
