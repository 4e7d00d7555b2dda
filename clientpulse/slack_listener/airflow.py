"""What the listener asks of Airflow's REST API (v2), as the Airflow user who clicked.

Each Slack user who may act has an Airflow user (the manager's `airflow_user`, or an
admin's); the listener logs in as that user (`POST /auth/token`) so that Airflow itself
checks the HITL request's `assigned_users` and its audit log names the person. It never
writes the warehouse: Airflow's tasks do (the one-writer rule).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import requests

APPROVAL_TASK = "approve"


class AirflowDown(RuntimeError):
    """Airflow did not answer (connection refused, timeout, 5xx): nothing was recorded."""


class Conflict(RuntimeError):
    """409: already answered (a HITL request) or already exists (a run id)."""


class NotOpen(RuntimeError):
    """404: no such request or run (not offered yet, or gone)."""


class Refused(RuntimeError):
    """401/403: Airflow does not let this user do it."""


@dataclass
class AirflowActions:
    """Airflow's REST API at `base_url`; `passwords` maps an Airflow user to its password
    (the shape of SimpleAuthManager's passwords file)."""

    base_url: str
    passwords: Mapping[str, str]
    timeout: float = 10.0
    _tokens: dict[str, str] = field(default_factory=dict, repr=False)

    def _call(self, user: str, method: str, path: str, **kwargs: Any) -> Any:
        for attempt in (1, 2):  # a second time with a fresh token after a 401
            headers = {"Authorization": f"Bearer {self._token(user, fresh=attempt == 2)}"}
            try:
                response = requests.request(
                    method,
                    f"{self.base_url.rstrip('/')}/api/v2{path}",
                    headers=headers,
                    timeout=self.timeout,
                    **kwargs,
                )
            except requests.RequestException as exc:
                raise AirflowDown(f"{method} {path}: {type(exc).__name__}") from exc
            if response.status_code != 401:
                break
        return _answer(response, f"{method} {path}")

    def _token(self, user: str, fresh: bool = False) -> str:
        if fresh or user not in self._tokens:
            if user not in self.passwords:
                raise Refused(f"no Airflow credentials for user {user!r}")
            try:
                response = requests.post(
                    f"{self.base_url.rstrip('/')}/auth/token",
                    json={"username": user, "password": self.passwords[user]},
                    timeout=self.timeout,
                )
            except requests.RequestException as exc:
                raise AirflowDown(f"/auth/token: {type(exc).__name__}") from exc
            self._tokens[user] = _answer(response, "/auth/token")["access_token"]
        return self._tokens[user]

    def _hitl_path(self, dag_id: str, run_id: str, map_index: int) -> str:
        return (
            f"/dags/{dag_id}/dagRuns/{run_id}/taskInstances/{APPROVAL_TASK}/{map_index}/hitlDetails"
        )

    def answer_approval(
        self,
        user: str,
        dag_id: str,
        run_id: str,
        map_index: int,
        option: str,
        params: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """Answer one approval as `user`; Conflict when it was answered already."""
        body: dict[str, Any] = {"chosen_options": [option]}
        if params:
            body["params_input"] = params
        return self._call(user, "PATCH", self._hitl_path(dag_id, run_id, map_index), json=body)

    def approval(self, user: str, dag_id: str, run_id: str, map_index: int) -> dict[str, Any]:
        """The approval's HITL detail (who answered, when, what)."""
        return self._call(user, "GET", self._hitl_path(dag_id, run_id, map_index))

    def trigger(self, user: str, dag_id: str, run_id: str, conf: dict[str, Any]) -> dict[str, Any]:
        """Create the run `run_id` (the click's idempotency key); Conflict if it exists."""
        body = {"dag_run_id": run_id, "logical_date": None, "conf": conf}
        return self._call(user, "POST", f"/dags/{dag_id}/dagRuns", json=body)

    def run(self, user: str, dag_id: str, run_id: str) -> dict[str, Any]:
        return self._call(user, "GET", f"/dags/{dag_id}/dagRuns/{run_id}")


def _answer(response: requests.Response, what: str) -> Any:
    status = response.status_code
    if status >= 500:
        raise AirflowDown(f"{what} answered {status}")
    if status == 409:
        raise Conflict(f"{what} answered 409")
    if status == 404:
        raise NotOpen(f"{what} answered 404")
    if status in (401, 403):
        raise Refused(f"{what} answered {status}")
    if not response.ok:
        raise Refused(f"{what} answered {status}: {response.text[:300]}")
    return response.json() if response.content else {}
