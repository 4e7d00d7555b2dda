"""HubSpotClient against the fake HubSpot over HTTP."""

from __future__ import annotations

import random
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import requests

from connectors.crm.hubspot import DailyLimitReached, HubSpotClient
from connectors.errors import ApiError
from connectors.http import TokenBucket
from sandbox.fake_hubspot import HubSpotFaults, HubSpotStore, create_app, iso_ms
from sandbox.http_server import serving
from tests.clock import FakeClock

TOKEN = "pat-na1-test-secret-0000"
OLD = datetime(2024, 3, 1, 9, 0, tzinfo=UTC)
SINCE = datetime(2025, 1, 1, tzinfo=UTC)
START = SINCE.timestamp() + 86_400 * 60  # the fake's rate windows need a real-looking epoch


def record(object_type: str, record_id: int, modified: datetime, **properties: Any) -> dict:
    modified_name = "lastmodifieddate" if object_type == "contacts" else "hs_lastmodifieddate"
    return {
        "id": str(record_id),
        "properties": {
            "hs_object_id": str(record_id),
            "createdate": iso_ms(OLD),
            modified_name: iso_ms(modified),
            **properties,
        },
        "createdAt": iso_ms(OLD),
        "updatedAt": iso_ms(modified),
        "archived": False,
    }


def companies(count: int, first_id: int = 1000) -> list[dict]:
    return [
        record("companies", first_id + i, OLD, name=f"Client {i}", domain=f"c{i}.example")
        for i in range(count)
    ]


@contextmanager
def fake_hubspot(
    data: dict[str, Any], faults: HubSpotFaults | None = None
) -> Iterator[tuple[str, HubSpotStore]]:
    app = create_app(data, TOKEN, faults=faults)
    with serving(app) as server:
        yield server.base_url, app.state.hubspot


def client_for(base_url: str, clock: FakeClock, **options: Any) -> HubSpotClient:
    return HubSpotClient(base_url, TOKEN, sleep=clock.sleep, clock=clock, **options)


def ids(pages: Iterator[list[dict]]) -> list[str]:
    return [r["id"] for page in pages for r in page]


def test_list_pages_returns_every_record_once_with_requested_properties() -> None:
    clock = FakeClock(START)
    with fake_hubspot({"companies": companies(250)}) as (base_url, store):
        pages = list(client_for(base_url, clock).list_pages("companies", ["name", "domain"]))
        counts = store.request_counts

    assert [len(p) for p in pages] == [100, 100, 50]
    listed = [r["id"] for page in pages for r in page]
    assert sorted(listed, key=int) == [str(1000 + i) for i in range(250)]
    assert len(set(listed)) == 250
    first = pages[0][0]
    assert first["properties"]["name"] == "Client 0"
    assert set(first["properties"]) == {
        "name",
        "domain",
        "hs_object_id",
        "createdate",
        "hs_lastmodifieddate",
    }
    assert counts["GET /crm/v3/objects/companies"] == 3


def test_associations_in_listing_and_batch_read_in_both_directions() -> None:
    contacts = [
        {
            **record("contacts", 1, OLD, email="a@c0.example"),
            "associations": {"companies": ["1000"]},
        },
        {
            **record("contacts", 2, OLD, email="b@c0.example"),
            "associations": {"companies": ["1000"]},
        },
        {
            **record("contacts", 3, OLD, email="x@c1.example"),
            "associations": {"companies": ["1001"]},
        },
    ]
    data = {"companies": companies(1500), "contacts": contacts}
    clock = FakeClock(START)
    with fake_hubspot(data) as (base_url, store):
        client = client_for(base_url, clock)
        listed = [
            r
            for page in client.list_pages("contacts", ["email"], associations=["companies"])
            for r in page
        ]
        company_ids = [str(1000 + i) for i in range(1500)]
        linked = client.batch_associations("companies", "contacts", company_ids)
        batch_requests = store.request_counts[
            "POST /crm/v4/associations/companies/contacts/batch/read"
        ]

    assert {r["id"]: r["associations"]["companies"] for r in listed} == {
        "1": ["1000"],
        "2": ["1000"],
        "3": ["1001"],
    }
    assert linked["1000"] == ["1", "2"]
    assert linked["1001"] == ["3"]
    assert linked["1499"] == []  # no contacts: HubSpot reports it as a per-input error (207)
    assert len(linked) == 1500
    assert batch_requests == 2  # 1000 + 500 ids


