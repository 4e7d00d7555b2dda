"""`make demo`: start the sandbox, run every DAG once through Airflow, print where things are.

Everything lands under one folder (default `out/demo`). Running it again re-ingests
the same sandbox data (no duplicate rows) and sends no digest twice for a period.
Airflow's api-server and the Slack listener run beside the DAG runs, and the account
managers answer the approvals and two alerts by clicks in the fake Slack
(tooling.demo_slack); the summary prints that trail.
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import timedelta
from pathlib import Path
from typing import Any

import duckdb

from clientpulse.config import PROJECT_ROOT, AgencyConfig, load_config
from clientpulse.pipeline.risk_backfill import backfill
from clientpulse.slack_listener.actions import FEEDBACK_DAG
from sandbox.runner import read_connections, start_sandbox, stop_sandbox
from sandbox.simulator import DEMO_AS_OF
from sandbox.slack_render import load_capture, render_text
from tooling.airflow_beside import AirflowBeside
from tooling.demo_slack import DemoManagers, approval_dm_counts, trail_lines
from tooling.local_airflow import PIPELINE, run_pipeline
from tooling.slack_desk import SlackDesk
from warehouse.outbox import approval_trail

DEMO_CONFIG = PROJECT_ROOT / "config" / "demo.yaml"
# The approvals and alerts of the run are answered by the managers' clicks in the fake
# Slack, through the Slack listener and Airflow's REST API (tooling.demo_slack).
INGEST_DAGS = ("ingest_mailboxes", "ingest_asana", "ingest_crm")
# After the digests: the account managers' DMs for the demo's Monday (not in PIPELINE:
# `make smoke` runs its own stages).
ALERT_DAGS = ("account_manager_alerts",)

EXAMPLE_QUERIES = (
    (
        "At-risk clients and why",
        "SELECT c.client_name, c.account_manager_name, r.score, "
        "[f.factor FOR f IN r.factors IF f.contribution > 0] AS adding_points, r.reasons "
        "FROM marts.client_risk_weekly r JOIN staging.cfg_clients c USING (client_id) "
        "WHERE r.at_risk AND r.week_start = (SELECT max(week_start) FROM marts.client_risk_weekly) "
        "ORDER BY r.score DESC",
    ),
    (
        "Email SLA per client and metric, last four weeks (business minutes)",
        "SELECT client_id, metric, sum(achieved) AS achieved, sum(breached) AS breached, "
        "sum(pending) AS pending, round(100 * sum(achieved) / nullif(sum(achieved + breached), 0))"
        " AS pct_on_time FROM marts.client_sla_weekly "
        "WHERE week_start > (SELECT max(week_start) - 28 FROM marts.client_sla_weekly) "
        "GROUP BY ALL ORDER BY pct_on_time NULLS LAST",
    ),
    (
        "Clients with the most overdue tasks",
        "SELECT client_name, open_overdue_tasks, max_days_overdue FROM marts.client_health "
        "ORDER BY open_overdue_tasks DESC LIMIT 10",
    ),
    (
        "Segments and strategies (docs/domain.md §6), with lifecycle stage",
        "SELECT s.client_name, s.segment, s.strategy_key, s.attractiveness_score, "
        "s.relationship_score, d.lifecycle_stage FROM marts.client_segment s "
        "JOIN core.dim_client d USING (client_id) ORDER BY s.strategy_key, s.client_name",
    ),
)


def summarize(
    out: Path, config: AgencyConfig, slack_before: int, clicks: list[dict[str, Any]]
) -> str:
    snapshot = config.warehouse.snapshot_path
    capture = out / "slack" / "messages.jsonl"
    messages = load_capture(capture) if capture.exists() else []
    text_path = capture.with_suffix(".txt")
    text_path.write_text(render_text(messages), encoding="utf-8")
    emails = sorted((out / "email").glob("*.eml"))
    # The run is over, so the pipeline's own file is free to read; it also holds the
    # sent log, which is written after the build that published the snapshot.
    con = duckdb.connect(str(config.warehouse.path), read_only=True)
    try:
        counts = {
            table: con.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
            for table in (
                "raw.email_messages",
                "raw.asana_tasks",
                "raw.crm_objects",
                "marts.client_health",
                "ops.sent_log",
                "ops.quarantine",
            )
        }
        at_risk, lost, weeks = con.execute(
            "SELECT at_risk_clients, lost_clients, history_weeks FROM marts.portfolio_health"
        ).fetchone()
        trail = approval_trail(con)
        feedback = con.execute(
            "SELECT client_id, action, until_on, reason, recorded_by FROM ops.alert_feedback "
            "ORDER BY recorded_at"
        ).fetchall()
        mail = _mail_lines(con)
    finally:
        con.close()
    lines = [
        "",
        "ClientPulse demo finished. Everything is under " + str(out),
        f"  warehouse (pipeline's file):  {config.warehouse.path}",
        f"  analyst snapshot (read-only): {snapshot}",
        "  rows: " + ", ".join(f"{t}={n}" for t, n in counts.items()),
        *mail,
        f"  clients at risk: {at_risk}; lost: {lost}; weeks of risk history: {weeks}",
        f"  Slack messages posted: {len(messages)} in total, {len(messages) - slack_before} "
        "this run",
        f"    JSON: {capture}",
        f"    text: {text_path}",
        *_digest_lines(messages[slack_before:]),
        f"  client emails sent (.eml): {len(emails)} in {out / 'email'}",
        *(f"    {p.name}" for p in emails[:5]),
        *([f"    … and {len(emails) - 5} more"] if len(emails) > 5 else []),
        *approval_lines(trail),
        *(
            f"    approval DMs this run for {dag_id}: {dms} to {managers} managers"
            for dag_id, (dms, managers) in approval_dm_counts(messages[slack_before:]).items()
        ),
        *trail_lines(clicks, out / "slack" / "clicks.jsonl"),
        "  alert feedback in the warehouse (ops.alert_feedback):",
        *(f"    {row}" for row in feedback),
        f"  Airflow logs: {out / 'airflow' / 'logs'}",
        "",
        "Try these on the snapshot (it stays readable while the pipeline runs):",
    ]
    new_dms = [m for m in messages[slack_before:] if m["channel_name"].startswith("dm-")]
    lines += ["", f"Account-manager DMs this run ({len(new_dms)}, JSON in {capture}):", ""]
    lines += [render_text(new_dms), ""]
    for title, sql in EXAMPLE_QUERIES:
        lines += [
            f"  -- {title}",
            f"  .venv/bin/python -c \"import duckdb; duckdb.connect('{snapshot}', "
            f'read_only=True).sql(\\"{sql}\\").show()"',
        ]
    return "\n".join(lines)


def _mail_lines(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Where the mail was read: per source, its mailboxes and the messages they hold."""
    rows = con.execute(
        "SELECT source, count(DISTINCT mailbox), count(DISTINCT message_key) "
        "FROM raw.email_sightings GROUP BY ALL ORDER BY 1"
    ).fetchall()
    return [f"  mail read from {s}: {n} mailbox(es), {m} messages" for s, n, m in rows]


