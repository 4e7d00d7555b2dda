"""Build the signals: every model (config seeds, Python and SQL models) → quality gate
(the catalog's checks; a failure queues an ops alert) → analyst snapshot (only from a
build that passed the gate). A build whose inputs equal the last successful one's is
skipped (clientpulse/pipeline/build_inputs.py)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any

import duckdb

from clientpulse.config import AgencyConfig
from clientpulse.pipeline.build_inputs import BUILD_STEP, build_fingerprint, raw_fingerprint
from clientpulse.pipeline.config_seeds import config_seeds
from clientpulse.pipeline.quality_alert import enqueue_quality_alert
from clientpulse.pipeline.risk_history import drop_future_weeks
from connectors.crm.settings import CrmSource
from transforms.catalog import catalog, checks
from transforms.runner import build
from warehouse.db import open_writer, set_limits, transaction
from warehouse.quality import describe_failure, import_gx_in_background, run_gate
from warehouse.runlog import last_success_stat, run_step
from warehouse.snapshot import publish_snapshot

SLOWEST_MODELS = 5  # named with their seconds in the run's stats


def model_variables(config: AgencyConfig) -> dict[str, object]:
    """Configuration the SQL models read with `getvariable(...)`."""
    signals = config.signals
    at_risk, lifecycle, facts = signals.at_risk, signals.lifecycle, signals.relationship
    segmentation = signals.segmentation
    risk, conflict = signals.risk, signals.conflict
    crm = config.sources.crm or CrmSource()
    status = config.client_status
    return {
        "overdue_tasks_threshold": at_risk.overdue_tasks,
        "contact_gap_cadence_multiple": at_risk.contact_gap_cadence_multiple,
        "first_reply_compliance_below": at_risk.first_reply_compliance_below,
        "health_window_days": at_risk.window_days,
        "risk_reply_window_days": risk.reply_window_days,
        "risk_min_measurements": risk.min_measurements,
        "risk_delivery_weeks": risk.delivery_weeks,
        "risk_contact_recent_weeks": risk.contact_recent_weeks,
        "risk_contact_baseline_weeks": risk.contact_baseline_weeks,
        "risk_contact_baseline_min_weeks": risk.contact_baseline_min_weeks,
        "risk_contact_fall_min_expected": risk.contact_fall_min_expected,
        "risk_contact_fall_z_from": risk.contact_fall_z_from,
        "risk_contact_fall_z_full": risk.contact_fall_z_full,
        "risk_renewal_amount_tolerance": risk.renewal_amount_tolerance,
        "risk_watch_at": risk.watch_at,
        "risk_at_risk_at": risk.at_risk_at,
        "risk_false_alarm_budget": risk.false_alarm_budget,
        "risk_calibration_min_weeks": risk.calibration_min_weeks,
        "risk_lost_after_days": risk.lost_after_days,
        "risk_lost_after_lost_deal_days": risk.lost_after_lost_deal_days,
        "lost_recently_days": risk.lost_recently_days,
        "reason_fields": status.reason_fields,
        "justification_fields": status.justification_fields,
        "hypothesis_field": status.hypothesis_field,
        "hypothesis_sections": status.hypothesis_sections,
        "hypothesis_confirmed": status.hypothesis_confirmed,
        "hypothesis_refuted": status.hypothesis_refuted,
        "cancelled_sections": status.cancelled_sections,
        "not_started_sections": status.not_started_sections,
        "agency_timezone": config.agency.timezone,
        "segment_gap_days": config.sla_policies.segment_gap_days,
        "closing_subject": config.sla_policies.closing_subject,
        "won_stages": crm.won_stages,
        "lost_stages": crm.lost_stages,
        "budget_property": crm.budget_property or "",
        "honeymoon_days": lifecycle.honeymoon_days,
        "support_after_days": lifecycle.support_after_days,
        "active_contact_days": facts.active_contact_days,
        "on_site_location": facts.on_site_location,
        "executive_title": facts.executive_title,
        "manager_title": facts.manager_title,
        "greeting_horizon_days": facts.greeting_horizon_days,
        "attractiveness_high_at": segmentation.attractiveness.high_at,
        "attractiveness_medium_at": segmentation.attractiveness.medium_at,
        "relationship_high_at": segmentation.relationship.high_at,
        "relationship_medium_at": segmentation.relationship.medium_at,
        "alert_early_warning_share": config.alerts.early_warning_share,
        "alert_risk_up_step": config.alerts.risk_up_step,
        "alert_trend_points": config.alerts.trend_points,
        "conflict_burst_min_messages": conflict.burst_min_messages,
        "conflict_burst_over_usual": conflict.burst_over_usual,
        "conflict_ping_pong_minutes": conflict.ping_pong_minutes,
        "conflict_ping_pong_replies": conflict.ping_pong_replies,
        "conflict_directors": conflict.directors,
        "conflict_complaint_subject": conflict.complaint_subject,
        "conflict_min_signals": conflict.min_signals,
        "conflict_calm_days": conflict.calm_days,
        "conflict_critical_after_days": conflict.critical_after_days,
    }


def build_settings(config: AgencyConfig) -> dict[str, Any]:
    """What the models read from the config: SQL variables and the seeds' rows."""
    return {"variables": model_variables(config), "seeds": config_seeds(config)}