def test_owners_are_listed() -> None:
    owners = [
        {
            "id": str(70 + i),
            "email": f"am{i}@agency.example",
            "firstName": f"Am{i}",
            "lastName": "Manager",
            "userId": 900 + i,
            "createdAt": iso_ms(OLD),
            "updatedAt": iso_ms(OLD),
            "archived": False,
        }
        for i in range(3)
    ]
    with fake_hubspot({"owners": owners}) as (base_url, _):
        listed = client_for(base_url, FakeClock(START)).owners()
    assert [o["email"] for o in listed] == [f"am{i}@agency.example" for i in range(3)]


def test_search_returns_only_records_changed_since_in_change_order() -> None:
    deals = [record("deals", 500 + i, OLD, dealname=f"Deal {i}") for i in range(300)]
    clock = FakeClock(START)
    with fake_hubspot({"deals": deals}) as (base_url, store):
        for offset, deal_id in enumerate(["650", "512", "799"]):
            store.update(
                "deals", deal_id, {"dealstage": "closedwon"}, at=SINCE + timedelta(days=3 - offset)
            )
        store.update("deals", "700", {"dealstage": "closedlost"}, at=SINCE - timedelta(seconds=1))
        store.archive("deals", "799")
        pages = list(
            client_for(base_url, clock).search_modified_since("deals", SINCE, ["dealstage"])
        )

    changed = [r for page in pages for r in page]
    assert [r["id"] for r in changed] == ["512", "650"]
    assert [r["properties"]["dealstage"] for r in changed] == ["closedwon", "closedwon"]
    assert "hs_lastmodifieddate" in changed[0]["properties"]


def _contacts_changed(count: int, stamps: list[datetime]) -> list[dict]:
    """`count` contacts changed after SINCE, inserted in shuffled id order."""
    contacts = [
        record("contacts", 10_000 + i, stamps[i], email=f"p{i}@x.example") for i in range(count)
    ]
    random.Random(7).shuffle(contacts)
    return contacts


