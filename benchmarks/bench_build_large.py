"""build_signals at agency scale: full build, a build with nothing new, and one with 1%
new mail, at a quarter of the agency and at the whole (500 clients, 2M messages).

    python -m benchmarks.bench_build_large [--clients 504] [--messages 2000000]

The agencies come from `benchmarks.large_agency` (the demo's ingested data replicated;
the demo warehouse is made with `make demo` first when missing), cached under
out/bench/. Each build runs in its own process, so its wall time and peak RSS
(`ru_maxrss` of that child) are its own. Per size:

- full: `build_signals(full_refresh=True)` on a fresh copy of the agency;
- nochange: build_signals again right after, nothing new;
- hourly: 1% new mail (copies of existing conversations' latest messages, an hour
  later, as replies in the same threads), then build_signals.

The growth exponent is the slope of log(time) against log(messages) between the
quarter and the full agency: 1.0 is linear.
"""

from __future__ import annotations

import argparse
import json
import math
import resource
import shutil
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CACHE = ROOT / "out" / "bench"
DEMO_DB = ROOT / "out" / "demo" / "warehouse" / "clientpulse.duckdb"
NEW_MAIL_SHARE = 0.01


def agency(clients: int, messages: int, tasks: int) -> Path:
    """The cached generated agency's config (generated on first use)."""
    from benchmarks.large_agency import generate

    out = CACHE / f"agency-{clients}-{messages}-{tasks}"
    config = out / "agency.yaml"
    if not config.exists():
        if not DEMO_DB.exists():
            subprocess.run(["make", "demo"], cwd=ROOT, check=True)  # noqa: S607
        generate(ROOT / "config" / "demo.yaml", DEMO_DB, clients, messages, tasks, out)
    return config


def add_new_mail(warehouse: Path, share: float, mark: str = "~new") -> int:
    """Reply in `share` of the conversations, an hour after their latest message (the
    new messages' keys and ids end in `mark`, one per round)."""
    from warehouse.db import open_writer, transaction

    with open_writer(warehouse) as con, transaction(con):
        total = con.execute("SELECT count(*) FROM raw.email_messages").fetchone()[0]
        con.execute(
            f"""INSERT INTO raw.email_messages BY NAME
                SELECT * REPLACE (
                    message_key || $mark AS message_key,
                    message_id || $mark AS message_id,
                    message_id AS in_reply_to,
                    list_append(coalesce("references", []), message_id) AS "references",
                    sent_at + INTERVAL 1 HOUR AS sent_at,
                    now() AS extracted_at)
                FROM raw.email_messages
                WHERE message_id IS NOT NULL AND sent_at IS NOT NULL
                ORDER BY hash(message_key) LIMIT {int(total * share)}""",
            {"mark": mark},
        )
        con.execute(
            """INSERT INTO raw.email_sightings BY NAME
               SELECT s.* REPLACE (s.message_key || $mark AS message_key, now() AS extracted_at)
               FROM raw.email_sightings AS s
               JOIN raw.email_messages AS m ON m.message_key = s.message_key || $mark""",
            {"mark": mark},
        )
    return int(total * share)


def run_build(config_path: Path, full_refresh: bool) -> None:
    """One build_signals run (in this process), as of the demo's as-of time."""
    from clientpulse.config import load_config
    from clientpulse.pipeline.build_signals import build_signals
    from sandbox.simulator import DEMO_AS_OF

    config = load_config(config_path)
    stats = build_signals(
        config, DEMO_AS_OF + timedelta(hours=1), f"bench-{time.time_ns()}", full_refresh
    )
    print(
        json.dumps(
            {
                "skipped": bool(stats.get("skipped")),
                "stages": stats.get("seconds", {}),
                "slowest_models": stats.get("slowest_models", {}),
            }
        )
    )


