"""A real Airflow api-server for tests that act through Airflow's REST API: SQLite
metadata, SimpleAuthManager users with known passwords, a DAGs folder chosen by the
test (files copied or linked in), started once and stopped with its process group."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import requests

from clientpulse.paths import DEMO_CONFIG
from sandbox.http_server import free_port
from tooling.local_airflow import LocalAirflow


@dataclass(frozen=True)
class AirflowServer:
    url: str
    airflow: LocalAirflow
    passwords: dict[str, str]
    passwords_file: Path

    def background(self, *args: str, log: Path) -> subprocess.Popen:
        """An `airflow …` command (e.g. `dags test`) running beside the server."""
        sink = log.open("wb")
        return subprocess.Popen(
            [str(Path(sys.executable).with_name("airflow")), *args],
            env=self.airflow.env,
            stdout=sink,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


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


@contextlib.contextmanager
def airflow_server(
    root: Path, dag_files: Mapping[str, str | Path], users: Mapping[str, str]
) -> Iterator[AirflowServer]:
    """Serve Airflow's API on a free port; `dag_files` name → source text or a file to
    link; `users` name → role (admin, op, user, viewer)."""
    dags = root / "dags"
    dags.mkdir(parents=True)
    for name, source in dag_files.items():
        if isinstance(source, Path):
            (dags / name).symlink_to(source)
        else:
            (dags / name).write_text(source, encoding="utf-8")
    passwords = {user: f"pw-{user}-{os.getpid()}" for user in users}
    passwords_file = root / "passwords.json"
    passwords_file.write_text(json.dumps(passwords), encoding="utf-8")
    port = free_port()
    airflow = LocalAirflow(
        root / "airflow",
        DEMO_CONFIG,
        {
            "AIRFLOW__CORE__DAGS_FOLDER": str(dags),
            "AIRFLOW__CORE__AUTH_MANAGER": "airflow.api_fastapi.auth.managers.simple."
            "simple_auth_manager.SimpleAuthManager",
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": ",".join(
                f"{u}:{r}" for u, r in users.items()
            ),
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(passwords_file),
            "AIRFLOW__API__PORT": str(port),
            "AIRFLOW__API__BASE_URL": f"http://127.0.0.1:{port}",
            "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"http://127.0.0.1:{port}/execution/",
            "AIRFLOW__API_AUTH__JWT_SECRET": f"test-secret-{os.getpid()}",
        },
    )
    airflow.prepare()
    server = AirflowServer(f"http://127.0.0.1:{port}", airflow, passwords, passwords_file)
    process = server.background(
        "api-server", "--port", str(port), "--workers", "1", log=root / "api-server.log"
    )
    try:
        _wait_for_login(server, process, root / "api-server.log")
        yield server
    finally:
        stop_group(process)


def _wait_for_login(server: AirflowServer, process: subprocess.Popen, log: Path) -> None:
    user, password = next(iter(server.passwords.items()))
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"api-server exited: {log.read_text()[-3000:]}")
        with contextlib.suppress(requests.RequestException):
            answer = requests.post(
                f"{server.url}/auth/token",
                json={"username": user, "password": password},
                timeout=5,
            )
            if answer.status_code in (200, 201):
                return
        time.sleep(1)
    raise RuntimeError(f"api-server not up after 180 s: {log.read_text()[-3000:]}")
