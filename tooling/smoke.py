"""`make smoke`: the docker-compose topology, started natively and driven over REST.

The machine's PostgreSQL is the metadata DB, its Redis the Celery broker; api-server,
scheduler, dag-processor, triggerer and a Celery worker run as local processes with
the settings of `deploy/airflow.env` (tooling.topology). The sandbox fakes stand
in for Asana, HubSpot, Slack and SMTP. Through the REST API v2, with a JWT:

1. clean run: the three ingest DAGs at once (they compete for the one-slot writer
   pool), then build_signals, then both digest DAGs at once. Every task succeeds at
   its first try, no task log mentions a DuckDB lock, and no two writer tasks overlap.
2. rerun with a crash: the same stages for a later instant of the same week; the
   Celery worker's process tree is SIGKILLed while a writer task runs and a new worker
   is started. The task is retried and everything succeeds; the warehouse holds the
   same rows and keys as after the clean run; Slack and SMTP received nothing new.

The two client emails that wait for approval are answered as their managers do, from
Slack: the Slack listener (clientpulse.slack_listener, the compose service
`slack-listener`) runs as its own process on the fake Slack's Socket Mode and answers
Airflow's HITL requests over REST as each manager's own Airflow user. It is SIGKILLed
between the two clicks and started again (SlackManagers).

Each digest run also misses a zero-minute Deadline Alert, so ops gets one alert per
digest run. Everything is torn down at the end, also on failure; logs stay in out/smoke.
"""

from __future__ import annotations

import argparse
import contextlib
import email
import json
import re
import secrets
import shutil
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import psycopg2
import redis
import yaml
from cryptography.fernet import Fernet

from clientpulse.config import AgencyConfig, load_config
from clientpulse.orchestration import WRITER_POOL
from clientpulse.paths import DEMO_CONFIG, PROJECT_ROOT
from clientpulse.pipeline.compose import lost_clients
from clientpulse.slack_listener.blocks import APPROVE, REJECT
from sandbox.runner import read_connections, start_sandbox, stop_sandbox
from sandbox.simulator import DEMO_AS_OF
from tooling.airflow_api import AirflowApi, wait_until_up
from tooling.airflow_users import SETTING as USERS_SETTING
from tooling.airflow_users import simple_auth_users, user_names, write_passwords
from tooling.local_airflow import PIPELINE, LocalAirflow
from tooling.slack_desk import ListenerProcess, SlackDesk, draft_block, listener_environment
from tooling.topology import (
    ADMIN_USER,
    NATIVE_PORTS,
    SECRET_SETTINGS,
    SERVICES,
    WORKER,
    NativeHosts,
    NativeServices,
    airflow_bin,
    free_port,
    read_env_file,
)
from warehouse.outbox import approval_trail