def build_models(
    con: duckdb.DuckDBPyConnection,
    config: AgencyConfig,
    as_of: datetime,
    settings: dict[str, Any] | None = None,
) -> dict:
    """Run every model as of `as_of`, the config's seeds first (`settings` when the
    caller already has them)."""
    settings = settings or build_settings(config)
    timings: dict[str, float] = {}
    drop_future_weeks(con, as_of)  # never this week's "latest" row
    tables = build(con, as_of, settings["variables"], settings["seeds"], timings=timings)
    slowest = sorted(timings, key=timings.__getitem__, reverse=True)[:SLOWEST_MODELS]
    return {"models": tables, "slowest_models": {t: timings[t] for t in slowest}}


def gate_and_alert(con: duckdb.DuckDBPyConnection, config: AgencyConfig, run_id: str) -> list[str]:
    """Run the quality gate; if it fails, queue one Slack alert to ops for this run."""
    results = run_gate(con, run_id, checks(catalog()), config.warehouse.gate_in_memory_max_rows)
    failures = [describe_failure(r) for r in results if not r.success]
    if failures:
        with transaction(con):
            enqueue_quality_alert(con, config, run_id, failures)
    return failures


def publish_if_passed(
    con: duckdb.DuckDBPyConnection, config: AgencyConfig, failures: list[str]
) -> str:
    """Publish the analysts' snapshot only from a build that passed its gate; after a
    failed one the last good snapshot stays. Returns what happened, for the run log."""
    snapshot = config.warehouse.snapshot_path
    if failures:
        return f"held back (quality gate failed); {snapshot} is still the last good build"
    publish_snapshot(con, config.warehouse.path, snapshot)
    return str(snapshot)


@contextmanager
def _timed(seconds: dict[str, float], stage: str) -> Iterator[None]:
    started = time.perf_counter()
    yield
    seconds[stage] = round(time.perf_counter() - started, 2)


def build_signals(
    config: AgencyConfig, as_of: datetime, run_id: str, full_refresh: bool = False
) -> dict[str, Any]:
    """Rebuild every model as of `as_of`, gate the result, publish the snapshot; unless
    nothing it reads changed since the last successful build (`full_refresh` builds
    anyway)."""
    with open_writer(config.warehouse.path) as con:
        set_limits(con, config.warehouse.memory_limit, config.warehouse.threads)
        settings = build_settings(config)
        raw = raw_fingerprint(con)  # recorded: the ingests compare with what was read
        inputs = build_fingerprint(raw, settings, as_of, config.agency.timezone)
        unchanged = inputs == last_success_stat(con, BUILD_STEP, "inputs")
        if unchanged and not full_refresh and config.warehouse.snapshot_path.exists():
            with run_step(con, run_id, BUILD_STEP) as stats:
                stats.update(skipped=True, inputs=inputs, raw=raw)
            return dict(stats)
        import_gx_in_background()  # ready for the gate by the time the models are built
        with run_step(con, run_id, BUILD_STEP) as stats:
            stats.update(inputs=inputs, raw=raw)
            seconds = stats["seconds"] = {}
            with _timed(seconds, "models"):
                stats.update(build_models(con, config, as_of, settings))
            with _timed(seconds, "gate"):
                stats["quality_failures"] = gate_and_alert(con, config, run_id)
            stats["at_risk_clients"] = con.execute(
                "SELECT at_risk_clients FROM marts.portfolio_health"
            ).fetchone()[0]
            # inside the step: a build counts as done (and skippable) once analysts see it
            with _timed(seconds, "snapshot"):
                stats["snapshot"] = publish_if_passed(con, config, stats["quality_failures"])
        return dict(stats)
