"""Asana REST API reads for the warehouse: lazy, paginated, with explicit fields.

Every list call asks for `limit` pages and names its `opt_fields`, so Asana returns
exactly the fields the warehouse loads. `task_pages` yields one list per API page,
letting the caller commit page by page; an expired offset restarts the page run from
the first page (the caller upserts by gid, so repeats are harmless). `task_stubs` is
the cheap gid-only listing that reconciliation compares with the warehouse, and
`events` reads a resource's event stream with a sync token (a 412 hands back a fresh
token, which the caller must follow with a reconciliation).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

import requests

from connectors.errors import ConnectorError
from connectors.http import ApiStats, JsonApiClient, TokenBucket

log = logging.getLogger(__name__)

MAX_PAGE_SIZE = 100

TASK_FIELDS: tuple[str, ...] = (
    "name",
    "resource_subtype",
    "completed",
    "completed_at",
    "created_at",
    "modified_at",
    "due_on",
    "due_at",
    "start_on",
    "assignee.name",
    "projects.name",
    "memberships.project.name",
    "memberships.section.name",
    "parent.name",
    "num_subtasks",
    "custom_fields.name",
    "custom_fields.display_value",
    "tags.name",
    "permalink_url",
)
STORY_FIELDS: tuple[str, ...] = (
    "created_at",
    "created_by.name",
    "type",
    "resource_subtype",
    "text",
    "new_dates.start_on",
    "new_dates.due_on",
    "new_dates.due_at",
    "old_dates.start_on",
    "old_dates.due_on",
    "old_dates.due_at",
    "custom_field.name",
    "old_enum_value.name",
    "new_enum_value.name",
    "old_text_value",
    "new_text_value",
)
PROJECT_FIELDS: tuple[str, ...] = ("name", "archived", "created_at", "modified_at", "workspace")
NAME_FIELDS: tuple[str, ...] = ("name",)
STUB_FIELDS: tuple[str, ...] = ("num_subtasks",)
EVENT_FIELDS: tuple[str, ...] = ("action", "created_at", "parent", "resource", "type")

Record = dict[str, Any]


@dataclass(frozen=True)
class EventBatch:
    """What `/events` said: the events since the token, and the token to use next.

    `expired` is True when Asana refused the token (412, or no token yet): the events
    in between are lost, so the caller must reconcile before trusting `sync` again.
    """

    events: list[Record]
    sync: str
    expired: bool


class AsanaClient:
    """Reads workspaces, projects, sections, tasks, subtasks and stories.

    Requests are paced by a token bucket (`requests_per_minute`, Asana allows 1,500 on
    paid plans) and retried by `JsonApiClient`; `clock` and `sleep` are injectable so
    tests can drive time.
    """

    def __init__(
        self,
        base_url: str,
        token: str,
        *,
        requests_per_minute: float = 1500,
        page_size: int = MAX_PAGE_SIZE,
        session: requests.Session | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
        timeout: float = 30.0,
        max_offset_restarts: int = 3,
        max_concurrent: int = 50,
    ) -> None:
        if not 1 <= page_size <= MAX_PAGE_SIZE:
            raise ValueError(f"page_size must be between 1 and {MAX_PAGE_SIZE}")
        self.page_size = page_size
        self.max_offset_restarts = max_offset_restarts
        self._http = JsonApiClient(
            system="Asana",
            base_url=base_url,
            token=token,
            bucket=TokenBucket(requests_per_minute, clock=clock, sleep=sleep),
            timeout=timeout,
            session=session or requests.Session(),
            sleep=sleep,
            max_concurrent=max_concurrent,
        )
        self.max_concurrent = max_concurrent

    @property
    def stats(self) -> ApiStats:
        return self._http.stats

    def me(self) -> Record:
        """The token's user; a cheap call to check a connection."""
        _, body = self._get("/users/me", {"opt_fields": "name,email"})
        return body["data"]

    def workspaces(self) -> Iterator[Record]:
        return self._items("/workspaces", {}, NAME_FIELDS)

    def projects(
        self, workspace_gid: str, *, opt_fields: Sequence[str] = PROJECT_FIELDS
    ) -> Iterator[Record]:
        return self._items("/projects", {"workspace": workspace_gid}, opt_fields)

    def sections(self, project_gid: str) -> Iterator[Record]:
        return self._items(f"/projects/{_gid(project_gid)}/sections", {}, NAME_FIELDS)

    def task_pages(
        self,
        project_gid: str,
        *,
        modified_since: datetime | None = None,
        opt_fields: Sequence[str] = TASK_FIELDS,
    ) -> Iterator[list[Record]]:
        """The project's tasks, one list per API page (all tasks, or those modified since)."""
        params = {"project": project_gid}
        if modified_since is not None:
            params["modified_since"] = _timestamp(modified_since)
        return self._pages("/tasks", params, opt_fields)

    def task_stubs(self, project_gid: str) -> Iterator[Record]:
        """Every task in the project as gid and `num_subtasks` only: the cheapest full
        listing, for reconciliation (which subtasks to walk comes free with it)."""
        return self._items("/tasks", {"project": project_gid}, STUB_FIELDS)

    def task(self, task_gid: str, *, opt_fields: Sequence[str] = TASK_FIELDS) -> Record | None:
        """One task, or None when Asana no longer has it (deleted or trashed)."""
        path = f"/tasks/{_gid(task_gid)}"
        status, body = self._http.request(
            "GET",
            path,
            params={"opt_fields": ",".join(opt_fields)},
            error_detail=_error_detail,
            passthrough_status=frozenset({404}),
        )
        return None if status == 404 else body["data"]

    def events(self, resource_gid: str, sync: str | None) -> EventBatch:
        """Events on a resource since `sync`, following `has_more` to the end."""
        events: list[Record] = []
        params = {"resource": resource_gid, "opt_fields": ",".join(EVENT_FIELDS)}
        while True:
            query = {**params, "sync": sync} if sync else params
            status, body = self._http.request(
                "GET",
                "/events",
                params=query,
                error_detail=_error_detail,
                passthrough_status=frozenset({412}),
            )
            if status == 412 or not sync:
                if not isinstance(body, dict) or not body.get("sync"):
                    raise ConnectorError(f"Asana GET /events: HTTP {status} without a sync token")
                return EventBatch([], body["sync"], expired=True)
            events.extend(body["data"])
            sync = body["sync"]
            if not body.get("has_more"):
                return EventBatch(events, sync, expired=False)

    def subtasks(
        self, task_gid: str, *, opt_fields: Sequence[str] = TASK_FIELDS
    ) -> Iterator[Record]:
        return self._items(f"/tasks/{_gid(task_gid)}/subtasks", {}, opt_fields)

    def stories(
        self, task_gid: str, *, opt_fields: Sequence[str] = STORY_FIELDS
    ) -> Iterator[Record]:
        return self._items(f"/tasks/{_gid(task_gid)}/stories", {}, opt_fields)

    def _items(
        self, path: str, params: Mapping[str, str], opt_fields: Sequence[str]
    ) -> Iterator[Record]:
        """Each record once, even when an offset restart replays earlier pages."""
        seen: set[str] = set()
        for page in self._pages(path, params, opt_fields):
            for record in page:
                if record["gid"] not in seen:
                    seen.add(record["gid"])
                    yield record

    def _pages(
        self, path: str, params: Mapping[str, str], opt_fields: Sequence[str]
    ) -> Iterator[list[Record]]:
        query = {**params, "opt_fields": ",".join(opt_fields), "limit": str(self.page_size)}
        restarts = 0
        offset: str | None = None
        while True:
            status, body = self._get(path, {**query, "offset": offset} if offset else query)
            if status == 400:
                # The first page with the same parameters succeeded, so a 400 on a later
                # page can only be about its offset: Asana expires them as data changes.
                restarts += 1
                reason = _error_message(body)
                if restarts > self.max_offset_restarts:
                    raise ConnectorError(
                        f"Asana GET {path}: pagination offset rejected {restarts} times "
                        f"(last: {reason}); giving up"
                    )
                log.warning(
                    "Asana GET %s: %s; restarting from the first page (restart %d of %d)",
                    path,
                    reason,
                    restarts,
                    self.max_offset_restarts,
                )
                offset = None
                continue
            yield body["data"]
            next_page = body.get("next_page")
            if not next_page:
                return
            offset = next_page["offset"]

    def _get(self, path: str, params: Mapping[str, str]) -> tuple[int, Any]:
        """GET; a 400 is handed back (not raised) only for requests that carry an offset."""
        return self._http.request(
            "GET",
            path,
            params=params,
            error_detail=_error_detail,
            passthrough_status=frozenset({400}) if "offset" in params else frozenset(),
        )


def _gid(gid: str) -> str:
    return quote(str(gid), safe="")


def _timestamp(moment: datetime) -> str:
    if moment.tzinfo is None:
        raise ValueError("modified_since must be timezone-aware")
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _error_message(body: Any) -> str:
    """The messages of an Asana ErrorResponse (`{"errors": [{"message": ...}]}`)."""
    errors = body.get("errors") if isinstance(body, dict) else None
    messages = [e.get("message", "") for e in errors or () if isinstance(e, dict)]
    return "; ".join(m for m in messages if m) or "no error message"


def _error_detail(response: requests.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.text[:200]
    return _error_message(body)