# Smoke-only settings on top of deploy/airflow.env (the drift guard allows exactly these).
SMOKE_TUNING = {
    # The smoke triggers every run itself: cron ticks would make runs depend on the clock.
    "AIRFLOW__SCHEDULER__USE_JOB_SCHEDULE": "False",
    # A dead worker's task is noticed after this long without a heartbeat (default 300 s).
    "AIRFLOW__SCHEDULER__TASK_INSTANCE_HEARTBEAT_TIMEOUT": "30",
    "CLIENTPULSE_RETRY_DELAY_SECONDS": "5",
    # Every digest run misses a zero-minute deadline: the Deadline Alert must reach ops.
    "CLIENTPULSE_DIGEST_DEADLINE_MINUTES": "0",
    # Airflow's default, as in the containers (one-off local runs turn it down to WARNING).
    "AIRFLOW__LOGGING__LOGGING_LEVEL": "INFO",
}
# A new secret in the topology needs a generator here, or the smoke stops at a KeyError.
FRESH_SECRETS: dict[str, Callable[[], str]] = {
    "AIRFLOW__CORE__FERNET_KEY": lambda: Fernet.generate_key().decode(),
    "AIRFLOW__API_AUTH__JWT_SECRET": lambda: secrets.token_hex(32),
}
STAGES = (
    ("ingest_mailboxes", "ingest_asana", "ingest_crm"),
    ("build_signals",),
    ("leadership_digest", "client_weekly_status"),
)
DIGEST_DAGS = STAGES[-1]
# The monthly report runs on the month's first working day; its approvals take the same
# path (clientpulse_approval.approve_and_send) as the weekly status proven here.
assert sorted(d for stage in STAGES for d in stage) == sorted(
    d for d in PIPELINE if d != "client_monthly_report"
)
# Every client's emails go out under policy `auto` but two, whose drafts wait for a
# manager: one manager approves hers and the other rejects his in Slack, with a reason.
SMOKE_APPROVED, SMOKE_REJECTED = "harbor-lane-coffee", "kvitka-flowers"
REJECT_REASON = "Цифри за листопад ще не звірені з бухгалтерією"
APPROVAL_DAG = "client_weekly_status"
KEYED_TABLES = {  # table → its natural key
    "raw.email_messages": "message_key",
    "raw.email_sightings": "mailbox, message_key",
    "raw.asana_tasks": "gid",
    "raw.asana_stories": "gid",
    "raw.crm_objects": "object_type, id",
    "marts.client_health": "client_id",
    "ops.outbox": "delivery_key",
    "ops.sent_log": "delivery_key",
    "ops.quarantine": "source, record_ref, reason",
}
LOCK_ERROR = re.compile(r"Could not set lock on file|Conflicting lock", re.IGNORECASE)
TIME_BUDGET = 18 * 60  # seconds; CI expects the whole smoke in well under 20 minutes
KILL_AFTER_RUNNING = 2.0  # seconds a writer task has been seen running when the worker dies
# Tasks that run only when another task of their run failed (the client-email DAGs'
# `run_failed`, which fails the run then): skipped is their clean outcome.
GUARD_TASKS = frozenset({"run_failed"})
TERMINAL_TASK_STATES = frozenset({"success", "failed", "skipped", "upstream_failed", "removed"})


class SmokeFailed(AssertionError):
    pass


def check(condition: bool, message: str) -> None:
    if not condition:
        raise SmokeFailed(message)


@dataclass
class Smoke:
    out: Path
    started: float = field(default_factory=time.monotonic)
    report: dict[str, Any] = field(default_factory=dict)

    @property
    def remaining(self) -> float:
        return max(30.0, TIME_BUDGET - (time.monotonic() - self.started))

    def log(self, message: str) -> None:
        print(f"[smoke {time.monotonic() - self.started:6.1f}s] {message}", flush=True)


def write_config(out: Path) -> Path:
    """The demo config with every path under `out`."""
    raw = yaml.safe_load(DEMO_CONFIG.read_text(encoding="utf-8"))
    raw["warehouse"] = {
        "path": "warehouse/clientpulse.duckdb",
        "snapshot_path": "snapshot/clientpulse_snapshot.duckdb",
    }
    raw["sources"]["mailboxes"] = {  # the shared inbox's Takeout: no Gmail quota to wait on
        "mbox": [{"path": "mail/shared-inbox.mbox", "mailbox": "team@northwind.test"}]
    }
    raw["delivery"]["dry_run_dir"] = "dry_run"
    asked = {SMOKE_APPROVED, SMOKE_REJECTED}
    for client in raw["clients"]:
        client["approval"] = "required" if client["id"] in asked else "auto"
    path = out / "agency.yaml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def reset_backing_services(hosts: NativeHosts, *, create: bool) -> None:
    """Drop (and recreate) the smoke's metadata DB; empty its Redis database."""
    con = psycopg2.connect(f"postgresql://{hosts.postgres}/postgres")
    con.autocommit = True
    try:
        with con.cursor() as cur:
            cur.execute(f'DROP DATABASE IF EXISTS "{hosts.database}" WITH (FORCE)')
            if create:
                cur.execute(f'CREATE DATABASE "{hosts.database}"')
    finally:
        con.close()
    redis.Redis.from_url(hosts.redis).flushdb()


def native_environment(
    hosts: NativeHosts, config: Path, connections: dict[str, str]
) -> tuple[dict[str, str], dict[str, int]]:
    """deploy/airflow.env + local hosts + fresh secrets + free ports + sandbox connections."""
    ports = {name: free_port() for name in NATIVE_PORTS}
    env = read_env_file()
    env.update(hosts.settings(ports["AIRFLOW__API__PORT"], config))
    env.update({setting: FRESH_SECRETS[setting]() for setting in SECRET_SETTINGS})
    env.update({name: str(port) for name, port in ports.items()})
    env.update(connections)
    env.update(SMOKE_TUNING)
    return env, ports


