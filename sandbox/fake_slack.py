"""A local Slack Web API for the methods ClientPulse calls.

`auth.test`, `chat.postMessage` and `conversations.list` answer with the shapes of
Slack's published spec: HTTP 200 with `{"ok": false, "error": ...}` for API errors,
HTTP 429 with `Retry-After` when rate limited, cursor pagination through
`response_metadata.next_cursor`. Clients use `{base_url}/api/` as slack_sdk's
`base_url`. Every accepted message is appended to the capture file as one JSON line,
the demo's record of what was posted.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import re
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

DEFAULT_CHANNELS = ("leadership", "clientpulse-ops", "account-managers")
TEAM_ID = "T0AGENCY01"
TEAM_NAME = "ClientPulse Demo"
BOT_USER_ID = "U0CPBOT001"
BOT_ID = "B0CPBOT001"
APP_ID = "A0CLIENTP1"
ADMIN_USER_ID = "U0ADMIN001"
CREATED = 1_700_000_000
MAX_BLOCKS = 50
MAX_SECTION_TEXT = 3000
MAX_HEADER_TEXT = 150
MAX_SECTION_FIELDS = 10
MAX_FIELD_TEXT = 2000
MAX_CONTEXT_ELEMENTS = 10
MAX_MESSAGE_TEXT = 40_000
BLOCK_TYPES = frozenset(
    {"header", "section", "divider", "context", "image", "actions", "rich_text", "input", "file"}
)


@dataclass
class SlackFaults:
    """Off by default: answer the next `ratelimited_requests` calls with HTTP 429."""

    ratelimited_requests: int = 0
    retry_after_seconds: int = 1


@dataclass(frozen=True)
class Channel:
    id: str
    name: str

    def as_conversation(self) -> dict[str, Any]:
        """The conversation object of conversations.list for a public channel."""
        blank = {"value": "", "creator": "", "last_set": 0}
        return {
            "id": self.id,
            "name": self.name,
            "name_normalized": self.name,
            "created": CREATED,
            "creator": ADMIN_USER_ID,
            "is_channel": True,
            "is_group": False,
            "is_im": False,
            "is_mpim": False,
            "is_private": False,
            "is_archived": False,
            "is_general": False,
            "is_shared": False,
            "is_ext_shared": False,
            "is_org_shared": False,
            "is_pending_ext_shared": False,
            "is_member": True,
            "unlinked": 0,
            "pending_shared": [],
            "previous_names": [],
            "num_members": 5,
            "topic": blank,
            "purpose": {**blank, "value": f"ClientPulse posts to #{self.name}"},
        }


def channel_id(name: str) -> str:
    """A stable, Slack-shaped id (C + 10 uppercase hex characters) for a channel name."""
    return "C" + hashlib.sha1(name.encode(), usedforsecurity=False).hexdigest()[:10].upper()


def _text(element: Any) -> str:
    """The `text` of a Block Kit text object; "" for anything else."""
    value = element.get("text") if isinstance(element, dict) else None
    return value if isinstance(value, str) else ""


def block_errors(blocks: list[Any]) -> list[str]:
    """Slack's Block Kit checks that matter here, as Slack phrases them (empty when valid)."""
    if len(blocks) > MAX_BLOCKS:
        return [f"must contain at most {MAX_BLOCKS} items [json-pointer:/blocks]"]
    errors = []
    for index, block in enumerate(blocks):
        where = f"[json-pointer:/blocks/{index}"
        if not isinstance(block, dict) or block.get("type") not in BLOCK_TYPES:
            errors.append(f"unsupported type {where}/type]")
            continue
        text = _text(block.get("text"))
        fields = block.get("fields") or []
        if block["type"] == "header" and len(text) > MAX_HEADER_TEXT:
            errors.append(f"must be less than {MAX_HEADER_TEXT + 1} characters {where}/text]")
        if block["type"] == "section" and not text and not fields:
            errors.append(f"must provide either text or fields {where}]")
        if block["type"] == "section" and len(text) > MAX_SECTION_TEXT:
            errors.append(f"must be less than {MAX_SECTION_TEXT + 1} characters {where}/text]")
        if len(fields) > MAX_SECTION_FIELDS:
            errors.append(f"must contain at most {MAX_SECTION_FIELDS} items {where}/fields]")
        for i, item in enumerate(fields):
            if len(_text(item)) > MAX_FIELD_TEXT:
                errors.append(
                    f"must be less than {MAX_FIELD_TEXT + 1} characters {where}/fields/{i}]"
                )
        if block["type"] == "context" and len(block.get("elements", [])) > MAX_CONTEXT_ELEMENTS:
            errors.append(f"must contain at most {MAX_CONTEXT_ELEMENTS} items {where}/elements]")
    return errors


