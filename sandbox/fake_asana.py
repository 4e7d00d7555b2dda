"""A local Asana REST API (1.0) that speaks the real wire protocol.

It serves the read endpoints ClientPulse uses from in-memory data, in the response
shapes of Asana's OpenAPI spec (checked by tests/test_fake_asana_contract.py): Bearer
auth, `{"data": ...}` envelopes, `limit` / opaque `offset` pagination with
`next_page`, `opt_fields`, `modified_since`, and Asana's `{"errors": [...]}` bodies,
plus the Events API (`/events?resource=&sync=`: 100 events a call, `has_more`, and a
412 carrying a fresh token when the token is missing or expired). `AsanaFaults`
switches on the failures a real sync meets: rate limits with `Retry-After`, 5xx,
truncated bodies, expiring offsets and sync tokens, slow responses, and a hook that
sees every request (tests use it to kill a sync mid-page).
"""

from __future__ import annotations

import asyncio
import base64
import json
import math
import secrets
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, TypeVar
from urllib.parse import urlencode

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException
from starlette.routing import Match

API_PREFIX = "/api/1.0"
ERRORS_HELP = (
    "For more information on API status codes and how to handle them, "
    "read the docs on errors: https://developers.asana.com/docs/errors"
)
EXPIRED_OFFSET_MESSAGE = "offset: Your pagination token has expired."
RATE_LIMITED_MESSAGE = (
    "You've made too many requests and hit a rate limit. "
    "Please retry after the given amount of time."
)
SERVER_ERROR_PHRASE = "6 sad squid snuggle softly"
MAX_PAGE_SIZE = 100
EVENTS_PER_CALL = 100
SYNC_EXPIRED_MESSAGE = (
    "Sync token invalid or too old. If you are attempting to keep resources in sync, "
    "you must fetch the full dataset for this query now and use the new sync token for "
    "the next sync."
)

# What Asana returns for a resource when no opt_fields are given (its compact form).
COMPACT_FIELDS = ("name",)
COMPACT_TASK_FIELDS = ("name", "resource_subtype")
COMPACT_STORY_FIELDS = ("created_at", "created_by.name", "resource_subtype", "text")
USER_FIELDS = ("name", "email", "photo", "workspaces.name")

JsonObject = dict[str, Any]
T = TypeVar("T")


def utc_now() -> datetime:
    return datetime.now(UTC)


