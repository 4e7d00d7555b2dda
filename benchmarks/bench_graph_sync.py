"""Microsoft Graph mail sync against the Graph fake: calls per new message and first sync.

- `graph_calls_per_new_message`: an hourly sync after the first one, 10 mailboxes each
  with 5 new received and 3 new sent messages. Baseline: the fewest calls a delta sync
  can make (one token, then per mailbox and folder one page per `page_size` changes,
  at least one), per new message.
- `graph_first_sync`: the first sync of 10 mailboxes, the fake answering each request
  after `LATENCY` seconds. Baseline, the throttle-bound minimum: every folder's delta
  pages are a chain (each next link comes with the page before), so with Exchange's 4
  requests per mailbox in flight the sync cannot end before the longest chain has been
  walked: its pages × LATENCY. The issue's corpus is 10 × 20,000 messages; on the shared
  2-core machine the default is 10 × MESSAGES (set GRAPH_BENCH_MESSAGES to change it).
"""

from __future__ import annotations

import math
import os
import tempfile
import time
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path

import yaml

from clientpulse.config import DEMO_CONFIG, load_config
from clientpulse.pipeline.ingest import ingest_mailboxes
from connectors.mailboxes.graph.auth import AppCredentials
from sandbox.fake_graph import GraphFaults, GraphTenant, create_app
from sandbox.http_server import serving

MAILBOXES = 10
MESSAGES = int(os.environ.get("GRAPH_BENCH_MESSAGES", "2000"))
SENT_SHARE = 0.3
PAGE_SIZE = 500
LATENCY = 0.2
NEW_RECEIVED, NEW_SENT = 5, 3
TENANT, CLIENT, SECRET = "bench-tenant", "bench-app", "bench-secret"
START = datetime(2026, 9, 1, tzinfo=UTC)


def message(n: int, box: str, sent: bool) -> bytes:
    moment = START + timedelta(minutes=n)
    client = f"contact{n % 50}@client{n % 7}.test"
    sender, to = (box, client) if sent else (client, box)
    return (
        f"Received: from mx.test; {format_datetime(moment)}\r\nFrom: {sender}\r\nTo: {to}\r\n"
        f"Subject: Update {n}\r\nDate: {format_datetime(moment)}\r\n"
        f"Message-ID: <{n}.{box}@bench.test>\r\nContent-Type: text/plain\r\n\r\nHello\r\n"
    ).encode()


def config(folder: Path, boxes: list[str]):
    raw = yaml.safe_load(DEMO_CONFIG.read_text(encoding="utf-8"))
    raw["warehouse"] = {"path": "wh/cp.duckdb", "snapshot_path": "wh/cp_snapshot.duckdb"}
    raw["sources"]["asana"]["enabled"] = False
    del raw["sources"]["crm"]
    account = {"mailboxes": boxes, "page_size": PAGE_SIZE, "parallel_mailboxes": MAILBOXES}
    raw["sources"]["mailboxes"] = {"mbox": [], "graph": [account]}
    (folder / "agency.yaml").write_text(yaml.safe_dump(raw, allow_unicode=True))
    return load_config(folder / "agency.yaml")


def bench_line(name: str, value: float, unit: str, baseline: float) -> str:
    return f"BENCH {name} {value:g} {unit} baseline={baseline:g} ratio={value / baseline:.2f}"


def main() -> None:
    boxes = [f"am{i}@northwind.test" for i in range(MAILBOXES)]
    tenant = GraphTenant(TENANT)
    tenant.register_app(CLIENT, secret=SECRET)
    sent_count = int(MESSAGES * SENT_SHARE)
    for box in boxes:
        tenant.add_mailbox(box)
        for n in range(MESSAGES):
            tenant.add(box, message(n, box, sent=n < sent_count))
    faults = GraphFaults(latency=LATENCY)
    with tempfile.TemporaryDirectory() as tmp, serving(create_app(tenant, faults=faults)) as srv:
        cfg = config(Path(tmp), boxes)
        creds = AppCredentials(
            TENANT, CLIENT, client_secret=SECRET, login_url=srv.base_url,
            graph_url=f"{srv.base_url}/v1.0",
        )  # fmt: skip
        started = time.perf_counter()
        first = ingest_mailboxes(cfg, "first", graph_credentials=lambda _: creds)
        elapsed = time.perf_counter() - started
        chain = max(math.ceil(n / PAGE_SIZE) for n in (sent_count, MESSAGES - sent_count))
        print(f"first sync: {first['messages']} messages, {first['graph_requests']} calls, "
              f"{elapsed:.1f} s; longest page chain {chain} pages of {LATENCY} s")  # fmt: skip
        for box in boxes:
            for n in range(MESSAGES, MESSAGES + NEW_RECEIVED + NEW_SENT):
                tenant.add(box, message(n, box, sent=n >= MESSAGES + NEW_RECEIVED))
        hourly = ingest_mailboxes(cfg, "hourly", graph_credentials=lambda _: creds)
    new = MAILBOXES * (NEW_RECEIVED + NEW_SENT)
    assert hourly["messages"] == new, hourly
    minimum = 1 + MAILBOXES * sum(
        max(1, math.ceil(k / PAGE_SIZE)) for k in (NEW_RECEIVED, NEW_SENT)
    )
    print(f"hourly sync: {new} new messages, {hourly['graph_requests']} calls (minimum {minimum})")
    print(bench_line("graph_calls_per_new_message", hourly["graph_requests"] / new, "calls",
                     minimum / new))  # fmt: skip
    print(bench_line("graph_first_sync", round(elapsed, 2), "s", (chain + 1) * LATENCY))


if __name__ == "__main__":
    main()
