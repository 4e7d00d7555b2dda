"""Airflow's api-server beside one-off local runs (`airflow dags test` on SQLite
metadata), so that what acts through Airflow's REST API reaches the metadata DB those
runs use: in `make demo` the Slack listener answering the approvals as each manager's
Airflow user (SimpleAuthManager users and their passwords file, tooling.airflow_users),
in the tests whatever they drive. A run asked for through the API (a Slack answer to an
alert triggers `account_manager_feedback`) has no `dags test` waiting for it: a
scheduler started beside runs it (LocalExecutor).
"""

from __future__ import annotations

import contextlib
import dataclasses
import secrets
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

from clientpulse.config import AgencyConfig
from tooling.airflow_api import AirflowApi, login_when_up
from tooling.airflow_users import ADMIN, simple_auth_users, user_names, write_passwords
from tooling.local_airflow import Answerer, LocalAirflow
from tooling.slack_desk import ListenerProcess, listener_environment
from tooling.topology import SERVICES, NativeServices, airflow_bin, free_port

SIMPLE_AUTH_MANAGER = (
    "airflow.api_fastapi.auth.managers.simple.simple_auth_manager.SimpleAuthManager"
)
SERVICE = {s.name: s for s in SERVICES}
API_SERVER, SCHEDULER = SERVICE["airflow-apiserver"], SERVICE["airflow-scheduler"]
STARTUP_SECONDS = 240  # the api-server on a busy two-core machine


def api_settings(port: int, users: str, passwords_file: Path) -> dict[str, str]:
    """An api-server on `port` (one worker) with SimpleAuthManager `users` (`name:role,…`)
    whose passwords are in `passwords_file`; tasks reach its execution API."""
    return {
        "AIRFLOW__CORE__AUTH_MANAGER": SIMPLE_AUTH_MANAGER,
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": users,
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(passwords_file),
        "AIRFLOW__API__PORT": str(port),
        "AIRFLOW__API__WORKERS": "1",
        "AIRFLOW__API__BASE_URL": f"http://127.0.0.1:{port}",
        "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"http://127.0.0.1:{port}/execution/",
        "AIRFLOW__API_AUTH__JWT_SECRET": secrets.token_hex(32),
    }


@dataclass
class AirflowBeside:
    """A local Airflow home with its api-server and the Slack listener running beside."""

    airflow: LocalAirflow
    services: NativeServices
    url: str
    admin_password: str
    listener: ListenerProcess

    @classmethod
    @contextlib.contextmanager
    def started(
        cls,
        home: Path,
        config_path: Path,
        config: AgencyConfig,
        extra_env: Mapping[str, str],
        slack_url: str,
    ) -> Iterator[AirflowBeside]:
        """Prepare the home, start the api-server and the listener (not waited for: see
        `ready`), stop both on the way out. Every manager is an Airflow user with a fresh
        password, which the listener reads from the same file as the api-server."""
        port, passwords_file = free_port(), home / "simple_auth_manager_passwords.json"
        users = simple_auth_users(config)
        passwords_file.unlink(missing_ok=True)
        passwords = write_passwords(passwords_file, user_names(users))
        env = {**extra_env, **api_settings(port, users, passwords_file)}
        airflow = LocalAirflow(home, config_path, env)
        airflow.prepare()
        services = NativeServices(airflow_bin(), airflow.env, home / "logs" / "services")
        url = f"http://127.0.0.1:{port}"
        try:
            services.start(API_SERVER)
            listener = ListenerProcess(
                services, *listener_environment(passwords_file, config_path, url, slack_url)
            )
            listener.spawn()
            yield cls(airflow, services, url, passwords[ADMIN], listener)
        finally:
            services.stop_all()

    def ready(self) -> AirflowApi:
        """Wait until the api-server lets the admin in and the listener is connected."""
        api = login_when_up(
            self.url, ADMIN, self.admin_password, STARTUP_SECONDS, self.services.check_alive
        )
        self.listener.wait_connected()
        return api

    def with_answerer(self, answerer: Answerer) -> LocalAirflow:
        """The same Airflow, its approvals answered by `answerer`."""
        return dataclasses.replace(self.airflow, answerer=answerer)

    def run_triggered(
        self, api: AirflowApi, dag_id: str, run_ids: list[str], timeout: float = 300
    ) -> dict[str, str]:
        """Run the queued runs `run_ids` of `dag_id` with a scheduler started beside (the
        DAG unpaused meanwhile, nothing else); return their final states."""
        if not run_ids:
            return {}
        self.services.start(SCHEDULER)
        api.set_paused(dag_id, False)
        try:
            return {run_id: api.wait({dag_id: run_id}, timeout)[dag_id] for run_id in run_ids}
        finally:
            api.set_paused(dag_id, True)
            self.services.kill(SCHEDULER.name)