def airflow_users(config: AgencyConfig, env: dict[str, str], passwords_file: Path) -> str:
    """Every manager as an Airflow user (what `.env` adds to deploy/airflow.env's admin,
    tooling.airflow_users), all with fresh passwords in SimpleAuthManager's passwords file,
    which the listener reads too; return the admin's password."""
    env[USERS_SETTING] = simple_auth_users(config, ADMIN_USER)
    passwords_file.unlink(missing_ok=True)
    return write_passwords(passwords_file, user_names(env[USERS_SETTING]))[ADMIN_USER]


def run_stages(
    smoke: Smoke,
    api: AirflowApi,
    label: str,
    logical_date: datetime,
    on_stage: Callable[[tuple[str, ...], dict[str, str]], None] | None = None,
) -> dict[str, str]:
    """Each stage's DAGs unpaused, triggered together, awaited, paused again."""
    runs: dict[str, str] = {}
    for stage in STAGES:
        for dag_id in stage:
            api.set_paused(dag_id, False)
        stage_runs = {d: api.trigger(d, f"smoke_{label}_{d}", logical_date) for d in stage}
        smoke.log(f"{label}: triggered {', '.join(stage)}")
        if on_stage is not None:
            on_stage(stage, stage_runs)
        api.wait(stage_runs, timeout=smoke.remaining)
        for dag_id in stage:
            api.set_paused(dag_id, True)
        smoke.log(f"{label}: {', '.join(stage)} succeeded")
        runs.update(stage_runs)
    return runs


def task_instances(api: AirflowApi, runs: dict[str, str]) -> list[dict[str, Any]]:
    return [ti for dag_id, run_id in runs.items() for ti in api.task_instances(dag_id, run_id)]


def writer_overlaps(tis: list[dict[str, Any]]) -> tuple[int, list[tuple[str, str]]]:
    """How many writer-pool tasks ran, and each one that started before an
    earlier-started one had ended (a skipped task never held the slot: Airflow still
    stamps it with the instant it was skipped)."""
    spans = sorted(
        (
            datetime.fromisoformat(ti["start_date"]),
            datetime.fromisoformat(ti["end_date"]),
            f"{ti['dag_id']}.{ti['task_id']}",
        )
        for ti in tis
        if ti["pool"] == WRITER_POOL and ti["state"] != "skipped"
    )
    overlaps, latest_end, latest = [], None, ""
    for start, end, name in spans:
        if latest_end is not None and start < latest_end:
            overlaps.append((latest, name))
        if latest_end is None or end > latest_end:
            latest_end, latest = end, name
    return len(spans), overlaps


def most_runs_at_once(spans: list[tuple[datetime, datetime]]) -> int:
    """The most runs that were in progress at the same instant."""
    events = sorted([(start, 1) for start, _ in spans] + [(end, -1) for _, end in spans])
    most = current = 0
    for _, step in events:
        current += step
        most = max(most, current)
    return most


def writer_seconds(tis: list[dict[str, Any]]) -> dict[str, float]:
    """How long each writer task held the one slot (the floor of a pipeline run)."""
    return {
        f"{ti['dag_id']}.{ti['task_id']}": round(
            (
                datetime.fromisoformat(ti["end_date"]) - datetime.fromisoformat(ti["start_date"])
            ).total_seconds(),
            1,
        )
        for ti in tis
        if ti["pool"] == WRITER_POOL
    }


def lock_errors(logs: Path) -> list[str]:
    return [
        str(path)
        for path in logs.rglob("*.log")
        if LOCK_ERROR.search(path.read_text(encoding="utf-8", errors="replace"))
    ]


def emailed_clients(config: AgencyConfig) -> list[str]:
    """Clients with report recipients whose relationship goes on (lost ones get no email)."""
    con = duckdb.connect(str(config.warehouse.path), read_only=True)
    try:
        lost = lost_clients(con)
    finally:
        con.close()
    return [c.id for c in config.clients if c.report_recipients and c.id not in lost]


