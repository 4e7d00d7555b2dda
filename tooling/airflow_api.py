"""A small client for Airflow 3's REST API v2, authenticated with a JWT from the
api-server's `/auth/token` (SimpleAuthManager users; FAB or Keycloak answer the same)."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime
from typing import Any, TypeVar

import requests

TERMINAL_RUN_STATES = frozenset({"success", "failed"})
T = TypeVar("T")


class AirflowApiError(RuntimeError):
    pass


class AirflowApi:
    def __init__(
        self,
        base_url: str,
        username: str,
        password: str,
        timeout: float = 30,
        login_timeout: float | None = None,
    ) -> None:
        """`timeout` is each later call's; `login_timeout` (default the same) only the token
        request's, short where the caller retries the login until the server is up."""
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.session = requests.Session()
        response = self.session.post(
            f"{self.base_url}/auth/token",
            json={"username": username, "password": password},
            timeout=login_timeout or timeout,
        )
        if response.status_code not in (200, 201):
            raise AirflowApiError(f"/auth/token answered {response.status_code}: {response.text}")
        self.session.headers["Authorization"] = f"Bearer {response.json()['access_token']}"

    def _call(self, method: str, path: str, **kwargs: Any) -> Any:
        response = self.session.request(
            method, f"{self.base_url}/api/v2{path}", timeout=self.timeout, **kwargs
        )
        if not response.ok:
            raise AirflowApiError(
                f"{method} {path} answered {response.status_code}: {response.text}"
            )
        return response.json() if response.content else None

    def set_paused(self, dag_id: str, paused: bool) -> None:
        self._call("PATCH", f"/dags/{dag_id}", json={"is_paused": paused})

    def trigger(self, dag_id: str, run_id: str, logical_date: datetime) -> str:
        body = {"dag_run_id": run_id, "logical_date": logical_date.isoformat()}
        return self._call("POST", f"/dags/{dag_id}/dagRuns", json=body)["dag_run_id"]

    def run(self, dag_id: str, run_id: str) -> dict[str, Any]:
        return self._call("GET", f"/dags/{dag_id}/dagRuns/{run_id}")

    def task_instances(self, dag_id: str, run_id: str) -> list[dict[str, Any]]:
        return self._call("GET", f"/dags/{dag_id}/dagRuns/{run_id}/taskInstances")["task_instances"]

    def tries(self, dag_id: str, run_id: str, task_id: str) -> list[dict[str, Any]]:
        path = f"/dags/{dag_id}/dagRuns/{run_id}/taskInstances/{task_id}/tries"
        return self._call("GET", path)["task_instances"]

    def hitl_details(self, dag_id: str, run_id: str) -> list[dict[str, Any]]:
        """The run's human-in-the-loop requests (approvals), answered or not."""
        return self._call("GET", f"/dags/{dag_id}/dagRuns/{run_id}/hitlDetails")["hitl_details"]

    def respond(
        self, dag_id: str, run_id: str, task_id: str, map_index: int, option: str
    ) -> dict[str, Any]:
        """Answer one approval as the logged-in user (what a manager's client does)."""
        path = f"/dags/{dag_id}/dagRuns/{run_id}/taskInstances/{task_id}/{map_index}/hitlDetails"
        return self._call("PATCH", path, json={"chosen_options": [option]})

    def wait(self, runs: dict[str, str], timeout: float, poll: float = 2.0) -> dict[str, str]:
        """Wait until every (dag_id → run_id) is finished; raise if any failed or time ran out.
        A poll the api-server does not answer in time (a loaded machine, SQLite busy) is asked
        again at the next poll: reading a run's state changes nothing."""
        deadline = time.monotonic() + timeout
        states: dict[str, str] = {}
        while True:
            for dag_id, run_id in runs.items():
                try:
                    states[dag_id] = self.run(dag_id, run_id)["state"]
                except (requests.Timeout, requests.ConnectionError) as exc:
                    states[dag_id] = f"not answered ({type(exc).__name__})"
            if all(state in TERMINAL_RUN_STATES for state in states.values()):
                failed = {d: s for d, s in states.items() if s != "success"}
                if failed:
                    raise AirflowApiError(f"runs failed: {failed}")
                return states
            if time.monotonic() > deadline:
                raise AirflowApiError(f"runs not finished after {timeout:.0f} s: {states}")
            time.sleep(poll)


def wait_until_up(base_url: str, timeout: float, check: Any = None) -> dict[str, Any]:
    """Poll the public health endpoint until the metadatabase, scheduler, triggerer and
    dag processor report healthy; `check()` runs between polls (e.g. processes alive)."""
    return _until(
        lambda: requests.get(f"{base_url}/api/v2/monitor/health", timeout=5).json(),
        lambda health: all((health.get(p) or {}).get("status") == "healthy" for p in _HEALTH_PARTS),
        timeout,
        check,
        "Airflow not healthy",
    )


_HEALTH_PARTS = ("metadatabase", "scheduler", "triggerer", "dag_processor")


def login_when_up(
    base_url: str, username: str, password: str, timeout: float, check: Any = None
) -> AirflowApi:
    """Log in as soon as the api-server answers (no scheduler needed, unlike
    wait_until_up); `check()` runs between tries (e.g. the process is alive)."""
    return _until(
        lambda: AirflowApi(base_url, username, password, login_timeout=10),
        lambda _api: True,
        timeout,
        check,
        f"could not log in to {base_url}",
    )


def _until(
    attempt: Callable[[], T], ready: Callable[[T], bool], timeout: float, check: Any, what: str
) -> T:
    """`attempt()` every second until its answer is `ready` (errors count as not yet)."""
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        if check is not None:
            check()
        try:
            last = attempt()
            if ready(last):
                return last
        except (requests.RequestException, ValueError, AirflowApiError) as exc:
            last = exc
        time.sleep(1)
    raise AirflowApiError(f"{what} after {timeout:.0f} s: {last}")
