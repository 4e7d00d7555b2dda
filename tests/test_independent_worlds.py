"""The independent simulator (benchmarks/worlds/): deterministic per seed, its truth
agrees with its data, the agency's season and the managers' holidays show in the mail,
and a small world loads through the same ingest and staging models as the demo."""

from __future__ import annotations

import statistics
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from email.parser import BytesHeaderParser
from email.policy import default
from email.utils import parseaddr, parsedate_to_datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import duckdb
import pytest

from benchmarks.bench_risk_backtest import ingest
from benchmarks.worlds import generate, simulate
from benchmarks.worlds.stories import DECLINING
from clientpulse.config import load_config
from clientpulse.pipeline.build_signals import build_models
from sandbox.simulator import World

SEED = 5
SMALL = 12  # clients: room for the churners and the five look-alikes


@pytest.fixture(scope="module")
def small() -> tuple[dict, World]:
    return simulate(SEED, clients=SMALL)


@pytest.fixture(scope="module")
def headers(small: tuple[dict, World]) -> list:
    parser = BytesHeaderParser(policy=default)
    return [parser.parsebytes(m) for m in small[1].messages]


def _sent(message) -> datetime:
    return parsedate_to_datetime(message["Date"]).astimezone(UTC)


def _addresses(message) -> list[str]:
    fields = [message["From"], message["To"], message["Cc"]]
    return [parseaddr(a.strip())[1].lower() for f in fields if f for a in str(f).split(",")]


def test_same_seed_gives_the_same_world_and_another_seed_differs(small) -> None:
    raw, world = small
    again_raw, again = simulate(SEED, clients=SMALL)
    assert again_raw == raw
    assert again.messages == world.messages
    assert (again.asana, again.hubspot, again.ground_truth) == (
        world.asana,
        world.hubspot,
        world.ground_truth,
    )
    other_raw, other = simulate(SEED + 1, clients=SMALL)
    assert other.messages != world.messages
    assert other_raw["clients"] != raw["clients"]


def test_churned_clients_leave_no_trace_after_they_left(small, headers) -> None:
    raw, world = small
    truth = world.ground_truth
    tz = ZoneInfo(raw["agency"]["timezone"])
    domains = {c["id"]: c["email_domains"][0] for c in raw["clients"]}
    projects = {c["id"]: set(c["asana_projects"]) for c in raw["clients"]}
    companies = {c["id"]: c["crm_company_id"] for c in raw["clients"]}
    assert 6 <= len(truth["churned"]) <= 7
    assert list(truth["stories"].values()).count("sudden") == 1
    for client, left_text in truth["churned"].items():
        left = date.fromisoformat(left_text)
        decline = date.fromisoformat(truth["decline_start"][client])
        if truth["stories"][client] != "sudden":
            assert timedelta(weeks=6) <= left - decline <= timedelta(weeks=12)
        mine = [m for m in headers if any(a.endswith("@" + domains[client]) for a in _addresses(m))]
        assert mine, client
        assert max(_sent(m).astimezone(tz).date() for m in mine) < left
        assert any(_sent(m).astimezone(tz).date() < decline for m in mine)
        for task in world.asana["tasks"]:
            if {p["gid"] for p in task["projects"]} & projects[client]:
                assert task["modified_at"][:10] < left_text
        deals = [
            d for d in world.hubspot["deals"] if companies[client] in d["associations"]["companies"]
        ]
        assert max(d["properties"]["closedate"][:10] for d in deals) < left_text
        last = max(deals, key=lambda d: d["properties"]["closedate"])
        assert last["properties"]["dealstage"] == "closedlost"


def test_each_declining_story_has_a_healthy_look_alike(small) -> None:
    truth = small[1].ground_truth
    assert set(truth["lookalikes"]) == set(DECLINING)
    for story, episode in truth["lookalikes"].items():
        assert episode["client"] in truth["healthy"], story
        assert episode["client"] not in truth["churned"]
    budget = truth["lookalikes"]["budget"]["client"]
    company = next(c for c in small[0]["clients"] if c["id"] == budget)["crm_company_id"]
    stages = Counter(
        d["properties"]["dealstage"]
        for d in small[1].hubspot["deals"]
        if company in d["associations"]["companies"]
        and d["properties"]["closedate"][:10] >= truth["lookalikes"]["budget"]["from"]
    )
    assert stages["closedlost"] >= 1 and stages["closedwon"] >= 1  # a lost proposal, renewed


def test_the_agency_goes_quiet_in_the_last_week_of_december(headers) -> None:
    weeks = Counter(_sent(m).date() - timedelta(days=_sent(m).weekday()) for m in headers)
    full = [n for week, n in weeks.items() if date(2025, 10, 13) <= week <= date(2026, 11, 2)]
    assert weeks[date(2025, 12, 29)] < 0.6 * statistics.median(full)


def test_managers_holidays_bring_out_of_office_replies_and_no_mail_of_their_own(
    small, headers
) -> None:
    raw, world = small
    holidays = {
        m["email"]: [
            (date.fromisoformat(a), date.fromisoformat(b))
            for a, b in world.ground_truth["manager_holidays"][m["id"]]
        ]
        for m in raw["account_managers"]
    }
    tz = ZoneInfo(raw["agency"]["timezone"])
    auto, own_on_holiday = 0, 0
    for message in headers:
        sender = parseaddr(str(message["From"]))[1].lower()
        if sender not in holidays:
            continue
        day = _sent(message).astimezone(tz).date()
        away = any(a <= day < b for a, b in holidays[sender])
        if message["Auto-Submitted"] == "auto-replied":
            assert away, (sender, day)
            auto += 1
        elif away:
            own_on_holiday += 1
    assert all(holidays.values())
    assert auto >= len(holidays)
    assert own_on_holiday == 0


def test_a_small_world_loads_through_ingest_and_staging(tmp_path: Path) -> None:
    world = generate(SEED, tmp_path, clients=SMALL)
    config = load_config(tmp_path / "agency.yaml")
    ingest(config, world, "test-indie")
    con = duckdb.connect(str(config.warehouse.path))
    try:
        build_models(con, config, world.as_of)
        directions = dict(
            con.execute(
                "SELECT direction, count(*) FROM staging.email_messages GROUP BY 1"
            ).fetchall()
        )
        tasks = con.execute("SELECT count(*), count(client_id) FROM staging.asana_tasks").fetchone()
        deals = con.execute(
            "SELECT count(*), count(client_id), count(*) FILTER (is_lost) FROM staging.crm_deals"
        ).fetchone()
    finally:
        con.close()
    assert sum(directions.values()) == len(world.messages)
    assert set(directions) == {"inbound", "outbound", "automated"}
    assert directions["inbound"] > 1000 and directions["outbound"] > 1000
    assert tasks == (len(world.asana["tasks"]),) * 2
    lost = sum(d["properties"]["dealstage"] == "closedlost" for d in world.hubspot["deals"])
    assert deals == (len(world.hubspot["deals"]), len(world.hubspot["deals"]), lost)
