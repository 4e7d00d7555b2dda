"""A real Airflow api-server for tests that act through Airflow's REST API: SQLite
metadata, SimpleAuthManager users with known passwords, a DAGs folder chosen by the
test (files copied or linked in), started once and stopped with its process group
(the settings are `make demo`'s, tooling.airflow_beside)."""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

from clientpulse.paths import DEMO_CONFIG
from sandbox.http_server import free_port
from tooling.airflow_api import login_when_up
from tooling.airflow_beside import api_settings
from tooling.local_airflow import LocalAirflow, stop_group

__all__ = ["AirflowServer", "airflow_server", "stop_group"]


@dataclass(frozen=True)
class AirflowServer:
    url: str
    airflow: LocalAirflow
    passwords: dict[str, str]
    passwords_file: Path

    def background(self, *args: str, log: Path) -> subprocess.Popen:
        """An `airflow …` command (e.g. `dags test`) running beside the server."""
        return self.airflow.background(*args, log=log)


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
    settings = api_settings(port, ",".join(f"{u}:{r}" for u, r in users.items()), passwords_file)
    airflow = LocalAirflow(
        root / "airflow", DEMO_CONFIG, {"AIRFLOW__CORE__DAGS_FOLDER": str(dags), **settings}
    )
    airflow.prepare()
    server = AirflowServer(f"http://127.0.0.1:{port}", airflow, passwords, passwords_file)
    log = root / "api-server.log"
    process = server.background("api-server", log=log)

    def alive() -> None:
        if process.poll() is not None:
            raise RuntimeError(f"api-server exited: {log.read_text()[-3000:]}")

    try:
        user, password = next(iter(passwords.items()))
        login_when_up(server.url, user, password, 180, alive)
        yield server
    finally:
        stop_group(process)
