"""Slack's interactivity for the fake Slack: Socket Mode and the methods an app answers with.

Socket Mode as Slack documents it: `apps.connections.open` with the app-level token
(`xapp-…`, scope `connections:write`) answers a one-use `wss://` URL — here `ws://` on
the fake's own port; the socket says `hello`, then carries envelopes
(`envelope_id`, `type: interactive`, `payload`, `accepts_response_payload`) that the app
acknowledges by sending back `{"envelope_id": …}` (optionally with a `payload`) within
3 seconds; a `disconnect` message asks the app to open a new connection (the fake then
closes the old one). Interactive payloads (`block_actions`, `view_submission`) carry the
fields of Slack's reference. `chat.update`, `chat.postEphemeral`, `views.open` and
`conversations.history` answer as the Web API spec says; a `trigger_id` expires 3 seconds
after its interaction.

Sandbox-only hooks (not Slack's): `POST /_sandbox/click` (a user clicks a button or
picks a date in a posted message), `POST /_sandbox/submit` (a user submits an open
modal), `POST /_sandbox/replay` (the same interaction again: a double click),
`POST /_sandbox/disconnect`, `GET /_sandbox/state` (messages as they are now,
ephemerals, views). The click and submit hooks answer once the app acked, with the ack
time, so tests and the demo can wait for what the app did next.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
import uuid
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from fastapi import FastAPI, Request, WebSocket, WebSocketDisconnect
from fastapi.responses import JSONResponse

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

    from sandbox.fake_slack import FakeSlack

ACK_SECONDS = 3.0  # Slack retries an envelope not acknowledged within 3 s
TRIGGER_SECONDS = 3.0  # a trigger_id is good for views.open for 3 s
TEAM_DOMAIN = "clientpulse-demo"


@dataclass
class Interactivity:
    """Open sockets, issued tickets and trigger ids, unacknowledged envelopes, views."""

    tickets: set[str] = field(default_factory=set)
    sockets: list[WebSocket] = field(default_factory=list)
    pending: dict[str, asyncio.Future] = field(default_factory=dict)
    triggers: dict[str, tuple[str, float]] = field(default_factory=dict)  # id -> (user, at)
    views: dict[str, dict[str, Any]] = field(default_factory=dict)
    view_users: dict[str, str] = field(default_factory=dict)
    ephemerals: list[dict[str, Any]] = field(default_factory=list)
    connections_opened: int = 0
    envelopes: list[dict[str, Any]] = field(default_factory=list)

    def trigger_for(self, user: str) -> str:
        trigger = f"{int(time.time())}.{uuid.uuid4().int % 10**12}.{uuid.uuid4().hex[:32]}"
        self.triggers[trigger] = (user, time.monotonic())
        return trigger

    async def deliver(self, payload: dict[str, Any]) -> dict[str, Any]:
        """Send one interactive envelope on the newest socket; wait for its ack."""
        if not self.sockets:
            raise LookupError("no Socket Mode connection is open")
        envelope_id = str(uuid.uuid4())
        envelope = {
            "envelope_id": envelope_id,
            "payload": payload,
            "type": "interactive",
            "accepts_response_payload": payload["type"] == "view_submission",
            "retry_attempt": 0,
            "retry_reason": "",
        }
        future: asyncio.Future = asyncio.get_running_loop().create_future()
        self.pending[envelope_id] = future
        started = time.monotonic()
        await self.sockets[-1].send_text(json.dumps(envelope))
        self.envelopes.append(envelope)
        try:
            ack = await asyncio.wait_for(future, ACK_SECONDS)
        except TimeoutError:
            return {"envelope_id": envelope_id, "acked": False}
        finally:
            self.pending.pop(envelope_id, None)
        elapsed = round((time.monotonic() - started) * 1000, 1)
        return {"envelope_id": envelope_id, "acked": True, "ack_ms": elapsed, "ack": ack}


def _user(user_id: str) -> dict[str, Any]:
    name = user_id.lower()
    return {"id": user_id, "username": name, "name": name, "team_id": _team()["id"]}


def _team() -> dict[str, Any]:
    from sandbox.fake_slack import TEAM_ID

    return {"id": TEAM_ID, "domain": TEAM_DOMAIN}


def _find_action(
    blocks: list[Any], action_id: str, block_id: str | None = None
) -> tuple[str, dict[str, Any]] | None:
    """(block_id, element) of the interactive element `action_id` (in block `block_id`, or
    the first block that has one) of a message's blocks."""
    for block in blocks or []:
        if block_id is not None and block.get("block_id") != block_id:
            continue
        elements = block.get("elements") or ([block["accessory"]] if "accessory" in block else [])
        for element in elements:
            if isinstance(element, dict) and element.get("action_id") == action_id:
                return block.get("block_id", ""), element
    return None


