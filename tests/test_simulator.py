"""The seeded agency simulator: determinism, coverage, realism of each source, ground truth."""

from __future__ import annotations

import itertools
import mailbox
import re
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from email.header import decode_header, make_header
from email.message import Message
from email.parser import BytesHeaderParser, BytesParser
from email.utils import parsedate_to_datetime

import pytest

from clientpulse.config import DEMO_CONFIG, AgencyConfig, load_config
from sandbox.mbox_writer import write_mbox
from sandbox.simulator import DEMO_AS_OF, World, simulate

ADDRESS = re.compile(r"[\w.+-]+@[\w.-]+")  # display names here never contain "@"
ISO_Z = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
CYRILLIC = re.compile(r"[А-яІіЇїЄєҐґЁё]")
FREEMAIL = ("gmail.com", "ukr.net", "mail.ru")
DEAL_STAGES = {
    "appointmentscheduled",
    "qualifiedtobuy",
    "presentationscheduled",
    "decisionmakerboughtin",
    "contractsent",
    "closedwon",
    "closedlost",
}


def ts(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


@pytest.fixture(scope="module")
def config() -> AgencyConfig:
    return load_config(DEMO_CONFIG)


@pytest.fixture(scope="module")
def world(config: AgencyConfig) -> World:
    return simulate(config)


@dataclass(frozen=True)
class Parsed:
    """One message's headers plus what the tests keep asking of them."""

    headers: Message
    at: datetime  # Gmail's arrival time (its Received line), or Date for sent mail
    sender: str
    people: tuple[str, ...]  # From, To and Cc addresses

    def __getitem__(self, name: str) -> str | None:
        return self.headers[name]


@pytest.fixture(scope="module")
def headers(world: World) -> list[Parsed]:
    parser = BytesHeaderParser()
    parsed = []
    for raw in world.messages:
        message = parser.parsebytes(raw)
        received = message["Received"]
        at = parsedate_to_datetime(received.rsplit(";", 1)[1] if received else message["Date"])
        people = tuple(
            a.lower()
            for f in ("From", "To", "Cc")
            for v in message.get_all(f, [])
            for a in ADDRESS.findall(str(v))
        )
        parsed.append(Parsed(message, at, people[0], people))
    return parsed


@pytest.fixture(scope="module")
def client_of(config: AgencyConfig):
    by_domain = {d: c.id for c in config.clients for d in c.email_domains}
    by_address = {a: c.id for c in config.clients for a in c.contact_addresses}

    def lookup(address: str) -> str | None:
        return by_address.get(address) or by_domain.get(address.rsplit("@", 1)[-1])

    return lookup


@pytest.fixture(scope="module")
def activity(world: World, headers: list[Parsed], client_of, config: AgencyConfig) -> dict:
    """Per client, (what, when) for all activity across mail, Asana and HubSpot.

    "contact" marks what a fading relationship shows first: mail, new tasks, CRM records.
    """
    moments: dict[str, list[tuple[str, datetime]]] = defaultdict(list)
    for message in headers:
        for client_id in {client_of(a) for a in message.people} - {None}:
            moments[client_id].append(("contact", message.at))
    project_client = {g: c.id for c in config.clients for g in c.asana_projects}
    tasks = {t["gid"]: t for t in world.asana["tasks"]}
    for task in world.asana["tasks"]:
        top = task if task["parent"] is None else tasks[task["parent"]["gid"]]
        client_id = project_client[top["projects"][0]["gid"]]
        moments[client_id].append(("contact", ts(task["created_at"])))
        stamps = [task["modified_at"], task["completed_at"]]
        stamps += [s["created_at"] for s in world.asana["stories"][task["gid"]]]
        moments[client_id] += [("task update", ts(s)) for s in stamps if s]
    company_client = {c.crm_company_id: c.id for c in config.clients}
    for kind in ("deals", "calls", "meetings", "notes", "emails"):
        for record in world.hubspot[kind]:
            client_id = company_client[record["associations"]["companies"][0]]
            props = record["properties"]
            moments[client_id].append(("contact", ts(record["createdAt"])))
            stamps = [record["updatedAt"], props.get("hs_lastmodifieddate")]
            if kind != "meetings" or props["hs_meeting_outcome"] != "SCHEDULED":
                stamps.append(props.get("hs_timestamp"))
            if kind == "deals" and props["dealstage"] in ("closedwon", "closedlost"):
                stamps.append(props["closedate"])
            moments[client_id] += [("crm update", ts(s)) for s in stamps if s]
    return moments


# --- the demo config -----------------------------------------------------------------


def test_demo_config_validates_and_describes_a_realistic_agency(config: AgencyConfig) -> None:
    assert config.agency.timezone == "Europe/Kyiv" and config.agency.holiday_country == "UA"
    assert len(config.clients) == 36 and len(config.account_managers) == 6
    assert {c.language for c in config.clients} == {"en", "uk", "ru"}
    assert {c.tier for c in config.clients} == {"standard", "premium"}
    assert sum(c.stage == "prospect" for c in config.clients) == 3
    assert any(CYRILLIC.search(c.name) for c in config.clients)
    assert any(c.timezone == "America/New_York" for c in config.clients)
    assert {c.contact_cadence_days for c in config.clients} == {7, 14}
    freemail = [a for c in config.clients for a in c.contact_addresses]
    assert freemail and all(a.endswith(FREEMAIL) for a in freemail)
    for client in config.clients:
        assert client.email_domains and all(d.endswith(".test") for d in client.email_domains)
        assert 1 <= len(client.asana_projects) <= 2
        assert all(gid.isdigit() for gid in client.asana_projects)
        assert client.crm_company_id and client.crm_company_id.isdigit()
        assert client.report_recipients
        assert all(a.endswith((".test", *FREEMAIL)) for a in client.report_recipients)
    assert all(m.email.endswith("@northwind.test") for m in config.account_managers)
    assert config.sources.mailboxes.graph[0].mailboxes == ["team@northwind.test"]
    managers = {m.email for m in config.account_managers}
    assert set(config.sources.mailboxes.gmail[0].mailboxes) == managers
    assert config.delivery.dry_run is False


# --- determinism and coverage --------------------------------------------------------


def test_same_seed_gives_the_same_world_and_another_seed_differs(config: AgencyConfig) -> None:
    small = config.model_copy(update={"clients": config.clients[:8]})
    first = simulate(small, seed=3, months=4)
    again = simulate(small, seed=3, months=4)
    other = simulate(small, seed=4, months=4)
    assert first.messages == again.messages
    assert first.asana == again.asana and first.hubspot == again.hubspot
    assert first.ground_truth == again.ground_truth
    assert first.messages != other.messages
    assert first.asana["tasks"] != other.asana["tasks"]


def test_world_covers_every_client_for_over_a_year(
    world: World, client_of, config: AgencyConfig, headers: list[Parsed]
) -> None:
    assert len(config.clients) >= 30
    assert 15_000 <= len(world.messages) <= 30_000
    times = sorted(m.at for m in headers)
    assert times[-1] < DEMO_AS_OF
    assert times[0] <= DEMO_AS_OF - timedelta(days=365)
    project_client = {g: c.id for c in config.clients for g in c.asana_projects}
    with_tasks = {
        project_client[t["projects"][0]["gid"]] for t in world.asana["tasks"] if t["projects"]
    }
    with_mail = {client_of(a) for m in headers for a in m.people}
    company_ids = {c["id"] for c in world.hubspot["companies"]}
    engaged = {
        r["associations"]["companies"][0]
        for kind in ("calls", "meetings", "emails")
        for r in world.hubspot[kind]
    }
    for client in config.clients:
        assert client.id in with_tasks and client.id in with_mail, client.id
        assert client.crm_company_id in company_ids and client.crm_company_id in engaged


def test_ground_truth_names_real_clients(world: World, config: AgencyConfig) -> None:
    truth = world.ground_truth
    ids = {c.id for c in config.clients}
    churned, at_risk, healthy = set(truth["churned"]), set(truth["at_risk"]), set(truth["healthy"])
    assert len(churned) == 4 and len(at_risk) == 3
    assert churned | at_risk | healthy == ids
    assert not (churned & at_risk) and not (churned & healthy) and not (at_risk & healthy)
    assert all(config.client(c).stage == "customer" for c in churned | at_risk)
    for churn_date in truth["churned"].values():
        assert (
            DEMO_AS_OF.date() - timedelta(days=400)
            < date.fromisoformat(churn_date)
            < DEMO_AS_OF.date()
        )


def test_churned_clients_fade_then_go_silent(world: World, activity: dict) -> None:
    period_start = DEMO_AS_OF - timedelta(days=396)  # 13 months
    for client_id, churn_date in world.ground_truth["churned"].items():
        churned_at = datetime.fromisoformat(churn_date).replace(tzinfo=UTC)
        assert max(at for _, at in activity[client_id]) < churned_at, client_id
        contact = [at for what, at in activity[client_id] if what == "contact"]
        # the last six weeks against the months before any decline could have begun
        recent = (churned_at - timedelta(days=42), churned_at)
        before = (
            max(period_start, churned_at - timedelta(days=250)),
            churned_at - timedelta(days=100),
        )
        rates = [
            sum(start <= at < end for at in contact) / (end - start).days
            for start, end in (recent, before)
        ]
        assert rates[0] < 0.6 * rates[1], (client_id, rates)


def test_at_risk_clients_are_still_active_but_answered_worse(
    world: World, headers: list[Parsed], client_of
) -> None:
    replied: dict[str, datetime] = {}
    for message in headers:
        if message["In-Reply-To"] and not client_of(message.sender):
            replied.setdefault(message["In-Reply-To"], message.at)
    window = DEMO_AS_OF - timedelta(days=49)
    slow: Counter = Counter()
    total: Counter = Counter()
    fate = {c: "at_risk" for c in world.ground_truth["at_risk"]} | {
        c: "healthy" for c in world.ground_truth["healthy"]
    }
    for message in headers:
        client_id = client_of(message.sender)
        sent = message.at
        if client_id not in fate or message["Auto-Submitted"] or message["In-Reply-To"]:
            continue  # only a thread's opening request surely needs an answer
        if not window <= sent < DEMO_AS_OF - timedelta(days=7):
            continue
        answer = replied.get(message["Message-ID"])
        total[fate[client_id]] += 1
        slow[fate[client_id]] += answer is None or answer - sent > timedelta(days=3)
    assert total["at_risk"] >= 10
    assert slow["at_risk"] / total["at_risk"] > 2 * slow["healthy"] / total["healthy"]


# --- mail ----------------------------------------------------------------------------


def test_mbox_round_trips_through_the_mailbox_module(
    world: World, headers: list[Parsed], tmp_path
) -> None:
    path = tmp_path / "mail" / "shared-inbox.mbox"
    assert write_mbox(world.messages, path) == len(world.messages)
    raw = path.read_bytes()
    assert raw.startswith(b"From ") and b"@xxx " in raw.split(b"\n", 1)[0]
    assert b"\r\n>From our side" in raw  # mboxrd quoting of a body line
    box = mailbox.mbox(path)
    parser = BytesHeaderParser()
    try:
        read_back = [parser.parsebytes(box.get_bytes(key))["Message-ID"] for key in box.iterkeys()]
    finally:
        box.close()
    assert read_back == [m["Message-ID"] for m in headers]
    assert not list(path.parent.glob(".*.tmp"))


def test_mbox_writer_quotes_from_lines_and_dates_separators(tmp_path) -> None:
    dated = (
        b"X-GM-THRID: 42\r\nReceived: by 2002:a05::1 with SMTP id x;\r\n"
        b"        Mon, 2 Mar 2026 02:15:00 -0800 (PST)\r\nDate: nonsense\r\n"
        b"Subject: a\r\n\r\nFrom here on\r\n>From quoted\r\nFrom: not a header\r\n"
    )
    undated = b"Subject: b\n\nbody\n"
    path = tmp_path / "out.mbox"
    path.write_bytes(b"old content")
    assert write_mbox([dated, undated], path) == 2
    raw = path.read_bytes()
    assert raw.startswith(b"From 42@xxx Mon Mar 02 10:15:00 +0000 2026\r\n")
    assert b"\r\n>From here on\r\n>>From quoted\r\nFrom: not a header\r\n" in raw
    assert b"\nFrom 0@xxx Thu Jan 01 00:00:00 +0000 1970\nSubject: b\n" in raw
    box = mailbox.mbox(path)
    try:
        assert [m["Subject"] for m in box] == ["a", "b"]
    finally:
        box.close()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.mbox"]


def test_messages_are_chronological_and_threaded(headers: list[Parsed]) -> None:
    times = [m.at for m in headers]
    assert times == sorted(times)
    ids = {m["Message-ID"] for m in headers if m["Message-ID"]}
    replies = [m for m in headers if m["In-Reply-To"]]
    assert len(replies) > len(headers) / 3
    assert sum(m["In-Reply-To"] in ids for m in replies) / len(replies) > 0.99
    threads = defaultdict(set)
    for message in headers:
        threads[message["X-GM-THRID"]].add(message["Subject"])
    assert sum(len(subjects) > 1 for subjects in threads.values()) > 100  # Re: + original
    assert any(len(m["References"].split()) >= 3 for m in replies if m["References"])


def test_subjects_include_encoded_cyrillic(headers: list[Parsed]) -> None:
    raw_subjects = [m["Subject"] for m in headers]
    decoded = [str(make_header(decode_header(s))) for s in raw_subjects]
    assert sum(bool(CYRILLIC.search(s)) for s in decoded) > len(decoded) / 3
    assert any("=?KOI8-R?B?" in s for s in raw_subjects)
    assert any("=?UTF-8?Q?" in s for s in raw_subjects)
    assert any("\n " in s for s in raw_subjects)  # folded over several lines
    assert any(s.startswith(("Автовідповідь:", "Автоответ:", "Out of office:")) for s in decoded)


def test_mail_has_the_messiness_of_a_real_shared_inbox(
    world: World, headers: list[Parsed], client_of, config: AgencyConfig
) -> None:
    internal = tuple(f"@{d}" for d in config.agency.internal_domains)
    auto = [m for m in headers if m["Auto-Submitted"] == "auto-replied"]
    assert any(m.sender.endswith(internal) for m in auto)  # agency side
    assert any(client_of(m.sender) for m in auto)  # client side
    assert any(m["X-Autoreply"] == "yes" for m in auto)
    bounces = [m for m in headers if m.sender.startswith("mailer-daemon@")]
    assert bounces and all(m["Return-Path"] == "<>" for m in bounces)
    bulk = [m for m in headers if m["List-Id"]]
    assert bulk and all(m["Precedence"] == "bulk" for m in bulk)
    assert any(
        all(a.endswith(internal) for a in m.people) for m in headers if not m["Auto-Submitted"]
    )
    assert 1 <= sum(m["Message-ID"] is None for m in headers) <= 20
    bad_dates = 0
    for message in headers:
        try:
            bad_dates += parsedate_to_datetime(message["Date"]).tzinfo is None
        except (TypeError, ValueError):
            bad_dates += 1
    assert 1 <= bad_dates <= 40
    senders = {m.sender for m in headers}
    assert {a for c in config.clients for a in c.contact_addresses} <= senders
    labels = Counter(label for m in headers for label in m["X-Gmail-Labels"].split(","))
    assert {"Inbox", "Sent", "Important", "Opened", "Category Updates"} <= set(labels)
    parsed = [BytesParser().parsebytes(raw) for raw in world.messages[:3000]]
    bodies = [m.get_payload(decode=True).decode(m.get_content_charset()) for m in parsed]
    assert any(body.strip() in ("Дякую!", "Thanks, got it", "Спасибо!") for body in bodies)


def test_replies_come_from_colleagues_too_and_some_breach_or_wait(
    headers: list[Parsed], client_of, config: AgencyConfig
) -> None:
    managers = {m.email for m in config.account_managers}
    by_id = {m["Message-ID"]: m for m in headers if m["Message-ID"]}
    repliers = Counter()
    late = 0
    for message in headers:
        parent = by_id.get(message["In-Reply-To"])
        sender = message.sender
        if parent is None or message["Auto-Submitted"] or client_of(sender):
            continue
        if client_of(parent.sender):
            repliers["manager" if sender in managers else "colleague"] += 1
            late += message.at - parent.at > timedelta(days=5)  # > 24 business h
    assert repliers["colleague"] > 0.05 * repliers["manager"]
    assert late >= 5
    answered = {m["In-Reply-To"] for m in headers if m["In-Reply-To"]}
    waiting = [
        m
        for m in headers
        if client_of(m.sender)
        and not m["Auto-Submitted"]
        and m["Message-ID"] not in answered
        and m.at > DEMO_AS_OF - timedelta(days=4)
    ]
    assert waiting  # still unanswered at as_of


# --- Asana ---------------------------------------------------------------------------


def test_tasks_and_stories_are_consistent(world: World) -> None:
    asana = world.asana
    tasks = {t["gid"]: t for t in asana["tasks"]}
    assert len(tasks) == len(asana["tasks"])
    story_gids = [s["gid"] for stories in asana["stories"].values() for s in stories]
    assert len(story_gids) == len(set(story_gids))
    children = Counter(t["parent"]["gid"] for t in asana["tasks"] if t["parent"])
    for task in asana["tasks"]:
        stories = asana["stories"][task["gid"]]
        for stamp in (
            task["created_at"],
            task["modified_at"],
            task["completed_at"],
            *(s["created_at"] for s in stories),
        ):
            assert stamp is None or ISO_Z.match(stamp), stamp
        assert [s["created_at"] for s in stories] == sorted(s["created_at"] for s in stories)
        assert all(task["created_at"] <= s["created_at"] <= task["modified_at"] for s in stories)
        assert task["num_subtasks"] == children[task["gid"]]
        changes = [s for s in stories if s["resource_subtype"] == "due_date_changed"]
        toggles = [
            s for s in stories if s["resource_subtype"] in ("marked_complete", "marked_incomplete")
        ]
        if task["completed"]:
            assert toggles[-1]["resource_subtype"] == "marked_complete"
            assert toggles[-1]["created_at"] == task["completed_at"]
            assert all(s["created_at"] < task["completed_at"] for s in changes)
        else:
            assert task["completed_at"] is None
            assert not toggles or toggles[-1]["resource_subtype"] == "marked_incomplete"
        if changes:
            assert changes[-1]["new_dates"]["due_on"] == task["due_on"]
            assert all(
                a["new_dates"]["due_on"] == b["old_dates"]["due_on"]
                for a, b in itertools.pairwise(changes)
            )
        if task["parent"]:
            assert task["parent"]["gid"] in tasks and not task["projects"]
        else:
            assert task["memberships"][0]["project"] == task["projects"][0]
            assert (task["memberships"][0]["section"]["name"] == "Done") == task["completed"]


def test_tasks_show_announced_and_silent_slips_and_revisions(
    world: World, config: AgencyConfig
) -> None:
    kinds = Counter()
    overdue_by_client = Counter()
    project_client = {g: c.id for c in config.clients for g in c.asana_projects}
    for task in world.asana["tasks"]:
        stories = world.asana["stories"][task["gid"]]
        changes = [s for s in stories if s["resource_subtype"] == "due_date_changed"]
        for change in changes:
            moved_on = ts(change["created_at"]).date()
            old_due = date.fromisoformat(change["old_dates"]["due_on"])
            kinds["announced" if moved_on < old_due else "silent_moved"] += moved_on != old_due
        if (
            task["completed"]
            and task["due_on"]
            and not changes
            and ts(task["completed_at"]).date() > date.fromisoformat(task["due_on"])
        ):
            kinds["silent_late"] += 1
        kinds["reopened"] += any(s["resource_subtype"] == "marked_incomplete" for s in stories)
        if (
            task["projects"]
            and not task["completed"]
            and date.fromisoformat(task["due_on"]) < DEMO_AS_OF.date()
        ):
            overdue_by_client[project_client[task["projects"][0]["gid"]]] += 1
    assert kinds["announced"] > 100 and kinds["silent_moved"] > 20
    assert kinds["silent_late"] > 50 and kinds["reopened"] > 50
    troubled = [*world.ground_truth["at_risk"], *world.ground_truth["churned"]]
    healthy = world.ground_truth["healthy"]
    assert sum(overdue_by_client[c] for c in troubled) / len(troubled) > 2 * sum(
        overdue_by_client[c] for c in healthy
    ) / len(healthy)


def test_asana_objects_have_the_api_shape(world: World, config: AgencyConfig) -> None:
    asana = world.asana
    assert asana["workspaces"] == [
        {
            "gid": config.sources.asana.workspace_gid,
            "name": config.agency.name,
            "resource_type": "workspace",
        }
    ]
    assert {p["gid"] for p in asana["projects"]} == {
        g for c in config.clients for g in c.asana_projects
    }
    churned = set(world.ground_truth["churned"])
    project_client = {g: c.id for c in config.clients for g in c.asana_projects}
    for project in asana["projects"]:
        assert project["archived"] == (project_client[project["gid"]] in churned)
    sections = {s["name"] for s in asana["sections"]}
    assert sections == {"Backlog", "In progress", "Waiting on client", "Done", "Cancelled"}
    task = next(t for t in asana["tasks"] if t["custom_fields"] and t["assignee"])
    assert task["resource_type"] == "task" and task["resource_subtype"] == "default_task"
    assert task["assignee"]["resource_type"] == "user" and task["due_at"] is None
    names = [f["name"] for f in task["custom_fields"]]
    assert names == ["Priority", "Status reason", "Why needed", "Hypothesis status"]
    assert task["custom_fields"][0]["resource_subtype"] == "enum"
    # some tasks test a hypothesis: open ones are being tested, done ones have a verdict
    verdicts = {
        (t["completed"], t["custom_fields"][3]["display_value"])
        for t in asana["tasks"]
        if t["projects"] and t["custom_fields"][3]["display_value"]
    }
    assert verdicts == {(False, "Testing"), (True, "Confirmed"), (True, "Refuted")}
    # the weekly status has reasons to quote: for backlog, cancelled and new tasks
    top = [t for t in asana["tasks"] if t["projects"]]
    section = {t["gid"]: t["memberships"][0]["section"]["name"] for t in top}
    reason = {t["gid"]: t["custom_fields"][1]["display_value"] for t in top}
    assert all(reason[g] for g in section if section[g] == "Cancelled")
    backlog = [g for g in section if section[g] == "Backlog"]
    assert 0.5 < sum(bool(reason[g]) for g in backlog) / len(backlog) < 0.9
    assert not any(reason[g] for g in section if section[g] in ("Done", "In progress"))
    why = [t["custom_fields"][2]["display_value"] for t in top]
    assert 0.6 < sum(map(bool, why)) / len(why) < 0.8
    users = {u["gid"] for u in asana["users"]}
    assert all(s["created_by"]["gid"] in users for ss in asana["stories"].values() for s in ss)


# --- HubSpot -------------------------------------------------------------------------


def test_hubspot_records_match_the_config_and_the_mail(
    world: World, headers: list[Parsed], client_of, config: AgencyConfig
) -> None:
    hubspot = world.hubspot
    assert {c["id"] for c in hubspot["companies"]} == {c.crm_company_id for c in config.clients}
    assert {o["email"] for o in hubspot["owners"]} == {m.email for m in config.account_managers}
    for records in hubspot.values():
        for record in records:
            assert ISO_Z.match(record["createdAt"]) and ISO_Z.match(record["updatedAt"])
            for value in record.get("properties", {}).values():
                assert value is None or isinstance(value, str)
    contact_emails = {c["properties"]["email"] for c in hubspot["contacts"]}
    client_senders = {m.sender for m in headers if client_of(m.sender)}
    assert client_senders <= contact_emails
    assert {d["properties"]["dealstage"] for d in hubspot["deals"]} <= DEAL_STAGES
    assert all(d["properties"]["pipeline"] == "default" for d in hubspot["deals"])
    won = Counter(
        d["associations"]["companies"][0]
        for d in hubspot["deals"]
        if d["properties"]["dealstage"] == "closedwon"
    )
    healthy = [config.client(c) for c in world.ground_truth["healthy"]]
    repeat = [c for c in healthy if c.stage == "customer" and won[c.crm_company_id] >= 2]
    assert len(repeat) >= 0.8 * sum(c.stage == "customer" for c in healthy)
    lost = {
        d["associations"]["companies"][0]
        for d in hubspot["deals"]
        if d["properties"]["dealstage"] == "closedlost"
    }
    assert {config.client(c).crm_company_id for c in world.ground_truth["churned"]} <= lost
    assert any(
        m["properties"]["hs_meeting_location"] == "On-site: client office"
        for m in hubspot["meetings"]
    )
    directions = {e["properties"]["hs_email_direction"] for e in hubspot["emails"]}
    assert directions == {"EMAIL", "INCOMING_EMAIL"}