def asana_timestamp(moment: datetime) -> str:
    """Asana's timestamp form: UTC, milliseconds, `Z`."""
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class AsanaError(Exception):
    """An error answer: HTTP status plus Asana's ErrorResponse body."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        headers: Mapping[str, str] | None = None,
        extra: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = dict(headers or {})
        self.extra = dict(extra or {})

    def response(self) -> JSONResponse:
        error: JsonObject = {"message": self.message, "help": ERRORS_HELP}
        if self.status >= 500:
            error["phrase"] = SERVER_ERROR_PHRASE
        body = {"errors": [error], **self.extra}
        return JSONResponse(body, status_code=self.status, headers=self.headers)


@dataclass
class AsanaFaults:
    """Failures to inject; all off by default. Tests may change fields between requests.

    `fail_next_*`, `truncate_next`, `expire_next_offsets` and `expire_next_sync_tokens`
    count down as they fire. `offset_max_uses` makes every offset expire after that
    many uses (0: at once). `clock` drives the per-minute rate-limit window (inject a
    fake one in tests). `on_request`, when set, is called with each request's route
    path before it is answered.
    """

    rate_limit_per_minute: int | None = None
    fail_next_429: int = 0
    retry_after_seconds: int = 30
    fail_next_5xx: int = 0
    server_error_status: int = 500
    truncate_next: int = 0
    expire_next_offsets: int = 0
    offset_max_uses: int | None = None
    expire_next_sync_tokens: int = 0
    latency_seconds: float = 0.0
    clock: Callable[[], float] = time.monotonic
    on_request: Callable[[str], None] | None = None

    def take(self, counter: str) -> bool:
        """Consume one pending injection of `counter`; True if one was pending."""
        remaining = getattr(self, counter)
        if remaining <= 0:
            return False
        setattr(self, counter, remaining - 1)
        return True


class AsanaState:
    """The fake's mutable world. Edits bump `modified_at` as Asana does.

    The first user is the owner of the token (`/users/me`). Subtasks are tasks whose
    `parent` is set; a parent's `num_subtasks` follows them, and, as the spec says, a
    subtask's edits do not modify its parent. Moving a task between projects leaves
    `modified_at` alone but counts for `modified_since` (an association changed).
    Deleting a task deletes its subtasks. Project event streams record what happens
    to the project's own tasks (added, changed, removed, deleted). Stored objects are
    replaced, never edited in place, so the caller's dict (e.g. a simulator's ground
    truth) stays untouched.
    """

    def __init__(self, data: Mapping[str, Any], *, now: Callable[[], datetime] = utc_now) -> None:
        self._now = now
        self._lock = threading.Lock()
        self.users: list[JsonObject] = list(data.get("users", []))
        self.workspaces: list[JsonObject] = list(data.get("workspaces", []))
        self._projects: dict[str, JsonObject] = {p["gid"]: p for p in data.get("projects", [])}
        self._sections: dict[str, list[JsonObject]] = {gid: [] for gid in self._projects}
        for section in data.get("sections", []):
            self._sections.setdefault(section["project"]["gid"], []).append(section)
        self._stories: dict[str, list[JsonObject]] = {
            gid: list(stories) for gid, stories in data.get("stories", {}).items()
        }
        self._tasks: dict[str, JsonObject] = {}
        # Ordered sets of task gids per project gid and per parent gid.
        self._indexes: dict[str, dict[str, dict[str, None]]] = {"project": {}, "parent": {}}
        # When a task's associations (projects) last changed, for `modified_since`.
        self._moved_at: dict[str, str] = {}
        # Per project: its event stream, oldest first.
        self.events: dict[str, list[JsonObject]] = {}
        # Bumped by every edit: pagination offsets issued before an edit expire.
        self.version = 0
        for task in data.get("tasks", []):
            self._put(task)
        self._others: dict[str, JsonObject] = {
            obj["gid"]: obj for obj in (*self.users, *self.workspaces, *self._projects.values())
        } | {s["gid"]: s for sections in self._sections.values() for s in sections}

    # --- reads -----------------------------------------------------------------

    def me(self) -> JsonObject:
        return {**self.users[0], "photo": None, "workspaces": self.workspaces}

    def projects(self, workspace_gid: str | None, archived: bool | None) -> list[JsonObject]:
        return [
            p
            for p in self._projects.values()
            if (workspace_gid is None or p["workspace"]["gid"] == workspace_gid)
            and (archived is None or p.get("archived", False) == archived)
        ]

    def sections(self, project_gid: str) -> list[JsonObject] | None:
        return self._sections.get(project_gid)

    def project_tasks(
        self, project_gid: str, modified_since: datetime | None
    ) -> list[JsonObject] | None:
        if project_gid not in self._projects:
            return None
        with self._lock:
            tasks = [self._tasks[gid] for gid in self._indexes["project"].get(project_gid, ())]
        if modified_since is None:
            return tasks
        return [t for t in tasks if self._changed_at(t) >= modified_since]

    def _changed_at(self, task: JsonObject) -> datetime:
        moved = self._moved_at.get(task["gid"])
        stamp = max(task["modified_at"], moved) if moved else task["modified_at"]
        return datetime.fromisoformat(stamp)

    def live_tasks(self) -> dict[str, JsonObject]:
        """Every task that exists now, by gid (a copy, for tests comparing truths)."""
        with self._lock:
            return dict(self._tasks)

    def task(self, gid: str) -> JsonObject | None:
        return self._tasks.get(gid)

    def subtasks(self, gid: str) -> list[JsonObject] | None:
        if gid not in self._tasks:
            return None
        with self._lock:
            return [self._tasks[child] for child in self._indexes["parent"].get(gid, ())]

    def stories(self, task_gid: str) -> list[JsonObject] | None:
        if task_gid not in self._tasks:
            return None
        return self._stories.get(task_gid, [])

    def find(self, gid: str) -> JsonObject | None:
        """Any known object by gid, to fill nested fields such as `parent.name`."""
        return self._tasks.get(gid) or self._others.get(gid)

    # --- edits -----------------------------------------------------------------

    def add_task(self, task: Mapping[str, Any]) -> JsonObject:
        stamp = asana_timestamp(self._now())
        new = {"resource_type": "task", "created_at": stamp, **task, "modified_at": stamp}
        with self._lock:
            if new["gid"] in self._tasks:
                raise ValueError(f"task {new['gid']} already exists")
            self._put(new)
            self._record(new, "added")
        return new

    def update_task(self, gid: str, **changes: Any) -> JsonObject:
        with self._lock:
            new = self._replace(gid, {**changes, "modified_at": asana_timestamp(self._now())})
            self._record(new, "changed")
        return new

    def move_task(self, gid: str, project_gid: str, section_gid: str | None = None) -> JsonObject:
        """Move a task to another project (and section): its only project from now on."""
        project = {"gid": project_gid, "resource_type": "project"}
        membership: JsonObject = {"project": project}
        if section_gid:
            membership["section"] = {"gid": section_gid, "resource_type": "section"}
        with self._lock:
            old = self._tasks[gid]
            stamp = asana_timestamp(self._now())
            self._moved_at[gid] = stamp
            for left in old.get("projects") or ():
                self._record(old, "removed", parent=left["gid"])
            new = self._replace(gid, {"projects": [project], "memberships": [membership]})
            self._record(new, "added", parent=project_gid)
        return new

    def delete_task(self, gid: str) -> None:
        """Delete a task and, as Asana does, its subtasks."""
        with self._lock:
            doomed = [gid]
            for task_gid in doomed:
                doomed.extend(self._indexes["parent"].get(task_gid, ()))
            self.version += 1
            for task_gid in reversed(doomed):
                self._record(self._tasks[task_gid], "deleted")
                self._unlink(task_gid, _links(self._tasks.pop(task_gid)))
                self._stories.pop(task_gid, None)
                self._indexes["parent"].pop(task_gid, None)

    def add_story(self, task_gid: str, story: Mapping[str, Any]) -> JsonObject:
        """Append a story; like Asana, a new story counts as modifying the task."""
        new = {"resource_type": "story", "created_at": asana_timestamp(self._now()), **story}
        with self._lock:
            self._stories[task_gid] = [*self._stories.get(task_gid, []), new]
        self.update_task(task_gid)
        return new

    def sync_position(self, project_gid: str) -> int:
        return len(self.events.get(project_gid, ()))

    def events_since(self, project_gid: str, position: int) -> list[JsonObject]:
        return self.events.get(project_gid, [])[position:]

    def _replace(self, gid: str, changes: Mapping[str, Any]) -> JsonObject:
        self.version += 1
        old = self._tasks[gid]
        new = {**old, **changes}
        self._tasks[gid] = new
        self._link(gid, _links(new) - _links(old))
        self._unlink(gid, _links(old) - _links(new))
        return new

    def _record(self, task: JsonObject, action: str, *, parent: str | None = None) -> None:
        """Append an event to the streams of the task's projects (or of `parent`)."""
        projects = [parent] if parent else [p["gid"] for p in task.get("projects") or ()]
        resource = {"gid": task["gid"], "resource_type": "task", "name": task.get("name", "")}
        event: JsonObject = {
            "user": self.users[0] if self.users else None,
            "resource": resource,
            "type": "task",
            "action": action,
            "created_at": asana_timestamp(self._now()),
        }
        if parent:  # the spec's schema has no null parent, so it is left out instead
            event["parent"] = {"gid": parent, "resource_type": "project"}
        for project_gid in projects:
            self.events.setdefault(project_gid, []).append(event)

    def _put(self, task: JsonObject) -> None:
        self.version += 1
        self._tasks[task["gid"]] = task
        self._link(task["gid"], _links(task))

    def _link(self, task_gid: str, links: set[tuple[str, str]]) -> None:
        for index, gid in links:
            self._indexes[index].setdefault(gid, {})[task_gid] = None
            if index == "parent":
                self._count_subtasks(gid)

    def _unlink(self, task_gid: str, links: set[tuple[str, str]]) -> None:
        for index, gid in links:
            self._indexes[index].get(gid, {}).pop(task_gid, None)
            if index == "parent":
                self._count_subtasks(gid)

    def _count_subtasks(self, parent_gid: str) -> None:
        """Keep `num_subtasks` true without touching the parent's `modified_at`."""
        parent = self._tasks.get(parent_gid)
        count = len(self._indexes["parent"].get(parent_gid, ()))
        if parent is not None and parent.get("num_subtasks") != count:
            self._tasks[parent_gid] = {**parent, "num_subtasks": count}


