"""Simulated Asana workspace: projects, sections, tasks with subtasks, and their stories.

Each task gets an intended life (due date, maybe an announced or a silent slip, maybe a
revision round) drawn from the client's health, and from how far a souring relationship
has declined by the due date; events after the cutoff (the churn date or `as_of`) never
happen, so the task is left as it stood then. Subtasks are checklist steps without dates.
Gids grow with creation time, as Asana's do.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from .sim_cast import Cast, ClientProfile, Person
from .sim_text import (
    CANCEL_REASONS,
    JUSTIFICATIONS,
    NOT_STARTED_REASONS,
    PITCH_PROJECT,
    PROJECT_KINDS,
    SUBTASKS,
    TASK_COMMENTS,
    TASKS,
    fill,
)
from .sim_time import DAY, WEEK, iso_z, poisson, weeks

SECTIONS = ("Backlog", "In progress", "Waiting on client", "Done", "Cancelled")
# Custom fields the weekly client status reads its reasons from (config.client_status).
REASON_FIELD, JUSTIFICATION_FIELD = "Status reason", "Why needed"
HYPOTHESIS_FIELD, HYPOTHESIS_STATES = "Hypothesis status", ("Testing", "Confirmed", "Refuted")
HYPOTHESIS_SHARE = 0.08  # of top-level tasks
CANCELLED_AFTER = timedelta(days=28)  # an unfinished task this far past due may be dropped
PRIORITIES = (("High", "red"), ("Medium", "yellow-orange"), ("Low", "blue-green"))
TASK_DURATIONS = (2, 3, 5, 7, 7, 10, 14, 21)
HOUR = timedelta(hours=1)

USER_GID_BASE = 1209000000900000
FIELD_GID_BASE = 1209000000950000
SECTION_GID_BASE = 1209000001000000
TASK_GID_BASE = 1209000100000000
STORY_GID_BASE = 1209000500000000


@dataclass
class _Event:
    at: datetime
    kind: str  # added_to_project | due_date_changed | comment_added | marked_(in)complete
    actor: dict
    text: str = ""
    old_due: date | None = None
    new_due: date | None = None


@dataclass
class _Draft:
    name: str
    created_at: datetime
    creator: dict
    assignee: dict | None
    due_on: date | None
    project: dict | None
    sections: dict[str, dict] | None
    priority: int | None
    events: list[_Event] = field(default_factory=list)
    parent: _Draft | None = None
    children: list[_Draft] = field(default_factory=list)
    gid: str = ""
    language: str = "en"


def _compact(gid: str, name: str, resource_type: str) -> dict:
    return {"gid": gid, "name": name, "resource_type": resource_type}


class _AsanaBuilder:
    def __init__(self, cast: Cast, seed: int) -> None:
        self.cast = cast
        self.seed = seed
        config = cast.config
        workspace_gid = config.sources.asana.workspace_gid if config.sources.asana else "1"
        self.workspace = _compact(workspace_gid, config.agency.name, "workspace")
        self.users = {
            p.email: {**_compact(str(USER_GID_BASE + i + 1), p.display, "user"), "email": p.email}
            for i, p in enumerate(cast.staff)
        }
        self.projects: list[dict] = []
        self.sections: list[dict] = []
        self.drafts: list[_Draft] = []
        self.priority_field = _compact(str(FIELD_GID_BASE + 1), "Priority", "custom_field")
        self.priority_options = [
            {
                "gid": str(FIELD_GID_BASE + 2 + i),
                "name": name,
                "color": color,
                "enabled": True,
                "resource_type": "enum_option",
            }
            for i, (name, color) in enumerate(PRIORITIES)
        ]

    def _user(self, person: Person) -> dict:
        user = self.users[person.email]
        return _compact(user["gid"], user["name"], "user")

    # -- projects ---------------------------------------------------------------------

    def add_client(self, profile: ClientProfile) -> None:
        rng = random.Random(f"{self.seed}/asana/{profile.client.id}")
        language = profile.language
        kinds = rng.sample(PROJECT_KINDS[language], len(PROJECT_KINDS[language]))
        for index, project_gid in enumerate(profile.client.asana_projects):
            kind = PITCH_PROJECT[language] if profile.is_prospect else kinds[index % len(kinds)]
            project = _compact(project_gid, f"{profile.client.name} — {kind}", "project")
            sections = {name: self._section(project, name) for name in SECTIONS}
            drafts = self._project_tasks(rng, profile, project, sections)
            existed_before = profile.start == self.cast.period_start
            created = profile.start - DAY * rng.randint(3, 400 if existed_before else 10)
            events = [e.at for d in drafts for e in d.events] + [d.created_at for d in drafts]
            self.projects.append(
                {
                    **project,
                    "workspace": self.workspace,
                    "archived": profile.fate == "churned",
                    "created_at": iso_z(created),
                    "modified_at": iso_z(max(events, default=created)),
                }
            )
            self.drafts.extend(drafts)

    def _section(self, project: dict, name: str) -> dict:
        gid = str(SECTION_GID_BASE + len(self.sections) + 1)
        self.sections.append({**_compact(gid, name, "section"), "project": project})
        return _compact(gid, name, "section")

    def _project_tasks(
        self, rng: random.Random, profile: ClientProfile, project: dict, sections: dict[str, dict]
    ) -> list[_Draft]:
        cutoff = min(profile.end, self.cast.as_of)
        period_weeks = max(1.0, (self.cast.as_of - self.cast.period_start) / WEEK)
        weekly = 3.0 if profile.is_prospect else rng.uniform(60, 150) / period_weeks / 0.85
        calendar = self.cast.agency_calendar
        drafts: list[_Draft] = []
        for week in weeks(profile.start, cutoff):
            days = calendar.business_days(week, week + WEEK - DAY)
            if not days:
                continue
            for _ in range(poisson(rng, weekly * profile.activity(min(week, cutoff - HOUR)))):
                created = calendar.working_moment(rng, rng.choice(days))
                if profile.start <= created < cutoff:
                    drafts.extend(self._task(rng, profile, project, sections, created, cutoff))
        return drafts

    # -- one task's life --------------------------------------------------------------

    def _task(
        self,
        rng: random.Random,
        profile: ClientProfile,
        project: dict,
        sections: dict[str, dict],
        created: datetime,
        cutoff: datetime,
    ) -> list[_Draft]:
        language = profile.language
        staff = [p for p in self.cast.staff if p.title != "Account Manager"]
        creator = self._user(profile.manager if rng.random() < 0.6 else profile.backup)
        assignee = None if rng.random() < 0.1 else self._user(rng.choice(staff))
        due = _weekday(self._day(created) + DAY * rng.choice(TASK_DURATIONS))
        draft = _Draft(
            name=fill(rng, rng.choice(TASKS[language]), language, created.month),
            created_at=created,
            creator=creator,
            assignee=assignee,
            due_on=due,
            project=project,
            sections=sections,
            priority=rng.randrange(len(PRIORITIES)) if rng.random() < 0.6 else None,
            language=language,
        )
        draft.events = self._life(rng, profile, draft, created, cutoff)
        children = []
        if rng.random() < 0.15:
            steps = SUBTASKS[language][: rng.randint(1, 4)]
            children = [self._subtask(rng, draft, name, cutoff) for name in steps]
        draft.children = children
        return [draft, *children]

    def _life(
        self,
        rng: random.Random,
        profile: ClientProfile,
        draft: _Draft,
        created: datetime,
        cutoff: datetime,
    ) -> list[_Event]:
        """The task's intended events, without those at or after `cutoff`.

        Poor health brings more slips; a souring relationship (the decline) brings silent
        slips instead of announced ones, dropped tasks and unfinished revisions.
        """
        health = profile.health(created)
        decline = profile.decline(self._noon(draft.due_on))  # as things stand when it is due
        actor, worker = draft.creator, draft.assignee or draft.creator
        project = draft.project["name"] if draft.project else ""
        events = [_Event(created, "added_to_project", actor, text=f"added to {project}")]
        announce = (0.12 + 0.2 * (1 - health)) * (1 - 0.7 * decline)
        silent = 0.03 + 0.45 * (1 - health) ** 1.5 + 0.5 * decline
        roll, due = rng.random(), draft.due_on
        done: datetime | None
        if roll < announce and (due - self._day(created)).days >= 2:
            # "hit a wall, tell": moved at least a day before the old date passes
            days_left = (due - self._day(created)).days
            at = self._on_day(
                rng, self._day(created) + DAY * rng.randint(1, days_left - 1), created
            )
            due = self._move_due(events, at, actor, due, _weekday(due + DAY * rng.randint(2, 10)))
            done = self._on_time(rng, at, due)
        elif announce <= roll < announce + silent:
            if rng.random() < 0.4:  # noticed after the date passed, then moved
                at = self._on_day(rng, due + DAY * rng.randint(1, 5), created)
                new_due = _weekday(self._day(at) + DAY * rng.randint(2, 7))
                due = self._move_due(events, at, actor, due, new_due)
            done = self._on_day(rng, due + DAY * rng.randint(1, 20 + int(40 * decline)), created)
            if decline and rng.random() < 0.3 + 0.6 * decline:
                done = None  # dropped: stays open and overdue
        else:
            done = self._on_time(rng, created, due)
        for _ in range(poisson(rng, 0.8)):
            end = done or self._on_day(rng, due, created)
            text = rng.choice(TASK_COMMENTS[profile.language])
            events.append(
                _Event(created + (end - created) * rng.random(), "comment_added", worker, text)
            )
        if done is not None:
            events.append(_Event(done, "marked_complete", worker, "marked this task complete"))
            if rng.random() < 0.05 + 0.2 * (1 - health):  # a revision round
                reopened = done + DAY * rng.uniform(0.5, 6)
                events.append(
                    _Event(reopened, "marked_incomplete", actor, "marked this task incomplete")
                )
                if rng.random() >= 0.6 * decline:
                    again = reopened + DAY * rng.uniform(0.5, 5)
                    events.append(
                        _Event(again, "marked_complete", worker, "marked this task complete")
                    )
        return sorted((e for e in events if e.at < cutoff), key=lambda e: e.at)

    def _on_time(self, rng: random.Random, since: datetime, due: date) -> datetime:
        """Done on a working day after `since`, by the due date."""
        span = max(1, (due - self._day(since)).days)
        return self._on_day(rng, self._day(since) + DAY * rng.randint(1, span), since)

    def _move_due(
        self, events: list[_Event], at: datetime, actor: dict, old: date, new: date
    ) -> date:
        events.append(
            _Event(
                at,
                "due_date_changed",
                actor,
                text=f"changed the due date to {new:%b} {new.day}",
                old_due=old,
                new_due=new,
            )
        )
        return new

    def _subtask(self, rng: random.Random, parent: _Draft, name: str, cutoff: datetime) -> _Draft:
        created = parent.created_at + HOUR * rng.uniform(0.1, 2)
        child = _Draft(
            name=name,
            created_at=created,
            creator=parent.creator,
            assignee=parent.assignee,
            due_on=None,  # checklist steps: the parent carries the date
            project=None,
            sections=None,
            priority=None,
            parent=parent,
        )
        parent_done = next((e.at for e in parent.events if e.kind == "marked_complete"), None)
        if parent_done is not None and parent_done > created:
            done = created + (parent_done - created) * rng.uniform(0.2, 0.95)
            if done < cutoff:
                child.events = [
                    _Event(
                        done,
                        "marked_complete",
                        parent.assignee or parent.creator,
                        "marked this task complete",
                    )
                ]
        return child

    def _day(self, moment: datetime) -> date:
        return moment.astimezone(self.cast.agency_calendar.tz).date()

    def _noon(self, day: date) -> datetime:
        return datetime.combine(day, time(12), self.cast.agency_calendar.tz)

    def _on_day(self, rng: random.Random, day: date, after: datetime) -> datetime:
        """A working moment on `day`, but at least an hour after `after`."""
        return max(self.cast.agency_calendar.working_moment(rng, day), after + HOUR)

    # -- output -----------------------------------------------------------------------

    def build(self) -> dict:
        self.drafts.sort(key=lambda d: (d.created_at, d.name))
        for index, draft in enumerate(self.drafts):
            draft.gid = str(TASK_GID_BASE + index + 1)
        dated = sorted(
            ((e.at, d.gid, i, e) for d in self.drafts for i, e in enumerate(d.events)),
            key=lambda item: item[:3],
        )
        story_gids = {
            (gid, i): str(STORY_GID_BASE + n + 1) for n, (_, gid, i, _) in enumerate(dated)
        }
        stories = {
            d.gid: [self._story(story_gids[(d.gid, i)], e) for i, e in enumerate(d.events)]
            for d in self.drafts
        }
        return {
            "workspaces": [self.workspace],
            "users": list(self.users.values()),
            "projects": self.projects,
            "sections": self.sections,
            "tasks": [self._task_object(d) for d in self.drafts],
            "stories": stories,
        }

    def _story(self, gid: str, event: _Event) -> dict:
        story = {
            "gid": gid,
            "resource_type": "story",
            "created_at": iso_z(event.at),
            "created_by": event.actor,
            "type": "comment" if event.kind == "comment_added" else "system",
            "resource_subtype": event.kind,
            "text": event.text,
        }
        if event.kind == "due_date_changed":
            story["old_dates"] = _dates(event.old_due)
            story["new_dates"] = _dates(event.new_due)
        return story

    def _task_object(self, draft: _Draft) -> dict:
        due = draft.due_on
        completed_at = None
        for event in draft.events:
            if event.kind == "due_date_changed":
                due = event.new_due
            elif event.kind == "marked_complete":
                completed_at = event.at
            elif event.kind == "marked_incomplete":
                completed_at = None
        moments = [
            draft.created_at,
            *(e.at for e in draft.events),
            *(c.created_at for c in draft.children),
        ]
        memberships, projects, custom_fields = [], [], []
        if draft.project is not None and draft.sections is not None:
            name, reason, why = self._status(draft, completed_at is not None, due)
            projects = [draft.project]
            memberships = [{"project": draft.project, "section": draft.sections[name]}]
            custom_fields = [
                self._priority(draft.priority),
                self._text_field(10, REASON_FIELD, reason),
                self._text_field(11, JUSTIFICATION_FIELD, why),
                self._hypothesis(draft, completed_at is not None),
            ]
        parent = draft.parent
        return {
            "gid": draft.gid,
            "resource_type": "task",
            "resource_subtype": "default_task",
            "name": draft.name,
            "notes": "",
            "completed": completed_at is not None,
            "completed_at": iso_z(completed_at) if completed_at else None,
            "created_at": iso_z(draft.created_at),
            "modified_at": iso_z(max(moments)),
            "due_on": due.isoformat() if due else None,
            "due_at": None,
            "start_on": None,
            "assignee": draft.assignee,
            "projects": projects,
            "memberships": memberships,
            "parent": None
            if parent is None
            else {**_compact(parent.gid, parent.name, "task"), "resource_subtype": "default_task"},
            "num_subtasks": len(draft.children),
            "custom_fields": custom_fields,
            "tags": [],
            "workspace": self.workspace,
            "permalink_url": f"https://app.asana.com/0/"
            f"{draft.project['gid'] if draft.project else 0}/{draft.gid}",
        }

    def _status(self, draft: _Draft, completed: bool, due: date | None) -> tuple[str, str, str]:
        """Section, status reason and justification. Drawn from the task's own seed, so
        the rest of the world does not change with them."""
        rng = random.Random(f"{self.seed}/asana-status/{draft.gid}")
        language = draft.language
        section = self._section_name(draft, completed)
        why = rng.choice(JUSTIFICATIONS[language]) if rng.random() < 0.7 else ""
        long_overdue = due is not None and self._noon(due) + CANCELLED_AFTER < self.cast.as_of
        if not completed and long_overdue and rng.random() < 0.5:
            return "Cancelled", rng.choice(CANCEL_REASONS[language]), why
        if section == "Backlog" and rng.random() < 0.7:
            return section, rng.choice(NOT_STARTED_REASONS[language]), why
        return section, "", why

    def _text_field(self, offset: int, name: str, value: str) -> dict:
        return {
            **_compact(str(FIELD_GID_BASE + offset), name, "custom_field"),
            "type": "text",
            "resource_subtype": "text",
            "enabled": True,
            "text_value": value or None,
            "display_value": value or None,
        }

    def _hypothesis(self, draft: _Draft, completed: bool) -> dict:
        """The "Hypothesis status" enum (docs/domain.md §3): some tasks test a hypothesis,
        confirmed or refuted once done. Drawn from the task's own seed."""
        rng = random.Random(f"{self.seed}/asana-hypothesis/{draft.gid}")
        chosen = None
        if rng.random() < HYPOTHESIS_SHARE:
            verdict = rng.choice(("Confirmed", "Confirmed", "Refuted"))
            chosen = verdict if completed else "Testing"
        options = {
            name: {**_compact(str(FIELD_GID_BASE + 13 + i), name, "enum_option"), "enabled": True}
            for i, name in enumerate(HYPOTHESIS_STATES)
        }
        option = options.get(chosen) if chosen else None
        return {
            **_compact(str(FIELD_GID_BASE + 12), HYPOTHESIS_FIELD, "custom_field"),
            "type": "enum",
            "resource_subtype": "enum",
            "enabled": True,
            "enum_value": option,
            "display_value": chosen,
        }

    def _section_name(self, draft: _Draft, completed: bool) -> str:
        if completed:
            return "Done"
        if not any(e.kind == "comment_added" for e in draft.events):
            return "Backlog"
        return "Waiting on client" if int(draft.gid) % 4 == 0 else "In progress"

    def _priority(self, index: int | None) -> dict:
        option = None if index is None else self.priority_options[index]
        return {
            **self.priority_field,
            "type": "enum",
            "resource_subtype": "enum",
            "enabled": True,
            "enum_value": option,
            "display_value": option["name"] if option else None,
        }


def _weekday(day: date) -> date:
    while day.weekday() >= 5:
        day += DAY
    return day


def _dates(due: date | None) -> dict:
    return {"start_on": None, "due_at": None, "due_on": due.isoformat() if due else None}


def generate_asana(cast: Cast, seed: int) -> dict:
    builder = _AsanaBuilder(cast, seed)
    for profile in cast.profiles:
        builder.add_client(profile)
    return builder.build()
