"""Asana → raw, the writing half: projects, sections, tasks (with subtasks) and their
stories, per project (`fetch` reads them in worker threads).

Incremental per project: tasks modified since the project's cursor (minus a safety
overlap) are fetched page by page, and each page is committed with its subtasks and
stories (pages that queue up while the writer is busy share one transaction). The
cursor (and the Events API sync token) advances only after every page of the project
is committed, so a run killed anywhere re-reads, never skips. Projects are fetched
concurrently (at most `max_concurrent_requests` requests in flight); only this thread
writes to DuckDB.

Deletes and moves: a periodic reconciliation (`reconcile_every_hours`) compares the
gid-only listing of each project with the warehouse; tasks gone from Asana become
tombstones (`raw.asana_tasks.deleted_at`), tasks that moved are stored under the
project Asana names now. With `use_events`, deletes and moves are also seen between
reconciliations, and an expired sync token (412) triggers one at once.

Comment text is never stored: comment stories keep their metadata only.
"""

from __future__ import annotations

import json
import queue
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb

from connectors.asana.client import AsanaClient
from connectors.asana.cursors import AsanaCursors
from connectors.asana.fetch import (
    Batch,
    Known,
    KnownTasks,
    ProjectDone,
    ProjectFailed,
    ProjectSync,
)
from connectors.asana.settings import AsanaSource
from connectors.errors import ConnectorError
from warehouse.db import open_writer, transaction
from warehouse.load import upsert
from warehouse.runlog import run_step

SAFETY_OVERLAP = timedelta(minutes=5)
COMMENT_SUBTYPES = frozenset({"comment_added", "comment_edited"})


def _task_row(
    task: dict[str, Any], project_gid: str | None, parent_gid: str | None, now: datetime
) -> dict[str, Any]:
    return {
        "gid": task["gid"],
        "project_gid": project_gid,
        "parent_gid": parent_gid,
        "modified_at": datetime.fromisoformat(task["modified_at"]),
        "payload": json.dumps(task, ensure_ascii=False),
        "extracted_at": now,
        "deleted_at": None,
    }


def _story_row(task_gid: str, story: dict[str, Any], now: datetime) -> dict[str, Any]:
    """A story as stored: a comment keeps who and when, never what it said."""
    if story.get("type") == "comment" or story.get("resource_subtype") in COMMENT_SUBTYPES:
        story = {key: value for key, value in story.items() if key != "text"}
    return {
        "gid": story["gid"],
        "task_gid": task_gid,
        "created_at": datetime.fromisoformat(story["created_at"]),
        "payload": json.dumps(story, ensure_ascii=False),
        "extracted_at": now,
    }


def _known_tasks(con: duckdb.DuckDBPyConnection) -> KnownTasks:
    rows = con.execute(
        """SELECT gid, payload ->> 'modified_at', project_gid, parent_gid,
                  CAST(json_extract_string(payload, '$.projects[*].gid') AS VARCHAR[]),
                  coalesce(CAST(payload ->> 'num_subtasks' AS INTEGER), 0)
           FROM raw.asana_tasks WHERE deleted_at IS NULL"""
    ).fetchall()
    return KnownTasks(
        {
            gid: Known(modified, project, parent, tuple(projects or ()), subtasks)
            for gid, modified, project, parent, projects, subtasks in rows
        }
    )


def _commit_batch(con: duckdb.DuckDBPyConnection, batch: Batch, now: datetime) -> tuple[int, int]:
    """Upsert a batch's tasks, replace the story sets it carries, write its tombstones."""
    rows = [_task_row(task, home, parent, now) for task, home, parent in batch.tasks]
    stories = [_story_row(gid, s, now) for gid, found in batch.stories.items() for s in found]
    with transaction(con):
        tasks = upsert(con, "raw.asana_tasks", rows, ["gid"])
        if batch.stories:
            con.execute(
                "DELETE FROM raw.asana_stories WHERE list_contains(?, task_gid) "
                "AND NOT list_contains(?, gid)",
                [list(batch.stories), [row["gid"] for row in stories]],
            )
        upsert(con, "raw.asana_stories", stories, ["gid"])
        if batch.deleted:
            _tombstone(con, batch.deleted, now)
    return tasks, len(stories)


def _tombstone(con: duckdb.DuckDBPyConnection, gids: list[str], now: datetime) -> None:
    """Mark tasks and all their subtasks deleted (Asana deletes a parent's subtasks)."""
    con.execute(
        """UPDATE raw.asana_tasks SET deleted_at = ?
           WHERE deleted_at IS NULL AND gid IN (
               WITH RECURSIVE doomed(gid) AS (
                   SELECT unnest(?::VARCHAR[])
                   UNION
                   SELECT t.gid FROM raw.asana_tasks AS t JOIN doomed AS d ON t.parent_gid = d.gid
               )
               SELECT gid FROM doomed)""",
        [now, gids],
    )


def _reconcile_due(
    cursors: AsanaCursors, project_gid: str, now: datetime, every: timedelta
) -> bool:
    last = cursors.reconciled_at(project_gid)
    return last is None or last + every <= now


@dataclass
class Produced:
    """What the fetching workers produced since the writer last looked: one merged batch
    (pages of any projects, in order), then the projects that finished or failed
    meanwhile. Their batches all came before, so committing the batch first keeps every
    cursor behind the data it covers."""

    batch: Batch
    done: list[ProjectDone]
    failed: list[ProjectFailed]