def _links(task: Mapping[str, Any]) -> set[tuple[str, str]]:
    """The (index, gid) entries a task belongs to: its projects and its parent."""
    links = {("project", project["gid"]) for project in task.get("projects") or ()}
    if task.get("parent"):
        links.add(("parent", task["parent"]["gid"]))
    return links


# --- opt_fields ------------------------------------------------------------------

FieldTree = dict[str, "FieldTree"]


def field_tree(opt_fields: Iterable[str]) -> FieldTree:
    """`["assignee.name", "name"]` -> `{"assignee": {"name": {}}, "name": {}}`."""
    tree: FieldTree = {}
    for dotted in opt_fields:
        node = tree
        for part in dotted.split("."):
            node = node.setdefault(part, {})
    return tree


def project_fields(
    obj: Mapping[str, Any], tree: FieldTree, find: Callable[[str], JsonObject | None]
) -> JsonObject:
    """Asana's opt_fields semantics: gid and resource_type, plus what was asked for.

    A nested object named without sub-fields comes back compact (gid and
    resource_type); sub-fields the embedded copy lacks are looked up by gid.
    """
    out = {key: obj[key] for key in ("gid", "resource_type") if key in obj}
    for key, sub in tree.items():
        if key in obj:
            out[key] = _project_value(obj[key], sub, find)
    return out


