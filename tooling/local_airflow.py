"""Run the pipeline once through Airflow on this machine (SQLite metadata).

Used by `make demo` (against the sandbox) and `make run` (against the configured
sources). Each DAG runs with `airflow dags test` for one logical date, in the order
the asset schedule would run them: ingest → build → deliver.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from clientpulse.config import CONFIG_ENV, PROJECT_ROOT, config_path
from clientpulse.orchestration import WRITER_POOL

PIPELINE = (
    "ingest_mailboxes",
    "ingest_asana",
    "ingest_crm",
    "build_signals",
    "leadership_digest",
    "client_weekly_status",
    "client_monthly_report",
)
# DAGs whose client emails wait for their account manager (Airflow HITL approvals).
APPROVAL_DAGS = ("client_weekly_status", "client_monthly_report")


# Metadata DB, the writer pool, serialized DAGs: what `make demo`, `make run`, `make smoke`
# and docker-compose.yml's airflow-init each do before the first run.
PREPARE_STEPS = (
    ("db", "migrate"),
    ("pools", "set", WRITER_POOL, "1", "One writer at a time on the DuckDB file"),
    ("dags", "reserialize"),
)


class DagRunFailed(RuntimeError):
    pass


# Answers a client-email DAG's approvals while `airflow dags test` waits on them: called
# with the Airflow and the DAG id, a context manager around the run yielding a function
# that the run's wait calls every half second (None: nothing to call).
Answerer = Callable[["LocalAirflow", str], AbstractContextManager[Callable[[], None] | None]]


@dataclass(frozen=True)
class LocalAirflow:
    """An Airflow home with SQLite metadata, pointed at this project's DAGs and plugins."""

    home: Path
    config: Path
    extra_env: Mapping[str, str]
    # Who answers the approvals of a one-off run: `make demo`'s managers clicking in the
    # fake Slack (tooling.demo_slack), `make run --approve-as` tooling.demo_approver
    # (approver_process); None: the client-email DAGs are not run (nobody to ask).
    answerer: Answerer | None = None

    @property
    def env(self) -> dict[str, str]:
        env = dict(os.environ)
        env.update(
            AIRFLOW_HOME=str(self.home),
            AIRFLOW__CORE__DAGS_FOLDER=str(PROJECT_ROOT / "dags"),
            AIRFLOW__CORE__PLUGINS_FOLDER=str(PROJECT_ROOT / "plugins"),
            AIRFLOW__CORE__LOAD_EXAMPLES="False",
            AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION="True",
            AIRFLOW__LOGGING__LOGGING_LEVEL="WARNING",
            GX_ANALYTICS_ENABLED="false",
            CLIENTPULSE_TASK_RETRIES="0",  # one-off runs fail fast instead of waiting to retry
            # No scheduler watches deadlines here, and Airflow 3.3.2's `dags test` fails
            # ('dict' object has no attribute 'hex') on a DAG that has a Deadline Alert.
            CLIENTPULSE_DIGEST_DEADLINE_MINUTES="off",
            PYTHONPATH=os.pathsep.join(
                p for p in (str(PROJECT_ROOT / "plugins"), env.get("PYTHONPATH")) if p
            ),
            **{CONFIG_ENV: str(self.config)},
        )
        env.update(self.extra_env)
        return env

    def airflow(self, *args: str, log: Path | None = None) -> subprocess.CompletedProcess:
        command = [str(Path(sys.executable).with_name("airflow")), *args]
        # The executable is the venv's own airflow; arguments come from this module.
        result = subprocess.run(  # noqa: S603
            command, env=self.env, capture_output=True, text=True, check=False
        )
        if log is not None:
            log.parent.mkdir(parents=True, exist_ok=True)
            log.write_text(result.stdout + result.stderr, encoding="utf-8")
        return result

    def background(self, *args: str, log: Path) -> subprocess.Popen:
        """An `airflow …` command running in its own process group, output to `log`."""
        log.parent.mkdir(parents=True, exist_ok=True)
        with log.open("wb") as sink:
            return subprocess.Popen(  # noqa: S603 (the venv's airflow, our arguments)
                [str(Path(sys.executable).with_name("airflow")), *args],
                env=self.env,
                stdout=sink,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def prepare(self) -> None:
        """Create or upgrade the metadata DB, the writer pool, and serialize the DAGs."""
        self.home.mkdir(parents=True, exist_ok=True)
        for step in PREPARE_STEPS:
            result = self.airflow(*step, log=self.home / "logs" / f"{'_'.join(step[:2])}.log")
            if result.returncode != 0:
                raise DagRunFailed(f"`airflow {' '.join(step)}` failed:\n{result.stderr[-3000:]}")

    def run_dag(self, dag_id: str, logical_date: datetime) -> float:
        """Run one DAG for `logical_date`; raise with its log tail if any task failed.
        A DAG with approvals runs with the answerer answering them."""
        started = time.monotonic()
        log = self.home / "logs" / "runs" / f"{dag_id}.log"
        answering = self.answerer if dag_id in APPROVAL_DAGS else None
        process = self.background("dags", "test", dag_id, logical_date.isoformat(), log=log)
        try:
            with answering(self, dag_id) if answering else contextlib.nullcontext() as poll:
                while not _exited(process, 0.5):
                    if poll is not None:
                        poll()
        finally:
            stop_group(process)
        if process.returncode != 0:  # `dags test` exits 1 when any task failed
            tail = "\n".join(log.read_text(encoding="utf-8", errors="replace").splitlines()[-40:])
            raise DagRunFailed(f"DAG {dag_id} failed (full log: {log}):\n{tail}")
        return time.monotonic() - started


def approver_process(as_user: str) -> Answerer:
    """`make run --approve-as`: tooling.demo_approver answers each approval as the Airflow
    user it is assigned to (`as_user` when none), through Airflow's own HITL code."""

    @contextlib.contextmanager
    def answering(airflow: LocalAirflow, dag_id: str) -> Iterator[None]:
        command = [sys.executable, "-m", "tooling.demo_approver", "--dag-id", dag_id]
        log = airflow.home / "logs" / "runs" / f"{dag_id}.approvals.log"
        with log.open("w") as sink:
            # The interpreter is this venv's; arguments come from this module.
            process = subprocess.Popen(  # noqa: S603
                [*command, "--as-user", as_user],
                env=airflow.env,
                stdout=sink,
                stderr=subprocess.STDOUT,
                cwd=PROJECT_ROOT,
                start_new_session=True,
            )
        try:
            yield None
        finally:
            stop_group(process)

    return answering


def _exited(process: subprocess.Popen, seconds: float) -> bool:
    try:
        process.wait(timeout=seconds)
    except subprocess.TimeoutExpired:
        return False
    return True


def stop_group(process: subprocess.Popen) -> None:
    """SIGTERM the process group, then SIGKILL what is left."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)


def first_working_day_of_month(logical_date: datetime, config: Path) -> datetime:
    """The first working day of `logical_date`'s month (agency calendar), same local time."""
    from datetime import timedelta
    from zoneinfo import ZoneInfo

    from clientpulse.config import load_config
    from clientpulse.periods import is_first_working_day

    agency = load_config(config).agency
    local = logical_date.astimezone(ZoneInfo(agency.timezone))
    day = local.replace(day=1)
    while not is_first_working_day(day, agency.timezone, agency.holiday_country, agency.days_off):
        day += timedelta(days=1)
    return day.astimezone(UTC)


def run_pipeline(
    airflow: LocalAirflow,
    logical_date: datetime,
    dags: tuple[str, ...] = PIPELINE,
    *,
    prepare: bool = True,
) -> dict[str, float]:
    """Run `dags` in order (`prepare`: the metadata DB first, unless done already)."""
    if prepare:
        airflow.prepare()
    timings = {}
    for dag_id in dags:
        if dag_id in APPROVAL_DAGS and airflow.answerer is None:
            print(f"  {dag_id} not run: its emails need a manager's approval", flush=True)
            continue
        when = logical_date
        if dag_id == "client_monthly_report":  # it runs on the month's first working day
            when = first_working_day_of_month(logical_date, airflow.config)
        print(f"  running {dag_id} …", flush=True)
        timings[dag_id] = airflow.run_dag(dag_id, when)
        print(f"  {dag_id} succeeded in {timings[dag_id]:.1f}s", flush=True)
    return timings


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--airflow-home", type=Path, default=PROJECT_ROOT / "out" / "airflow")
    parser.add_argument("--logical-date", type=datetime.fromisoformat, default=None)
    parser.add_argument(
        "--approve-as",
        default=None,
        help="answer the client emails' approvals (each as the manager's Airflow user it "
        "is assigned to; this name for one assigned to nobody, recorded so in "
        "ops.approvals); without it the client-email DAGs are not run",
    )
    args = parser.parse_args(argv)
    logical_date = args.logical_date or datetime.now(UTC).replace(microsecond=0)
    answerer = approver_process(args.approve_as) if args.approve_as else None
    airflow = LocalAirflow(args.airflow_home, config_path(), {}, answerer=answerer)
    print(f"Running the pipeline through Airflow on {airflow.config} as of {logical_date}")
    run_pipeline(airflow, logical_date)
    return 0


if __name__ == "__main__":
    sys.exit(main())