def warehouse_counts(config: AgencyConfig) -> dict[str, list[int]]:
    """Rows and distinct natural keys per table (no writer runs between stages)."""
    con = duckdb.connect(str(config.warehouse.path), read_only=True)
    try:
        return {
            table: list(
                con.execute(f"SELECT count(*), count(DISTINCT ({key})) FROM {table}").fetchone()
            )
            for table, key in KEYED_TABLES.items()
        }
    finally:
        con.close()


def deliveries(out: Path) -> dict[str, Any]:
    capture = out / "slack" / "messages.jsonl"
    lines = capture.read_text(encoding="utf-8").splitlines() if capture.exists() else []
    messages = [json.loads(line) for line in lines]
    by_channel: dict[str, list[str]] = {}
    for message in messages:
        by_channel.setdefault(message["channel_name"], []).append(message["text"])
    return {"slack": by_channel, "emails": len(list((out / "email").glob("*.eml")))}


def check_clean_run(smoke: Smoke, api: AirflowApi, runs: dict[str, str], logs: Path) -> None:
    tis = task_instances(api, runs)
    not_first_try = [
        f"{t['dag_id']}.{t['task_id']}: {t['state']} try {t['try_number']}"
        for t in tis
        if not (t["task_id"] in GUARD_TASKS and t["state"] == "skipped")
        and (t["state"] != "success" or t["try_number"] != 1)
    ]
    check(not not_first_try, f"clean run: tasks not successful at the first try: {not_first_try}")
    writers, overlaps = writer_overlaps(tis)
    check(not overlaps, f"writer tasks overlapped: {overlaps}")
    locked = lock_errors(logs)
    check(not locked, f"DuckDB lock errors in task logs: {locked}")
    run_spans = [
        (datetime.fromisoformat(r["start_date"]), datetime.fromisoformat(r["end_date"]))
        for r in (api.run(dag_id, run_id) for dag_id, run_id in runs.items())
    ]
    smoke.report["concurrent"] = {
        "runs": len(runs),
        "most_runs_in_progress_at_once": most_runs_at_once(run_spans),
        "task_instances": len(tis),
        "writer_tasks": writers,
        "writer_seconds": writer_seconds(tis),
        "overlapping_writer_pairs": len(overlaps),
        "retries": 0,
        "lock_errors_in_logs": 0,
    }
    smoke.log(f"clean run: {len(tis)} tasks, {writers} writer tasks, none overlapped or retried")