def _project_value(value: Any, sub: FieldTree, find: Callable[[str], JsonObject | None]) -> Any:
    if isinstance(value, list):
        return [_project_value(item, sub, find) for item in value]
    if not isinstance(value, dict):
        return value
    if "gid" in value:
        full = {**(find(value["gid"]) or {}), **value} if sub else value
        return project_fields(full, sub, find)
    if sub:
        return project_fields(value, sub, find)
    return {key: _project_value(item, {}, find) for key, item in value.items()}


# --- pagination ------------------------------------------------------------------


@dataclass
class _IssuedOffset:
    query: str
    position: int
    version: int
    uses: int = 0


@dataclass
class _OffsetBook:
    """Opaque offset tokens, each bound to the query and the data version that produced it.

    As in Asana, an offset expires when the data changes under it (the positions it
    stands for would skip or repeat records).
    """

    faults: AsanaFaults
    issued: dict[str, _IssuedOffset] = field(default_factory=dict)

    def issue(self, query: str, position: int, version: int) -> str:
        payload = json.dumps({"offset_id": len(self.issued) + 1})
        token = base64.urlsafe_b64encode(payload.encode()).decode().rstrip("=")
        self.issued[token] = _IssuedOffset(query, position, version)
        return token

    def redeem(self, token: str, query: str, version: int) -> int:
        entry = self.issued.get(token)
        if (
            entry is None
            or entry.query != query
            or entry.version != version
            or self.faults.take("expire_next_offsets")
        ):
            raise AsanaError(400, EXPIRED_OFFSET_MESSAGE)
        entry.uses += 1
        if self.faults.offset_max_uses is not None and entry.uses > self.faults.offset_max_uses:
            raise AsanaError(400, EXPIRED_OFFSET_MESSAGE)
        return entry.position


@dataclass
class _SyncBook:
    """Opaque sync tokens, each naming a resource and a position in its event stream."""

    faults: AsanaFaults
    issued: dict[str, tuple[str, int]] = field(default_factory=dict)

    def issue(self, resource: str, position: int) -> str:
        token = secrets.token_hex(16)
        self.issued[token] = (resource, position)
        return token

    def redeem(self, token: str | None, resource: str, position_now: int) -> int:
        """The position `token` stands for; a 412 with a fresh token when it can't be used."""
        known = self.issued.get(token or "")
        expired = self.faults.take("expire_next_sync_tokens") if token else False
        if known is None or known[0] != resource or expired:
            fresh = self.issue(resource, position_now)
            raise AsanaError(412, SYNC_EXPIRED_MESSAGE, extra={"sync": fresh})
        return known[1]


def _page_size(raw: str) -> int:
    try:
        limit = int(raw)
    except ValueError:
        limit = 0
    if not 1 <= limit <= MAX_PAGE_SIZE:
        raise AsanaError(400, f"limit: Must be between 1 and {MAX_PAGE_SIZE}")
    return limit


# --- rate limiting ---------------------------------------------------------------


