"""What every DAG shares: owner, retries, the writer pool, asset URIs, the agency time
zone for schedules, the ops alerts, and the run's 'as of' instant. Kept free of Airflow
imports and heavy work: DAG files import it at parse time, so it reads only the time
zone and the ops Slack channel from the config; every task validates the whole file and
fails naming file, key and problem."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import yaml

from clientpulse.ops_alerts import OpsChannel, TaskFailureAlert, digest_deadline
from clientpulse.paths import config_path

OWNER = "clientpulse"
WRITER_POOL = "duckdb_writer"  # one slot: DuckDB allows one writing process per file
START_DATE = datetime(2026, 1, 1, tzinfo=UTC)
_YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _light_setting(raw: Any, path: Path, *keys: str) -> Any:
    """One config value, read without validating the whole config: every DAG file pays
    for its imports at parse time. Tasks load and validate the full config."""
    try:
        for key in keys:
            raw = raw[key]
    except (KeyError, TypeError) as exc:
        raise RuntimeError(f"{path}: cannot read {'.'.join(keys)}: {exc}") from exc
    return raw


def _read_raw_config(path: Path) -> Any:
    try:
        return yaml.load(path.read_text(encoding="utf-8"), Loader=_YAML_LOADER)  # noqa: S506
    except (OSError, yaml.YAMLError) as exc:
        raise RuntimeError(f"{path}: cannot read the config: {exc}") from exc


_CONFIG_PATH = config_path()
_RAW_CONFIG = _read_raw_config(_CONFIG_PATH)  # parsed once per DAG file parse
AGENCY_TIMEZONE = _light_setting(_RAW_CONFIG, _CONFIG_PATH, "agency", "timezone")
_SLACK = _light_setting(_RAW_CONFIG, _CONFIG_PATH, "delivery", "slack")
OPS = OpsChannel(
    connection_id=_SLACK.get("connection_id", "clientpulse_slack"),
    channel=_light_setting(_SLACK, _CONFIG_PATH, "ops_channel"),
)
_ALERTS = (_RAW_CONFIG.get("alerts") if isinstance(_RAW_CONFIG, dict) else None) or {}
_WORKING_DAYS = (
    _light_setting(_RAW_CONFIG, _CONFIG_PATH, "agency").get("business_hours") or {}
).get("days", ["mon", "tue", "wed", "thu", "fri"])
_ALERT_HOUR, _ALERT_MINUTE = str(_ALERTS.get("daily_at", "09:30")).split(":")
# account_manager_alerts: daily on the agency's working days at alerts.daily_at (local).
ALERTS_CRON = f"{int(_ALERT_MINUTE)} {int(_ALERT_HOUR)} * * {','.join(_WORKING_DAYS)}"

# A digest not delivered this long after its run was queued alerts ops (Deadline Alert);
# "off" for one-off local runs, where no scheduler watches deadlines.
_DEADLINE_MINUTES = os.environ.get("CLIENTPULSE_DIGEST_DEADLINE_MINUTES", "120")
DIGEST_DEADLINE = None if _DEADLINE_MINUTES == "off" else timedelta(minutes=int(_DEADLINE_MINUTES))

DEFAULT_ARGS: dict[str, Any] = {
    "owner": OWNER,
    # Local one-off runs (`make demo`, `make run`) set 0 to fail fast instead of waiting.
    "retries": int(os.environ.get("CLIENTPULSE_TASK_RETRIES", "2")),
    "retry_delay": timedelta(seconds=int(os.environ.get("CLIENTPULSE_RETRY_DELAY_SECONDS", "120"))),
    "retry_exponential_backoff": True,
    "on_failure_callback": TaskFailureAlert(OPS),
}

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


def dag_settings(*tags: str, doc_md: str | None = None, digest: bool = False) -> dict[str, Any]:
    """Keyword arguments every ClientPulse DAG shares (plus its own tags and docs); a
    digest DAG also gets a Deadline Alert to ops when it is not delivered in time."""
    settings = {
        "start_date": START_DATE,
        "catchup": False,
        "max_active_runs": 1,
        "default_args": DEFAULT_ARGS,
        "tags": ["clientpulse", *tags],
        "doc_md": doc_md,
    }
    if digest and DIGEST_DEADLINE is not None:
        settings["deadline"] = digest_deadline(OPS, DIGEST_DEADLINE)
    return settings
