"""The fetching half of the Asana sync (`load` writes): what to read for one project,
without the warehouse.

A `ProjectSync` runs in a worker thread and hands `Batch`es to the writer (the only
thread that touches DuckDB), then a `ProjectDone` carrying the new high-water mark and
sync token, which the writer stores only after every batch before it is committed.

What it reads for a project:
- tasks modified since the cursor (all of them on the first run), page by page, each
  with its subtasks (walked where `num_subtasks > 0`) and, for tasks whose
  `modified_at` moved, their stories;
- with the Events API on, the events since the sync token: `deleted` and `removed`
  tasks are looked up one by one (gone → tombstone, elsewhere → stored where they now
  live); an expired token means a reconciliation;
- when reconciling, the gid-only listing: tasks the warehouse holds but Asana no longer
  lists here are looked up the same way, tasks listed but unknown are fetched, and the
  subtasks of every parent are walked again (a subtask edit does not modify its parent).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import Executor
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from connectors.asana.client import AsanaClient

Record = dict[str, Any]


@dataclass(frozen=True)
class Known:
    """What the warehouse holds of one live task, as the sync starts."""

    modified_at: str
    project_gid: str | None
    parent_gid: str | None
    projects: tuple[str, ...]
    num_subtasks: int


class KnownTasks:
    """The warehouse's live tasks by gid, indexed once per run by project: a
    reconciliation asks which tasks it holds in a project, for every project."""

    def __init__(self, tasks: Mapping[str, Known]) -> None:
        self.tasks = tasks
        self._listed: dict[str, set[str]] = {}
        self._subtasks: dict[str, set[str]] = {}
        for gid, known in tasks.items():
            if known.parent_gid is None:
                for project in known.projects:
                    self._listed.setdefault(project, set()).add(gid)
            elif known.project_gid is not None:
                self._subtasks.setdefault(known.project_gid, set()).add(gid)

    def get(self, gid: str) -> Known | None:
        return self.tasks.get(gid)

    def listed_in(self, project_gid: str) -> set[str]:
        """Top-level tasks whose projects include this one."""
        return self._listed.get(project_gid, set())

    def subtasks_homed_in(self, project_gid: str) -> set[str]:
        return self._subtasks.get(project_gid, set())


@dataclass
class Batch:
    """Records to commit together: tasks (with home project and parent), their stories
    (only for tasks in `stories`: those get their story set replaced), and tombstones."""

    tasks: list[tuple[Record, str | None, str | None]] = field(default_factory=list)
    stories: dict[str, list[Record]] = field(default_factory=dict)
    deleted: list[str] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.tasks or self.deleted)

    def absorb(self, later: Batch) -> None:
        """Take in a later batch, so both commit in one transaction with the same result
        as one after the other (a later sighting beats an earlier tombstone, and back)."""
        revived = {task["gid"] for task, _, _ in later.tasks}
        buried = set(later.deleted)
        self.tasks = [t for t in self.tasks if t[0]["gid"] not in buried] + later.tasks
        self.deleted = [gid for gid in self.deleted if gid not in revived] + later.deleted
        self.stories = {k: v for k, v in self.stories.items() if k not in buried}
        self.stories.update(later.stories)


@dataclass(frozen=True)
class ProjectDone:
    """The project's sync ended well: its marks may advance (sections: when reconciled)."""

    project_gid: str
    high_water: datetime | None
    sync_token: str | None
    reconciled: bool
    api_lookups: int
    sections: list[Record] | None = None


@dataclass(frozen=True)
class ProjectFailed:
    project_gid: str
    error: Exception


