"""mbox ingest benchmark: `connectors.mbox.iter_mbox` against Python's `mailbox` module.

    python -m benchmarks.bench_mbox [--messages N] [--baseline-messages M] [--workers W]

Generates (once, cached under out/bench/) a Takeout-style mbox of N messages with
`benchmarks.corpus`, then runs each side in its own subprocess so that peak memory
(`ru_maxrss`) is not polluted by the others:

- ours: every message through `iter_mbox` (worker processes' peaks are added);
- baseline: `mailbox.mbox` reading messages and the same header fields, over the first
  M messages plus their share of indexing the file (it is an order of magnitude
  slower; its rate is what counts);
- read: reading the file in 1 MiB chunks, the memory floor of any reader.

The last two lines are the machine-readable results.
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
from connectors.mail_headers import READ_FIELDS
from connectors.mbox import default_workers, iter_mbox

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
        children = workers if workers is not None else default_workers(path.stat().st_size)
        children = children if children > 1 else 0
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
    parser.add_argument("--messages", type=int, default=200_000)
    parser.add_argument("--baseline-messages", type=int, default=20_000)
    parser.add_argument("--workers", type=int, default=None, help="default: iter_mbox's choice")
    parser.add_argument("--cache-dir", type=Path, default=DEFAULT_CACHE)
    parser.add_argument("--measure", choices=SIDES, help=argparse.SUPPRESS)
    parser.add_argument("path", nargs="?", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.measure:
        print(json.dumps(measure(args.measure, args.path, args.workers, args.baseline_messages)))
        return

    path = corpus_path(args.cache_dir, args.messages)
    size_mb = path.stat().st_size / 2**20
    print(f"corpus: {path} ({args.messages} messages, {size_mb:.0f} MiB)")
    read = run_side("read", path, args.workers, args.baseline_messages)
    baseline = run_side("mailbox", path, args.workers, args.baseline_messages)
    ours = run_side("ours", path, args.workers, args.baseline_messages)
    if ours["messages"] != args.messages:
        raise SystemExit(f"iter_mbox yielded {ours['messages']} items for {args.messages}")
    ours_rate = ours["messages"] / ours["seconds"]
    baseline_rate = baseline["messages"] / baseline["seconds"]
    print(f"read file:   {read['seconds']:.2f}s, peak {read['peak_rss_mb']:.1f} MB")
    print(
        f"mailbox:     {baseline['messages']} messages in {baseline['seconds']:.2f}s, "
        f"peak {baseline['peak_rss_mb']:.1f} MB"
    )
    print(
        f"iter_mbox:   {ours['messages']} messages in {ours['seconds']:.2f}s, "
        f"peak {ours['peak_rss_mb']:.1f} MB (workers={args.workers or 'auto'})"
    )
    print(
        f"BENCH mbox_ingest {ours_rate:.0f} msgs/s baseline={baseline_rate:.0f} "
        f"ratio={ours_rate / baseline_rate:.2f}"
    )
    print(
        f"BENCH mbox_ingest_peak_rss {ours['peak_rss_mb']:.1f} MB "
        f"baseline={read['peak_rss_mb']:.1f} ratio={ours['peak_rss_mb'] / read['peak_rss_mb']:.2f}"
    )


if __name__ == "__main__":
    main()