def _digest_lines(posted: list[dict]) -> list[str]:
    """This run's leadership digest as text, and where its chart was saved."""
    digest = [m for m in posted if m.get("channel_name") == "leadership"]
    if not digest:
        return ["  leadership digest: nothing new posted this run"]
    charts = [f["path"] for m in digest for f in m.get("files") or []]
    return [
        "  leadership digest as posted (text; the chart's numbers follow it):",
        *(f"    | {line}" for line in render_text(digest).splitlines()),
        *(f"  digest chart (PNG): {path}" for path in charts),
    ]


def approval_lines(trail: list[tuple]) -> list[str]:
    """The approval trail (ops.approvals): counts per kind and decision ('-': still
    waiting), then the rejections and a few approvals."""
    counts: dict[tuple[str, str], int] = {}
    for key, *_rest in trail:
        kind, decision = key.split("|")[0], _rest[2]
        counts[kind, decision] = counts.get((kind, decision), 0) + 1
    lines = ["  approval trail (ops.approvals):"]
    lines += [f"    {kind}: {decision} {n}" for (kind, decision), n in sorted(counts.items())]
    rejected = [r for r in trail if r[3] == "rejected"]
    shown = rejected + [r for r in trail if r[3] == "approved"][:3]
    for key, manager, policy, decision, by, at, via, status in shown:
        when = f"{at:%Y-%m-%d %H:%M:%S %Z}" if at else "-"
        lines.append(
            f"    {key} · manager {manager} · policy {policy} · {decision} by {by} at {when}"
            f" via {via} · outbox {status}"
        )
    return lines


def fill_history(config: AgencyConfig) -> None:
    """Every past week's risk row from the first message on, before this week's build
    (weeks already held are kept: a second demo run computes none again)."""
    con = duckdb.connect(str(config.warehouse.path), read_only=True)
    try:
        first = con.execute("SELECT min(sent_at) FROM raw.email_messages").fetchone()[0]
    finally:
        con.close()
    last_week = DEMO_AS_OF.date() - timedelta(days=7)
    figures = backfill(config, first.date(), last_week, "demo-backfill", missing_only=True)
    print(f"  {figures['weeks']} weeks computed", flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, default=PROJECT_ROOT / "out" / "demo")
    parser.add_argument("--config", type=Path, default=DEMO_CONFIG)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)
    out = args.out.resolve()
    config = load_config(args.config)
    capture = out / "slack" / "messages.jsonl"
    slack_before = len(load_capture(capture)) if capture.exists() else 0

    print(f"Starting the sandbox (seed {args.seed}) …", flush=True)
    sandbox = start_sandbox(args.config, out, args.seed)
    try:
        with AirflowBeside.started(
            out / "airflow",
            args.config.resolve(),
            config,
            read_connections(out),
            sandbox.slack_url,
        ) as beside:
            print(f"Running the DAGs through Airflow as of {DEMO_AS_OF.isoformat()} …", flush=True)
            run_pipeline(beside.airflow, DEMO_AS_OF, INGEST_DAGS, prepare=False)
            print("Filling the weekly risk history of the demo's past …", flush=True)
            fill_history(config)
            managers = DemoManagers.at_desk(config, SlackDesk(sandbox.slack_url), beside.ready())
            print(
                f"Airflow's api-server is up on {beside.url}; the managers answer from Slack",
                flush=True,
            )
            rest = tuple(d for d in PIPELINE if d not in INGEST_DAGS)
            run_pipeline(
                beside.with_answerer(managers.answering),
                DEMO_AS_OF,
                rest + ALERT_DAGS,
                prepare=False,
            )
            runs = managers.answer_alerts()
            print(f"  running the {len(runs)} alert answers ({FEEDBACK_DAG}) …", flush=True)
            beside.run_triggered(managers.api, FEEDBACK_DAG, runs)
            clicks = managers.trail()
    finally:
        stop_sandbox(out)
    with (out / "slack" / "clicks.jsonl").open("a", encoding="utf-8") as trail:  # all runs'
        trail.writelines(json.dumps(c, ensure_ascii=False) + "\n" for c in clicks)
    print(summarize(out, config, slack_before, clicks))
    return 0


if __name__ == "__main__":
    sys.exit(main())