def test_search_window_past_10000_results_is_fully_retrieved() -> None:
    count = 10_500
    # Three contacts share each timestamp, so window boundaries fall inside ties.
    stamps = [SINCE + timedelta(seconds=1 + i // 3) for i in range(count)]
    clock = FakeClock(START)
    with fake_hubspot({"contacts": _contacts_changed(count, stamps)}) as (base_url, store):
        client = client_for(base_url, clock)
        pages = list(client.search_modified_since("contacts", SINCE, ["email"]))
        searches = store.request_counts["POST /crm/v3/objects/contacts/search"]

    found = [r for page in pages for r in page]
    assert len(found) == count
    assert {r["id"] for r in found} == {str(10_000 + i) for i in range(count)}
    modified = [r["properties"]["lastmodifieddate"] for r in found]
    assert modified == sorted(modified)
    assert searches <= 56  # the minimum is ceil(10500 / 200) = 53 pages
    assert all(s <= 0.25 for s in clock.sleeps)  # only the client's own 4/s search pacing


def test_search_walks_a_timestamp_shared_by_more_than_10000_records() -> None:
    count = 10_300
    stamps = [SINCE + timedelta(minutes=5)] * (count - 1) + [SINCE + timedelta(minutes=6)]
    clock = FakeClock(START)
    with fake_hubspot({"contacts": _contacts_changed(count, stamps)}) as (base_url, _):
        client = client_for(base_url, clock)
        found = ids(client.search_modified_since("contacts", SINCE, ["email"]))

    assert len(found) == count
    assert set(found) == {str(10_000 + i) for i in range(count)}
    assert found[-1] == str(10_000 + count - 1)  # the later change comes last


def test_archived_listing_returns_only_archived_records() -> None:
    clock = FakeClock(START)
    with fake_hubspot({"companies": companies(30)}) as (base_url, store):
        store.archive("companies", "1003", at=SINCE)
        store.archive("companies", "1017", at=SINCE)
        client = client_for(base_url, clock)
        archived = [
            r for page in client.list_pages("companies", ["name"], archived=True) for r in page
        ]
        live = ids(client.list_pages("companies", ["name"]))

    assert [r["id"] for r in archived] == ["1003", "1017"]
    assert all(r["archived"] and r["archivedAt"] == iso_ms(SINCE) for r in archived)
    assert len(live) == 28 and "1003" not in live


def test_burst_429_storm_is_waited_out_with_retry_after() -> None:
    clock = FakeClock(START)
    faults = HubSpotFaults(burst_per_10s=4, clock=clock)
    with fake_hubspot({"companies": companies(1000)}, faults) as (base_url, store):
        # The client believes it has far more budget than the portal grants.
        client = client_for(base_url, clock, burst_per_10s=10_000)
        listed = ids(client.list_pages("companies", ["name"]))
        attempts = store.request_counts["GET /crm/v3/objects/companies"]

    assert len(listed) == 1000 and len(set(listed)) == 1000
    assert client.stats.rate_limited >= 2
    assert attempts == 10 + client.stats.rate_limited
    assert clock.sleeps and all(s == int(s) and 1 <= s <= 10 for s in clock.sleeps)


def test_client_paces_itself_under_the_burst_limit() -> None:
    clock = FakeClock(START)
    faults = HubSpotFaults(burst_per_10s=10, clock=clock)
    with fake_hubspot({"companies": companies(3000)}, faults) as (base_url, _):
        client = client_for(base_url, clock, burst_per_10s=10)
        listed = ids(client.list_pages("companies", ["name"]))

    assert len(listed) == 3000
    assert client.stats.rate_limited == 0
    assert sum(clock.sleeps) >= 20  # 30 requests at 10 per 10 s


def test_search_secondly_limit_is_retried() -> None:
    clock = FakeClock(START)
    faults = HubSpotFaults(search_per_second=1, clock=clock)
    deals = [record("deals", 1 + i, SINCE + timedelta(hours=i)) for i in range(1000)]
    with fake_hubspot({"deals": deals}, faults) as (base_url, _):
        client = client_for(base_url, clock, search_per_second=4)
        found = ids(client.search_modified_since("deals", SINCE, ["dealname"]))

    assert len(found) == 1000
    assert client.stats.rate_limited > 0


def test_transient_server_errors_are_retried() -> None:
    clock = FakeClock(START)
    faults = HubSpotFaults(inject_statuses=[503, 502, 429], clock=clock)
    with fake_hubspot({"companies": companies(5)}, faults) as (base_url, _):
        client = client_for(base_url, clock)
        listed = ids(client.list_pages("companies", ["name"]))

    assert len(listed) == 5
    assert client.stats.retries == 3 and client.stats.rate_limited == 1


def test_daily_limit_raises_daily_limit_reached_without_retrying() -> None:
    clock = FakeClock(START)
    faults = HubSpotFaults(daily_limit=2, clock=clock)
    with fake_hubspot({"companies": companies(300)}, faults) as (base_url, store):
        client = client_for(base_url, clock)
        pages = client.list_pages("companies", ["name"])
        assert len(next(pages)) == 100
        assert len(next(pages)) == 100
        with pytest.raises(DailyLimitReached, match="/crm/v3/objects/companies"):
            next(pages)
        attempts = store.request_counts["GET /crm/v3/objects/companies"]

    assert attempts == 3
    assert clock.sleeps == []


def test_search_index_lag_hides_the_latest_changes() -> None:
    clock = FakeClock(START)
    faults = HubSpotFaults(search_index_lag_seconds=5, clock=clock)
    with fake_hubspot({"deals": [record("deals", 1, OLD)]}, faults) as (base_url, store):
        store.update("deals", "1", {"dealstage": "closedwon"})
        client = client_for(base_url, clock)
        before = ids(client.search_modified_since("deals", SINCE, []))
        clock.sleep(6)
        after = ids(client.search_modified_since("deals", SINCE, []))

    assert before == [] and after == ["1"]


def test_bad_token_gives_a_clear_error_without_the_token() -> None:
    with fake_hubspot({"companies": companies(3)}) as (base_url, _):
        client = HubSpotClient(base_url, "pat-na1-wrong-secret", sleep=FakeClock(START).sleep)
        with pytest.raises(ApiError) as caught:
            list(client.list_pages("companies", ["name"]))

    message = str(caught.value)
    assert caught.value.status == 401
    assert "/crm/v3/objects/companies" in message and "INVALID_AUTHENTICATION" in message
    assert "secret" not in message


def test_fake_refuses_search_pages_past_10000_results_with_hubspots_error_body() -> None:
    with fake_hubspot({"companies": companies(3)}) as (base_url, _):
        response = requests.post(
            f"{base_url}/crm/v3/objects/companies/search",
            json={"limit": 200, "after": 9900},
            headers={"Authorization": f"Bearer {TOKEN}"},
            timeout=5,
        )
    assert response.status_code == 400
    body = response.json()
    assert body["status"] == "error" and body["category"] == "VALIDATION_ERROR"
    assert set(body) == {"status", "message", "correlationId", "category"}


def test_token_bucket_on_an_epoch_clock_paces_without_spinning() -> None:
    # At ~1.8e9 s a float clock moves in steps of ~2e-7 s: a wait for the last
    # millionth of a token must not round to no time at all and spin forever.
    start = 1_795_339_564.3333333
    clock = FakeClock(start)
    bucket = TokenBucket(540, 10, clock=clock, sleep=clock.sleep)
    for _ in range(910):
        bucket.acquire()
    assert 99.5 <= clock.now - start <= 100.5  # 10 at once, then 9 per second
    assert len(clock.sleeps) < 1000