class ProjectSync:
    """One project's sync; `run` calls `emit` with each `Batch`, then returns `ProjectDone`."""

    def __init__(
        self,
        client: AsanaClient,
        details: Executor,
        project_gid: str,
        tracked: Iterable[str],
        known: KnownTasks,
    ) -> None:
        self.client = client
        self.details = details
        self.project_gid = project_gid
        self.tracked = frozenset(tracked)
        self.known = known
        self.seen: set[str] = set()
        self.lookups = 0

    def run(
        self,
        emit: Callable[[Batch], None],
        *,
        since: datetime | None,
        sync_token: str | None,
        use_events: bool,
        reconcile: bool,
    ) -> ProjectDone:
        suspects: list[str] = []
        if use_events:
            batch = self.client.events(self.project_gid, sync_token)
            sync_token = batch.sync
            reconcile = reconcile or batch.expired
            suspects = [
                e["resource"]["gid"]
                for e in batch.events
                if e.get("action") in ("deleted", "removed")
                and (e.get("resource") or {}).get("resource_type") == "task"
            ]
        high_water: datetime | None = None
        listed: dict[str, int] = {}
        for page in self.client.task_pages(self.project_gid, modified_since=since):
            listed.update((task["gid"], task.get("num_subtasks") or 0) for task in page)
            emit(self.expand([(task, self.home(task), None) for task in page]))
            for task in page:
                stamp = datetime.fromisoformat(task["modified_at"])
                high_water = stamp if high_water is None or stamp > high_water else high_water
        if since is None:  # a full listing is a reconciliation already
            reconcile = True
        elif reconcile:
            stubs = self.client.task_stubs(self.project_gid)
            listed = {stub["gid"]: stub.get("num_subtasks") or 0 for stub in stubs}
        sections = None
        if reconcile:
            self.reconcile(emit, listed)
            sections = list(self.client.sections(self.project_gid))
        self.look_up(emit, [gid for gid in dict.fromkeys(suspects) if gid not in self.seen])
        return ProjectDone(
            self.project_gid, high_water, sync_token, reconcile, self.lookups, sections
        )

    # --- where a task belongs ----------------------------------------------------

    def home(self, task: Record) -> str | None:
        """The first configured project among the task's projects, else its first one."""
        projects = [p["gid"] for p in task.get("projects") or ()]
        return next((p for p in projects if p in self.tracked), projects[0] if projects else None)

    # --- expanding tasks into a batch ---------------------------------------------

    def expand(self, roots: list[tuple[Record, str | None, str | None]]) -> Batch:
        """The tasks, their subtasks (recursively), and stories of those that changed."""
        batch = Batch()
        level = roots
        while level:
            batch.tasks.extend(level)
            self.seen.update(task["gid"] for task, _, _ in level)
            parents = [(task, home) for task, home, _ in level if task.get("num_subtasks")]
            walked = self.details.map(
                lambda item: list(self.client.subtasks(item[0]["gid"])), parents
            )
            level = [
                (child, home, task["gid"])
                for (task, home), children in zip(parents, walked, strict=True)
                for child in children
                if child["gid"] not in self.seen
            ]
        changed = [task["gid"] for task, _, _ in batch.tasks if self.changed(task)]
        fetched = self.details.map(lambda gid: list(self.client.stories(gid)), changed)
        batch.stories = dict(zip(changed, fetched, strict=True))
        return batch

    def changed(self, task: Record) -> bool:
        known = self.known.get(task["gid"])
        return known is None or known.modified_at != task["modified_at"]

    # --- reconciliation -----------------------------------------------------------

    def reconcile(self, emit: Callable[[Batch], None], listed: Mapping[str, int]) -> None:
        """Compare the full listing (gid → num_subtasks) with what the warehouse holds.

        Held here but no longer listed, listed but never seen, or listed with another
        subtask count than the one held: looked up one by one.
        Then every parent's subtasks are walked again (a subtask's edits do not modify
        its parent), and subtasks held here that no walk found are looked up.
        """
        held = self.known.listed_in(self.project_gid)
        recounted = {  # a subtask added or removed changes the count, not modified_at
            gid
            for gid, count in listed.items()
            if gid in held and gid not in self.seen and self.known.tasks[gid].num_subtasks != count
        }
        strays = (held - listed.keys()) | (listed.keys() - held - self.seen)
        self.look_up(emit, sorted(strays | recounted))
        parents = [
            gid
            for gid, count in listed.items()
            if count and gid not in self.seen and self._home_of(gid) == self.project_gid
        ]
        walked = self.details.map(lambda gid: list(self.client.subtasks(gid)), parents)
        roots = [
            (child, self.project_gid, gid)
            for gid, children in zip(parents, walked, strict=True)
            for child in children
        ]
        self.seen.update(parents)
        if roots:
            emit(self.expand(roots))
        self.look_up(emit, sorted(self.known.subtasks_homed_in(self.project_gid) - self.seen))

    def look_up(self, emit: Callable[[Batch], None], gids: list[str]) -> None:
        """Fetch tasks one by one: gone → tombstone, found → stored where they live now."""
        if not gids:
            return
        self.lookups += len(gids)
        found = list(self.details.map(self.client.task, gids))
        batch = Batch(deleted=[gid for gid, task in zip(gids, found, strict=True) if task is None])
        roots = [(task, self.where(task), _parent(task)) for task in found if task is not None]
        if roots:
            expanded = self.expand(roots)
            batch.tasks, batch.stories = expanded.tasks, expanded.stories
        self.seen.update(batch.deleted)
        emit(batch)

    def _home_of(self, gid: str) -> str | None:
        """Where the warehouse has a task (this project for one it does not hold)."""
        known = self.known.get(gid)
        return known.project_gid if known else self.project_gid

    def where(self, task: Record) -> str | None:
        """A looked-up task's home: a subtask goes with its parent."""
        parent = _parent(task)
        return self.home(task) if parent is None else self._home_of(parent)


def _parent(task: Record) -> str | None:
    parent = task.get("parent")
    return parent["gid"] if parent else None
