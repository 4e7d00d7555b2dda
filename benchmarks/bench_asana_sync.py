"""Asana sync benchmark: one day's incremental sync against a full-refresh sync.

    python -m benchmarks.bench_asana_sync [--projects N] [--tasks-per-project T]
        [--changed 0.01] [--latency 0.05] [--sample-projects S]

A large agency (default 1,000 projects of 300 tasks: 300,000 tasks, 1% of projects'
parents holding two subtasks) is generated directly in the fake's shape (cheap; the
full simulator would take minutes) and served by the fake Asana with `--latency`
seconds per request. The warehouse starts as yesterday's sync left it (rows and
cursors written directly), then 1% of the tasks change (a third with a new story).

- ours: `ingest_asana` as the hourly DAG runs it, no reconciliation due (that pass
  is measured too and reported on its own line: it runs once a day by default);
- baseline: a full refresh the way Airbyte's source-asana documents it: every task of
  every project, the stories of every task, the subtasks of every parent, every
  project's sections, each run. Its request count is exact (computed from the fake's
  data, and checked against the requests it made on `--sample-projects` projects); its
  wall time is measured on those projects and scaled by project count (every project
  has the same shape), since 300k+ requests at 50 ms would take far too long here.
  It only fetches; it writes nothing, which flatters it.

The minimum for the changed records is one task page per 100 changed tasks of each
project with changes plus one story page per changed task. Both sides use the same
client: at most 50 requests in flight, no pacing (the fake has no plan limit); at
Asana's 1,500 requests a minute the times would be requests / 25 s.
"""

from __future__ import annotations

import argparse
import json
import math
import random
import tempfile
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from clientpulse.config import DEMO_CONFIG, AgencyConfig, load_config
from clientpulse.pipeline.ingest import ingest_asana
from connectors.asana.client import TASK_FIELDS, AsanaClient
from connectors.asana.cursors import AsanaCursors
from sandbox.fake_asana import AsanaFaults, AsanaState, asana_timestamp, create_app, field_tree
from sandbox.fake_asana import project_fields as api_record
from sandbox.http_server import serving
from warehouse.db import open_writer, transaction

TOKEN = "bench-token"  # noqa: S105 - the local fake's token
WORKSPACE = "1"
YESTERDAY = datetime(2026, 11, 15, 9, 0, tzinfo=UTC)
TODAY = YESTERDAY + timedelta(days=1)
PROJECTS_PER_CLIENT = 2


def _ref(gid: str, name: str, kind: str) -> dict[str, str]:
    return {"gid": gid, "name": name, "resource_type": kind}


def agency(projects: int, per_project: int) -> dict[str, Any]:
    """The fake's data: nested objects are shared between tasks to keep it cheap."""
    workspace = _ref(WORKSPACE, "Agency", "workspace")
    users = [{**_ref(str(10 + i), f"User {i}", "user"), "email": f"u{i}@a.test"} for i in range(20)]
    stamp = asana_timestamp(YESTERDAY - timedelta(days=2))
    data: dict[str, Any] = {"workspaces": [workspace], "users": users, "projects": []}
    data["sections"], data["tasks"] = [], []
    gid = 10_000_000
    for p in range(projects):
        project = _ref(str(1_000_000 + p), f"Project {p}", "project")
        section = _ref(str(2_000_000 + p), "In progress", "section")
        data["projects"].append({**project, "workspace": workspace, "archived": False})
        data["sections"].append({**section, "project": project})
        common = {
            "resource_type": "task",
            "resource_subtype": "default_task",
            "completed": False,
            "completed_at": None,
            "created_at": stamp,
            "modified_at": stamp,
            "due_at": None,
            "start_on": None,
            "projects": [project],
            "memberships": [{"project": project, "section": section}],
            "custom_fields": [],
            "tags": [],
            "num_subtasks": 0,
            "parent": None,
        }
        parents = per_project // 100  # one parent in a hundred has two subtasks
        for i in range(per_project - 2 * parents):
            gid += 1
            task = {
                **common,
                "gid": str(gid),
                "name": f"Task {gid}",
                "due_on": f"2026-12-{1 + i % 28:02d}",
                "assignee": users[i % len(users)],
                "permalink_url": f"https://app.asana.com/0/{project['gid']}/{gid}",
            }
            data["tasks"].append(task)
            if i < parents:
                task["num_subtasks"] = 2
                parent = _ref(task["gid"], task["name"], "task")
                for _ in range(2):
                    gid += 1
                    data["tasks"].append(
                        {
                            **common,
                            "gid": str(gid),
                            "name": f"Step {gid}",
                            "due_on": None,
                            "assignee": None,
                            "projects": [],
                            "memberships": [],
                            "parent": parent,
                            "permalink_url": f"https://app.asana.com/0/0/{gid}",
                        }
                    )
    return data


