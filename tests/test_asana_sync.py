"""The Asana sync end to end over HTTP: after any run the warehouse equals the fake's truth.

"Truth" is computed from the fake's own state: every task that exists now in a
configured project, its subtasks (recursively), each projected through the
connector's `opt_fields` exactly as the API would return it, stored under its home
project; and their stories, comment text removed. The warehouse side is every
non-tombstoned row. Equality means nothing missing, nothing extra, nothing stale;
duplicates cannot hide because both sides are keyed by gid and counted.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import pytest
import yaml

from clientpulse.config import AgencyConfig, load_config
from clientpulse.pipeline.ingest import ingest_asana
from connectors.asana.client import STORY_FIELDS, TASK_FIELDS, AsanaClient
from connectors.asana.fetch import Batch
from sandbox.fake_asana import AsanaFaults, AsanaState, create_app, field_tree, project_fields
from sandbox.http_server import serving
from tests.clock import FakeClock
from tests.factories import FIXTURE
from tests.test_asana_connector import SEO_GID, TOKEN, WEBSITE_GID, WORKSPACE_GID, make_asana_data

PROJECT_ROOT = Path(__file__).resolve().parent.parent
UNTRACKED_GID = "3003"
TRACKED = (WEBSITE_GID, SEO_GID)
PAGE_SIZE = 10
START = datetime(2026, 3, 10, 9, 0, tzinfo=UTC)


class Clock:
    """The fake's wall clock: each edit happens a minute after the previous one."""

    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> datetime:
        self.now += timedelta(minutes=1)
        return self.now


def _config(folder: Path, **asana: Any) -> AgencyConfig:
    raw = yaml.safe_load(FIXTURE.read_text(encoding="utf-8"))
    raw["sources"]["asana"] = {"workspace_gid": WORKSPACE_GID, **asana}
    raw["clients"][0]["asana_projects"] = [WEBSITE_GID]
    raw["clients"][1]["asana_projects"] = [SEO_GID]
    path = folder / "agency.yaml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    return load_config(path)


def _data() -> dict[str, Any]:
    data = make_asana_data(n_tasks=45)
    workspace = data["workspaces"][0]
    data["projects"].append(
        {
            "gid": UNTRACKED_GID,
            "name": "Internal",
            "resource_type": "project",
            "workspace": workspace,
            "archived": False,
            "created_at": "2026-01-05T09:00:00.000Z",
            "modified_at": "2026-03-01T09:00:00.000Z",
        }
    )
    return data


class World:
    """A served fake with a moving clock, a config, and a client factory."""

    def __init__(self, folder: Path, **asana: Any) -> None:
        self.clock = Clock()
        self.state = AsanaState(_data(), now=self.clock)
        self.faults = AsanaFaults()
        self.app = create_app(self.state, TOKEN, faults=self.faults)
        self.config = _config(folder, **asana)
        self.base_url = ""
        self.sleeps = FakeClock()

    def client(self, **options: Any) -> AsanaClient:
        options = {"page_size": PAGE_SIZE, "sleep": self.sleeps.sleep, **options}
        return AsanaClient(self.base_url, TOKEN, clock=self.sleeps, **options)

    def sync(self, **kwargs: Any) -> dict[str, Any]:
        client = self.client()
        figures = ingest_asana(self.config, client, f"run-{self.clock.now:%H%M%S}", **kwargs)
        return {**figures, "client": client}


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    world = World(tmp_path)
    with serving(world.app) as server:
        world.base_url = f"{server.base_url}/api/1.0"
        yield world


# --- truth and warehouse ------------------------------------------------------------


def _visible_story(state: AsanaState, story: dict[str, Any]) -> dict[str, Any]:
    shown = project_fields(story, field_tree(STORY_FIELDS), state.find)
    if story.get("type") == "comment":
        shown.pop("text", None)
    return shown


