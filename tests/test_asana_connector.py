"""The Asana connector over real HTTP against the fake Asana API."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from connectors.asana.client import TASK_FIELDS, AsanaClient
from connectors.errors import ApiError, ConnectorError, RetriesExhausted
from sandbox.fake_asana import AsanaFaults, AsanaState, asana_timestamp, create_app
from sandbox.http_server import serving
from tests.clock import FakeClock

TOKEN = "0/1234567890abcdef-personal-access-token"
WORKSPACE_GID = "1000"
WEBSITE_GID = "3001"
SEO_GID = "3002"
BASE_TIME = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def _ref(gid: str, name: str, resource_type: str) -> dict[str, str]:
    return {"gid": gid, "name": name, "resource_type": resource_type}


def make_asana_data(n_tasks: int = 150) -> dict[str, Any]:
    """A small agency in the simulator's `asana_data` shape.

    `n_tasks` tasks in the website project (task i modified at BASE_TIME + i minutes),
    two in the SEO project, three subtasks of the first task, and a story trail.
    """
    workspace = _ref(WORKSPACE_GID, "Agency", "workspace")
    ana = _ref("2001", "Ana Lopez", "user")
    website = _ref(WEBSITE_GID, "Acme: website", "project")
    seo = _ref(SEO_GID, "Globex: SEO", "project")
    todo = _ref("4001", "To do", "section")
    done = _ref("4002", "Done", "section")

    def task(gid: str, index: int, project: dict | None, parent: dict | None = None) -> dict:
        stamp = asana_timestamp(BASE_TIME + timedelta(minutes=index))
        completed = index % 3 == 0
        return {
            **_ref(gid, f"Task {gid}", "task"),
            "resource_subtype": "default_task",
            "notes": "",
            "completed": completed,
            "completed_at": stamp if completed else None,
            "created_at": asana_timestamp(BASE_TIME - timedelta(days=30)),
            "modified_at": stamp,
            "due_on": "2026-03-20" if index % 2 else None,
            "due_at": None,
            "start_on": None,
            "assignee": ana if index % 4 else None,
            "projects": [project] if project else [],
            "memberships": (
                [{"project": project, "section": done if completed else todo}] if project else []
            ),
            "parent": parent,
            "num_subtasks": 3 if gid == "5000" else 0,
            "custom_fields": [
                {
                    **_ref("7001", "Priority", "custom_field"),
                    "type": "enum",
                    "resource_subtype": "enum",
                    "display_value": "High",
                    "enum_value": {**_ref("7101", "High", "enum_option"), "enabled": True},
                }
            ],
            "tags": [],
            "permalink_url": f"https://app.asana.com/0/{WEBSITE_GID}/{gid}",
        }

    tasks = [task(str(5000 + i), i, website) for i in range(n_tasks)]
    tasks += [task(str(6000 + i), i, seo) for i in range(2)]
    first = _ref("5000", "Task 5000", "task")
    tasks += [task(str(8000 + i), i, None, parent=first) for i in range(3)]
    author = {"gid": ana["gid"], "name": ana["name"]}
    stories = {
        "5000": [
            {
                "gid": "9001",
                "resource_type": "story",
                "created_at": "2026-03-01T10:00:00.000Z",
                "created_by": author,
                "type": "system",
                "resource_subtype": "due_date_changed",
                "text": "changed the due date to Mar 20",
                "new_dates": {"start_on": None, "due_at": None, "due_on": "2026-03-20"},
                "old_dates": {"start_on": None, "due_at": None, "due_on": "2026-03-13"},
            },
            {
                "gid": "9002",
                "resource_type": "story",
                "created_at": "2026-03-01T11:00:00.000Z",
                "created_by": author,
                "type": "comment",
                "resource_subtype": "comment_added",
                "text": "Moved a week: waiting for the client's copy.",
            },
        ]
    }
    return {
        "workspaces": [workspace],
        "users": [{**ana, "email": "ana@agency.example"}],
        "projects": [
            {
                **project,
                "workspace": workspace,
                "archived": False,
                "created_at": "2026-01-05T09:00:00.000Z",
                "modified_at": "2026-03-01T09:00:00.000Z",
            }
            for project in (website, seo)
        ],
        "sections": [{**section, "project": website} for section in (todo, done)],
        "tasks": tasks,
        "stories": stories,
    }


@contextmanager
def fake_asana(
    data: dict[str, Any] | AsanaState | None = None,
    faults: AsanaFaults | None = None,
    **client_options: Any,
) -> Iterator[tuple[AsanaClient, Any, FakeClock]]:
    """A served fake and a client on a fake clock: (client, app, clock)."""
    clock = FakeClock()
    app = create_app(data if data is not None else make_asana_data(), TOKEN, faults=faults)
    with serving(app) as server:
        options = {"sleep": clock.sleep, "clock": clock, **client_options}
        yield AsanaClient(f"{server.base_url}/api/1.0", TOKEN, **options), app, clock


def all_task_gids(client: AsanaClient, project_gid: str, **kwargs: Any) -> list[str]:
    return [task["gid"] for page in client.task_pages(project_gid, **kwargs) for task in page]


def test_pagination_returns_every_task_exactly_once():
    with fake_asana(make_asana_data(n_tasks=250)) as (client, app, _):
        pages = list(client.task_pages(WEBSITE_GID))
        gids = [task["gid"] for page in pages for task in page]

    assert [len(page) for page in pages] == [100, 100, 50]
    assert sorted(gids) == [str(5000 + i) for i in range(250)]
    assert app.state.calls["/tasks"] == 3
    assert client.stats.requests == 3


def test_modified_since_returns_only_tasks_changed_at_or_after_it():
    edit_time = BASE_TIME + timedelta(days=1)
    state = AsanaState(make_asana_data(), now=lambda: edit_time)
    with fake_asana(state) as (client, _, _):
        assert len(all_task_gids(client, WEBSITE_GID)) == 150
        state.update_task("5007", completed=True)
        state.add_story("5010", {"gid": "9100", "type": "comment", "text": "Any news?"})
        state.add_task({"gid": "5999", "name": "New brief", "projects": [{"gid": WEBSITE_GID}]})
        state.delete_task("5011")

        changed = all_task_gids(client, WEBSITE_GID, modified_since=edit_time)
        boundary = all_task_gids(
            client, WEBSITE_GID, modified_since=BASE_TIME + timedelta(minutes=148)
        )

    assert sorted(changed) == ["5007", "5010", "5999"]
    assert sorted(boundary) == ["5007", "5010", "5148", "5149", "5999"]


def test_modified_since_must_be_timezone_aware():
    with fake_asana() as (client, _, _), pytest.raises(ValueError, match="timezone-aware"):
        client.task_pages(WEBSITE_GID, modified_since=datetime(2026, 3, 1))


def test_tasks_come_with_exactly_the_requested_fields():
    with fake_asana() as (client, _, _):
        task = next(client.task_pages(WEBSITE_GID))[1]
        compact = next(client.task_pages(WEBSITE_GID, opt_fields=("name",)))[0]

    requested = {field.split(".")[0] for field in TASK_FIELDS}
    assert set(task) == requested | {"gid", "resource_type"}
    assert task["assignee"] == {"gid": "2001", "resource_type": "user", "name": "Ana Lopez"}
    assert task["memberships"] == [
        {
            "project": {"gid": WEBSITE_GID, "resource_type": "project", "name": "Acme: website"},
            "section": {"gid": "4001", "resource_type": "section", "name": "To do"},
        }
    ]
    assert task["custom_fields"] == [
        {
            "gid": "7001",
            "resource_type": "custom_field",
            "name": "Priority",
            "display_value": "High",
        }
    ]
    assert compact == {"gid": "5000", "resource_type": "task", "name": "Task 5000"}


def test_workspaces_projects_sections_subtasks_and_stories():
    with fake_asana() as (client, _, _):
        workspaces = list(client.workspaces())
        projects = list(client.projects(WORKSPACE_GID))
        sections = list(client.sections(WEBSITE_GID))
        subtasks = list(client.subtasks("5000"))
        stories = list(client.stories("5000"))
        me = client.me()

    assert workspaces == [{"gid": WORKSPACE_GID, "resource_type": "workspace", "name": "Agency"}]
    assert [p["gid"] for p in projects] == [WEBSITE_GID, SEO_GID]
    assert projects[0]["archived"] is False
    assert [s["name"] for s in sections] == ["To do", "Done"]
    assert [t["gid"] for t in subtasks] == ["8000", "8001", "8002"]
    assert subtasks[0]["parent"] == {"gid": "5000", "resource_type": "task", "name": "Task 5000"}
    slip = stories[0]
    assert slip["resource_subtype"] == "due_date_changed"
    assert slip["old_dates"]["due_on"] == "2026-03-13"
    assert slip["new_dates"]["due_on"] == "2026-03-20"
    assert stories[1]["created_by"] == {"gid": "2001", "resource_type": "user", "name": "Ana Lopez"}
    assert me["email"] == "ana@agency.example"


def test_429_waits_exactly_retry_after():
    faults = AsanaFaults(fail_next_429=2, retry_after_seconds=7)
    with fake_asana(faults=faults) as (client, app, clock):
        workspaces = list(client.workspaces())

    assert [w["gid"] for w in workspaces] == [WORKSPACE_GID]
    assert clock.sleeps == [7.0, 7.0]
    assert (client.stats.rate_limited, client.stats.retries) == (2, 2)
    assert app.state.calls["/workspaces"] == 3


def test_server_errors_and_truncated_bodies_are_retried_with_backoff():
    faults = AsanaFaults(fail_next_5xx=2, server_error_status=503, truncate_next=1)
    with fake_asana(faults=faults) as (client, _, clock):
        gids = all_task_gids(client, WEBSITE_GID)

    assert sorted(gids) == [str(5000 + i) for i in range(150)]
    assert clock.sleeps == [0.5, 1.0, 2.0]
    assert client.stats.retries == 3


def test_exhausted_retries_raise_a_clear_error():
    with (
        fake_asana(faults=AsanaFaults(fail_next_5xx=100)) as (client, _, clock),
        pytest.raises(RetriesExhausted) as raised,
    ):
        list(client.stories("5000"))

    message = str(raised.value)
    assert "Asana GET /tasks/5000/stories" in message
    assert "gave up after 6 attempts (last: HTTP 500)" in message
    assert clock.sleeps == [0.5, 1.0, 2.0, 4.0, 8.0]


def test_expired_offset_restarts_the_run_and_still_yields_every_task(caplog):
    faults = AsanaFaults(expire_next_offsets=1)
    with fake_asana(faults=faults) as (client, app, _), caplog.at_level(logging.WARNING):
        gids = all_task_gids(client, WEBSITE_GID)

    assert set(gids) == {str(5000 + i) for i in range(150)}
    assert len(gids) == 250  # page one, expired offset, then pages one and two again
    assert app.state.calls["/tasks"] == 4
    assert "Your pagination token has expired" in caplog.text
    assert "restarting from the first page (restart 1 of 3)" in caplog.text


def test_offsets_that_always_expire_end_with_a_clear_error():
    faults = AsanaFaults(offset_max_uses=0)
    with fake_asana(faults=faults) as (client, app, _), pytest.raises(ConnectorError) as raised:
        all_task_gids(client, WEBSITE_GID)

    assert "Asana GET /tasks: pagination offset rejected 4 times" in str(raised.value)
    assert app.state.calls["/tasks"] == 8


def test_item_iterators_yield_each_record_once_across_a_restart():
    faults = AsanaFaults(expire_next_offsets=1)
    with fake_asana(faults=faults, page_size=1) as (client, _, _):
        subtasks = [task["gid"] for task in client.subtasks("5000")]

    assert subtasks == ["8000", "8001", "8002"]


def test_wrong_token_gives_a_clear_error_without_the_token(caplog):
    app = create_app(make_asana_data(), TOKEN)
    wrong = "0/the-wrong-secret-token"
    with serving(app) as server, caplog.at_level(logging.DEBUG):
        client = AsanaClient(f"{server.base_url}/api/1.0", wrong)
        with pytest.raises(ApiError) as raised:
            client.me()

    assert raised.value.status == 401
    assert str(raised.value) == "Asana GET /users/me failed with HTTP 401: Not Authorized"
    assert wrong not in caplog.text


def test_unknown_task_is_a_404_naming_the_object():
    with fake_asana() as (client, _, _), pytest.raises(ApiError) as raised:
        list(client.stories("424242"))

    assert raised.value.status == 404
    assert "/tasks/424242/stories" in str(raised.value)
    assert "task: Unknown object: 424242" in str(raised.value)


def test_token_bucket_paces_requests_under_the_server_limit():
    faults = AsanaFaults(rate_limit_per_minute=3)
    with fake_asana(faults=faults, requests_per_minute=3, page_size=30) as (client, _, clock):
        faults.clock = clock
        gids = all_task_gids(client, WEBSITE_GID)

    assert len(gids) == 150
    assert clock.sleeps == [20.0, 20.0, 20.0, 20.0]
    assert client.stats.rate_limited == 0


def test_unpaced_client_waits_out_the_server_rate_limit_window():
    faults = AsanaFaults(rate_limit_per_minute=3)
    with fake_asana(faults=faults, page_size=30) as (client, app, clock):
        faults.clock = clock
        gids = all_task_gids(client, WEBSITE_GID)

    assert len(gids) == 150
    assert clock.sleeps == [60.0]
    assert client.stats.rate_limited == 1
    assert app.state.calls["/tasks"] == 6


def test_slow_responses_time_out_and_are_retried():
    faults = AsanaFaults(latency_seconds=0.3)
    with (
        fake_asana(faults=faults, timeout=0.02) as (client, _, clock),
        pytest.raises(RetriesExhausted, match="ReadTimeout"),
    ):
        list(client.workspaces())

    assert len(clock.sleeps) == 5
