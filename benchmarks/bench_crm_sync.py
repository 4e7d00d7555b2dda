"""CRM sync cost: API calls of one day's incremental run against the minimum, and against
a full refresh, on the same fake HubSpot.

    python -m benchmarks.bench_crm_sync [--companies N] [--changed-share 0.01]

A synthetic portal (`sandbox.crm_portal`, ~59 records per company) is synced once; then
a day passes in which `--changed-share` of the records change (a twentieth of them are
archived instead) and one incremental `ingest_crm` run picks the day up. Calls are
counted at the fake server. The minimum is what a perfect client needs for exactly the
changed records: search pages of 200, association reads of 1,000 ids per association,
and recycle-bin pages of 100 holding the archived ones. A second minimum adds the
probes no client can skip: one search per object type, one bin page per type and the
owners page, even when nothing changed. The full refresh lists everything into an
empty warehouse. Pacing sleeps run on a virtual clock, so the figures are calls, not
seconds.
"""

from __future__ import annotations

import argparse
import math
import random
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import yaml

from clientpulse.config import load_config
from clientpulse.pipeline.ingest import ingest_crm
from connectors.crm.hubspot import (
    ASSOCIATION_BATCH_SIZE,
    LIST_PAGE_SIZE,
    SEARCH_PAGE_SIZE,
    HubSpotClient,
)
from connectors.crm.hubspot_sync import ASSOCIATIONS, PROPERTIES
from sandbox.crm_portal import synthetic_portal
from sandbox.fake_hubspot import HubSpotStore, create_app
from sandbox.http_server import serving

TOKEN = "bench-hubspot-token"  # noqa: S105 - the fake server's, not a secret
ARCHIVED_SHARE = 0.05  # of the changed records


class VirtualClock:
    """Monotonic seconds that advance only when the client sleeps (no real waiting)."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def _config(folder: Path):
    raw = {
        "agency": {
            "name": "Bench",
            "timezone": "UTC",
            "holiday_country": "UA",
            "internal_domains": ["agency.example"],
        },
        "warehouse": {"path": "wh/bench.duckdb", "snapshot_path": "wh/bench_snapshot.duckdb"},
        "sources": {"crm": {}},
        "delivery": {
            "dry_run": True,
            "dry_run_dir": "dry_run",
            "slack": {"leadership_channel": "#l", "ops_channel": "#o"},
            "email": {"from_address": "b@agency.example"},
        },
        "sla_policies": {
            "default_tier": "standard",
            "tiers": {"standard": {"first_reply_business_hours": 24}},
            "prospect": {"first_reply_business_hours": 3},
        },
        "account_managers": [{"id": "am", "name": "AM", "email": "am@agency.example"}],
        "clients": [{"id": "c", "name": "C", "account_manager": "am"}],
    }
    folder.mkdir(parents=True)
    (folder / "agency.yaml").write_text(yaml.safe_dump(raw))
    return load_config(folder / "agency.yaml")


def _calls(store: HubSpotStore) -> int:
    return sum(store.request_counts.values())


def _sync(config, base_url: str) -> int:
    clock = VirtualClock()
    client = HubSpotClient(base_url, TOKEN, sleep=clock.sleep, clock=clock)
    stats = ingest_crm(config, client, f"bench-{time.monotonic_ns()}")
    if "stopped" in stats:
        raise RuntimeError(stats["stopped"])
    return client.stats.requests


def _change_a_day(store: HubSpotStore, data: dict, share: float, day_start: datetime) -> dict:
    """Change `share` of the records during one day; returns changed and archived per type."""
    rng = random.Random(11)
    records = [(t, r["id"]) for t in PROPERTIES for r in data[t]]
    chosen = rng.sample(records, round(share * len(records)))
    changed = {t: 0 for t in PROPERTIES}
    archived = {t: 0 for t in PROPERTIES}
    for object_type, object_id in chosen:
        at = day_start + timedelta(seconds=rng.randrange(86_400))
        if rng.random() < ARCHIVED_SHARE:
            store.archive(object_type, object_id, at=at)
            archived[object_type] += 1
        else:
            store.update(object_type, object_id, {"hubspot_owner_id": "70001"}, at=at)
            changed[object_type] += 1
    return {"changed": changed, "archived": archived}


def _minimum(day: dict) -> tuple[int, int]:
    """(pages for the changed records alone, the same plus the unavoidable probes)."""
    strict = probes = 0
    for object_type in PROPERTIES:
        changed, archived = day["changed"][object_type], day["archived"][object_type]
        search = math.ceil(changed / SEARCH_PAGE_SIZE)
        links = len(ASSOCIATIONS[object_type]) * math.ceil(changed / ASSOCIATION_BATCH_SIZE)
        bin_pages = math.ceil(archived / LIST_PAGE_SIZE)
        strict += search + links + bin_pages
        probes += max(1, search) + links + max(1, bin_pages)
    return strict, probes + 1  # + the owners page


def bench_line(name: str, value: float, unit: str, baseline: float) -> str:
    return f"BENCH {name} {value:g} {unit} baseline={baseline:g} ratio={value / baseline:.2f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--companies", type=int, default=2000)
    parser.add_argument("--changed-share", type=float, default=0.01)
    args = parser.parse_args()

    synced_at = datetime.now(UTC)
    data = synthetic_portal(
        args.companies, synced_at - timedelta(days=1), engagements_per_company=50
    )
    total = sum(len(data[t]) for t in PROPERTIES)
    app = create_app(data, TOKEN)
    store: HubSpotStore = app.state.hubspot
    with tempfile.TemporaryDirectory() as tmp, serving(app) as server:
        config = _config(Path(tmp) / "incremental")
        started = time.perf_counter()
        first = _sync(config, server.base_url)
        print(
            f"portal: {total} records; first sync {first} calls in "
            f"{time.perf_counter() - started:.1f}s"
        )

        day = _change_a_day(store, data, args.changed_share, synced_at + timedelta(hours=1))
        before = _calls(store)
        client_calls = _sync(config, server.base_url)
        incremental = _calls(store) - before
        assert incremental == client_calls, (incremental, client_calls)

        before = _calls(store)
        _sync(_config(Path(tmp) / "full"), server.base_url)
        full = _calls(store) - before

    strict, with_probes = _minimum(day)
    changed = sum(day["changed"].values()) + sum(day["archived"].values())
    print(f"one day: {changed} records changed ({sum(day['archived'].values())} archived)")
    print(
        f"incremental run: {incremental} calls; minimum for the changed records {strict}, "
        f"with one probe per type and bin {with_probes}; full refresh {full} calls"
    )
    print(bench_line("crm_incremental_calls_vs_min_pages", incremental, "calls", strict))
    print(bench_line("crm_incremental_calls_vs_min_with_probes", incremental, "calls", with_probes))
    print(bench_line("crm_full_refresh_calls_vs_incremental", full, "calls", incremental))


if __name__ == "__main__":
    main()
