"""Churn-risk backtest: the weekly risk score against the old three-threshold rule,
replayed over simulated agencies whose truth is known.

    python -m benchmarks.bench_risk_backtest [--agency demo|seed2|seed3|indie1..4|all] [--rebuild]

For each agency (benchmarks/agencies.py: `demo`, the one the weights were tuned on;
`seed2` and `seed3`, 108 clients with other churn stories, not tuned on; `indie1`…`indie4`,
40 clients each from the independent simulator in benchmarks/worlds/):

1. simulate it with the sandbox and ingest its mailbox, Asana and HubSpot into a fresh
   DuckDB warehouse under out/bench/risk/<agency>/<key>/, calling the ingest functions
   in-process against the sandbox's fake APIs (Airflow is not what this measures). The
   key hashes the config, the seed, the options and the simulated world itself, so a
   rerun on the same world reuses the ingested warehouse (`ingested.duckdb`);
2. backfill the weekly risk history (clientpulse.pipeline.risk_backfill) for every week
   from the first message to the simulation's as-of, on a copy of that warehouse. The
   history is reused too while the score's code (clientpulse/, transforms/) and the
   world are unchanged; `--rebuild` recomputes it anyway;
3. judge the new flag (`at_risk`) and the old rule (`threshold_rule_flagged`, the baseline) with
   benchmarks/risk_backtest.py on the weeks from the first Monday whose reply and
   recent-contact windows lie after the first message (`warm_up_end`, six weeks with the
   defaults: before it the score's windows reach back before the data begins, and
   nearly every client is flagged for want of data), and print a table, the same
   figures over every week, each churned client's lead time per flag, and the BENCH
   lines (last).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import shutil
import sys
import time
from dataclasses import asdict
from datetime import UTC, date, datetime
from pathlib import Path

import duckdb

from benchmarks.agencies import AGENCIES, Agency, write_config
from benchmarks.risk_backtest import Backtest, judge, lead_weeks, weekly_flags
from clientpulse.config import PROJECT_ROOT, AgencyConfig, load_config
from clientpulse.pipeline import calibration
from clientpulse.pipeline.ingest import ingest_asana, ingest_crm, ingest_mailboxes
from clientpulse.pipeline.risk_backfill import backfill
from connectors.asana.client import AsanaClient
from connectors.crm.hubspot import HubSpotClient
from sandbox.fake_asana import create_app as asana_app
from sandbox.fake_hubspot import create_app as hubspot_app
from sandbox.http_server import serving
from sandbox.mbox_writer import write_mbox
from sandbox.sim_cast import build_cast
from sandbox.simulator import DEMO_AS_OF, DEMO_MONTHS, World, simulate

OUT = PROJECT_ROOT / "out" / "bench" / "risk"
TOKEN = "bench-risk-token"  # noqa: S105 - the fakes', not a secret
FORMAT = 1  # bump when the cached folder's layout changes
SCORE_CODE = ("clientpulse", "transforms", "warehouse")
FLAGS = {"new score": "at_risk", "old rule": "threshold_rule_flagged"}


def world_digest(world: World) -> str:
    digest = hashlib.sha256()
    for message in world.messages:
        digest.update(message)
    for part in (world.asana, world.hubspot, world.ground_truth):
        digest.update(json.dumps(part, sort_keys=True, default=str).encode())
    return digest.hexdigest()


def code_digest(paths: tuple[str, ...]) -> str:
    """A hash of the score's code: every .py and .sql file under `paths`."""
    digest = hashlib.sha256()
    for name in paths:
        root = PROJECT_ROOT / name
        files = [root] if root.is_file() else sorted(root.rglob("*"))
        for path in files:
            if path.suffix in (".py", ".sql", ".yaml", ".csv") and "__pycache__" not in path.parts:
                digest.update(str(path.relative_to(PROJECT_ROOT)).encode())
                digest.update(path.read_bytes())
    return digest.hexdigest()


