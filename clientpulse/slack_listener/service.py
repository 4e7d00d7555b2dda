"""The listener as a service: a Socket Mode connection (slack-sdk's builtin client, which
reconnects by itself after Slack's `disconnect`), each envelope acknowledged at once and
then acted on, and a health endpoint for the container's health check.

Settings come from the environment only (tokens and passwords never from files in the
image, never in logs):

- `SLACK_APP_TOKEN` (`xapp-…`, scope `connections:write`), `SLACK_BOT_TOKEN` (`xoxb-…`),
  `SLACK_API_URL` (optional: another Web API base, e.g. the sandbox's fake Slack);
- `AIRFLOW_API_URL`, `CLIENTPULSE_AIRFLOW_PASSWORDS_FILE` (JSON `{airflow user: password}`,
  the shape of SimpleAuthManager's passwords file; a mounted secret);
- `CLIENTPULSE_SLACK_ADMINS` (`U…=airflow-user,…`: who may act for any manager);
- `CLIENTPULSE_CONFIG` (the agency config), `CLIENTPULSE_LISTENER_HEALTH_PORT` (8787).
"""

from __future__ import annotations

import json
import logging
import os
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from slack_sdk import WebClient
from slack_sdk.socket_mode.builtin import SocketModeClient
from slack_sdk.socket_mode.request import SocketModeRequest
from slack_sdk.socket_mode.response import SocketModeResponse

from clientpulse.slack_listener.actions import Listener

log = logging.getLogger(__name__)


class SettingsError(ValueError):
    """A missing or malformed setting (named, its value never shown)."""


@dataclass(frozen=True)
class Settings:
    app_token: str
    bot_token: str
    slack_api_url: str | None
    airflow_url: str
    passwords: Mapping[str, str]
    admins: Mapping[str, str]
    health_port: int

    @classmethod
    def from_env(cls, env: Mapping[str, str] = os.environ) -> Settings:
        def need(name: str) -> str:
            if not env.get(name):
                raise SettingsError(f"{name} is not set")
            return env[name]

        if not need("SLACK_APP_TOKEN").startswith("xapp-"):
            raise SettingsError("SLACK_APP_TOKEN must be an app-level token (xapp-…)")
        path = Path(need("CLIENTPULSE_AIRFLOW_PASSWORDS_FILE"))
        try:
            passwords = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise SettingsError(f"CLIENTPULSE_AIRFLOW_PASSWORDS_FILE {path}: {exc}") from exc
        if not isinstance(passwords, dict):
            raise SettingsError(f"{path}: expected a JSON object {{user: password}}")
        admins = {}
        for entry in filter(
            None, (e.strip() for e in env.get("CLIENTPULSE_SLACK_ADMINS", "").split(","))
        ):
            slack_user, _, airflow_user = entry.partition("=")
            if not slack_user or not airflow_user:
                raise SettingsError(f"CLIENTPULSE_SLACK_ADMINS: {entry!r} is not U…=airflow-user")
            admins[slack_user] = airflow_user
        return cls(
            app_token=env["SLACK_APP_TOKEN"],
            bot_token=need("SLACK_BOT_TOKEN"),
            slack_api_url=env.get("SLACK_API_URL") or None,
            airflow_url=need("AIRFLOW_API_URL"),
            passwords=passwords,
            admins=admins,
            health_port=int(env.get("CLIENTPULSE_LISTENER_HEALTH_PORT") or 8787),
        )


def web_client(token: str, base_url: str | None) -> WebClient:
    return WebClient(token=token, base_url=base_url) if base_url else WebClient(token=token)


def connect(listener: Listener, settings: Settings) -> SocketModeClient:
    """Open the Socket Mode connection with `listener` answering every envelope."""
    client = SocketModeClient(
        app_token=settings.app_token,
        web_client=web_client(settings.bot_token, settings.slack_api_url),
        auto_reconnect_enabled=True,
    )

    def on_request(socket: SocketModeClient, request: SocketModeRequest) -> None:
        # ack first (Slack wants it within 3 s), act after
        payload = (
            listener.acknowledgement(request.payload) if request.type == "interactive" else None
        )
        socket.send_socket_mode_response(
            SocketModeResponse(envelope_id=request.envelope_id, payload=payload)
        )
        if request.type != "interactive" or payload is not None:
            return
        try:
            listener.act(request.payload)
        except Exception:  # one bad interaction must not stop the listener
            log.exception("could not handle a %s interaction", request.payload.get("type"))

    client.socket_mode_request_listeners.append(on_request)
    client.connect()
    return client


def serve_health(client: SocketModeClient, port: int) -> ThreadingHTTPServer:
    """`GET /health`: 200 while the Socket Mode connection is open, else 503."""

    class Health(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            up = self.path == "/health" and client.is_connected()
            self.send_response(200 if up else 503)
            self.end_headers()
            self.wfile.write(b"connected\n" if up else b"not connected\n")

        def log_message(self, *args: object) -> None:  # health polls are not news
            return

    server = ThreadingHTTPServer(("0.0.0.0", port), Health)  # noqa: S104 (the container's port)
    threading.Thread(target=server.serve_forever, name="listener-health", daemon=True).start()
    return server
