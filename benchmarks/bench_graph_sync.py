"""Microsoft Graph mail sync against the Graph fake: calls per new message and first sync.

    python -m benchmarks.bench_graph_sync [--mailboxes 10] [--messages 20000]

- `graph_calls_per_new_message`: an hourly sync after the first one, each mailbox with
  5 new received and 3 new sent messages. Baseline: the fewest calls a delta sync can
  make (one token, then per mailbox and folder one page per `page_size` changes, at
  least one), per new message.
- `graph_first_sync`: the first sync of `--mailboxes` mailboxes of `--messages` messages
  each (the issue's corpus: 10 × 20,000), the fake answering each request after
  `LATENCY` seconds. Baseline, the throttle-bound minimum: every folder's delta pages
  are a chain (each next link comes with the page before), so with Exchange's 4
  requests per mailbox in flight the sync cannot end before the longest chain has been
  walked: its pages × LATENCY.

The fake runs in a child process, as a remote API would (its JSON is not rendered on
the client's interpreter). Filling it parses every message as Exchange would store it
(about 0.3 ms a message) and renders each as the sync's `$select` asks (the fake then
spends its time on paging, not on JSON the real service has ready); the filled tenant
is cached under `out/bench/` and reused while the fake and `message` are unchanged.
"""

from __future__ import annotations

import argparse
import hashlib
import inspect
import math
import multiprocessing
import pickle
import tempfile
import time
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path

import yaml

from clientpulse.config import DEMO_CONFIG, load_config
from clientpulse.pipeline.ingest import ingest_mailboxes
from connectors.mailboxes.graph.auth import AppCredentials
from connectors.mailboxes.graph.reader import SELECT
from sandbox import fake_graph
from sandbox.fake_graph import READ_BASIC, GraphFaults, GraphTenant, create_app
from sandbox.http_server import serving

SENT_SHARE = 0.3
PAGE_SIZE = 500
LATENCY = 0.2
NEW_RECEIVED, NEW_SENT = 5, 3
TENANT, CLIENT, SECRET = "bench-tenant", "bench-app", "bench-secret"
START = datetime(2026, 9, 1, tzinfo=UTC)
CACHE = Path(__file__).resolve().parent.parent / "out" / "bench"


def message(n: int, box: str, sent: bool) -> bytes:
    moment = START + timedelta(minutes=n)
    client = f"contact{n % 50}@client{n % 7}.test"
    sender, to = (box, client) if sent else (client, box)
    return (
        f"Received: from mx.test; {format_datetime(moment)}\r\nFrom: {sender}\r\nTo: {to}\r\n"
        f"Subject: Update {n}\r\nDate: {format_datetime(moment)}\r\n"
        f"Message-ID: <{n}.{box}@bench.test>\r\nContent-Type: text/plain\r\n\r\nHello\r\n"
    ).encode()


def mailbox_names(count: int) -> list[str]:
    return [f"am{i}@northwind.test" for i in range(count)]


def tenant(boxes: list[str], count: int) -> GraphTenant:
    """The tenant with `count` messages in each mailbox, from the cache when it has it."""
    made_by = Path(fake_graph.__file__).read_text() + inspect.getsource(message)
    made_by += repr((boxes, count, SENT_SHARE, SELECT))
    key = hashlib.sha256(made_by.encode()).hexdigest()[:16]
    path = CACHE / f"graph-tenant-{len(boxes)}x{count}-{key}.pickle"
    if path.exists():
        return pickle.loads(path.read_bytes())  # noqa: S301 - our own cache
    built = GraphTenant(TENANT)
    built.register_app(CLIENT, secret=SECRET)
    sent_count = int(count * SENT_SHARE)
    for box in boxes:
        built.add_mailbox(box)
        for n in range(count):
            built.add(box, message(n, box, sent=n < sent_count))
    built.render_all(SELECT, (READ_BASIC,))
    CACHE.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".partial")
    partial.write_bytes(pickle.dumps(built, protocol=pickle.HIGHEST_PROTOCOL))
    partial.replace(path)
    return built


def serve(conn, boxes: list[str], count: int) -> None:
    """The fake in this (child) process: fill it, report its URL, then answer commands."""
    graph = tenant(boxes, count)
    with serving(create_app(graph, faults=GraphFaults(latency=LATENCY))) as served:
        conn.send(served.base_url)
        while (command := conn.recv()) != "stop":
            if command == "hour":
                for box in boxes:
                    for n in range(count, count + NEW_RECEIVED + NEW_SENT):
                        graph.add(box, message(n, box, sent=n >= count + NEW_RECEIVED))
                conn.send("ok")


def config(folder: Path, boxes: list[str]):
    raw = yaml.safe_load(DEMO_CONFIG.read_text(encoding="utf-8"))
    raw["warehouse"] = {"path": "wh/cp.duckdb", "snapshot_path": "wh/cp_snapshot.duckdb"}
    raw["sources"]["asana"]["enabled"] = False
    del raw["sources"]["crm"]
    account = {"mailboxes": boxes, "page_size": PAGE_SIZE, "parallel_mailboxes": len(boxes)}
    raw["sources"]["mailboxes"] = {"mbox": [], "graph": [account]}
    (folder / "agency.yaml").write_text(yaml.safe_dump(raw, allow_unicode=True))
    return load_config(folder / "agency.yaml")


def bench_line(name: str, value: float, unit: str, baseline: float) -> str:
    return f"BENCH {name} {value:g} {unit} baseline={baseline:g} ratio={value / baseline:.2f}"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--mailboxes", type=int, default=10)
    parser.add_argument("--messages", type=int, default=20_000)
    args = parser.parse_args()
    boxes = mailbox_names(args.mailboxes)
    ours, theirs = multiprocessing.Pipe()
    child = multiprocessing.Process(target=serve, args=(theirs, boxes, args.messages))
    child.start()
    try:
        base_url = ours.recv()
        creds = AppCredentials(
            TENANT, CLIENT, client_secret=SECRET, login_url=base_url, graph_url=f"{base_url}/v1.0"
        )
        with tempfile.TemporaryDirectory() as tmp:
            cfg = config(Path(tmp), boxes)
            started = time.perf_counter()
            first = ingest_mailboxes(cfg, "first", graph_credentials=lambda _: creds)
            elapsed = time.perf_counter() - started
            ours.send("hour")
            ours.recv()
            hourly = ingest_mailboxes(cfg, "hourly", graph_credentials=lambda _: creds)
    finally:
        ours.send("stop")
        child.join(timeout=30)
    sent_count = int(args.messages * SENT_SHARE)
    chain = max(math.ceil(n / PAGE_SIZE) for n in (sent_count, args.messages - sent_count))
    print(f"first sync: {first['messages']} messages, {first['graph_requests']} calls, "
          f"{first['graph_pages']} pages, {elapsed:.1f} s; "
          f"longest page chain {chain} pages of {LATENCY} s")  # fmt: skip
    new = args.mailboxes * (NEW_RECEIVED + NEW_SENT)
    assert hourly["messages"] == new, hourly
    minimum = 1 + args.mailboxes * sum(
        max(1, math.ceil(k / PAGE_SIZE)) for k in (NEW_RECEIVED, NEW_SENT)
    )
    print(f"hourly sync: {new} new messages, {hourly['graph_requests']} calls (minimum {minimum})")
    print(bench_line("graph_calls_per_new_message", hourly["graph_requests"] / new, "calls",
                     minimum / new))  # fmt: skip
    print(bench_line("graph_first_sync", round(elapsed, 2), "s", (chain + 1) * LATENCY))


if __name__ == "__main__":
    main()