def truth(state: AsanaState) -> tuple[dict[str, tuple], dict[str, dict]]:
    """(gid → (home project, parent, API record)), (story gid → stored payload)."""
    tree = field_tree(TASK_FIELDS)
    tasks: dict[str, tuple] = {}
    stories: dict[str, dict] = {}
    pending = []
    for task in state.live_tasks().values():
        projects = [p["gid"] for p in task.get("projects") or ()]
        home = next((p for p in projects if p in TRACKED), None)
        if home and not task.get("parent"):
            pending.append((task, home, None))
    while pending:
        task, home, parent = pending.pop()
        tasks[task["gid"]] = (home, parent, project_fields(task, tree, state.find))
        for story in state.stories(task["gid"]) or ():
            stories[story["gid"]] = {**_visible_story(state, story), "task": task["gid"]}
        pending.extend((child, home, task["gid"]) for child in state.subtasks(task["gid"]) or ())
    return tasks, stories


def warehouse(config: AgencyConfig) -> tuple[dict[str, tuple], dict[str, dict], list[tuple]]:
    """Live tracked tasks and their stories, plus the other rows (untracked or tombstoned)."""
    with duckdb.connect(str(config.warehouse.path), read_only=True) as con:
        rows = con.execute(
            "SELECT gid, project_gid, parent_gid, payload, deleted_at FROM raw.asana_tasks"
        ).fetchall()
        story_rows = con.execute("SELECT gid, task_gid, payload FROM raw.asana_stories").fetchall()
    live = {
        gid: (project, parent, json.loads(payload))
        for gid, project, parent, payload, deleted in rows
        if deleted is None and project in TRACKED
    }
    others = [(gid, project, deleted) for gid, project, _, _, deleted in rows if gid not in live]
    stories = {
        gid: {**json.loads(payload), "task": task}
        for gid, task, payload in story_rows
        if task in live
    }
    return live, stories, others


def assert_warehouse_equals_truth(world: World) -> None:
    expected_tasks, expected_stories = truth(world.state)
    tasks, stories, others = warehouse(world.config)
    assert set(tasks) == set(expected_tasks), (
        f"missing {sorted(set(expected_tasks) - set(tasks))}, "
        f"extra {sorted(set(tasks) - set(expected_tasks))}"
    )
    stale = [gid for gid in tasks if tasks[gid] != expected_tasks[gid]]
    assert not stale, f"stale tasks {stale}: {[(tasks[g], expected_tasks[g]) for g in stale[:2]]}"
    assert stories == expected_stories
    live_in_asana = world.state.live_tasks()
    for gid, project, deleted in others:
        if deleted is not None:
            assert gid not in live_in_asana, f"task {gid} is tombstoned but exists"
        else:  # kept live outside the configured projects: it must have moved out
            assert gid in live_in_asana and project not in TRACKED, (gid, project)


def cursor(config: AgencyConfig, scope: str) -> str | None:
    with duckdb.connect(str(config.warehouse.path), read_only=True) as con:
        row = con.execute(
            "SELECT value FROM ops.cursors WHERE source = 'asana' AND scope = ?", [scope]
        ).fetchone()
    return row[0] if row else None


# --- edits between syncs ------------------------------------------------------------


def _story(state: AsanaState, task: str, gid: str, subtype: str, **extra: Any) -> None:
    kind = "comment" if subtype == "comment_added" else "system"
    state.add_story(
        task, {"gid": gid, "type": kind, "resource_subtype": subtype, "text": "x", **extra}
    )


def first_round(state: AsanaState) -> None:
    """Edits, a new task, deletes, moves both ways, and subtask changes."""
    state.update_task("5004", name="Renamed <b>brief</b>", completed=True)
    _story(
        state,
        "5005",
        "91001",
        "due_date_changed",
        old_dates={"due_on": "2026-03-20", "due_at": None, "start_on": None},
        new_dates={"due_on": "2026-03-27", "due_at": None, "start_on": None},
    )
    state.update_task("5005", due_on="2026-03-27")
    state.add_task({"gid": "5900", "name": "New brief", "projects": [{"gid": SEO_GID}]})
    state.delete_task("5006")  # a top-level task with no subtasks
    state.move_task("5007", SEO_GID)  # between configured projects
    state.move_task("5008", UNTRACKED_GID)  # out of every configured project
    state.update_task("8001", name="Subtask renamed")  # does not modify its parent
    state.delete_task("8002")
    state.add_task({"gid": "8100", "name": "New step", "parent": {"gid": "5003"}})