def config_for(folder: Path, projects: list[str]) -> AgencyConfig:
    raw = yaml.safe_load(DEMO_CONFIG.read_text(encoding="utf-8"))
    raw["warehouse"] = {"path": "wh.duckdb", "snapshot_path": "wh_snapshot.duckdb"}
    raw["sources"] = {
        "asana": {"workspace_gid": WORKSPACE, "requests_per_minute": 1_000_000},
    }
    manager = raw["account_managers"][0]["id"]
    raw["clients"] = [
        {
            "id": f"client-{n}",
            "name": f"Client {n}",
            "account_manager": manager,
            "asana_projects": projects[n * PROJECTS_PER_CLIENT : (n + 1) * PROJECTS_PER_CLIENT],
        }
        for n in range(math.ceil(len(projects) / PROJECTS_PER_CLIENT))
    ]
    path = folder / "agency.yaml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    return load_config(path)


def seed_warehouse(config: AgencyConfig, state: AsanaState) -> None:
    """The warehouse as yesterday's sync left it: every task as the API returned it."""
    tree, now = field_tree(TASK_FIELDS), YESTERDAY
    tasks = state.live_tasks().values()
    home = {t["gid"]: t["projects"][0]["gid"] for t in tasks if t["projects"]}
    frame = pd.DataFrame(
        {
            "gid": t["gid"],
            "project_gid": home[t["parent"]["gid"] if t["parent"] else t["gid"]],
            "parent_gid": t["parent"]["gid"] if t["parent"] else None,
            "modified_at": datetime.fromisoformat(t["modified_at"]),
            "payload": json.dumps(api_record(t, tree, state.find)),
            "extracted_at": now,
        }
        for t in tasks
    )
    with open_writer(config.warehouse.path) as con, transaction(con):
        con.register("yesterday", frame)
        con.execute("INSERT INTO raw.asana_tasks BY NAME SELECT * FROM yesterday")
        cursors = AsanaCursors(con)
        for project in {p for c in config.clients for p in c.asana_projects}:
            cursors.advance_modified_high_water(project, YESTERDAY)
            cursors.set_reconciled_at(project, YESTERDAY)


def change_a_day(state: AsanaState, share: float, rng: random.Random) -> dict[str, int]:
    """Edit `share` of the top-level tasks (a third get a story); changed per project."""
    top = [t for t in state.live_tasks().values() if t["parent"] is None]
    changed: dict[str, int] = {}
    for n, task in enumerate(rng.sample(top, round(share * len(top)))):
        if n % 3 == 0:
            state.add_story(task["gid"], {"gid": f"s{task['gid']}", "type": "comment", "text": "?"})
        else:
            state.update_task(task["gid"], name=task["name"] + " (edited)")
        project = task["projects"][0]["gid"]
        changed[project] = changed.get(project, 0) + 1
    return changed