def slack_error(error: str, status: int = 200, **extra: Any) -> JSONResponse:
    return JSONResponse({"ok": False, "error": error, **extra}, status_code=status)


class FakeSlack:
    """Workspace state: channels, issued timestamps and the capture file."""

    def __init__(self, capture_path: Path, channels: Sequence[str]) -> None:
        self.capture_path = capture_path
        capture_path.parent.mkdir(parents=True, exist_ok=True)
        self.channels = [Channel(channel_id(name), name) for name in channels]
        self._last_ts = 0.0
        self._lock = threading.Lock()

    def find(self, reference: str) -> Channel | None:
        """A channel by id, `name` or `#name`, as chat.postMessage accepts them; a user id
        (`U…`) is the app's direct-message channel with that user (`D…`), as in Slack."""
        if re.fullmatch(r"[UW][A-Z0-9]{8,}", reference):
            return Channel("D" + reference[1:], f"@{reference}")
        wanted = reference.removeprefix("#").lower()
        return next((c for c in self.channels if wanted in (c.id.lower(), c.name)), None)

    def record(self, channel: Channel, text: str, blocks: list[Any] | None) -> str:
        """Append the message to the capture file and return its `ts`."""
        with self._lock:
            self._last_ts = max(time.time(), self._last_ts + 0.000001)
            ts = f"{self._last_ts:.6f}"
            line = {
                "channel_id": channel.id,
                "channel_name": channel.name,
                "ts": ts,
                "text": text,
                "blocks": blocks,
                "posted_at": datetime.now(UTC).isoformat(),
            }
            with self.capture_path.open("a", encoding="utf-8") as capture:
                capture.write(json.dumps(line, ensure_ascii=False) + "\n")
        return ts


async def read_arguments(request: Request) -> dict[str, Any] | JSONResponse:
    """Query string plus form or JSON body, merged as Slack does."""
    arguments: dict[str, Any] = dict(request.query_params)
    content_type = request.headers.get("content-type", "")
    if content_type.startswith("application/json"):
        try:
            body = json.loads(await request.body() or b"{}")
        except json.JSONDecodeError:
            return slack_error("invalid_json")
        if not isinstance(body, dict):
            return slack_error("json_not_object")
        arguments.update(body)
    elif request.method == "POST":
        arguments.update((await request.form()).items())
    return arguments


def bearer_token(request: Request, arguments: dict[str, Any]) -> str | None:
    header = request.headers.get("authorization", "")
    if header.startswith("Bearer "):
        return header.removeprefix("Bearer ")
    return arguments.get("token")


def _decode_cursor(cursor: str) -> str | None:
    try:
        return base64.b64decode(cursor, validate=True).decode().removeprefix("channel:")
    except (binascii.Error, UnicodeDecodeError):
        return None


def _encode_cursor(next_id: str) -> str:
    return base64.b64encode(f"channel:{next_id}".encode()).decode()