def second_round(state: AsanaState) -> None:
    """A reopened task, a comment (its text never stored), a parent deleted with its
    subtasks, a task moved back in, a subtask of a subtask."""
    _story(state, "5004", "91002", "marked_incomplete")
    state.update_task("5004", completed=False)
    _story(state, "5009", "91003", "comment_added", text="secret client remark")
    state.delete_task("5000")  # takes its subtasks 8000 and 8001 with it
    state.move_task("5008", WEBSITE_GID)
    state.add_task({"gid": "8101", "name": "Sub-step", "parent": {"gid": "8100"}})
    state.update_task("6001", name="SEO audit (v2)")


def third_round(state: AsanaState) -> None:
    """Enough edits in the website project to span several pages."""
    for i in range(10, 40):
        state.update_task(str(5000 + i), name=f"Edited {i}")
    state.delete_task("5041")
    state.update_task("8100", completed=True)


# --- the tests ----------------------------------------------------------------------


def test_initial_then_three_incremental_syncs_match_the_fake_through_faults(world, tmp_path):
    first = world.sync()
    assert_warehouse_equals_truth(world)
    assert first["reconciled"] == len(TRACKED)  # a full listing is a reconciliation

    first_round(world.state)
    world.sync(reconcile=True)
    assert_warehouse_equals_truth(world)
    tasks, _, others = warehouse(world.config)
    assert tasks["5007"][0] == SEO_GID
    assert ("5008", UNTRACKED_GID, None) in others
    assert any(gid == "5006" and deleted for gid, _, deleted in others)

    second_round(world.state)
    world.faults.retry_after_seconds = 3
    world.faults.expire_next_offsets = 1
    world.faults.on_request = scheduled_faults(
        world.faults,
        {2: "429", 3: "429", 4: "429", 5: "429", 8: "5xx", 9: "5xx", 12: "cut", 20: "cut"},
    )
    second = world.sync(reconcile=True)
    world.faults.on_request = None
    assert_warehouse_equals_truth(world)
    stats = second["client"].stats
    assert (stats.rate_limited, stats.retries) == (4, 8)
    assert 3.0 in world.sleeps.sleeps  # waited exactly Retry-After
    tombstoned = {gid for gid, _, deleted in warehouse(world.config)[2] if deleted}
    assert {"5000", "8000", "8001", "5006"} <= tombstoned
    with duckdb.connect(str(world.config.warehouse.path), read_only=True) as con:
        texts = con.execute(
            "SELECT count(*) FROM raw.asana_stories WHERE payload::VARCHAR LIKE '%secret%'"
        ).fetchone()[0]
    assert texts == 0

    third_round(world.state)
    website_cursor = cursor(world.config, f"project:{WEBSITE_GID}")
    returncode, committed = _killed_sync(world, tmp_path, kill_at_tasks_request=3)
    assert returncode == -signal.SIGKILL
    assert committed > 0  # pages before the kill were committed ...
    assert cursor(world.config, f"project:{WEBSITE_GID}") == website_cursor  # ... cursor was not
    world.sync(reconcile=True)
    assert_warehouse_equals_truth(world)
    assert cursor(world.config, f"project:{WEBSITE_GID}") > website_cursor


def scheduled_faults(faults: AsanaFaults, plan: dict[int, str]) -> Callable[[str], None]:
    """Arm a fault for the n-th request from now: a 429 storm, 5xx, or a cut body."""
    counter = {"n": 0}
    kinds = {"429": "fail_next_429", "5xx": "fail_next_5xx", "cut": "truncate_next"}

    def arm(_: str) -> None:
        counter["n"] += 1
        if counter["n"] in plan:
            setattr(faults, kinds[plan[counter["n"]]], 1)

    return arm