def _sync_projects(
    client: AsanaClient, specs: list[dict[str, Any]], commit: Callable[[Produced], None]
) -> None:
    """Run each project's fetch in a worker pool and hand what they produce to `commit`
    on this thread, the only one that writes."""
    workers = max(1, min(client.max_concurrent, len(specs)))
    produced: queue.Queue[object] = queue.Queue(maxsize=4 * workers)

    def one(spec: dict[str, Any], details: ThreadPoolExecutor) -> None:
        try:
            sync = ProjectSync(client, details, spec["project"], spec["tracked"], spec["known"])
            produced.put(sync.run(produced.put, **spec["options"]))
        except Exception as exc:  # handed to the writer, which reports it
            produced.put(ProjectFailed(spec["project"], exc))

    with (
        ThreadPoolExecutor(client.max_concurrent, thread_name_prefix="asana-detail") as details,
        ThreadPoolExecutor(workers, thread_name_prefix="asana-project") as projects,
    ):
        for spec in specs:
            projects.submit(one, spec, details)
        finished = 0
        while finished < len(specs):
            batch = _drain(produced)
            commit(batch)
            finished += len(batch.done) + len(batch.failed)


def _drain(produced: queue.Queue[object], limit: int = 500) -> Produced:
    """Everything queued so far (waiting for at least one item): when the writer falls
    behind, one transaction commits many pages."""
    out = Produced(Batch(), [], [])
    item = produced.get()
    for _ in range(limit):
        if isinstance(item, Batch):
            out.batch.absorb(item)
        elif isinstance(item, ProjectDone):
            out.done.append(item)
        elif isinstance(item, ProjectFailed):
            out.failed.append(item)
        try:
            item = produced.get_nowait()
        except queue.Empty:
            break
    else:
        produced.put(item)  # over the limit: left for the next round
    return out


def ingest_asana(
    source: AsanaSource,
    tracked: list[str],
    warehouse: Path,
    client: AsanaClient,
    run_id: str,
    *,
    reconcile: bool | None = None,
    now: datetime | None = None,
) -> dict[str, Any]:
    """Sync the `tracked` projects into the `warehouse`; return figures for the run log.

    `reconcile` forces (True) or skips (False) the reconciliation; by default each
    project is reconciled when its last one is `reconcile_every_hours` old.
    """
    with open_writer(warehouse) as con, run_step(con, run_id, "ingest_asana") as stats:
        now = now or datetime.now(UTC)
        with transaction(con):
            projects_rows = [
                {"gid": p["gid"], "payload": json.dumps(p, ensure_ascii=False), "extracted_at": now}
                for p in client.projects(source.workspace_gid)
            ]
            upsert(con, "raw.asana_projects", projects_rows, ["gid"])
        known = _known_tasks(con)
        cursors = AsanaCursors(con)
        every = timedelta(hours=source.reconcile_every_hours)
        specs = []
        for project_gid in sorted(tracked):
            high_water = cursors.modified_high_water(project_gid)
            due = (
                reconcile
                if reconcile is not None
                else _reconcile_due(cursors, project_gid, now, every)
            )
            options = {
                "since": high_water - SAFETY_OVERLAP if high_water else None,
                "sync_token": cursors.sync_token(project_gid),
                "use_events": source.use_events,
                "reconcile": due,
            }
            specs.append(
                {"project": project_gid, "tracked": tracked, "known": known, "options": options}
            )
        figures = {"tasks": 0, "stories": 0, "tombstones": 0, "lookups": 0, "reconciled": 0}
        failures: list[str] = []

        def commit(produced: Produced) -> None:
            if produced.batch:
                tasks, stories = _commit_batch(con, produced.batch, now)
                figures["tasks"] += tasks
                figures["stories"] += stories
                figures["tombstones"] += len(produced.batch.deleted)
            if produced.done:
                _finish_projects(con, produced.done, now)
            for done in produced.done:
                figures["lookups"] += done.api_lookups
                figures["reconciled"] += done.reconciled
            failures.extend(f"project {f.project_gid}: {f.error}" for f in produced.failed)

        _sync_projects(client, specs, commit)
        stats.update(
            projects=len(tracked),
            **figures,
            api_requests=client.stats.requests,
            failed_projects=failures,
        )
        if failures:
            raise ConnectorError("Asana sync failed for " + "; ".join(failures))
        return dict(stats)


def _finish_projects(
    con: duckdb.DuckDBPyConnection, finished: list[ProjectDone], now: datetime
) -> None:
    """Advance the projects' marks: everything they cover is committed by now."""
    cursors = AsanaCursors(con)
    with transaction(con):
        for done in finished:
            _finish_project(con, cursors, done, now)


def _finish_project(
    con: duckdb.DuckDBPyConnection, cursors: AsanaCursors, done: ProjectDone, now: datetime
) -> None:
    project_gid = done.project_gid
    if done.high_water is not None:
        cursors.advance_modified_high_water(project_gid, done.high_water)
    if done.sync_token is not None:
        cursors.set_sync_token(project_gid, done.sync_token)
    if done.reconciled:
        cursors.set_reconciled_at(project_gid, now)
    if done.sections is not None:
        rows = [
            {
                "gid": section["gid"],
                "project_gid": project_gid,
                "payload": json.dumps(section, ensure_ascii=False),
                "extracted_at": now,
            }
            for section in done.sections
        ]
        con.execute(
            "DELETE FROM raw.asana_sections WHERE project_gid = ? AND NOT list_contains(?, gid)",
            [project_gid, [row["gid"] for row in rows]],
        )
        upsert(con, "raw.asana_sections", rows, ["gid"])
