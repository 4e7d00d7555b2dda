"""`python -m tests.gmail_fake CONFIG KEY BASE_URL`: one mailbox ingest in a process of its
own, as an Airflow task runs it (tests/test_gmail_sync.py kills it mid-batch)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from clientpulse.config import load_config
from clientpulse.pipeline.ingest import ingest_mailboxes
from connectors.mailboxes.gmail.auth import GmailConnection, ServiceAccountKey


def ingest_in_child(config_path: str, key_file: str, base_url: str) -> None:
    """Ingest the mailboxes of `config_path` with the key in `key_file` from the fake."""
    key = ServiceAccountKey.from_json(json.loads(Path(key_file).read_text()))
    connection = GmailConnection(key, api_base_url=base_url, directory_base_url=base_url)
    ingest_mailboxes(load_config(config_path), "child", gmail_connection=lambda _: connection)


if __name__ == "__main__":
    ingest_in_child(*sys.argv[1:4])
