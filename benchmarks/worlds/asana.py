"""The Asana workspace of an independent world, in the API shapes the fake serves.

Each client's projects get tasks at the client's own pace (Poisson around
`tasks_per_week` times a gamma factor per week, the season and the fate). A task is due
3–20 days after it is created and finished on time with the fate's probability; a late
one was either announced (its due date moved before it passed) or slipped silently; a
few are reopened once (a revision round). Nothing happens to a client's tasks after
it has left.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import numpy as np

from .cast import AS_OF, START, WEEKS, WORKSPACE_GID, Agency, Client, Person
from .draw import pick
from .texts import TASKS
from .timing import after, work_moment

JsonObject = dict[str, Any]
SECTIONS = ("Backlog", "In progress", "Done")


def stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _ref(obj: JsonObject, kind: str) -> JsonObject:
    return {"gid": obj["gid"], "name": obj["name"], "resource_type": kind}


class _Ids:
    def __init__(self, prefix: str) -> None:
        self.prefix, self.n = prefix, 0

    def next(self) -> str:
        self.n += 1
        return f"{self.prefix}{self.n:08d}"


class AsanaWriter:
    def __init__(self, agency: Agency, rng: np.random.Generator) -> None:
        self.agency, self.rng = agency, rng
        self.workspace = {"gid": WORKSPACE_GID, "name": agency.name, "resource_type": "workspace"}
        people = [m.person for m in agency.managers] + agency.workers
        self.users = [
            {
                "gid": f"13100000009{i:05d}",
                "name": p.name,
                "resource_type": "user",
                "email": p.email,
            }
            for i, p in enumerate(people, 1)
        ]
        self.user_of = {u["email"]: u for u in self.users}
        self.projects: list[JsonObject] = []
        self.sections: list[JsonObject] = []
        self.tasks: list[JsonObject] = []
        self.stories: dict[str, list[JsonObject]] = {}
        self._task_ids, self._story_ids, self._section_ids = (
            _Ids("1310000100"),
            _Ids("1310000500"),
            _Ids("1310000010"),
        )

    def _story(
        self, task: str, when: datetime, by: Person, subtype: str, text: str, **extra: Any
    ) -> None:
        user = self.user_of[by.email]
        self.stories.setdefault(task, []).append(
            {
                "gid": self._story_ids.next(),
                "resource_type": "story",
                "created_at": stamp(when),
                "created_by": _ref(user, "user"),
                "type": "comment" if subtype == "comment_added" else "system",
                "resource_subtype": subtype,
                "text": text,
                **extra,
            }
        )

    def _open_day(self, client: Client, moment: datetime) -> bool:
        day = moment.astimezone(UTC).date()
        return moment < AS_OF and client.fate.active(day)

    def client(self, client: Client) -> None:
        kinds = ("Retainer", "Website", "Campaigns")
        for n, gid in enumerate(client.projects):
            created = datetime.combine(client.since, datetime.min.time(), UTC) + timedelta(hours=9)
            project = {
                "gid": gid,
                "name": f"{client.name} — {kinds[n % len(kinds)]}",
                "resource_type": "project",
                "workspace": self.workspace,
                "archived": False,
                "created_at": stamp(created),
                "modified_at": stamp(created),
            }
            self.projects.append(project)
            sections = {
                name: {
                    "gid": self._section_ids.next(),
                    "name": name,
                    "resource_type": "section",
                    "project": _ref(project, "project"),
                }
                for name in SECTIONS
            }
            self.sections.extend(sections.values())
            self._tasks(client, project, sections, len(client.projects))

    def _tasks(self, client: Client, project: JsonObject, sections: dict, share: int) -> None:
        rng, fate, agency = self.rng, client.fate, self.agency
        shape = client.dispersion
        last = datetime.fromisoformat(project["created_at"].replace("Z", "+00:00"))
        for week in range(-3, WEEKS):
            gamma = rng.gamma(shape, 1.0 / shape)
            for offset in range(7):
                day = START + timedelta(days=7 * week + offset)
                if not fate.active(day):
                    continue
                mean = (
                    client.tasks_per_week
                    / share
                    / 5
                    * gamma
                    * agency.seasons.factor(day)
                    * agency.calendar.day_factor(day)
                    * fate.tasks(day)
                )
                for _ in range(int(rng.poisson(max(mean, 0.0)))):
                    created = work_moment(day, agency.timezone, rng)
                    if self._open_day(client, created):
                        last = max(last, self._task(client, project, sections, created, day))
        project["modified_at"] = stamp(last)

    def _task(
        self, client: Client, project: JsonObject, sections: dict, created: datetime, day: date
    ) -> datetime:
        """One task and its stories; returns when it was last modified."""
        rng, agency, fate = self.rng, self.agency, client.fate
        manager = agency.manager(client.manager).person
        worker = agency.workers[int(rng.integers(len(agency.workers)))]
        gid = self._task_ids.next()
        due = day + timedelta(days=int(rng.integers(3, 21)))
        on_time = rng.random() < fate.on_time(day, client.on_time)
        if on_time:
            span = max((due - day).days, 1) * 24
            done = after(
                created, float(rng.uniform(4, span)), agency.calendar, agency.timezone, rng
            )
        else:
            late_days = (
                int(rng.integers(1, 8)) if fate.story != "delivery" else int(rng.integers(5, 40))
            )
            end = datetime.combine(due, datetime.min.time(), UTC) + timedelta(days=late_days)
            done = after(end, float(rng.uniform(0, 8)), agency.calendar, agency.timezone, rng)
        self._story(gid, created, manager, "added_to_project", f"added to {project['name']}")
        modified = created
        if not on_time and rng.random() < (0.15 if fate.story == "delivery" else 0.45):
            told = datetime.combine(due, datetime.min.time(), UTC) - timedelta(
                days=int(rng.integers(1, 4)), hours=-8
            )
            if created < told and self._open_day(client, told):
                new_due = done.date()
                self._story(
                    gid,
                    told,
                    worker,
                    "due_date_changed",
                    f"changed the due date to {new_due:%b} {new_due.day}",
                    old_dates={"start_on": None, "due_at": None, "due_on": due.isoformat()},
                    new_dates={"start_on": None, "due_at": None, "due_on": new_due.isoformat()},
                )
                due, modified = new_due, told
        if rng.random() < 0.25:
            said = created + timedelta(hours=float(rng.uniform(1, 48)))
            if said < done and self._open_day(client, said):
                self._story(gid, said, worker, "comment_added", "Draft is ready for review.")
                modified = max(modified, said)
        completed = self._open_day(client, done)
        if completed:
            if rng.random() < 0.06:
                reopened = done + timedelta(hours=float(rng.uniform(4, 48)))
                again = reopened + timedelta(hours=float(rng.uniform(8, 72)))
                if self._open_day(client, again):
                    self._story(gid, done, worker, "marked_complete", "marked this task complete")
                    self._story(
                        gid, reopened, manager, "marked_incomplete", "marked this task incomplete"
                    )
                    done = again
            self._story(gid, done, worker, "marked_complete", "marked this task complete")
            modified = done
        section = sections["Done" if completed else "In progress"]
        self.tasks.append(
            {
                "gid": gid,
                "resource_type": "task",
                "resource_subtype": "default_task",
                "name": pick(rng, TASKS[client.language]),
                "notes": "",
                "completed": completed,
                "completed_at": stamp(done) if completed else None,
                "created_at": stamp(created),
                "modified_at": stamp(modified),
                "due_on": due.isoformat(),
                "due_at": None,
                "start_on": None,
                "assignee": _ref(self.user_of[worker.email], "user"),
                "projects": [_ref(project, "project")],
                "memberships": [
                    {"project": _ref(project, "project"), "section": _ref(section, "section")}
                ],
                "parent": None,
                "num_subtasks": 0,
                "custom_fields": [],
                "tags": [],
                "workspace": self.workspace,
                "permalink_url": f"https://app.asana.com/0/0/{gid}",
            }
        )
        return modified


def generate_asana(agency: Agency, rng: np.random.Generator) -> JsonObject:
    writer = AsanaWriter(agency, rng)
    for client in agency.clients:
        writer.client(client)
    return {
        "users": writer.users,
        "workspaces": [writer.workspace],
        "projects": writer.projects,
        "sections": writer.sections,
        "tasks": writer.tasks,
        "stories": writer.stories,
    }
