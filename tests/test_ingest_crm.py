"""HubSpot → raw through `ingest_crm`, against the fake HubSpot over HTTP.

After every scenario the warehouse must equal the fake's truth: each live record with
the properties we ask for and its associations, each archived record as a tombstone,
each owner, and nothing else.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import duckdb

from clientpulse.config import AgencyConfig
from clientpulse.pipeline.ingest import crm_properties, ingest_crm
from connectors.crm.hubspot import HubSpotClient
from connectors.crm.hubspot_sync import ASSOCIATIONS
from sandbox.crm_portal import synthetic_portal
from sandbox.fake_hubspot import OBJECT_TYPES, HubSpotFaults, HubSpotStore, create_app
from sandbox.http_server import serving
from tests.clock import FakeClock
from tests.factories import small_config
from warehouse.cursors import get_cursor
from warehouse.db import open_writer

TOKEN = "pat-na1-ingest-test"
NOW = datetime.now(UTC).replace(microsecond=0)
LATER = NOW + timedelta(hours=1)  # changes after the first sync, which starts at NOW
MS, S = timedelta(milliseconds=1), timedelta(seconds=1)


@contextmanager
def fake_portal(data: dict[str, Any], faults: HubSpotFaults) -> Iterator[tuple[str, HubSpotStore]]:
    app = create_app(data, TOKEN, faults=faults)
    with serving(app) as server:
        yield server.base_url, app.state.hubspot


def sync(config: AgencyConfig, base_url: str, clock: FakeClock, **options: Any) -> dict:
    client = HubSpotClient(base_url, TOKEN, sleep=clock.sleep, clock=clock, **options)
    return ingest_crm(config, client, f"run-{clock.now}")


def _subset(properties: dict[str, Any], wanted: list[str]) -> dict[str, Any]:
    return {k: properties[k] for k in wanted if k in properties}


def fake_truth(store: HubSpotStore, config: AgencyConfig) -> dict[tuple[str, str], Any]:
    wanted = crm_properties(config)
    truth: dict[tuple[str, str], Any] = {}
    for owner in store.owners:
        truth["owners", owner["id"]] = ("archived",) if owner["archived"] else owner["email"]
    for object_type in OBJECT_TYPES:
        for record in store.objects[object_type].values():
            if record["archived"]:
                truth[object_type, record["id"]] = ("archived",)
                continue
            links = {
                to: store.associated(object_type, record["id"], to)
                for to in ASSOCIATIONS[object_type]
            }
            props = _subset(record["properties"], wanted[object_type])
            truth[object_type, record["id"]] = (props, links)
    return truth


def warehouse_truth(config: AgencyConfig) -> dict[tuple[str, str], Any]:
    wanted = crm_properties(config)
    with open_writer(config.warehouse.path) as con:
        rows = con.execute(
            "SELECT object_type, id, archived, archived_at, payload FROM raw.crm_objects"
        ).fetchall()
    found: dict[tuple[str, str], Any] = {}
    for object_type, object_id, archived, archived_at, payload in rows:
        record = json.loads(payload)
        if archived:
            assert archived_at is not None or object_type == "owners"
            found[object_type, object_id] = ("archived",)
        elif object_type == "owners":
            found[object_type, object_id] = record["email"]
        else:
            links = record.get("associations", {})
            found[object_type, object_id] = (
                _subset(record["properties"], wanted[object_type]),
                {to: sorted(links.get(to, []), key=int) for to in ASSOCIATIONS[object_type]},
            )
    return found


def cursors(config: AgencyConfig) -> dict[str, str]:
    with open_writer(config.warehouse.path) as con:
        return dict(con.execute("SELECT scope, value FROM ops.cursors").fetchall())


def test_initial_and_incremental_syncs_with_a_window_past_10000_and_archivals(tmp_path):
    config = small_config(tmp_path)
    clock = FakeClock(NOW.timestamp())
    data = synthetic_portal(150, NOW - timedelta(days=1), contacts_per_company=70)
    assert len(data["contacts"]) == 10_500
    with fake_portal(data, HubSpotFaults(clock=clock)) as (base_url, store):
        first = sync(config, base_url, clock)
        assert first["contacts"] == 10_500 and "stopped" not in first
        assert warehouse_truth(config) == fake_truth(store, config)

        # 10,200 contacts change in one window (four share each millisecond), plus
        # a few deals; some records of several types go to the recycle bin.
        contact_ids = [c["id"] for c in data["contacts"]]
        for i, contact_id in enumerate(contact_ids[:10_200]):
            at = LATER + timedelta(milliseconds=i // 4)
            store.update("contacts", contact_id, {"jobtitle": f"Title {i}"}, at=at)
        for deal in data["deals"][:7]:
            store.update("deals", deal["id"], {"dealstage": "closedwon"}, at=LATER)
        for object_type, count in (("contacts", 25), ("companies", 3), ("calls", 9)):
            for record in data[object_type][-count:]:
                store.archive(object_type, record["id"], at=LATER)
        before = sum(store.request_counts.values())
        second = sync(config, base_url, clock)
        calls = sum(store.request_counts.values()) - before

        assert warehouse_truth(config) == fake_truth(store, config)
    assert second["contacts"] >= 10_200 - 25
    assert second["contacts_archived"] == 25 and second["calls_archived"] == 9
    # 10,200 changes: 51 search pages and 11 association reads at the minimum
    assert second["api_requests"] == calls
    assert calls <= 51 + 11 + 2 * 7 + 2 + 1 + 4 + 6  # + slack for the cap restart
    assert store.request_counts["GET /crm/v3/owners"] == 2  # all active: one list a run
    assert datetime.fromisoformat(cursors(config)["contacts"]) == LATER + (10_199 // 4) * MS


def test_a_429_storm_during_the_incremental_sync_is_waited_out(tmp_path):
    config = small_config(tmp_path)
    clock = FakeClock(NOW.timestamp())
    faults = HubSpotFaults(clock=clock)
    data = synthetic_portal(30, NOW - timedelta(days=1))
    data["owners"][0]["archived"] = True  # deactivated, still owning records
    with fake_portal(data, faults) as (base_url, store):
        sync(config, base_url, clock)
        assert store.request_counts["GET /crm/v3/owners"] == 2  # active, then deactivated
        for deal in data["deals"]:
            store.update("deals", deal["id"], {"amount": "999"}, at=LATER)
        store.archive("meetings", data["meetings"][0]["id"], at=LATER)
        # The portal grants far less than the client believes, and throws in a storm.
        faults.burst_per_10s = 5
        faults.inject_statuses = [429] * 4 + [503]
        stats = sync(config, base_url, clock, burst_per_10s=10_000)
        assert warehouse_truth(config) == fake_truth(store, config)
    assert stats["deals"] == len(data["deals"])
    assert "stopped" not in stats
    assert clock.sleeps and all(s <= 10 for s in clock.sleeps)


def test_daily_limit_mid_listing_stops_cleanly_and_the_next_run_resumes(tmp_path):
    config = small_config(tmp_path)
    clock = FakeClock(NOW.timestamp())
    # 4 company pages + 1 bin, then 3 of the 8 contact pages (owners come last)
    faults = HubSpotFaults(daily_limit=4 + 1 + 3, clock=clock)
    data = synthetic_portal(350, NOW - timedelta(days=1), contacts_per_company=2)
    with fake_portal(data, faults) as (base_url, store):
        first = sync(config, base_url, clock)
        assert "daily API request limit" in first["stopped"]
        assert first["companies"] == 350 and first["contacts"] == 300
        saved = cursors(config)
        assert "companies" in saved and "contacts" not in saved
        assert json.loads(saved["contacts:listing"])["after"] is not None
        with open_writer(config.warehouse.path) as con:
            assert con.execute(
                "SELECT count(*) FROM raw.crm_objects WHERE object_type = 'contacts'"
            ).fetchone() == (300,)

        faults.daily_limit = None  # a new day
        listed_before = store.request_counts["GET /crm/v3/objects/contacts"]
        second = sync(config, base_url, clock)
        contact_pages = store.request_counts["GET /crm/v3/objects/contacts"] - listed_before

        assert warehouse_truth(config) == fake_truth(store, config)
    assert "stopped" not in second
    assert second["contacts"] == 400  # the rest of the listing, not all 700 again
    assert contact_pages == 4 + 1  # pages 4-7 (one of them ends the listing) + the bin
    assert "contacts:listing" not in cursors(config)


def test_daily_limit_mid_search_keeps_the_committed_cursor_and_resumes(tmp_path):
    config = small_config(tmp_path)
    clock = FakeClock(NOW.timestamp())
    faults = HubSpotFaults(clock=clock)
    data = synthetic_portal(200, NOW - timedelta(days=1), contacts_per_company=15)
    with fake_portal(data, faults) as (base_url, store):
        sync(config, base_url, clock)
        for i, contact in enumerate(data["contacts"]):  # one change a second for 50 minutes
            store.update("contacts", contact["id"], {"jobtitle": "CEO"}, at=LATER + i * S)
        # companies search + bin (2), then contacts: five search pages and their
        # association read make one committed batch; the quota ends in the next.
        faults.daily_limit = sum(store.request_counts.values()) + 2 + 6 + 3
        first = sync(config, base_url, clock)
        assert "daily API request limit" in first["stopped"] and first["contacts"] == 1000
        assert datetime.fromisoformat(cursors(config)["contacts"]) == LATER + 999 * S

        faults.daily_limit = None
        second = sync(config, base_url, clock)
        assert warehouse_truth(config) == fake_truth(store, config)
    assert "stopped" not in second
    # from the committed cursor less the 10-minute lookback: changes 399..2999
    assert second["contacts"] == 3000 - 399
    assert datetime.fromisoformat(cursors(config)["contacts"]) == LATER + 2999 * S


def test_cursor_scopes_are_per_object_type(tmp_path):
    config = small_config(tmp_path)
    clock = FakeClock(NOW.timestamp())
    with fake_portal(synthetic_portal(3, NOW), HubSpotFaults(clock=clock)) as (base_url, _):
        sync(config, base_url, clock)
    with duckdb.connect(str(config.warehouse.path)) as con:
        scopes = {s for (s,) in con.execute("SELECT scope FROM ops.cursors").fetchall()}
        assert get_cursor(con, "hubspot", "deals") is not None
    assert scopes == set(OBJECT_TYPES)
