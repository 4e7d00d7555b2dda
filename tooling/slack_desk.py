"""Managers clicking in the fake Slack, for `make demo` and `make smoke`.

The Slack listener (clientpulse.slack_listener, the compose service `slack-listener`)
runs as its own process on the fake Slack's Socket Mode (ListenerProcess); a click
sent through the fake's sandbox hook (SlackDesk) travels as a Socket Mode envelope to
the listener, which acts through Airflow's REST API as the manager's Airflow user and
updates the DM in place. `SlackDesk.answer` clicks and waits for that update.
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import requests

from clientpulse.slack_listener.blocks import read_context
from sandbox.runner import SLACK_APP_TOKEN, SLACK_TOKEN
from tooling.topology import LISTENER, LISTENER_SETTINGS, NativeServices, free_port


class DeskTimeout(AssertionError):
    """The fake Slack never showed what a click should have led to."""


def _require(condition: bool, message: str) -> None:
    if not condition:
        raise DeskTimeout(message)


@dataclass(frozen=True)
class Answered:
    """One answer given in a DM: who clicked what on which client, and what it left."""

    at: datetime
    user: str
    ts: str  # the message's
    action: str
    context: dict[str, Any]
    ack_ms: int
    line: str  # the DM's line that replaced the buttons
    reason: str | None = None


class SlackDesk:
    """The fake Slack's sandbox hooks: what its workspace holds, and a user's clicks."""

    def __init__(self, slack_url: str) -> None:
        self.base = slack_url.removesuffix("/").removesuffix("/api")

    def state(self) -> dict[str, Any]:
        return requests.get(f"{self.base}/_sandbox/state", timeout=10).json()

    def wait(self, pick: Callable[[dict[str, Any]], Any], what: str, timeout: float = 60) -> Any:
        deadline = time.monotonic() + timeout
        while not (found := pick(self.state())):
            _require(time.monotonic() < deadline, f"fake Slack: timed out waiting for {what}")
            time.sleep(0.2)
        return found

    def _post(self, hook: str, body: dict[str, Any]) -> dict[str, Any]:
        response = requests.post(f"{self.base}/_sandbox/{hook}", json=body, timeout=15)
        return {"status": response.status_code, **response.json()}

    def click(
        self, user: str, ts: str, action_id: str, block_id: str, **extra: Any
    ) -> dict[str, Any]:
        body = {"user": user, "channel": user, "ts": ts, "action_id": action_id}
        return self._post("click", {**body, "block_id": block_id, **extra})

    def submit(self, user: str, view_id: str, reason: str) -> dict[str, Any]:
        values = {"reason": {"text": reason}}
        return self._post("submit", {"user": user, "view_id": view_id, "values": values})

    def answer(
        self, user: str, ts: str, block_id: str, action_id: str, reason: str | None = None
    ) -> Answered:
        """Click `action_id` in the DM `ts` (then give `reason` in the modal it opens) and
        wait until the listener replaced the block's buttons by the decision's line."""
        at = datetime.now(UTC)
        seen_views = len(self.state()["views"])
        clicked = self.click(user, ts, action_id, block_id)
        _require(clicked.get("acked") is True, f"{action_id} by {user} not acked: {clicked}")
        if reason is not None:
            view = self.wait(lambda s: s["views"][seen_views:], f"the {action_id} modal")[-1]
            submitted = self.submit(user, view["id"], reason)
            _require(submitted.get("acked") is True, f"the reason was not acked: {submitted}")
        line = self.wait(lambda s: decision_line(s, ts, block_id), "the DM updated in place")
        context = read_context(block_id) or {}
        return Answered(at, user, ts, action_id, context, clicked["ack_ms"], line, reason)


def draft_block(state: dict[str, Any], run_id: str, client_id: str) -> tuple[str, str] | None:
    """(message ts, block id) of the client's draft in the run's approval DM."""
    for ts, block_id, context in actionable(state, "a", answered=True):
        if (context["r"], context["c"]) == (run_id, client_id):
            return ts, block_id
    return None


def actionable(
    state: dict[str, Any], kind: str, *, answered: bool = False
) -> list[tuple[str, str, dict[str, Any]]]:
    """(message ts, block id, context) of every block of `kind` ('a' an approval, 'r' an
    alert) in the posted messages, in posting order; only those still offering buttons
    unless `answered`."""
    found = []
    for message in state["messages"]:
        for block in message.get("blocks") or []:
            context = read_context(str(block.get("block_id", "")))
            if context and context["k"] == kind and (answered or block["type"] == "actions"):
                found.append((message["ts"], block["block_id"], context))
    return found


def decision_line(state: dict[str, Any], ts: str, block_id: str) -> str:
    """The line that replaced the draft's buttons once it was answered ('' before)."""
    message = next(m for m in state["messages"] if m["ts"] == ts)
    block = next(b for b in message["blocks"] if b.get("block_id") == block_id)
    return (
        block["elements"][0]["text"] if block["type"] == "context" and message.get("edited") else ""
    )


def listener_environment(
    passwords_file: Path, config: Path, api_url: str, slack_url: str
) -> tuple[dict[str, str], int]:
    """The `slack-listener` service's settings (topology.LISTENER_SETTINGS) with local
    values, plus the sandbox's Slack Web API; and its health port."""
    port = free_port()
    settings = {
        "SLACK_APP_TOKEN": SLACK_APP_TOKEN,
        "SLACK_BOT_TOKEN": SLACK_TOKEN,
        "CLIENTPULSE_SLACK_ADMINS": "",
        "AIRFLOW_API_URL": api_url,
        "CLIENTPULSE_AIRFLOW_PASSWORDS_FILE": str(passwords_file),
        "CLIENTPULSE_CONFIG": str(config),
        "CLIENTPULSE_LISTENER_HEALTH_PORT": str(port),
    }
    assert settings.keys() == LISTENER_SETTINGS.keys()
    return {"PATH": os.environ.get("PATH", ""), **settings, "SLACK_API_URL": slack_url}, port


@dataclass
class ListenerProcess:
    """The Slack listener as its own process (the compose service `slack-listener`)."""

    services: NativeServices
    env: dict[str, str]
    health_port: int

    def start(self) -> None:
        """Start it and wait until its health check says it is connected."""
        self.spawn()
        self.wait_connected()

    def spawn(self) -> None:
        self.services.start_listener(self.env)

    def wait_connected(self) -> None:
        url = f"http://127.0.0.1:{self.health_port}/health"
        deadline = time.monotonic() + 90
        while True:
            self.services.check_alive()
            with contextlib.suppress(requests.RequestException):
                if requests.get(url, timeout=2).status_code == 200:
                    return
            _require(time.monotonic() < deadline, f"the Slack listener never connected ({url})")
            time.sleep(0.3)

    def kill(self) -> list[int]:
        return self.services.kill(LISTENER)