class SlackManagers:
    """The two drafts waiting in the client-email run, answered by their managers in the
    approval DMs the run posted: a click travels through the fake Slack's Socket Mode to
    the listener, which answers Airflow's HITL request as the manager and updates the DM.

    After the first click (Approve) the listener is SIGKILLed. The second manager's
    Reject while it is down reaches nobody: Slack does not redeliver an interactive
    payload nobody acknowledged (the user sees an error; Slack retries only Events API
    deliveries), and the fake answers that no connection is open. So the manager clicks
    again once the restarted listener has reconnected, gives the reason in the modal,
    and that answer is recorded."""

    def __init__(
        self,
        smoke: Smoke,
        api: AirflowApi,
        config: AgencyConfig,
        desk: SlackDesk,
        listener: ListenerProcess,
    ) -> None:
        self.smoke, self.api, self.config, self.desk, self.listener = (
            smoke,
            api,
            config,
            desk,
            listener,
        )
        self.lines: dict[str, str] = {}
        self.report: dict[str, Any] = {}

    def __call__(self, stage: tuple[str, ...], runs: dict[str, str]) -> None:
        if APPROVAL_DAG not in runs:
            return
        run_id = runs[APPROVAL_DAG]
        self._wait_for_drafts(run_id)
        approve = self._manager(SMOKE_APPROVED)
        ts, block = self._dm(run_id, SMOKE_APPROVED)
        approved = self.desk.answer(approve.slack_user_id, ts, block, APPROVE)
        self.lines[SMOKE_APPROVED] = approved.line
        self.smoke.log(
            f"slack: {approve.id} clicked Approve on {SMOKE_APPROVED} (acked in "
            f"{approved.ack_ms} ms); the DM now says: {approved.line!r}"
        )

        pids = self.listener.kill()
        self.desk.wait(lambda s: s["connections"] == 0, "the dead listener's socket to close")
        self.smoke.log(f"slack: SIGKILLed the listener ({len(pids)} processes)")
        reject = self._manager(SMOKE_REJECTED)
        ts, block = self._dm(run_id, SMOKE_REJECTED)
        lost = self.desk.click(reject.slack_user_id, ts, REJECT, block)
        check(not lost.get("acked"), f"a click reached a dead listener: {lost}")
        self.smoke.log(
            f"slack: {reject.id} clicked Reject on {SMOKE_REJECTED} while it was down: not "
            f"delivered ({lost.get('error') or lost}); the manager clicks again after the restart"
        )
        self.listener.start()
        opened = self.desk.state()["connections_opened"]
        self.smoke.log(f"slack: restarted the listener; Socket Mode connections opened: {opened}")

        rejected = self.desk.answer(reject.slack_user_id, ts, block, REJECT, REJECT_REASON)
        self.lines[SMOKE_REJECTED] = rejected.line
        self.smoke.log(
            f"slack: {reject.id} clicked Reject on {SMOKE_REJECTED} again and gave the reason "
            f"in the modal; the DM now says: {rejected.line!r}"
        )
        self.report = {
            "listener_killed_pids": len(pids),
            "click_while_down": lost.get("error") or lost,
            "connections_opened": opened,
            "dm_lines": self.lines,
        }

    def _wait_for_drafts(self, run_id: str) -> None:
        deadline = time.monotonic() + min(300.0, self.smoke.remaining)
        waiting: list[dict[str, Any]] = []
        while len(waiting) < 2 and time.monotonic() < deadline:
            details = self.api.hitl_details(APPROVAL_DAG, run_id)
            waiting = [d for d in details if d["task_instance"]["state"] == "awaiting_input"]
            time.sleep(1)
        check(len(waiting) == 2, f"expected two drafts awaiting approval, got {len(waiting)}")
        check(
            self.api.run(APPROVAL_DAG, run_id)["state"] == "running",
            "the run finished while drafts were waiting",
        )

    def _manager(self, client_id: str) -> Any:
        return self.config.manager(self.config.client(client_id).account_manager)

    def _dm(self, run_id: str, client_id: str) -> tuple[str, str]:
        return self.desk.wait(
            lambda s: draft_block(s, run_id, client_id), f"the approval DM for {client_id}"
        )


def check_approvals(smoke: Smoke, config: AgencyConfig, out: Path, managers: SlackManagers) -> None:
    """Only the approved draft of the two reached SMTP; the trail names the manager who
    clicked and keeps the reason; each DM shows who decided."""
    to = {
        tuple(sorted(m["To"].split(", ")))
        for m in (email.message_from_bytes(p.read_bytes()) for p in (out / "email").glob("*.eml"))
    }
    asked = (SMOKE_APPROVED, SMOKE_REJECTED)
    approved, rejected = (config.client(c) for c in asked)
    check(tuple(sorted(approved.report_recipients)) in to, "the approved draft was not sent")
    check(tuple(sorted(rejected.report_recipients)) not in to, "the rejected draft was sent")
    con = duckdb.connect(str(config.warehouse.path), read_only=True)
    try:
        trail = approval_trail(con, APPROVAL_DAG)
        reasons = dict(
            con.execute(
                "SELECT delivery_key, reason FROM ops.approvals WHERE reason IS NOT NULL"
            ).fetchall()
        )
    finally:
        con.close()
    decided = {
        r[0].split("|")[2]: (r[3], r[4], r[6], r[7], reasons.get(r[0]))
        for r in trail
        if r[2] == "required"
    }
    approver, rejecter = (config.manager(config.client(c).account_manager) for c in asked)
    check(
        decided
        == {
            SMOKE_APPROVED: ("approved", approver.approver, "slack", "sent", None),
            SMOKE_REJECTED: (
                "rejected",
                rejecter.approver,
                "slack",
                "rejected",
                REJECT_REASON,
            ),
        },
        f"approval trail: {decided}",
    )
    lines = managers.lines
    check(
        lines[SMOKE_APPROVED].startswith("✅") and approver.approver in lines[SMOKE_APPROVED],
        f"the approved draft's DM line: {lines[SMOKE_APPROVED]!r}",
    )
    check(
        lines[SMOKE_REJECTED].startswith("❌")
        and rejecter.approver in lines[SMOKE_REJECTED]
        and lines[SMOKE_REJECTED].endswith(REJECT_REASON),
        f"the rejected draft's DM line: {lines[SMOKE_REJECTED]!r}",
    )
    smoke.report["approvals"] = {k: list(v) for k, v in decided.items()}
    smoke.report["slack_listener"] = managers.report
    smoke.log(f"approval trail: {decided}")


