"""The production topology, described once: which Airflow services run, with which
commands and settings. `docker-compose.yml` deploys it in containers; `make smoke`
(tooling.smoke) starts the same services natively from this description; the
drift guard (tests/test_deploy_topology_drift.py) fails when the two disagree.

Settings come from `deploy/airflow.env` (shared by both). The compose file adds the
settings that name a container host, port or path (HOST_SETTINGS) and the secrets
from `.env` (SECRET_SETTINGS); natively those are the machine's PostgreSQL, Redis and
local paths, and fresh secrets for the run.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from clientpulse.paths import PROJECT_ROOT

COMPOSE_FILE = PROJECT_ROOT / "docker-compose.yml"
ENV_FILE = PROJECT_ROOT / "deploy" / "airflow.env"
SECRETS_EXAMPLE = PROJECT_ROOT / ".env.example"


@dataclass(frozen=True)
class Service:
    """One long-running Airflow process: its compose service name and CLI command."""

    name: str
    command: tuple[str, ...]


SERVICES = (
    Service("airflow-apiserver", ("api-server",)),
    Service("airflow-scheduler", ("scheduler",)),
    Service("airflow-dag-processor", ("dag-processor",)),
    Service("airflow-triggerer", ("triggerer",)),
    Service("airflow-worker", ("celery", "worker")),
)
INIT_SERVICE = "airflow-init"  # runs local_airflow.PREPARE_STEPS, then INIT_PASSWORDS
# airflow-init's last step: every Airflow user's password (the admin's and each account
# manager's) into the SimpleAuthManager passwords file the api-server and listener read.
INIT_PASSWORDS = ("python", "-m", "tooling.airflow_users", "--passwords-file")
BACKING_SERVICES = ("postgres", "redis")  # natively: the machine's own servers
WORKER = "airflow-worker"
API_SERVER = "airflow-apiserver"
ADMIN_USER = "admin"

# Set in docker-compose.yml per container host and path; replaced natively.
HOST_SETTINGS = (
    "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN",
    "AIRFLOW__CELERY__BROKER_URL",
    "AIRFLOW__CELERY__RESULT_BACKEND",
    "AIRFLOW__CORE__EXECUTION_API_SERVER_URL",
    "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE",
    "CLIENTPULSE_CONFIG",
)
# Airflow setting → the `.env` variable docker-compose.yml takes it from.
SECRET_SETTINGS = {
    "AIRFLOW__CORE__FERNET_KEY": "AIRFLOW_FERNET_KEY",
    "AIRFLOW__API_AUTH__JWT_SECRET": "AIRFLOW_JWT_SECRET",
}
# ClientPulse's own long-running service beside Airflow: the Slack listener
# (clientpulse.slack_listener), acting through the api-server's REST API. Its settings
# (docs/slack_actions.md) are the environment below, tokens from `.env`; it reads the
# Airflow users' passwords from the auth volume the api-server reads.
LISTENER = "slack-listener"
LISTENER_COMMAND = ("python", "-m", "clientpulse.slack_listener")
LISTENER_HEALTH_PORT = 8787
LISTENER_SETTINGS = {
    "SLACK_APP_TOKEN": "${SLACK_APP_TOKEN:?set SLACK_APP_TOKEN in .env}",
    "SLACK_BOT_TOKEN": "${SLACK_BOT_TOKEN:?set SLACK_BOT_TOKEN in .env}",
    "CLIENTPULSE_SLACK_ADMINS": "${CLIENTPULSE_SLACK_ADMINS:-}",
    "AIRFLOW_API_URL": "http://airflow-apiserver:8080",
    "CLIENTPULSE_AIRFLOW_PASSWORDS_FILE": "/opt/airflow/auth/passwords.json",
    "CLIENTPULSE_CONFIG": "/opt/clientpulse/config/agency.yaml",
    "CLIENTPULSE_LISTENER_HEALTH_PORT": str(LISTENER_HEALTH_PORT),
}
# Each container has its own network namespace, so the defaults never clash there;
# on one machine the smoke run gives each listener a free port.
NATIVE_PORTS = (
    "AIRFLOW__API__PORT",
    "AIRFLOW__SCHEDULER__SCHEDULER_HEALTH_CHECK_SERVER_PORT",
    "AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT",
    "AIRFLOW__LOGGING__TRIGGER_LOG_SERVER_PORT",
)


def read_env_file(path: Path = ENV_FILE) -> dict[str, str]:
    """KEY=VALUE lines as docker compose reads an env_file (no quoting, # comments)."""
    settings = {}
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        key, sep, value = line.partition("=")
        if not sep or not key.strip():
            raise ValueError(f"{path}:{number}: expected KEY=VALUE, got {line!r}")
        settings[key.strip()] = value.strip()
    return settings


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass(frozen=True)
class NativeHosts:
    """Where the backing services are on this machine, and where the smoke run lives."""

    root: Path
    database: str = "clientpulse_smoke"
    postgres: str = "postgres@127.0.0.1:5432"
    redis: str = "redis://127.0.0.1:6379/9"

    @property
    def passwords_file(self) -> Path:
        return self.root / "airflow" / "simple_auth_manager_passwords.json"

    def settings(self, api_port: int, config: Path) -> dict[str, str]:
        """HOST_SETTINGS for this machine (the compose file has the container values)."""
        db = f"{self.postgres}/{self.database}"
        values = {
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"postgresql+psycopg2://{db}",
            "AIRFLOW__CELERY__BROKER_URL": self.redis,
            "AIRFLOW__CELERY__RESULT_BACKEND": f"db+postgresql://{db}",
            "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"http://127.0.0.1:{api_port}/execution/",
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(self.passwords_file),
            "CLIENTPULSE_CONFIG": str(config),
        }
        assert tuple(values) == HOST_SETTINGS
        return values


class NativeServices:
    """The SERVICES as local processes, each in its own process group, logging to a file."""

    def __init__(self, airflow_bin: Path, env: dict[str, str], log_dir: Path) -> None:
        self.airflow_bin = airflow_bin
        self.env = env
        self.log_dir = log_dir
        self.processes: dict[str, subprocess.Popen] = {}
        self.starts: dict[str, int] = {}

    def start(self, service: Service) -> subprocess.Popen:
        return self.start_process(service.name, [str(self.airflow_bin), *service.command])

    def start_listener(self, env: dict[str, str]) -> subprocess.Popen:
        """The Slack listener (LISTENER_COMMAND) with the venv's python and its own settings."""
        return self.start_process(LISTENER, [sys.executable, *LISTENER_COMMAND[1:]], env)

    def start_process(
        self, name: str, argv: list[str], env: dict[str, str] | None = None
    ) -> subprocess.Popen:
        """Start `argv` as the service `name` (Airflow's settings unless `env` is given)."""
        self.log_dir.mkdir(parents=True, exist_ok=True)
        self.starts[name] = self.starts.get(name, 0) + 1
        log = self.log_dir / f"{name}.{self.starts[name]}.log"
        with log.open("wb") as sink:
            process = subprocess.Popen(  # noqa: S603 (the venv's programs, our arguments)
                argv,
                env=self.env if env is None else env,
                cwd=PROJECT_ROOT,
                stdin=subprocess.DEVNULL,
                stdout=sink,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self.processes[name] = process
        return process

    def start_all(self) -> None:
        for service in SERVICES:
            self.start(service)

    def check_alive(self) -> None:
        for name, process in self.processes.items():
            if process.poll() is not None:
                raise RuntimeError(
                    f"{name} exited with code {process.returncode}; see {self.log_dir}/{name}.*.log"
                )

    def kill(self, name: str) -> list[int]:
        """SIGKILL the service's whole tree at once, as a crashed host would; return the pids."""
        process = self.processes.pop(name)
        pids = [process.pid, *_descendants(process.pid)]
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        for pid in pids:  # children that left the group (task supervisors may)
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        process.wait(timeout=10)
        return pids

    def stop_all(self, timeout: float = 20.0) -> None:
        """SIGTERM every group, wait, then SIGKILL what is left (also on failure)."""
        groups = {name: (p, [p.pid, *_descendants(p.pid)]) for name, p in self.processes.items()}
        for process, _ in groups.values():
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        for process, _ in groups.values():
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(timeout=max(0.1, deadline - time.monotonic()))
        for process, pids in groups.values():
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            for pid in pids:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(timeout=5)
        self.processes.clear()


def _descendants(pid: int) -> list[int]:
    found, pending = [], [pid]
    while pending:
        parent = pending.pop()
        for task in Path(f"/proc/{parent}/task").glob("*"):
            with contextlib.suppress(OSError):
                children = [int(c) for c in (task / "children").read_text().split()]
                found += children
                pending += children
    return found


def airflow_bin() -> Path:
    return Path(sys.executable).with_name("airflow")