def measure(*args: str) -> dict:
    """Wall seconds, peak RSS MB and the build's own report of one build in a child
    process. Run from a process of its own (`--measure`): RUSAGE_CHILDREN's peak is
    then that child's alone."""
    started = time.perf_counter()
    proc = subprocess.run(  # noqa: S603 - our own module
        [sys.executable, "-m", "benchmarks.bench_build_large", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    elapsed = time.perf_counter() - started
    if proc.returncode != 0:
        raise SystemExit(f"{args} failed:\n{proc.stderr[-4000:]}")
    report = json.loads(proc.stdout.strip().splitlines()[-1])
    rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return {"seconds": elapsed, "rss": rss, **report}


def measure_fresh(*args: str) -> dict:
    """`measure` run in a fresh process, so each stage's peak RSS is its own."""
    proc = subprocess.run(  # noqa: S603 - our own module
        [sys.executable, "-m", "benchmarks.bench_build_large", "--measure", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    if proc.returncode != 0:
        raise SystemExit(f"{args} failed:\n{proc.stderr[-4000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def scenario(config_path: Path) -> dict[str, dict]:
    """full, nochange and hourly builds of a fresh copy of the agency (its folder, with
    the config whose warehouse paths are relative to it)."""
    work = config_path.parent.with_name(config_path.parent.name + "-run")
    if work.exists():
        shutil.rmtree(work)
    shutil.copytree(config_path.parent, work)
    config = str(work / "agency.yaml")
    results = {
        "full": measure_fresh("--build", config, "--full-refresh"),
        "nochange": measure_fresh("--build", config),
    }
    from clientpulse.config import load_config

    add_new_mail(load_config(Path(config)).warehouse.path, NEW_MAIL_SHARE)
    results["hourly"] = measure_fresh("--build", config)
    shutil.rmtree(work)
    return results


def exponent(small: tuple[float, float], large: tuple[float, float]) -> float:
    """Slope of log(seconds) over log(size) between two (size, seconds) points."""
    return math.log(large[1] / small[1]) / math.log(large[0] / small[0])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=504)
    parser.add_argument("--messages", type=int, default=2_000_000)
    parser.add_argument("--tasks", type=int, default=300_000)
    parser.add_argument("--build", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--full-refresh", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--measure", action="store_true", help=argparse.SUPPRESS)
    args, _ = parser.parse_known_args()
    if args.measure:
        argv = [a for a in sys.argv[1:] if a != "--measure"]
        print(json.dumps(measure(*argv)))
        return
    if args.build:
        run_build(args.build, args.full_refresh)
        return
    quarter = (args.clients // 4, args.messages // 4, args.tasks // 4)
    whole = (args.clients, args.messages, args.tasks)
    runs = {size: scenario(agency(*size)) for size in (quarter, whole)}
    small, large = runs[quarter], runs[whole]
    print_stages(runs)
    full_s, full_rss = large["full"]["seconds"], large["full"]["rss"]
    print(f"BENCH build_full_large {full_s:.1f} s")
    print(f"BENCH build_full_large_peak_rss {full_rss:.0f} MB")
    for stage in ("nochange", "hourly"):
        seconds = large[stage]["seconds"]
        print(
            f"BENCH build_{stage}_large {seconds:.1f} s baseline={full_s:.1f} "
            f"ratio={full_s / seconds:.1f}"
        )
        print(f"BENCH build_{stage}_large_peak_rss {large[stage]['rss']:.0f} MB")
    for stage, name in (("full", "build"), ("hourly", "build_hourly")):
        k = exponent((quarter[1], small[stage]["seconds"]), (whole[1], large[stage]["seconds"]))
        print(f"BENCH {name}_growth_exponent {k:.2f}")


def print_stages(runs: dict[tuple[int, int, int], dict[str, dict]]) -> None:
    """Per size and run: wall time, peak RSS, the build's own stage times and its
    slowest models (a skipped build has none)."""
    for (clients, messages, tasks), results in runs.items():
        print(f"{clients} clients, {messages:,} messages, {tasks:,} tasks:")
        for run, r in results.items():
            stages = " · ".join(f"{k} {v:.1f} s" for k, v in r["stages"].items())
            print(f"  {run}: {r['seconds']:.1f} s, peak {r['rss']:.0f} MB ({stages or 'skipped'})")
            if r["slowest_models"]:
                slowest = ", ".join(f"{t} {v:.1f} s" for t, v in r["slowest_models"].items())
                print(f"    slowest models: {slowest}")


if __name__ == "__main__":
    main()