def block_actions_payload(
    app_id: str,
    user: str,
    channel: Any,
    message: dict[str, Any],
    block_id: str,
    element: dict[str, Any],
    trigger_id: str,
    selected_date: str | None = None,
) -> dict[str, Any]:
    """A `block_actions` payload as Slack sends it for a click in a message."""
    action: dict[str, Any] = {
        "action_id": element["action_id"],
        "block_id": block_id,
        "type": element["type"],
        "action_ts": f"{time.time():.6f}",
    }
    if element["type"] == "button":
        action.update(text=element.get("text"), value=element.get("value", ""))
    elif element["type"] == "datepicker":
        action.update(selected_date=selected_date, initial_date=element.get("initial_date"))
    return {
        "type": "block_actions",
        "user": _user(user),
        "api_app_id": app_id,
        "token": "verification-token-unused-in-socket-mode",
        "container": {
            "type": "message",
            "message_ts": message["ts"],
            "channel_id": channel.id,
            "is_ephemeral": False,
        },
        "trigger_id": trigger_id,
        "team": _team(),
        "enterprise": None,
        "is_enterprise_install": False,
        "channel": {"id": channel.id, "name": channel.name},
        "message": message,
        "state": {"values": {}},
        "response_url": f"https://hooks.slack.com/actions/{_team()['id']}/{uuid.uuid4().hex}",
        "actions": [action],
    }


def view_submission_payload(
    app_id: str, user: str, view: dict[str, Any], values: dict[str, dict[str, str]]
) -> dict[str, Any]:
    """A `view_submission` payload: the modal with `state.values` filled in."""
    state: dict[str, Any] = {}
    for block in view.get("blocks", []):
        element = block.get("element") if block.get("type") == "input" else None
        if not element:
            continue
        typed = values.get(block.get("block_id", ""), {}).get(element["action_id"])
        entry: dict[str, Any] = {"type": element["type"]}
        if element["type"] == "plain_text_input":
            entry["value"] = typed
        elif element["type"] == "datepicker":
            entry["selected_date"] = typed
        state.setdefault(block["block_id"], {})[element["action_id"]] = entry
    submitted = {**view, "state": {"values": state}}
    return {
        "type": "view_submission",
        "team": _team(),
        "user": _user(user),
        "api_app_id": app_id,
        "token": "verification-token-unused-in-socket-mode",
        "trigger_id": f"{int(time.time())}.{uuid.uuid4().hex[:24]}",
        "view": submitted,
        "response_urls": [],
        "is_enterprise_install": False,
        "enterprise": None,
    }