def _killed_sync(world: World, folder: Path, kill_at_tasks_request: int) -> tuple[int, int]:
    """Run a sync in another process and SIGKILL it when it asks for a `/tasks` page."""
    script = (
        "import sys\n"
        "from clientpulse.config import load_config\n"
        "from clientpulse.pipeline.ingest import ingest_asana\n"
        "from connectors.asana.client import AsanaClient\n"
        "client = AsanaClient(sys.argv[2], sys.argv[3], page_size=int(sys.argv[4]), "
        "max_concurrent=1)\n"
        "ingest_asana(load_config(sys.argv[1]), client, 'killed', reconcile=True)\n"
    )
    seen = {"tasks": 0}
    process = subprocess.Popen(
        [
            sys.executable,
            "-c",
            script,
            str(world.config.source_path),
            world.base_url,
            TOKEN,
            str(PAGE_SIZE),
        ],
        cwd=PROJECT_ROOT,
    )

    def kill_mid_page(route: str) -> None:
        if route == "/tasks":
            seen["tasks"] += 1
            if seen["tasks"] == kill_at_tasks_request:
                # Hold this page until the writer has committed the earlier ones: pages
                # queue ahead of the writer, so without waiting a loaded machine can
                # reach the kill before any commit.
                _wait_for(lambda: _edited_tasks(world) > 0, timeout=30)
                os.kill(process.pid, signal.SIGKILL)

    world.faults.on_request = kill_mid_page
    try:
        returncode = process.wait(timeout=60)
    finally:
        world.faults.on_request = None
    return returncode, _edited_tasks(world)


def _edited_tasks(world: World) -> int:
    """Edited tasks committed so far, read while the writer may still hold the file."""
    try:
        with duckdb.connect(str(world.config.warehouse.path), read_only=True) as con:
            return con.execute(
                "SELECT count(*) FROM raw.asana_tasks WHERE payload ->> 'name' LIKE 'Edited %'"
            ).fetchone()[0]
    except duckdb.IOException:
        return 0


def _wait_for(condition: Callable[[], bool], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.05)


def test_incremental_sync_reads_only_what_changed(world):
    world.sync()
    state = world.state
    state.update_task("5020", name="Changed")
    state.move_task("5021", SEO_GID)
    state.add_task({"gid": "5901", "name": "Brand new", "projects": [{"gid": WEBSITE_GID}]})
    calls_before = dict(world.app.state.calls)

    figures = world.sync(reconcile=False)

    calls = {k: v - calls_before.get(k, 0) for k, v in world.app.state.calls.items()}
    assert calls["/tasks"] == len(TRACKED)  # one page per project: 2 changes in website
    # stories only where modified_at moved: a move to another project does not move it
    assert calls["/tasks/{task_gid}/stories"] == 2
    assert calls.get("/tasks/{task_gid}", 0) == 0  # nothing looked up
    assert figures["reconciled"] == 0
    tasks, _, _ = warehouse(world.config)
    assert tasks["5020"][2]["name"] == "Changed"
    assert tasks["5021"][0] == SEO_GID
    assert "5901" in tasks


def test_events_see_deletes_and_moves_between_reconciliations(world, tmp_path):
    world.config = _config(tmp_path, use_events=True, reconcile_every_hours=1000)
    first = world.sync()
    assert first["reconciled"] == len(TRACKED)
    assert cursor(world.config, f"events:{WEBSITE_GID}")
    world.state.delete_task("5030")
    world.state.move_task("5031", UNTRACKED_GID)

    second = world.sync(now=datetime.now(UTC))
    assert second["reconciled"] == 0 and second["lookups"] == 2
    assert_warehouse_equals_truth(world)


def test_an_expired_sync_token_stores_the_new_one_and_reconciles(world, tmp_path):
    world.config = _config(tmp_path, use_events=True, reconcile_every_hours=1000)
    world.sync()
    token = cursor(world.config, f"events:{SEO_GID}")
    world.state.delete_task("6000")
    world.faults.expire_next_sync_tokens = 1  # the first project asked gets a 412

    figures = world.sync(now=datetime.now(UTC))

    assert figures["reconciled"] == 1
    assert cursor(world.config, f"events:{SEO_GID}") != token
    assert_warehouse_equals_truth(world)


def test_merged_batches_commit_as_if_one_after_the_other():
    first = Batch(tasks=[({"gid": "1"}, "p", None)], deleted=["2"], stories={"1": []})
    first.absorb(Batch(tasks=[({"gid": "2"}, "p", None)], deleted=["1"]))
    assert [task["gid"] for task, _, _ in first.tasks] == ["2"]  # 1 was deleted after
    assert first.deleted == ["1"] and first.stories == {}  # 2 was seen again after