class WorkerKiller:
    """SIGKILL the worker tree once a writer task has run a while: in the first stage
    with a task that runs long enough (re-ingesting is quick; the build always rebuilds)."""

    def __init__(self, smoke: Smoke, api: AirflowApi, services: NativeServices) -> None:
        self.smoke, self.api, self.services = smoke, api, services
        self.killed: dict[str, Any] | None = None
        self.first_seen: dict[tuple[str, str], float] = {}  # when this process saw it running

    def __call__(self, stage: tuple[str, ...], runs: dict[str, str]) -> None:
        deadline = time.monotonic() + min(300.0, self.smoke.remaining)
        while self.killed is None and time.monotonic() < deadline:
            tis = task_instances(self.api, runs)
            if tis and all(ti["state"] in TERMINAL_TASK_STATES for ti in tis):
                return  # the stage finished before a task had run long enough
            for ti in (ti for ti in tis if ti["state"] == "running"):
                seen = self.first_seen.setdefault((ti["dag_id"], ti["task_id"]), time.monotonic())
                if time.monotonic() - seen >= KILL_AFTER_RUNNING:
                    self._kill(ti, runs)
                    return
            time.sleep(0.3)

    def _kill(self, ti: dict[str, Any], runs: dict[str, str]) -> None:
        pids = self.services.kill(WORKER)
        self.killed = {
            "dag_id": ti["dag_id"],
            "task_id": ti["task_id"],
            "run_id": runs[ti["dag_id"]],
            "killed_pids": len(pids),
        }
        self.smoke.log(f"SIGKILLed the worker tree ({len(pids)} processes) during {ti['task_id']}")
        time.sleep(2)
        self.services.start(next(s for s in SERVICES if s.name == WORKER))
        self.smoke.log("started a new worker")


def check_killed_rerun(
    smoke: Smoke, api: AirflowApi, killer: WorkerKiller, runs: dict[str, str], logs: Path
) -> None:
    killed = killer.killed
    check(killed is not None, "the worker was never killed")
    _, overlaps = writer_overlaps(task_instances(api, runs))
    check(not overlaps, f"writer tasks overlapped after the restart: {overlaps}")
    locked = lock_errors(logs)
    check(not locked, f"DuckDB lock errors in task logs after the kill: {locked}")
    tries = api.tries(killed["dag_id"], killed["run_id"], killed["task_id"])
    states = [(t["try_number"], t["state"]) for t in tries]
    check(len(tries) >= 2, f"the killed task was not retried: {states}")
    # the retry finds the killed try's committed pages already there; it still announces
    # them (success) unless a build has read them since (skipped); row counts prove the rest
    check(
        tries[-1]["state"] in ("success", "skipped"), f"the killed task did not recover: {states}"
    )
    killed["tries"] = states
    smoke.report["killed_worker"] = killed
    smoke.log(f"killed task {killed['task_id']}: tries {states}")


def wait_for_deadline_alerts(smoke: Smoke, out: Path, run_ids: list[str], ops: str) -> list[str]:
    """Every digest run missed its zero-minute deadline: ops must hear of each."""
    deadline = time.monotonic() + 120
    while True:
        texts = deliveries(out)["slack"].get(ops.lstrip("#"), [])
        missing = [r for r in run_ids if not any(r in t and "not delivered" in t for t in texts)]
        if not missing or time.monotonic() > deadline:
            check(not missing, f"no deadline alert in {ops} for {missing}; got {texts}")
            return texts
        time.sleep(2)


