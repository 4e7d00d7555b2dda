"""Gmail API source: calls of an hourly sync against the minimum, and a first sync's time
against the quota-bound minimum, on the Gmail API fake with Gmail's real per-user quota.

    python -m benchmarks.bench_gmail_sync [--mailboxes 10] [--messages 20000] [--new 20]

First sync: `--mailboxes` mailboxes of `--messages` messages each, read into an empty
warehouse against the fake's quota (250 units a second per user). Gmail's quota is per
user, so the quota-bound minimum is the largest mailbox's units over 250 a second,
less the two seconds' burst the quota allows: getProfile (1) + a messages.list per 500
ids (5 each) + a messages.get per message (5 each). Hourly sync: then `--new` messages
arrive in each mailbox (plus a relabel and a deletion) and one incremental run picks
them up. Its calls (HTTP requests to the API,
a batch being one, plus the token requests) are compared with the minimum a client
needs: a token, one history.list page, and one batch per 50 new messages, per mailbox.
The fake runs in a child process, as a remote API would.
"""

from __future__ import annotations

import argparse
import json
import math
import multiprocessing
import tempfile
import time
from pathlib import Path

import yaml

from benchmarks.agencies import demo
from benchmarks.corpus import Corpus
from clientpulse.config import load_config
from clientpulse.pipeline.ingest import ingest_mailboxes
from connectors.mailboxes.gmail.auth import GmailConnection, ServiceAccountKey
from connectors.mailboxes.gmail.client import BATCH_SIZE, UNITS, UNITS_PER_SECOND
from connectors.mailboxes.gmail.reader import LIST_PAGE
from sandbox.fake_gmail import GmailState
from sandbox.gmail_serving import CLIENT_EMAIL, service_account_pem

BURST_SECONDS = GmailState.burst_seconds


def mailbox_names(count: int) -> list[str]:
    return [f"am{n:02d}@agency.test" for n in range(count)]


def messages(count: int, seed: int) -> list[bytes]:
    """`count` corpus messages, as a mailbox holds them (their From lines dropped)."""
    return [entry.split(b"\n", 1)[1] for entry in Corpus(seed).entries(count)]


def serve(conn, mailboxes: list[str], count: int) -> None:
    """The fake in this (child) process: fill it, report its URL, then answer commands."""
    from sandbox.gmail_serving import served_gmail

    state = GmailState()
    with served_gmail(state) as served:
        for n, mailbox in enumerate(mailboxes):
            box = state.mailbox(mailbox)
            for message in messages(count, seed=n):
                box.add(message)
        conn.send(served.server.base_url)
        while (command := conn.recv()) != "stop":
            if command == "counts":
                conn.send((state.http_requests, state.authority.grants))
            elif command == "hour":
                new = conn.recv()
                for n, mailbox in enumerate(mailboxes):
                    box = state.mailbox(mailbox)
                    ids = list(box.messages)
                    for message in messages(new, seed=1000 + n):
                        box.add(message, internal_date_ms=int(time.time() * 1000))
                    box.relabel(ids[0], add=["STARRED"])
                    box.delete(ids[1])
                conn.send("ok")


def write_config(folder: Path, mailboxes: list[str]) -> Path:
    """The demo agency reading `mailboxes` through the Gmail API, all of their history."""
    raw = demo().config
    raw["warehouse"] = {"path": "wh.duckdb", "snapshot_path": "snapshot.duckdb"}
    raw["sources"]["mailboxes"] = {"gmail": [{"mailboxes": mailboxes, "window_days": 36500}]}
    path = folder / "agency.yaml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    return path


def quota_bound_seconds(count: int) -> float:
    """The fastest a mailbox of `count` messages can be read: its units at 250 a second,
    less the burst the quota allows at the start."""
    units = UNITS["getProfile"] + math.ceil(count / LIST_PAGE) * UNITS["messages.list"]
    units += count * UNITS["messages.get"]
    return max(0.0, units - BURST_SECONDS * UNITS_PER_SECOND) / UNITS_PER_SECOND


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--mailboxes", type=int, default=10)
    parser.add_argument("--messages", type=int, default=20_000)
    parser.add_argument("--new", type=int, default=20)
    args = parser.parse_args()
    names = mailbox_names(args.mailboxes)
    ours, theirs = multiprocessing.Pipe()
    private_pem = service_account_pem()[0]  # before the fork: the child shares the key
    child = multiprocessing.Process(target=serve, args=(theirs, names, args.messages))
    child.start()
    try:
        base_url = ours.recv()
        key = ServiceAccountKey(CLIENT_EMAIL, private_pem, "k1", f"{base_url}/token")
        connection = GmailConnection(key, api_base_url=base_url, directory_base_url=base_url)
        with tempfile.TemporaryDirectory() as folder:
            config = load_config(write_config(Path(folder), names))
            started = time.perf_counter()
            first = ingest_mailboxes(config, "first", gmail_connection=lambda _: connection)
            seconds = time.perf_counter() - started
            assert first["messages"] > 0, first
            ours.send("counts")
            requests_before, grants_before = ours.recv()
            ours.send("hour")
            ours.send(args.new)
            ours.recv()
            hourly = ingest_mailboxes(config, "hourly", gmail_connection=lambda _: connection)
            ours.send("counts")
            requests_after, grants_after = ours.recv()
    finally:
        ours.send("stop")
        child.join(timeout=30)
    calls = (requests_after - requests_before) + (grants_after - grants_before)
    minimum = args.mailboxes * (1 + 1 + math.ceil(args.new / BATCH_SIZE))
    new_messages = args.mailboxes * args.new
    bound = quota_bound_seconds(args.messages)
    print(
        json.dumps(
            {
                "first_sync": {k: v for k, v in first.items() if k.startswith(("gmail", "mess"))},
                "hourly": {k: v for k, v in hourly.items() if k.startswith(("gmail", "mess"))},
                "corpus": f"{args.mailboxes} mailboxes x {args.messages} messages",
            }
        )
    )
    print(
        f"BENCH gmail_calls_per_new_message {calls / new_messages:.4f} calls "
        f"baseline={minimum / new_messages:.4f} ratio={calls / minimum:.2f}"
    )
    print(
        f"BENCH gmail_first_sync {seconds:.1f} s baseline={bound:.1f} ratio={seconds / bound:.2f}"
    )


if __name__ == "__main__":
    main()