def ingest(config: AgencyConfig, world: World, run_id: str) -> dict[str, dict]:
    """The world's mailbox, Asana and HubSpot into the config's warehouse."""
    write_mbox(world.messages, config.sources.mailboxes.mbox[0].path)
    figures = {"mail": ingest_mailboxes(config, f"{run_id}-mail")}
    with serving(asana_app(world.asana, TOKEN)) as server:
        source = config.sources.asana
        client = AsanaClient(
            f"{server.base_url}/api/1.0",
            TOKEN,
            requests_per_minute=source.requests_per_minute,
            max_concurrent=source.max_concurrent_requests,
        )
        figures["asana"] = ingest_asana(config, client, f"{run_id}-asana")
    with serving(hubspot_app(world.hubspot, TOKEN)) as server:
        client = HubSpotClient(
            server.base_url, TOKEN, burst_per_10s=config.sources.crm.burst_per_10s
        )
        figures["crm"] = ingest_crm(config, client, f"{run_id}-crm")
    return figures


def prepare(agency: Agency, rebuild: bool) -> tuple[AgencyConfig, dict, dict[str, str], dict]:
    """The agency's warehouse with its risk history; its truth, churn stories and timings."""
    timings: dict[str, float] = {}
    started = time.perf_counter()
    staging = OUT / agency.name / "staging"
    shutil.rmtree(staging, ignore_errors=True)
    config = load_config(write_config(agency, staging))
    if agency.world is not None:
        world = agency.world()
        stories = dict(world.ground_truth["stories"])
    else:
        world = simulate(config, seed=agency.seed, options=agency.options)
        stories = {
            p.client.id: p.story or "fade"
            for p in build_cast(
                config, agency.seed, DEMO_AS_OF, DEMO_MONTHS, agency.options
            ).profiles
            if p.fate == "churned"
        }
    key_text = json.dumps(
        {
            "format": FORMAT,
            "config": agency.config,
            "seed": agency.seed,
            "options": asdict(agency.options),
            "as_of": world.as_of.isoformat(),
            "world": world_digest(world),
        },
        sort_keys=True,
        default=str,
    )
    key = hashlib.sha256(key_text.encode()).hexdigest()[:16]
    folder = OUT / agency.name / key
    timings["simulate"] = time.perf_counter() - started
    ingested = folder / "ingested.duckdb"
    if not ingested.exists():
        started = time.perf_counter()
        shutil.rmtree(folder, ignore_errors=True)
        config = load_config(write_config(agency, folder))
        figures = ingest(config, world, f"bench-{agency.name}")
        shutil.copyfile(config.warehouse.path, folder / "ingested.partial")
        (folder / "ingested.partial").rename(ingested)
        (folder / "ground_truth.json").write_text(
            json.dumps(world.ground_truth, indent=2, sort_keys=True) + "\n", encoding="utf-8"
        )
        (folder / "ingest.json").write_text(json.dumps(figures, indent=2, default=str) + "\n")
        timings["ingest"] = time.perf_counter() - started
    shutil.rmtree(staging, ignore_errors=True)
    config = load_config(folder / "agency.yaml")
    history_key = code_digest(SCORE_CODE)
    marker = folder / "history.key"
    if rebuild or not marker.exists() or marker.read_text().strip() != history_key:
        started = time.perf_counter()
        marker.unlink(missing_ok=True)
        shutil.copyfile(ingested, config.warehouse.path)
        con = duckdb.connect(str(config.warehouse.path), read_only=True)
        try:
            first = con.execute("SELECT min(sent_at) FROM raw.email_messages").fetchone()[0]
        finally:
            con.close()
        run_id = f"bench-backfill-{datetime.now(UTC):%Y%m%dT%H%M%S}"
        figures = backfill(config, first.date(), world.as_of.date(), run_id)
        marker.write_text(history_key + "\n")
        timings["backfill"] = time.perf_counter() - started
        timings["weeks"] = figures["weeks"]
    return config, world.ground_truth, stories, timings


def ratio(new: float | None, old: float | None) -> str:
    if new is None or old is None:
        return "nan"
    if old == 0:
        return "inf" if new else "nan"
    return f"{new / old:.2f}"


def number(value: float | None, digits: int) -> str:
    return "nan" if value is None or math.isnan(value) else f"{value:.{digits}f}"


