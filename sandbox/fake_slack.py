"""A local Slack Web API for the methods ClientPulse calls.

`auth.test`, `chat.postMessage`, `conversations.list` and `conversations.open` (a
direct message with one user, whose `D…` id chat.postMessage then accepts) answer with
the shapes of Slack's published spec; the file upload of slack-sdk's `files_upload_v2`
(`files.getUploadURLExternal`, a POST of the bytes to the `upload_url` it hands out,
`files.completeUploadExternal`) with the shapes of Slack's method reference; with an
app-level token also Socket Mode, `chat.update`, `chat.postEphemeral` and `views.open`
(sandbox.fake_slack_socket). All:
HTTP 200 with `{"ok": false, "error": ...}` for API errors, HTTP 429 with `Retry-After`
when rate limited, cursor pagination through `response_metadata.next_cursor`. Clients
use `{base_url}/api/` as slack_sdk's `base_url`. Every accepted message is appended to
the capture file as one JSON line, the demo's record of what was posted; a file shared
into a channel is one such line (`text` = its initial comment, `files` = what it
shares), its bytes saved under `files/` beside the capture.
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
from fastapi.responses import JSONResponse, PlainTextResponse

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
MAX_FILE_BYTES = 1_000_000_000  # Slack's 1 GB per file
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


@dataclass
class Upload:
    """A file announced by files.getUploadURLExternal; `content` once its bytes arrived."""

    id: str
    filename: str
    length: int
    alt_txt: str
    content: bytes | None = None
    completed: bool = False


def file_id(sequence: int) -> str:
    """A Slack-shaped file id (F + 10 uppercase alphanumerics)."""
    return f"F0CP{sequence:06d}"


def channel_id(name: str, prefix: str = "C") -> str:
    """A stable, Slack-shaped id (C, or D for a DM, + 10 uppercase hex characters)."""
    return prefix + hashlib.sha1(name.encode(), usedforsecurity=False).hexdigest()[:10].upper()


USER_ID = re.compile(r"[UW][A-Z0-9]{2,}")


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


def blocks_argument(arguments: dict[str, Any]) -> list[Any] | JSONResponse | None:
    """The `blocks` argument, or the error Slack answers for a malformed or invalid one."""
    blocks = json_argument(arguments.get("blocks"))
    if blocks is not None and not isinstance(blocks, list):
        return slack_error("invalid_blocks_format")
    if blocks and (errors := block_errors(blocks)):
        messages = [f"[ERROR] {e}" for e in errors]
        return slack_error(
            "invalid_blocks", errors=errors, response_metadata={"messages": messages}
        )
    return blocks


def slack_error(error: str, status: int = 200, **extra: Any) -> JSONResponse:
    return JSONResponse({"ok": False, "error": error, **extra}, status_code=status)


class FakeSlack:
    """Workspace state: channels, issued timestamps and the capture file."""

    def __init__(self, capture_path: Path, channels: Sequence[str]) -> None:
        self.capture_path = capture_path
        capture_path.parent.mkdir(parents=True, exist_ok=True)
        self.channels = [Channel(channel_id(name), name) for name in channels]
        self.dms: dict[str, Channel] = {}  # user id -> the DM opened with them
        self._last_ts = 0.0
        self._lock = threading.Lock()
        self.uploads: dict[str, Upload] = {}
        self.files_dir = capture_path.parent / "files"
        # (channel id, ts) -> the message as it is now (chat.update edits it in place)
        self.messages: dict[tuple[str, str], dict[str, Any]] = {}
        self.interactions_path = capture_path.with_name(capture_path.stem + ".interactions.jsonl")

    def log_interaction(self, entry: dict[str, Any]) -> None:
        """Append one update, ephemeral or modal to the interactions file beside the capture."""
        line = {**entry, "at": datetime.now(UTC).isoformat()}
        with self._lock, self.interactions_path.open("a", encoding="utf-8") as out:
            out.write(json.dumps(line, ensure_ascii=False) + "\n")

    def find(self, reference: str) -> Channel | None:
        """A channel by id, `name` or `#name`, as chat.postMessage accepts them; a user id
        (`U…`) is the app's direct-message channel with that user (`D…`), as in Slack."""
        if USER_ID.fullmatch(reference):
            return self.open_dm(reference)[0]
        wanted = reference.removeprefix("#").lower()
        known = [*self.channels, *self.dms.values()]
        return next((c for c in known if wanted in (c.id.lower(), c.name)), None)

    def open_dm(self, user: str) -> tuple[Channel, bool]:
        """The DM with `user` (opened now, or `True` when it already was)."""
        with self._lock:
            already = user in self.dms
            if not already:
                self.dms[user] = Channel(channel_id(user, "D"), f"dm-{user}")
            return self.dms[user], already

    def record(
        self,
        channel: Channel,
        text: str,
        blocks: list[Any] | None,
        files: list[dict[str, Any]] | None = None,
    ) -> str:
        """Append the message (with the files it shares) to the capture file; return its `ts`."""
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
            if files:
                line["files"] = files
            self.messages[(channel.id, ts)] = {
                "type": "message",
                "user": BOT_USER_ID,
                "bot_id": BOT_ID,
                "ts": ts,
                "text": text,
                "blocks": blocks or [],
                "team": TEAM_ID,
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


def json_argument(value: Any) -> Any:
    """An argument sent as a JSON string (form) or as JSON itself; `INVALID` when the
    string is not JSON (never a list, so callers expecting one reject it)."""
    if not isinstance(value, str):
        return value
    try:
        return json.loads(value)
    except json.JSONDecodeError:
        return INVALID


INVALID = object()


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
    app_token: str | None = None,
) -> FastAPI:
    """The fake Slack Web API; messages accepted by chat.postMessage go to `capture_path`.
    With `app_token` (`xapp-…`) also Socket Mode and the interactive methods
    (sandbox.fake_slack_socket)."""
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
        blocks = blocks_argument(arguments)
        if isinstance(blocks, JSONResponse):
            return blocks
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

    @app.api_route("/api/files.getUploadURLExternal", methods=["GET", "POST"])
    async def get_upload_url(request: Request) -> Any:
        arguments = await authorize(request)
        if isinstance(arguments, JSONResponse):
            return arguments
        filename = str(arguments.get("filename") or "")
        try:
            length = int(str(arguments.get("length")))
        except ValueError:
            length = 0
        if not filename or not 0 < length <= MAX_FILE_BYTES:
            return slack_error("invalid_arguments")
        with workspace._lock:
            upload = Upload(
                file_id(len(workspace.uploads) + 1),
                filename,
                length,
                str(arguments.get("alt_txt") or ""),
            )
            workspace.uploads[upload.id] = upload
        url = str(request.base_url).rstrip("/") + f"/upload/v1/{upload.id}"
        return {"ok": True, "upload_url": url, "file_id": upload.id}

    @app.post("/upload/v1/{file_id}")
    async def upload_bytes(file_id: str, request: Request) -> PlainTextResponse:
        """The upload URL: the raw bytes (or one multipart part), as Slack accepts them."""
        upload = workspace.uploads.get(file_id)
        if upload is None or upload.completed:
            return PlainTextResponse("not found", status_code=404)
        content = await request.body()
        if request.headers.get("content-type", "").startswith("multipart/form-data"):
            form = await request.form()
            part = next(iter(form.values()), None)
            content = await part.read() if hasattr(part, "read") else b""
        if len(content) != upload.length:
            return PlainTextResponse(
                f"length {len(content)} does not match {upload.length}", status_code=400
            )
        upload.content = content
        return PlainTextResponse(f"OK - {len(content)}")

    @app.api_route("/api/files.completeUploadExternal", methods=["GET", "POST"])
    async def complete_upload(request: Request) -> Any:
        arguments = await authorize(request)
        if isinstance(arguments, JSONResponse):
            return arguments
        listed = json_argument(arguments.get("files"))
        if (
            not isinstance(listed, list)
            or not listed
            or not all(isinstance(f, dict) and isinstance(f.get("id"), str) for f in listed)
        ):
            return slack_error("invalid_arguments")
        uploads = [workspace.uploads.get(f["id"]) for f in listed]
        if any(u is None or u.content is None or u.completed for u in uploads):
            return slack_error("file_not_found")
        channel = None
        if reference := str(arguments.get("channel_id") or ""):
            channel = next((c for c in workspace.channels if c.id == reference), None)
            if channel is None:  # an id, not a name: Slack finds no channel called that
                return slack_error("channel_not_found")
        files = []
        for entry, upload in zip(listed, uploads, strict=True):
            assert upload is not None and upload.content is not None
            upload.completed = True
            title = str(entry.get("title") or upload.filename)
            files.append(_file_object(upload, title, channel))
        if channel is not None:
            workspace.files_dir.mkdir(parents=True, exist_ok=True)
            shared = []
            for file, upload in zip(files, uploads, strict=True):
                assert upload is not None and upload.content is not None
                path = workspace.files_dir / f"{upload.id}-{upload.filename}"
                path.write_bytes(upload.content)
                shared.append(
                    {
                        "id": upload.id,
                        "name": upload.filename,
                        "title": file["title"],
                        "alt_txt": upload.alt_txt,
                        "size": len(upload.content),
                        "path": str(path),
                    }
                )
            comment = str(arguments.get("initial_comment") or "")
            workspace.record(channel, comment, None, shared)
        return {"ok": True, "files": files}

    @app.api_route("/api/conversations.open", methods=["GET", "POST"])
    async def conversations_open(request: Request) -> Any:
        arguments = await authorize(request)
        if isinstance(arguments, JSONResponse):
            return arguments
        if arguments.get("channel"):
            dm = next((c for c in workspace.dms.values() if c.id == arguments["channel"]), None)
            if dm is None:
                return slack_error("channel_not_found")
            return {"ok": True, "no_op": True, "already_open": True, "channel": {"id": dm.id}}
        users = [u.strip() for u in str(arguments.get("users") or "").split(",") if u.strip()]
        if not users:
            return slack_error("users_list_not_supplied")
        if len(users) > 1:  # a group DM: ClientPulse never opens one
            return slack_error("method_not_supported_for_channel_type")
        if not USER_ID.fullmatch(users[0]):
            return slack_error("user_not_found")
        dm, already = workspace.open_dm(users[0])
        answer: dict[str, Any] = {"ok": True, "channel": {"id": dm.id}}
        if already:
            answer.update(no_op=True, already_open=True)
        return answer

    if app_token is not None:
        from sandbox.fake_slack_socket import register

        app.state.interactivity = register(app, workspace, authorize, app_token)

    @app.api_route("/api/{method}", methods=["GET", "POST"])
    async def unknown_method(method: str) -> JSONResponse:
        return slack_error("unknown_method", status=404, req_method=method)

    return app


def _file_object(upload: Upload, title: str, channel: Channel | None) -> dict[str, Any]:
    """The file object files.completeUploadExternal answers with."""
    extension = upload.filename.rsplit(".", 1)[-1].lower() if "." in upload.filename else ""
    mimetype = {"png": "image/png", "json": "application/json"}.get(extension, "binary")
    return {
        "id": upload.id,
        "created": int(time.time()),
        "timestamp": int(time.time()),
        "name": upload.filename,
        "title": title,
        "mimetype": mimetype,
        "filetype": extension or "binary",
        "pretty_type": extension.upper() or "Binary",
        "user": BOT_USER_ID,
        "user_team": TEAM_ID,
        "editable": False,
        "size": upload.length,
        "mode": "hosted",
        "is_external": False,
        "is_public": channel is not None,
        "alt_txt": upload.alt_txt,
        "channels": [channel.id] if channel else [],
    }


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