def create_app(
    token: str,
    capture_path: Path,
    *,
    faults: SlackFaults | None = None,
    channels: Sequence[str] = DEFAULT_CHANNELS,
) -> FastAPI:
    """The fake Slack Web API; messages accepted by chat.postMessage go to `capture_path`."""
    faults = faults or SlackFaults()
    workspace = FakeSlack(capture_path, channels)
    app = FastAPI(title="Fake Slack")
    app.state.slack = workspace
    app.state.faults = faults

    async def authorize(request: Request) -> dict[str, Any] | JSONResponse:
        """Arguments of an authenticated call, or the error response Slack would send."""
        if faults.ratelimited_requests > 0:
            faults.ratelimited_requests -= 1
            headers = {"Retry-After": str(faults.retry_after_seconds)}
            return JSONResponse(
                {"ok": False, "error": "ratelimited"}, status_code=429, headers=headers
            )
        arguments = await read_arguments(request)
        if isinstance(arguments, JSONResponse):
            return arguments
        presented = bearer_token(request, arguments)
        if not presented:
            return slack_error("not_authed")
        if presented != token:
            return slack_error("invalid_auth")
        return arguments

    @app.api_route("/api/auth.test", methods=["GET", "POST"])
    async def auth_test(request: Request) -> Any:
        arguments = await authorize(request)
        if isinstance(arguments, JSONResponse):
            return arguments
        return {
            "ok": True,
            "url": "https://clientpulse-demo.slack.com/",
            "team": TEAM_NAME,
            "user": "clientpulse",
            "team_id": TEAM_ID,
            "user_id": BOT_USER_ID,
            "bot_id": BOT_ID,
            "is_enterprise_install": False,
        }

    @app.api_route("/api/chat.postMessage", methods=["GET", "POST"])
    async def post_message(request: Request) -> Any:
        arguments = await authorize(request)
        if isinstance(arguments, JSONResponse):
            return arguments
        channel = workspace.find(str(arguments.get("channel") or ""))
        if channel is None:
            return slack_error("channel_not_found")
        blocks = arguments.get("blocks")
        if isinstance(blocks, str):
            try:
                blocks = json.loads(blocks)
            except json.JSONDecodeError:
                return slack_error("invalid_blocks_format")
        if blocks is not None and not isinstance(blocks, list):
            return slack_error("invalid_blocks_format")
        if blocks and (errors := block_errors(blocks)):
            messages = [f"[ERROR] {e}" for e in errors]
            return slack_error(
                "invalid_blocks", errors=errors, response_metadata={"messages": messages}
            )
        text = str(arguments.get("text") or "")
        if not text and not blocks and not arguments.get("attachments"):
            return slack_error("no_text")
        if len(text) > MAX_MESSAGE_TEXT:
            return slack_error("msg_too_long")
        ts = workspace.record(channel, text, blocks)
        message: dict[str, Any] = {
            "type": "message",
            "text": text,
            "user": BOT_USER_ID,
            "bot_id": BOT_ID,
            "ts": ts,
            "team": TEAM_ID,
            "bot_profile": _bot_profile(),
        }
        if blocks:
            message["blocks"] = blocks
        return {"ok": True, "channel": channel.id, "ts": ts, "message": message}

    @app.api_route("/api/conversations.list", methods=["GET", "POST"])
    async def conversations_list(request: Request) -> Any:
        arguments = await authorize(request)
        if isinstance(arguments, JSONResponse):
            return arguments
        try:
            limit = min(max(int(arguments.get("limit") or 100), 1), 1000)
        except ValueError:
            return slack_error("invalid_limit")
        ids = [c.id for c in workspace.channels]
        start = 0
        if cursor := arguments.get("cursor"):
            next_id = _decode_cursor(str(cursor))
            if next_id not in ids:
                return slack_error("invalid_cursor")
            start = ids.index(next_id)
        page = workspace.channels[start : start + limit]
        rest = workspace.channels[start + limit :]
        return {
            "ok": True,
            "channels": [c.as_conversation() for c in page],
            "response_metadata": {"next_cursor": _encode_cursor(rest[0].id) if rest else ""},
        }

    @app.api_route("/api/{method}", methods=["GET", "POST"])
    async def unknown_method(method: str) -> JSONResponse:
        return slack_error("unknown_method", status=404, req_method=method)

    return app


def _bot_profile() -> dict[str, Any]:
    icon = "https://a.slack-edge.com/80588/img/plugins/app/bot_{}.png"
    return {
        "id": BOT_ID,
        "app_id": APP_ID,
        "name": "ClientPulse",
        "deleted": False,
        "updated": CREATED,
        "team_id": TEAM_ID,
        "icons": {f"image_{n}": icon.format(n) for n in (36, 48, 72)},
    }
