"""What every DAG shares: owner, retries, the writer pool, asset URIs, the agency time
zone for schedules, and the run's 'as of' instant. Kept free of Airflow imports and
heavy work: DAG files import it at parse time. An invalid config shows up as an import
error on every DAG, naming the file, key and problem."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from typing import Any

from clientpulse.config import load_config

OWNER = "clientpulse"
WRITER_POOL = "duckdb_writer"  # one slot: DuckDB allows one writing process per file
DEFAULT_ARGS: dict[str, Any] = {
    "owner": OWNER,
    # Local one-off runs (`make demo`, `make run`) set 0 to fail fast instead of waiting.
    "retries": int(os.environ.get("CLIENTPULSE_TASK_RETRIES", "2")),
    "retry_delay": timedelta(minutes=2),
    "retry_exponential_backoff": True,
}

START_DATE = datetime(2026, 1, 1, tzinfo=UTC)
AGENCY_TIMEZONE = load_config().agency.timezone

ASSET_RAW_ASANA = "clientpulse://warehouse/raw/asana"
ASSET_RAW_MAILBOXES = "clientpulse://warehouse/raw/mailboxes"
ASSET_RAW_CRM = "clientpulse://warehouse/raw/crm"
ASSET_MARTS = "clientpulse://warehouse/marts"


def as_of(context: Any) -> datetime:
    """The instant a run reports on: its logical date, else (asset-triggered) its run_after."""
    logical = context.get("logical_date")
    return logical if logical is not None else context["dag_run"].run_after


def run_id(context: Any) -> str:
    return f"{context['dag'].dag_id}/{context['run_id']}"


def dag_settings(*tags: str, doc_md: str | None = None) -> dict[str, Any]:
    """Keyword arguments every ClientPulse DAG shares (plus its own tags and docs)."""
    return {
        "start_date": START_DATE,
        "catchup": False,
        "max_active_runs": 1,
        "default_args": DEFAULT_ARGS,
        "tags": ["clientpulse", *tags],
        "doc_md": doc_md,
    }
