"""mbox ingest benchmark: `connectors.mailboxes.mbox.iter_mbox` against Python's `mailbox` module.

    python -m benchmarks.bench_mbox [--sizes N,N,N] [--baseline-messages M] [--workers W]

Generates (once, cached under out/bench/) Takeout-style mboxes of each size with
`benchmarks.corpus`, then runs each side in its own subprocess so that peak memory
(`ru_maxrss`) is not polluted by the others:

- ours: every message of each file through `iter_mbox`; peak RSS is the process
  tree's (the parent's plus each worker process's, taking the largest for all);
- baseline: `mailbox.mbox` reading messages and the same header fields from the
  smallest file, over its first M messages plus their share of indexing the file (it
  is an order of magnitude slower; its rate is what counts);
- read: reading the smallest file in 1 MiB chunks, the memory floor of any reader.

The BENCH lines come last: the rate and ratio on the smallest file, the rate on the
largest, and peak RSS per size against the smallest (flat memory: ratio near 1).
"""

from __future__ import annotations

import argparse
import json
import mailbox
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

from benchmarks.corpus import CORPUS_VERSION, write_mbox
from connectors.mailboxes import native
from connectors.mailboxes.headers import READ_FIELDS
from connectors.mailboxes.mbox import default_workers, iter_mbox

DEFAULT_CACHE = Path(__file__).resolve().parent.parent / "out" / "bench"
SEED = 7


def corpus_path(cache_dir: Path, messages: int) -> Path:
    """The cached corpus for `messages`, generated on first use."""
    path = cache_dir / f"takeout-v{CORPUS_VERSION}-seed{SEED}-{messages}.mbox"
    if not path.exists():
        cache_dir.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(".partial")
        started = time.perf_counter()
        write_mbox(partial, messages, seed=SEED)
        partial.rename(path)
        print(f"generated {path} in {time.perf_counter() - started:.1f}s", file=sys.stderr)
    return path


def peak_rss_mb(children: int = 0) -> float:
    """This process's peak RSS, plus `children` times its largest child's (Linux: KiB)."""
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    child = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return (own + children * child) / 1024


def measure(side: str, path: Path, workers: int | None, limit: int) -> dict:
    """Run one side in this process: messages handled, seconds, peak RSS."""
    children = 0
    started = time.perf_counter()
    if side == "mailbox":
        count, seconds = _read_with_mailbox(path, limit)
        return {"messages": count, "seconds": seconds, "peak_rss_mb": peak_rss_mb()}
    if side == "ours":
        items = iter_mbox(path, mailbox="bench@agency.example", workers=workers)
        count = sum(1 for _ in items)
        processes = workers if workers is not None else default_workers(path.stat().st_size)
        children = processes - 1  # the parent parses too
    else:
        count = 0
        with path.open("rb") as handle:
            while handle.read(1 << 20):
                pass
    seconds = time.perf_counter() - started
    return {"messages": count, "seconds": seconds, "peak_rss_mb": peak_rss_mb(children)}


def _read_with_mailbox(path: Path, limit: int) -> tuple[int, float]:
    """Messages read and seconds spent, charging the sample its share of the index.

    `mailbox.mbox` indexes the whole file before the first message; the sample bears
    `limit / total` of that time, as it would if every message were read.
    """
    box = mailbox.mbox(path, create=False)
    try:
        started = time.perf_counter()
        keys = box.keys()
        indexing = time.perf_counter() - started
        sample = keys[:limit]
        started = time.perf_counter()
        for key in sample:
            message = box.get_message(key)
            for name in READ_FIELDS:
                message.get_all(name)
        reading = time.perf_counter() - started
    finally:
        box.close()
    return len(sample), indexing * len(sample) / max(len(keys), 1) + reading


SIDES = ("ours", "mailbox", "read")


def run_side(side: str, path: Path, workers: int | None, limit: int) -> dict:
    command = [sys.executable, "-m", "benchmarks.bench_mbox", "--measure", side, str(path)]
    command += ["--baseline-messages", str(limit)]
    if workers is not None:
        command += ["--workers", str(workers)]
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parent.parent)}
    done = subprocess.run(command, capture_output=True, text=True, env=env, check=False)  # noqa: S603
    if done.returncode != 0:
        raise SystemExit(f"{side} run failed:\n{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="100000,300000,1000000")
    parser.add_argument("--baseline-messages", type=int, default=20_000)
    parser.add_argument("--workers", type=int, default=None, help="default: iter_mbox's choice")
    parser.add_argument("--cache-dir", type=Path, default=DEFAULT_CACHE)
    parser.add_argument("--measure", choices=SIDES, help=argparse.SUPPRESS)
    parser.add_argument("path", nargs="?", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.measure:
        print(json.dumps(measure(args.measure, args.path, args.workers, args.baseline_messages)))
        return

    print(f"mail scanner path measured: {native.PATH} ({native.WHY})")
    sizes = sorted(int(size) for size in args.sizes.split(","))
    paths = {size: corpus_path(args.cache_dir, size) for size in sizes}
    smallest = paths[sizes[0]]
    read = run_side("read", smallest, args.workers, args.baseline_messages)
    baseline = run_side("mailbox", smallest, args.workers, args.baseline_messages)
    print(f"read file:   {read['seconds']:.2f}s, peak {read['peak_rss_mb']:.1f} MB")
    print(
        f"mailbox:     first {baseline['messages']} of {sizes[0]} messages in "
        f"{baseline['seconds']:.2f}s, peak {baseline['peak_rss_mb']:.1f} MB"
    )
    ours = {}
    for size, path in paths.items():
        ours[size] = run_side("ours", path, args.workers, args.baseline_messages)
        if ours[size]["messages"] != size:
            raise SystemExit(f"iter_mbox yielded {ours[size]['messages']} items for {size}")
        print(
            f"iter_mbox:   {size} messages ({path.stat().st_size / 2**20:.0f} MiB) in "
            f"{ours[size]['seconds']:.2f}s, peak {ours[size]['peak_rss_mb']:.1f} MB "
            f"(workers={args.workers or 'auto'})"
        )
    small, large = ours[sizes[0]], ours[sizes[-1]]
    baseline_rate = baseline["messages"] / baseline["seconds"]
    small_rate = small["messages"] / small["seconds"]
    large_rate = large["messages"] / large["seconds"]
    print(
        f"BENCH mbox_ingest {small_rate:.0f} msgs/s baseline={baseline_rate:.0f} "
        f"ratio={small_rate / baseline_rate:.2f} "
        f"(file of {sizes[0]}; mailbox on its first {baseline['messages']}; {native.PATH} path)"
    )
    print(
        f"BENCH mbox_ingest_{sizes[-1]} {large_rate:.0f} msgs/s baseline={baseline_rate:.0f} "
        f"ratio={large_rate / baseline_rate:.2f} (mailbox measured on the {sizes[0]} file)"
    )
    floor = read["peak_rss_mb"]
    print(
        f"BENCH mbox_ingest_peak_rss_floor {small['peak_rss_mb']:.1f} MB baseline={floor:.1f} "
        f"ratio={small['peak_rss_mb'] / floor:.2f} (ours on {sizes[0]} against reading the file)"
    )
    for size in sizes[1:]:
        peak = ours[size]["peak_rss_mb"]
        print(
            f"BENCH mbox_ingest_peak_rss_{size} {peak:.1f} MB baseline={small['peak_rss_mb']:.1f} "
            f"ratio={peak / small['peak_rss_mb']:.2f} (against {sizes[0]} messages)"
        )


if __name__ == "__main__":
    main()