def full_refresh(client: AsanaClient, projects: list[str]) -> int:
    """Airbyte-style: everything, every run (fetch only). Returns records read."""

    def one(project: str) -> int:
        tasks = [t for page in client.task_pages(project) for t in page]
        with ThreadPoolExecutor(8) as pool:
            stories = sum(pool.map(lambda t: len(list(client.stories(t["gid"]))), tasks))
            parents = [t for t in tasks if t.get("num_subtasks")]
            subtasks = sum(pool.map(lambda t: len(list(client.subtasks(t["gid"]))), parents))
        return len(tasks) + stories + subtasks + len(list(client.sections(project)))

    with ThreadPoolExecutor(max(1, client.max_concurrent // 8)) as pool:
        return sum(pool.map(one, projects))


def full_refresh_calls(state: AsanaState, projects: list[str], page: int) -> int:
    """The requests a full refresh makes, from the data: task pages, one story and one
    subtask call per task / parent (each fits one page here), one sections call."""
    total = 0
    for project in projects:
        tasks = state.project_tasks(project, None) or []
        parents = sum(1 for t in tasks if t.get("num_subtasks"))
        total += max(1, math.ceil(len(tasks) / page)) + len(tasks) + parents + 1
    return total


def bench_line(name: str, value: float, unit: str, baseline: float) -> str:
    ratio = baseline / value if value else float("inf")
    return f"BENCH {name} {value:.4g} {unit} baseline={baseline:.4g} ratio={ratio:.4g}"


def main(argv: list[str] | None = None) -> Iterator[str]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--projects", type=int, default=1000)
    parser.add_argument("--tasks-per-project", type=int, default=300)
    parser.add_argument("--changed", type=float, default=0.01)
    parser.add_argument("--latency", type=float, default=0.05)
    parser.add_argument("--sample-projects", type=int, default=20)
    args = parser.parse_args(argv)

    started = time.perf_counter()
    state = AsanaState(agency(args.projects, args.tasks_per_project), now=lambda: TODAY)
    projects = [p["gid"] for p in state.projects(None, None)]
    print(f"generated {len(state.live_tasks())} tasks in {len(projects)} projects", flush=True)
    with tempfile.TemporaryDirectory(prefix="bench-asana-") as folder:
        config = config_for(Path(folder), projects)
        seed_warehouse(config, state)
        print(f"set up in {time.perf_counter() - started:.1f}s", flush=True)
        changed = change_a_day(state, args.changed, random.Random(7))
        faults = AsanaFaults(latency_seconds=args.latency)
        with serving(create_app(state, TOKEN, faults=faults)) as server:
            base = f"{server.base_url}/api/1.0"

            client = AsanaClient(base, TOKEN, requests_per_minute=1_000_000)
            t0 = time.perf_counter()
            figures = ingest_asana(config, client, "bench-incremental", reconcile=False, now=TODAY)
            ours_seconds = time.perf_counter() - t0
            ours_calls = client.stats.requests

            minimum = sum(math.ceil(n / 100) for n in changed.values()) + sum(changed.values())

            sample = random.Random(11).sample(projects, min(args.sample_projects, len(projects)))
            client = AsanaClient(base, TOKEN, requests_per_minute=1_000_000)
            t0 = time.perf_counter()
            full_refresh(client, sample)
            sample_seconds = time.perf_counter() - t0
            assert client.stats.requests == full_refresh_calls(state, sample, client.page_size)
            base_calls = full_refresh_calls(state, projects, client.page_size)
            base_seconds = sample_seconds * len(projects) / len(sample)

            client = AsanaClient(base, TOKEN, requests_per_minute=1_000_000)
            t0 = time.perf_counter()
            reconciled = ingest_asana(config, client, "bench-reconcile", reconcile=True, now=TODAY)
            reconcile_seconds = time.perf_counter() - t0
            reconcile_calls = client.stats.requests

    tasks_changed = sum(changed.values())
    yield (
        f"incremental: {ours_calls} requests in {ours_seconds:.1f}s, {figures['tasks']} task rows "
        f"and {figures['stories']} stories for {tasks_changed} changed tasks in "
        f"{len(changed)} projects (minimum {minimum} pages)"
    )
    yield (
        f"full refresh: {base_calls} requests (measured {len(sample)} projects in "
        f"{sample_seconds:.1f}s, scaled to {base_seconds:.0f}s)"
    )
    yield (
        f"daily reconciliation (gid-only listing, subtask walks, sections): {reconcile_calls} "
        f"requests in {reconcile_seconds:.1f}s, {reconciled['tombstones']} tombstones"
    )
    yield (
        f"at Asana's 1,500 requests/min: incremental {ours_calls / 25:.0f}s, "
        f"full refresh {base_calls / 25 / 3600:.1f}h"
    )
    yield bench_line("asana_sync_api_calls", ours_calls, "requests", base_calls)
    yield bench_line("asana_sync_wall_time", ours_seconds, "s", base_seconds)
    day_calls = ours_calls + reconcile_calls  # with the daily reconciliation added
    yield bench_line("asana_sync_day_with_reconciliation_calls", day_calls, "requests", base_calls)
    yield (
        f"BENCH asana_sync_calls_vs_minimum {ours_calls / minimum:.4g} x "
        f"baseline={minimum} ratio={ours_calls / minimum:.4g}"
    )


if __name__ == "__main__":
    for line in main():
        print(line, flush=True)