def register(
    app: FastAPI,
    workspace: FakeSlack,
    authorize: Callable[[Request], Awaitable[dict[str, Any] | JSONResponse]],
    app_token: str,
) -> Interactivity:
    """Add Socket Mode, the interactive methods and the sandbox hooks to the fake's `app`."""
    from sandbox.fake_slack import (
        APP_ID,
        BOT_ID,
        BOT_USER_ID,
        block_errors,
        blocks_argument,
        json_argument,
    )
    from sandbox.fake_slack import slack_error as error

    live = Interactivity()

    @app.api_route("/api/apps.connections.open", methods=["GET", "POST"])
    async def connections_open(request: Request) -> Any:
        header = request.headers.get("authorization", "")
        presented = header.removeprefix("Bearer ") if header.startswith("Bearer ") else ""
        if not presented:
            return error("not_authed")
        if not presented.startswith("xapp-"):
            return error("not_allowed_token_type")
        if presented != app_token:
            return error("invalid_auth")
        ticket = str(uuid.uuid4())
        live.tickets.add(ticket)
        host = request.url.netloc
        return {"ok": True, "url": f"ws://{host}/link/?ticket={ticket}&app_id={APP_ID}"}

    @app.websocket("/link/")
    async def link(socket: WebSocket) -> None:
        ticket = socket.query_params.get("ticket", "")
        if ticket not in live.tickets:
            await socket.close(code=1008)
            return
        live.tickets.discard(ticket)  # a URL is good for one connection
        await socket.accept()
        live.connections_opened += 1
        live.sockets.append(socket)
        hello = {
            "type": "hello",
            "num_connections": len(live.sockets),
            "debug_info": {
                "host": "applink-fake",
                "build_number": 1,
                "approximate_connection_time": 18060,
            },
            "connection_info": {"app_id": APP_ID},
        }
        await socket.send_text(json.dumps(hello))
        try:
            while True:
                message = json.loads(await socket.receive_text())
                future = live.pending.get(str(message.get("envelope_id")))
                if future is not None and not future.done():
                    future.set_result(message)
        except (WebSocketDisconnect, RuntimeError):
            pass
        finally:
            if socket in live.sockets:
                live.sockets.remove(socket)

    def _message(channel_id: str, ts: str) -> dict[str, Any] | None:
        return workspace.messages.get((channel_id, ts))

    async def addressed(request: Request) -> tuple[dict[str, Any], Any] | JSONResponse:
        """An authorized call's arguments and the conversation its `channel` names."""
        arguments = await authorize(request)
        if isinstance(arguments, JSONResponse):
            return arguments
        channel = workspace.find(str(arguments.get("channel") or ""))
        return error("channel_not_found") if channel is None else (arguments, channel)

    @app.api_route("/api/chat.update", methods=["GET", "POST"])
    async def chat_update(request: Request) -> Any:
        found = await addressed(request)
        if isinstance(found, JSONResponse):
            return found
        arguments, channel = found
        ts = str(arguments.get("ts") or "")
        message = _message(channel.id, ts)
        if message is None:
            return error("message_not_found")
        blocks = blocks_argument(arguments)
        if isinstance(blocks, JSONResponse):
            return blocks
        text = str(arguments.get("text") or "")
        if not text and not blocks:
            return error("no_text")
        message["text"] = text
        if blocks is not None:
            message["blocks"] = blocks
        message["edited"] = {"user": BOT_USER_ID, "ts": f"{time.time():.6f}"}
        workspace.log_interaction({"method": "chat.update", "channel": channel.id, **message})
        shown = {k: v for k, v in message.items() if k != "blocks" or v}  # as postMessage
        return {"ok": True, "channel": channel.id, "ts": ts, "text": text, "message": shown}

    @app.api_route("/api/conversations.history", methods=["GET", "POST"])
    async def history(request: Request) -> Any:
        """The newest messages up to `latest` (`inclusive`), newest first, `limit` of them."""
        found = await addressed(request)
        if isinstance(found, JSONResponse):
            return found
        arguments, channel = found
        latest = float(arguments.get("latest") or "inf")
        inclusive = str(arguments.get("inclusive") or "").lower() in ("1", "true")
        limit = int(arguments.get("limit") or 100)
        messages = sorted(
            (
                m
                for (cid, ts), m in workspace.messages.items()
                if cid == channel.id and (float(ts) < latest or (inclusive and float(ts) == latest))
            ),
            key=lambda m: float(m["ts"]),
            reverse=True,
        )
        return {
            "ok": True,
            "messages": messages[:limit],
            "has_more": len(messages) > limit,
            "pin_count": 0,
            "response_metadata": {"next_cursor": ""},
        }

    @app.api_route("/api/chat.postEphemeral", methods=["GET", "POST"])
    async def post_ephemeral(request: Request) -> Any:
        found = await addressed(request)
        if isinstance(found, JSONResponse):
            return found
        arguments, channel = found
        user = str(arguments.get("user") or "")
        if not user:
            return error("user_not_found")
        text = str(arguments.get("text") or "")
        blocks = json_argument(arguments.get("blocks"))
        if not text and not blocks:
            return error("no_text")
        ts = f"{time.time():.6f}"
        entry = {"channel": channel.id, "user": user, "text": text, "blocks": blocks, "ts": ts}
        live.ephemerals.append(entry)
        workspace.log_interaction({"method": "chat.postEphemeral", **entry})
        return {"ok": True, "message_ts": ts}

    @app.api_route("/api/views.open", methods=["GET", "POST"])
    async def views_open(request: Request) -> Any:
        arguments = await authorize(request)
        if isinstance(arguments, JSONResponse):
            return arguments
        trigger = str(arguments.get("trigger_id") or "")
        view = json_argument(arguments.get("view"))
        if not isinstance(view, dict) or view.get("type") != "modal":
            return error("invalid_arguments")
        if trigger not in live.triggers:
            return error("invalid_trigger_id")
        user, issued = live.triggers.pop(trigger)
        if time.monotonic() - issued > TRIGGER_SECONDS:
            return error("expired_trigger_id")
        if errors := block_errors(view.get("blocks", [])):
            return error("invalid_arguments", errors=errors)
        view_id = f"V0CP{len(live.views) + 1:06d}"
        opened = {
            "id": view_id,
            "team_id": _team()["id"],
            "type": "modal",
            "title": view.get("title"),
            "submit": view.get("submit"),
            "close": view.get("close"),
            "blocks": view.get("blocks", []),
            "private_metadata": view.get("private_metadata", ""),
            "callback_id": view.get("callback_id", ""),
            "state": {"values": {}},
            "hash": uuid.uuid4().hex[:20],
            "clear_on_close": False,
            "notify_on_close": False,
            "root_view_id": view_id,
            "previous_view_id": None,
            "app_id": APP_ID,
            "external_id": "",
            "bot_id": BOT_ID,
        }
        live.views[view_id] = opened
        live.view_users[view_id] = user
        workspace.log_interaction({"method": "views.open", "user": user, "view": opened})
        return {"ok": True, "view": opened}

    @app.post("/_sandbox/click")
    async def click(request: Request) -> Any:
        """{user, channel, ts, action_id[, block_id, selected_date]}: a click in a message."""
        body = await request.json()
        channel = workspace.find(str(body.get("channel") or ""))
        message = _message(channel.id, str(body.get("ts"))) if channel else None
        if channel is None or message is None:
            return JSONResponse({"error": "message_not_found"}, status_code=404)
        found = _find_action(
            message.get("blocks") or [], str(body.get("action_id")), body.get("block_id")
        )
        if found is None:
            return JSONResponse({"error": "action_not_in_message"}, status_code=404)
        user = str(body["user"])
        payload = block_actions_payload(
            APP_ID,
            user,
            channel,
            json.loads(json.dumps(message)),
            *found,
            live.trigger_for(user),
            body.get("selected_date"),
        )
        return await _deliver(payload)

    @app.post("/_sandbox/submit")
    async def submit(request: Request) -> Any:
        """{user, view_id, values: {block_id: {action_id: text}}}: the user submits a modal."""
        body = await request.json()
        view = live.views.get(str(body.get("view_id")))
        if view is None:
            return JSONResponse({"error": "view_not_found"}, status_code=404)
        user = str(body.get("user") or live.view_users[view["id"]])
        payload = view_submission_payload(APP_ID, user, view, body.get("values") or {})
        answer = await _deliver(payload)
        if isinstance(answer, JSONResponse):
            return answer
        response = ((answer.get("ack") or {}).get("payload")) or {}
        if answer["acked"] and response.get("response_action") != "errors":
            live.views.pop(view["id"], None)  # the modal closes
        return answer

    async def _deliver(payload: dict[str, Any]) -> Any:
        try:
            return await live.deliver(payload)
        except LookupError as exc:
            return JSONResponse({"error": str(exc)}, status_code=409)

    @app.post("/_sandbox/replay")
    async def replay(request: Request) -> Any:
        """{envelope_id}: deliver that interaction again, as a double click (or Slack's
        retry of an envelope it saw no ack for) does."""
        body = await request.json()
        sent = next(
            (e for e in live.envelopes if e["envelope_id"] == body.get("envelope_id")), None
        )
        if sent is None:
            return JSONResponse({"error": "envelope_not_found"}, status_code=404)
        return await _deliver(sent["payload"])

    @app.post("/_sandbox/disconnect")
    async def disconnect() -> Any:
        """Ask every open connection to reconnect (Slack's `disconnect`), then close it."""
        closing = list(live.sockets)
        for socket in closing:
            message = {"type": "disconnect", "reason": "refresh_requested"}
            await socket.send_text(json.dumps({**message, "debug_info": {"host": "applink"}}))
        await asyncio.sleep(0.2)
        for socket in closing:
            with contextlib.suppress(RuntimeError):  # closed by the client meanwhile
                await socket.close()
        return {"disconnected": len(closing)}

    @app.get("/_sandbox/state")
    async def state() -> Any:
        return {
            "connections": len(live.sockets),
            "connections_opened": live.connections_opened,
            "messages": list(workspace.messages.values()),
            "ephemerals": live.ephemerals,
            "views": list(live.views.values()),
        }

    return live