METRICS = (  # (BENCH name, Backtest field, unit, digits, table label)
    ("risk_recall_4w", "recall_4w", "fraction", 3, "recall@4w"),
    ("risk_precision", "precision", "fraction", 3, "precision"),
    ("risk_median_lead_weeks", "median_lead_weeks", "weeks", 2, "median lead (weeks)"),
    (
        "risk_false_alarms",
        "false_alarms_per_healthy_year",
        "weeks/year",
        3,
        "false alarms/healthy/yr",
    ),
    (
        "risk_false_alarms_per_healthy",
        "false_alarms_per_healthy",
        "weeks",
        3,
        "false alarms/healthy",
    ),
)


def bench_lines(agency: str, new: Backtest, old: Backtest) -> list[str]:
    lines = []
    for name, field, unit, digits, _ in METRICS:
        a, b = getattr(new, field), getattr(old, field)
        lines.append(
            f"BENCH {name}_{agency} {number(a, digits)} {unit} "
            f"baseline={number(b, digits)} ratio={ratio(a, b)}"
        )
    return lines


def table(agency: str, truth: dict, new: Backtest, old: Backtest) -> str:
    rows = [
        f"{agency}: {len(truth['churned'])} churned, {len(truth['at_risk'])} degraded, "
        f"{len(truth['healthy'])} healthy (prospects included)",
        f"  {'':<22} {'new score':>10} {'old rule':>10}",
    ]
    for _, field, _, digits, label in METRICS:
        a, b = getattr(new, field), getattr(old, field)
        rows.append(f"  {label:<22} {number(a, digits):>10} {number(b, digits):>10}")
    return "\n".join(rows)


def warm_up_end(config: AgencyConfig, warehouse: Path) -> date:
    """The first Monday whose windows lie wholly after the first message."""
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        return calibration.warm_up_end(con, config.signals.risk)
    finally:
        con.close()


def churner_leads(warehouse: Path, truth: dict, stories: dict[str, str], since: date) -> str:
    """Each churned client's lead in weeks under each flag (≥ 4 counts for recall)."""
    flags = {column: weekly_flags(warehouse, column, since) for column in FLAGS.values()}
    lines = [f"  {'churned client':<26} {'story':<16} {'left on':<11} {'new':>5} {'old':>5}"]
    by_story = sorted(truth["churned"].items(), key=lambda item: (stories[item[0]], item[1]))
    for client, on in by_story:
        left = date.fromisoformat(on)
        new, old = (lead_weeks(flags[c].get(client, {}), left) for c in FLAGS.values())
        lines.append(f"  {client:<26} {stories[client]:<16} {on:<11} {new:>5.1f} {old:>5.1f}")
    return "\n".join(lines)


def run(name: str, rebuild: bool) -> list[str]:
    agency = AGENCIES[name]()
    started = time.perf_counter()
    config, truth, stories, timings = prepare(agency, rebuild)
    warehouse = config.warehouse.path
    since = warm_up_end(config, warehouse)
    new = judge(warehouse, truth, FLAGS["new score"], since)
    old = judge(warehouse, truth, FLAGS["old rule"], since)
    new_all = judge(warehouse, truth, FLAGS["new score"])
    old_all = judge(warehouse, truth, FLAGS["old rule"])
    spent = ", ".join(f"{k} {v:.0f}{'' if k == 'weeks' else 's'}" for k, v in timings.items())
    print(table(name, truth, new, old))
    print(
        f"  judged from {since} on; over every week from the first message, precision "
        f"{number(new_all.precision, 3)} vs {number(old_all.precision, 3)}, false alarms "
        f"{number(new_all.false_alarms_per_healthy, 3)} vs "
        f"{number(old_all.false_alarms_per_healthy, 3)} (recall "
        f"{number(new_all.recall_4w, 3)} vs {number(old_all.recall_4w, 3)})"
    )
    print(churner_leads(warehouse, truth, stories, since))
    print(f"  warehouse {warehouse}; {time.perf_counter() - started:.0f}s ({spent})")
    print(flush=True)
    return bench_lines(name, new, old)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--agency", choices=[*AGENCIES, "all"], default="all")
    parser.add_argument("--rebuild", action="store_true", help="recompute the risk history")
    args = parser.parse_args(argv)
    names = list(AGENCIES) if args.agency == "all" else [args.agency]
    lines = [line for name in names for line in run(name, args.rebuild)]
    for line in lines:
        print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