def run_smoke(out: Path) -> dict[str, Any]:
    smoke = Smoke(out)
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    hosts = NativeHosts(out)
    config_path = write_config(out)
    config = load_config(config_path)
    services: NativeServices | None = None
    try:
        reset_backing_services(hosts, create=True)
        smoke.log("starting the sandbox fakes")
        sandbox = start_sandbox(config_path, out)
        env, ports = native_environment(hosts, config_path, read_connections(out))
        password = airflow_users(config, env, hosts.passwords_file)
        airflow = LocalAirflow(out / "airflow", config_path, env)
        smoke.log("airflow db migrate, writer pool, serialize DAGs (what airflow-init does)")
        airflow.prepare()
        services = NativeServices(airflow_bin(), airflow.env, out / "logs")
        services.start_all()
        base_url = f"http://127.0.0.1:{ports['AIRFLOW__API__PORT']}"
        # the listener needs Airflow only to act: it connects while Airflow starts
        listener = ListenerProcess(
            services,
            *listener_environment(hosts.passwords_file, config_path, base_url, sandbox.slack_url),
        )
        listener.spawn()
        wait_until_up(base_url, timeout=240, check=services.check_alive)
        listener.wait_connected()
        smoke.log(f"all services healthy on {base_url}; the Slack listener connected")
        api = AirflowApi(base_url, ADMIN_USER, password)
        task_logs = out / "airflow" / "logs"

        managers = SlackManagers(smoke, api, config, SlackDesk(sandbox.slack_url), listener)
        clean = run_stages(smoke, api, "clean", DEMO_AS_OF, managers)
        check_clean_run(smoke, api, clean, task_logs)
        check_approvals(smoke, config, out, managers)
        counts_clean, sent_clean = warehouse_counts(config), deliveries(out)
        leadership = config.delivery.slack.leadership_channel.lstrip("#")
        check(  # the digest, then its chart (a file upload introduced by its numbers)
            len(sent_clean["slack"].get(leadership, [])) == 2,
            f"expected one leadership digest and its chart: {sent_clean['slack']}",
        )
        expected_emails = len(emailed_clients(config)) - 1  # the rejected draft
        check(sent_clean["emails"] == expected_emails, f"emails: {sent_clean['emails']}")

        killer = WorkerKiller(smoke, api, services)
        rerun = run_stages(smoke, api, "rerun", DEMO_AS_OF + timedelta(minutes=1), killer)
        check_killed_rerun(smoke, api, killer, rerun, task_logs)
        counts_rerun, sent_rerun = warehouse_counts(config), deliveries(out)
        check(counts_rerun == counts_clean, f"rows changed: {counts_clean} → {counts_rerun}")
        check(
            all(rows == keys for rows, keys in counts_rerun.values()), f"duplicates: {counts_rerun}"
        )
        ops_channel = config.delivery.slack.ops_channel
        digest_runs = [runs[d] for runs in (clean, rerun) for d in DIGEST_DAGS]
        ops_texts = wait_for_deadline_alerts(smoke, out, digest_runs, ops_channel)
        sent_final = deliveries(out)
        for channel in {leadership} | set(sent_clean["slack"]):
            if channel != ops_channel.lstrip("#"):
                check(
                    sent_final["slack"].get(channel) == sent_clean["slack"][channel],
                    f"{channel}: sent again after the rerun",
                )
        check(sent_rerun["emails"] == sent_clean["emails"], "emails were sent again")
        failures = [t for t in ops_texts if "task failed" in t]
        check(not failures, f"unexpected task failure alerts: {failures}")
        smoke.report.update(
            warehouse_rows={t: c[0] for t, c in counts_rerun.items()},
            slack_messages={c: len(t) for c, t in sent_final["slack"].items()},
            emails=sent_final["emails"],
            deadline_alerts=len([t for t in ops_texts if "not delivered" in t]),
        )
    finally:
        smoke.log("tearing down")
        if services is not None:
            services.stop_all()
        stop_sandbox(out)
        with contextlib.suppress(Exception):
            reset_backing_services(hosts, create=False)
    smoke.report["duration_s"] = round(time.monotonic() - smoke.started, 1)
    (out / "report.json").write_text(json.dumps(smoke.report, indent=2) + "\n", encoding="utf-8")
    return smoke.report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=PROJECT_ROOT / "out" / "smoke")
    args = parser.parse_args(argv)
    report = run_smoke(args.out.resolve())
    print(json.dumps(report, indent=2))
    print(f"smoke passed in {report['duration_s']} s; logs in {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
