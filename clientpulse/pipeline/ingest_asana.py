"""Asana → raw: projects, tasks (with subtasks) and their stories, per configured project.

Incremental per project: tasks modified since the project's cursor (minus a safety
overlap) are fetched page by page, each page committed with its subtasks and stories;
the cursor advances only after every page is committed.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

from clientpulse.config import AgencyConfig
from clientpulse.pipeline.runlog import run_step
from connectors.asana import AsanaClient
from warehouse.cursors import get_cursor, set_cursor
from warehouse.db import open_writer, transaction
from warehouse.load import upsert

SOURCE = "asana"
SAFETY_OVERLAP = timedelta(minutes=5)


def _task_row(task: dict[str, Any], project_gid: str, now: datetime) -> dict[str, Any]:
    return {
        "gid": task["gid"],
        "project_gid": project_gid,
        "modified_at": datetime.fromisoformat(task["modified_at"]),
        "payload": json.dumps(task, ensure_ascii=False),
        "extracted_at": now,
    }


def _story_rows(client: AsanaClient, task_gid: str, now: datetime) -> list[dict[str, Any]]:
    return [
        {
            "gid": story["gid"],
            "task_gid": task_gid,
            "created_at": datetime.fromisoformat(story["created_at"]),
            "payload": json.dumps(story, ensure_ascii=False),
            "extracted_at": now,
        }
        for story in client.stories(task_gid)
    ]


def _with_subtasks(client: AsanaClient, tasks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The page's tasks plus their subtasks, walked where `num_subtasks > 0`."""
    found: list[dict[str, Any]] = []
    pending = list(tasks)
    while pending:
        task = pending.pop()
        found.append(task)
        if task.get("num_subtasks"):
            pending.extend(client.subtasks(task["gid"]))
    return found


def ingest_asana(config: AgencyConfig, client: AsanaClient, run_id: str) -> dict[str, Any]:
    """Sync every configured project; return figures for the run log."""
    projects = {gid: c.id for c in config.clients for gid in c.asana_projects}
    with open_writer(config.warehouse.path) as con, run_step(con, run_id, "ingest_asana") as stats:
        now = datetime.now(UTC)
        workspace = config.sources.asana.workspace_gid
        with transaction(con):
            projects_rows = [
                {"gid": p["gid"], "payload": json.dumps(p, ensure_ascii=False), "extracted_at": now}
                for p in client.projects(workspace)
            ]
            upsert(con, "raw.asana_projects", projects_rows, ["gid"])
        tasks_loaded = stories_loaded = 0
        for project_gid in sorted(projects):
            cursor = get_cursor(con, SOURCE, f"project:{project_gid}")
            since = datetime.fromisoformat(cursor) - SAFETY_OVERLAP if cursor else None
            high_water = datetime.fromisoformat(cursor) if cursor else None
            for page in client.task_pages(project_gid, modified_since=since):
                tasks = _with_subtasks(client, page)
                stories = [row for t in tasks for row in _story_rows(client, t["gid"], now)]
                rows = [_task_row(t, project_gid, now) for t in tasks]
                with transaction(con):
                    tasks_loaded += upsert(con, "raw.asana_tasks", rows, ["gid"])
                    stories_loaded += upsert(con, "raw.asana_stories", stories, ["gid"])
                page_high = max(r["modified_at"] for r in rows) if rows else None
                if page_high and (high_water is None or page_high > high_water):
                    high_water = page_high
            if high_water is not None:
                with transaction(con):
                    set_cursor(con, SOURCE, f"project:{project_gid}", high_water.isoformat())
        stats.update(
            projects=len(projects),
            tasks=tasks_loaded,
            stories=stories_loaded,
            api_requests=client.stats.requests,
        )
        return dict(stats)