@dataclass
class _MinuteWindow:
    """Asana-style quota over minute-long windows.

    The fake accepts a single token, so one window is the per-token window.
    """

    faults: AsanaFaults
    started: float | None = None
    used: int = 0

    def retry_after(self) -> int | None:
        """Admit a request (None) or say how many seconds until the window resets."""
        limit = self.faults.rate_limit_per_minute
        if limit is None:
            return None
        now = self.faults.clock()
        if self.started is None or now - self.started >= 60:
            self.started, self.used = now, 0
        if self.used >= limit:
            return max(1, math.ceil(self.started + 60 - now))
        self.used += 1
        return None


# --- the app ---------------------------------------------------------------------


def create_app(
    source: Mapping[str, Any] | AsanaState, token: str, *, faults: AsanaFaults | None = None
) -> FastAPI:
    """The fake Asana API under `/api/1.0`.

    `app.state.asana` is the `AsanaState`, `app.state.faults` the `AsanaFaults` and
    `app.state.calls` a Counter of requests received per route path (e.g.
    `"/tasks"`, `"/tasks/{task_gid}/stories"`), faulted ones included.
    """
    state = source if isinstance(source, AsanaState) else AsanaState(source)
    faults = faults or AsanaFaults()
    offsets = _OffsetBook(faults)
    syncs = _SyncBook(faults)
    window = _MinuteWindow(faults)
    calls: Counter[str] = Counter()
    expected_auth = f"Bearer {token}"

    app = FastAPI(docs_url=None, redoc_url=None, openapi_url=None)
    app.state.asana, app.state.faults, app.state.calls = state, faults, calls

    def paginate(
        request: Request, items: Sequence[JsonObject], default: Iterable[str]
    ) -> JSONResponse:
        """One response body: every item when no `limit` is given, else one page."""
        params = request.query_params
        tree = field_tree(_opt_fields(request) or default)
        if "limit" not in params:
            return JSONResponse(
                {"data": [project_fields(item, tree, state.find) for item in items]}
            )
        limit = _page_size(params["limit"])
        path = request.url.path.removeprefix(API_PREFIX)
        query = json.dumps([path, _query_identity(params)])
        version = state.version
        start = offsets.redeem(params["offset"], query, version) if "offset" in params else 0
        end = start + limit
        body: JsonObject = {
            "data": [project_fields(item, tree, state.find) for item in items[start:end]],
            "next_page": None,
        }
        if end < len(items):
            offset = offsets.issue(query, end, version)
            next_path = f"{path}?{urlencode({**params, 'offset': offset})}"
            base = str(request.base_url).rstrip("/") + API_PREFIX
            body["next_page"] = {"offset": offset, "path": next_path, "uri": base + next_path}
        return JSONResponse(body)

    def single(request: Request, obj: JsonObject, default: Iterable[str] | None) -> JSONResponse:
        """One resource: opt_fields, else `default` fields, else the whole object."""
        fields = _opt_fields(request) or default
        data = project_fields(obj, field_tree(fields), state.find) if fields else obj
        return JSONResponse({"data": data})

    api = APIRouter(prefix=API_PREFIX)

    @api.get("/users/me")
    async def get_me(request: Request) -> JSONResponse:
        return single(request, state.me(), USER_FIELDS)

    @api.get("/workspaces")
    async def get_workspaces(request: Request) -> JSONResponse:
        return paginate(request, state.workspaces, COMPACT_FIELDS)

    @api.get("/projects")
    async def get_projects(request: Request) -> JSONResponse:
        params = request.query_params
        archived = params.get("archived")
        projects = state.projects(
            params.get("workspace"), None if archived is None else archived == "true"
        )
        return paginate(request, projects, COMPACT_FIELDS)

    @api.get("/projects/{project_gid}/sections")
    async def get_sections(request: Request, project_gid: str) -> JSONResponse:
        sections = _known(state.sections(project_gid), "project", project_gid)
        return paginate(request, sections, COMPACT_FIELDS)

    @api.get("/tasks")
    async def get_tasks(request: Request) -> JSONResponse:
        params = request.query_params
        if "project" not in params:
            raise AsanaError(
                400,
                "Must specify exactly one of project, tag, section, user task list, "
                "or assignee + workspace",
            )
        since = _timestamp_param(params.get("modified_since"), "modified_since")
        tasks = state.project_tasks(params["project"], since)
        return paginate(request, _known(tasks, "project", params["project"]), COMPACT_TASK_FIELDS)

    @api.get("/tasks/{task_gid}")
    async def get_task(request: Request, task_gid: str) -> JSONResponse:
        return single(request, _known(state.task(task_gid), "task", task_gid), None)

    @api.get("/tasks/{task_gid}/subtasks")
    async def get_subtasks(request: Request, task_gid: str) -> JSONResponse:
        subtasks = _known(state.subtasks(task_gid), "task", task_gid)
        return paginate(request, subtasks, COMPACT_TASK_FIELDS)

    @api.get("/tasks/{task_gid}/stories")
    async def get_stories(request: Request, task_gid: str) -> JSONResponse:
        stories = _known(state.stories(task_gid), "task", task_gid)
        return paginate(request, stories, COMPACT_STORY_FIELDS)

    @api.get("/events")
    async def get_events(request: Request) -> JSONResponse:
        params = request.query_params
        resource = params.get("resource")
        if not resource:
            raise AsanaError(400, "resource: Missing input")
        if resource not in state.events and state.sections(resource) is None:
            raise AsanaError(404, f"resource: Unknown object: {resource}")
        start = syncs.redeem(params.get("sync"), resource, state.sync_position(resource))
        pending = state.events_since(resource, start)
        batch = pending[:EVENTS_PER_CALL]
        tree = field_tree(_opt_fields(request) or ("action", "created_at", "resource", "type"))
        return JSONResponse(
            {
                "data": [project_fields(event, tree, state.find) for event in batch],
                "sync": syncs.issue(resource, start + len(batch)),
                "has_more": len(pending) > len(batch),
            }
        )

    app.include_router(api)

    @app.exception_handler(AsanaError)
    async def asana_error(_: Request, exc: AsanaError) -> JSONResponse:
        return exc.response()

    @app.exception_handler(HTTPException)
    async def unknown_route(_: Request, exc: HTTPException) -> JSONResponse:
        message = "No matching route for request" if exc.status_code in (404, 405) else exc.detail
        return AsanaError(exc.status_code, str(message)).response()

    @app.middleware("http")
    async def wire(request: Request, call_next: Callable[[Request], Any]) -> Response:
        """Count, delay, authenticate, rate-limit and inject faults around every request."""
        route = _route_path(app, request)
        calls[route] += 1
        if faults.on_request is not None:
            faults.on_request(route)
        if faults.latency_seconds:
            await asyncio.sleep(faults.latency_seconds)
        supplied = request.headers.get("Authorization", "")
        if not secrets.compare_digest(supplied.encode(), expected_auth.encode()):
            return AsanaError(401, "Not Authorized").response()
        wait = window.retry_after()
        if wait is None and faults.take("fail_next_429"):
            wait = faults.retry_after_seconds
        if wait is not None:
            return AsanaError(
                429, RATE_LIMITED_MESSAGE, headers={"Retry-After": str(wait)}
            ).response()
        if faults.take("fail_next_5xx"):
            return AsanaError(faults.server_error_status, "Server Error").response()
        response = await call_next(request)
        if response.status_code == 200 and faults.take("truncate_next"):
            body = b"".join([chunk async for chunk in response.body_iterator])
            return Response(body[: len(body) // 2], media_type="application/json")
        return response

    return app


def _opt_fields(request: Request) -> list[str]:
    raw = request.query_params.get("opt_fields", "")
    return [name for name in raw.split(",") if name]


def _query_identity(params: Any) -> list[list[str]]:
    """The parameters that define a result set (an offset is only valid for its own)."""
    return sorted(
        [key, value] for key, value in params.multi_items() if key not in ("offset", "limit")
    )


def _timestamp_param(raw: str | None, name: str) -> datetime | None:
    if raw is None:
        return None
    try:
        moment = datetime.fromisoformat(raw)
    except ValueError:
        raise AsanaError(400, f"{name}: Invalid date-time value: {raw}") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _known(found: T | None, kind: str, gid: str) -> T:
    if found is None:
        raise AsanaError(404, f"{kind}: Unknown object: {gid}")
    return found


def _route_path(app: FastAPI, request: Request) -> str:
    for route in app.router.routes:
        match, _ = route.matches(request.scope)
        if match is Match.FULL:
            return getattr(route, "path", request.url.path).removeprefix(API_PREFIX)
    return request.url.path.removeprefix(API_PREFIX)
