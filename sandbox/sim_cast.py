"""Who is in the simulated world and how each client relationship goes.

Every client gets a fate (healthy, at risk, churned) and a health trajectory in [0, 1]
over time; the mail, Asana and CRM generators turn health into rates: how often people
write, how fast the agency replies, how many deadlines slip silently.

`CastOptions` builds other agencies than the demo's: more churned and degraded clients,
and churn stories other than the demo's one (`CHURN_STORIES`). Its defaults are the
demo's world, draw for draw.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Literal

from clientpulse.config import AgencyConfig, Client

from .names import PersonName, person_from_address, random_name
from .sim_time import DAY, BusinessCalendar

Fate = Literal["healthy", "at_risk", "churned"]
Mailer = Literal["gmail", "outlook", "apple", "thebat"]

CHURNED_CLIENTS = 4
AT_RISK_CLIENTS = 3


@dataclass(frozen=True)
class ChurnStory:
    """How a churned client leaves: the decline's length in days, how low health falls
    (late replies, slipped deadlines), how far activity winds down (less mail, fewer
    tasks), and whether the main contact leaves as the decline starts."""

    decline_days: tuple[int, int]
    floor: float
    wind_down: float
    champion_leaves: bool = False


CHURN_STORIES: dict[str, ChurnStory] = {
    # the demo's only story: two to three months of souring service and fading contact
    "fade": ChurnStory((56, 98), floor=0.1, wind_down=0.8),
    # gone within weeks (a budget cut, a new CMO): little to see in advance
    "abrupt": ChurnStory((14, 35), floor=0.1, wind_down=0.8),
    # half a year of slow erosion
    "slow_burn": ChurnStory((126, 196), floor=0.15, wind_down=0.7),
    # the service stays fine; the client just writes less and less, then leaves
    "quiet_exit": ChurnStory((56, 98), floor=0.55, wind_down=0.9),
    # the client keeps writing (complaining) while delivery and replies go bad
    "service_failure": ChurnStory((42, 84), floor=0.0, wind_down=0.25),
    # the client's main contact leaves; the successor lets the account drift away
    "champion_left": ChurnStory((42, 84), floor=0.3, wind_down=0.6, champion_leaves=True),
}


@dataclass(frozen=True)
class CastOptions:
    """How many clients churn or degrade, and the churn stories drawn from (uniformly)
    for each churned client. The defaults give the demo's world unchanged."""

    churned: int = CHURNED_CLIENTS
    at_risk: int = AT_RISK_CLIENTS
    churn_stories: tuple[str, ...] = ("fade",)

    def __post_init__(self) -> None:
        unknown = set(self.churn_stories) - set(CHURN_STORIES)
        if unknown or not self.churn_stories:
            raise ValueError(f"unknown churn stories {sorted(unknown)} (or none given)")


DEMO_OPTIONS = CastOptions()
FREEMAIL_MAILERS: dict[str, Mailer] = {
    "gmail.com": "gmail",
    "ukr.net": "apple",
    "mail.ru": "thebat",
}

CLIENT_TITLES = {
    "en": ["Marketing Director", "Brand Manager", "CEO", "Head of Digital", "Office Manager"],
    "uk": ["Маркетинг-директор", "Бренд-менеджер", "Директор", "Керівник digital", "Офіс-менеджер"],
    "ru": [
        "Директор по маркетингу",
        "Бренд-менеджер",
        "Генеральный директор",
        "Руководитель digital",
        "Офис-менеджер",
    ],
}
STAFF_ROLES = [
    "Project Manager",
    "Designer",
    "Developer",
    "Copywriter",
    "SEO Specialist",
    "SMM Manager",
    "Project Manager",
    "Designer",
]


@dataclass(frozen=True)
class Person:
    name: PersonName
    email: str
    title: str
    mailer: Mailer = "gmail"

    @classmethod
    def plain(cls, name: str, email: str) -> Person:
        """A sender that is not a person (a newsletter, a mailer daemon)."""
        return cls(PersonName(name, "", name, ""), email, "")

    @property
    def display(self) -> str:
        return self.name.full

    @property
    def domain(self) -> str:
        return self.email.rsplit("@", 1)[1]


@dataclass
class Contact:
    """A client-side person; `left_at` set when they leave (mail to them then bounces)."""

    person: Person
    away: list[tuple[datetime, datetime]] = field(default_factory=list)
    left_at: datetime | None = None

    def is_away(self, moment: datetime) -> bool:
        return any(start <= moment < end for start, end in self.away)

    def has_left(self, moment: datetime) -> bool:
        return self.left_at is not None and moment >= self.left_at


@dataclass
class ClientProfile:
    client: Client
    fate: Fate
    manager: Person
    backup: Person
    contacts: list[Contact]
    calendar: BusinessCalendar
    start: datetime
    end: datetime  # exclusive: the churn date, else as_of
    base_health: float
    decline_from: datetime | None = None
    storm: tuple[datetime, datetime] | None = None
    story: str | None = None  # a churned client's story, when not the demo's default
    floor: float | None = None  # else the fate's
    wind_down: float | None = None  # else the fate's

    @property
    def language(self) -> str:
        return self.client.language

    @property
    def is_prospect(self) -> bool:
        return self.client.stage == "prospect"

    def active(self, moment: datetime) -> bool:
        return self.start <= moment < self.end

    def decline(self, moment: datetime) -> float:
        """How far the decline has gone at `moment`: 0 before it starts, 1 at its end."""
        if self.decline_from is None or moment < self.decline_from:
            return 0.0
        return min(1.0, (moment - self.decline_from) / (self.end - self.decline_from))

    def health(self, moment: datetime) -> float:
        if not self.active(moment):
            return 0.0
        health = self.base_health
        if self.storm and self.storm[0] <= moment < self.storm[1]:
            middle = self.storm[0] + (self.storm[1] - self.storm[0]) / 2
            depth = 1 - abs((moment - middle) / ((self.storm[1] - self.storm[0]) / 2))
            health -= 0.35 * depth
        floor = self.floor
        if floor is None:
            floor = 0.1 if self.fate == "churned" else 0.2
        health -= (health - floor) * self.decline(moment)
        return max(0.0, min(1.0, health))

    def activity(self, moment: datetime) -> float:
        """Multiplier on how much happens: lower with poor health, and a leaving client
        winds down to almost nothing (an at-risk one only partly); zero when inactive."""
        if not self.active(moment):
            return 0.0
        wind_down = self.wind_down
        if wind_down is None:
            wind_down = 0.8 if self.fate == "churned" else 0.3
        return (0.15 + 0.85 * self.health(moment)) * (1 - wind_down * self.decline(moment))

    def reachable_contacts(self, moment: datetime) -> list[Contact]:
        return [c for c in self.contacts if not c.has_left(moment)] or self.contacts[:1]


@dataclass
class Cast:
    config: AgencyConfig
    as_of: datetime
    period_start: datetime
    agency_calendar: BusinessCalendar
    team: Person
    staff: list[Person]
    away: dict[str, list[tuple[datetime, datetime]]]
    profiles: list[ClientProfile]

    def is_away(self, person: Person, moment: datetime) -> bool:
        return any(start <= moment < end for start, end in self.away.get(person.email, []))

    def ground_truth(self) -> dict:
        return {
            "churned": {
                p.client.id: p.end.date().isoformat() for p in self.profiles if p.fate == "churned"
            },
            "at_risk": [p.client.id for p in self.profiles if p.fate == "at_risk"],
            "healthy": [p.client.id for p in self.profiles if p.fate == "healthy"],
        }


def build_cast(
    config: AgencyConfig,
    seed: int,
    as_of: datetime,
    months: int,
    options: CastOptions = DEMO_OPTIONS,
) -> Cast:
    rng = random.Random(f"{seed}/cast")
    period_start = as_of - timedelta(days=round(months * 30.44))
    domain = config.agency.internal_domains[0]
    mailboxes = config.sources.mailboxes
    team_address = mailboxes.mbox[0].mailbox if mailboxes and mailboxes.mbox else f"team@{domain}"
    team = Person(
        PersonName(config.agency.name, "", config.agency.name, ""), team_address, "Shared inbox"
    )
    managers = {m.id: _manager(m.name, m.email) for m in config.account_managers}
    colleagues = _colleagues(rng, domain, set(managers.values()))
    staff = [*managers.values(), *colleagues]
    span = as_of - period_start
    away = {person.email: _absences(rng, period_start, span, count=2) for person in staff}
    fates = _fates(rng, config.clients, options)
    stories = _stories(fates, options)
    project_managers = [p for p in colleagues if p.title == "Project Manager"]
    profiles = [
        _profile(
            config,
            rng,
            client,
            fates.get(client.id, "healthy"),
            managers,
            rng.choice(project_managers),
            period_start,
            as_of,
            stories.get(client.id),
        )
        for client in config.clients
    ]
    _ensure_legacy_mailer(profiles)
    return Cast(
        config,
        as_of,
        period_start,
        BusinessCalendar.for_agency(config.agency),
        team,
        staff,
        away,
        profiles,
    )


def _manager(name: str, email: str) -> Person:
    first, _, last = name.partition(" ")
    local_first, _, local_last = email.split("@")[0].partition(".")
    return Person(
        PersonName(first, last, local_first.title(), local_last.title()), email, "Account Manager"
    )


def _colleagues(rng: random.Random, domain: str, taken: set[Person]) -> list[Person]:
    used = {p.name.local_part for p in taken}
    people = []
    for role in STAFF_ROLES:
        name = random_name(rng, "uk")
        while name.local_part in used:
            name = random_name(rng, "uk")
        used.add(name.local_part)
        people.append(Person(name, f"{name.local_part}@{domain}", role))
    return people


def _absences(
    rng: random.Random, start: datetime, span: timedelta, count: int
) -> list[tuple[datetime, datetime]]:
    periods = []
    for _ in range(count):
        begin = start + span * rng.random()
        begin = begin.replace(hour=0, minute=0, second=0, microsecond=0)
        periods.append((begin, begin + DAY * rng.randint(5, 14)))
    return periods


def _fates(rng: random.Random, clients: list[Client], options: CastOptions) -> dict[str, Fate]:
    customers = [c.id for c in clients if c.stage == "customer"]
    rng.shuffle(customers)
    churned = min(options.churned, len(customers) // 4)
    at_risk = min(options.at_risk, len(customers) // 4)
    fates: dict[str, Fate] = {cid: "churned" for cid in customers[:churned]}
    fates.update({cid: "at_risk" for cid in customers[churned : churned + at_risk]})
    return fates


def _stories(fates: dict[str, Fate], options: CastOptions) -> dict[str, str]:
    """Each churned client's story, the options' stories in turn (none for the demo's)."""
    if options.churn_stories == DEMO_OPTIONS.churn_stories:
        return {}
    churned = [cid for cid, fate in fates.items() if fate == "churned"]  # in shuffled order
    return {
        cid: options.churn_stories[i % len(options.churn_stories)] for i, cid in enumerate(churned)
    }


def _profile(
    config: AgencyConfig,
    rng: random.Random,
    client: Client,
    fate: Fate,
    managers: dict[str, Person],
    backup: Person,
    period_start: datetime,
    as_of: datetime,
    story: str | None = None,
) -> ClientProfile:
    span = as_of - period_start
    start, end = period_start, as_of
    decline_from = storm = None
    if client.stage == "prospect":
        start = max(period_start, as_of - DAY * rng.randint(35, 75))
    elif fate == "healthy" and rng.random() < 0.15:
        start = period_start + span * rng.uniform(0.2, 0.6)
    if fate == "churned":
        end = _midnight(period_start + span * rng.uniform(0.45, 0.9))
        if story is None:  # the demo's draws, unchanged
            decline_from = end - DAY * rng.randint(56, 98)
        else:
            days = CHURN_STORIES[story].decline_days
            decline_from = max(period_start + DAY * 21, end - DAY * rng.randint(*days))
    elif fate == "at_risk":
        decline_from = as_of - DAY * rng.randint(42, 70)
    elif rng.random() < 0.3:
        storm_start = start + (end - start) * rng.uniform(0.1, 0.7)
        storm = (storm_start, storm_start + DAY * rng.randint(21, 42))
    base_health = rng.uniform(0.82, 0.97) if fate == "healthy" else rng.uniform(0.72, 0.9)
    contacts = _contacts(rng, client, period_start, span)
    told = CHURN_STORIES[story] if story else None
    if told and told.champion_leaves and decline_from is not None:
        # the first report recipient (the client's lead contact) leaves early in the decline
        contacts[0].left_at = decline_from + DAY * rng.randint(0, 10)
    return ClientProfile(
        client=client,
        fate=fate,
        manager=managers[client.account_manager],
        backup=backup,
        contacts=contacts,
        calendar=BusinessCalendar.for_client(config, client),
        start=start,
        end=end,
        base_health=base_health,
        decline_from=decline_from,
        storm=storm,
        story=story,
        floor=told.floor if told else None,
        wind_down=told.wind_down if told else None,
    )


def _midnight(moment: datetime) -> datetime:
    return datetime(moment.year, moment.month, moment.day, tzinfo=UTC)


def _contacts(
    rng: random.Random, client: Client, period_start: datetime, span: timedelta
) -> list[Contact]:
    language = client.language
    addresses = list(dict.fromkeys([*client.report_recipients, *client.contact_addresses]))
    people = [_client_person(rng, language, address) for address in addresses]
    domain = client.email_domains[0] if client.email_domains else None
    if domain:
        for _ in range(rng.randint(1, 2)):
            name = random_name(rng, language)
            if all(p.name.local_part != name.local_part for p in people):
                people.append(_client_person(rng, language, f"{name.local_part}@{domain}"))
    contacts = [Contact(p) for p in people]
    for contact in contacts:
        if rng.random() < 0.5:
            contact.away = _absences(rng, period_start, span, count=1)
    if domain and client.stage == "customer" and rng.random() < 0.35:
        name = random_name(rng, language)
        leaver = Contact(
            _client_person(
                rng, language, f"{name.first_latin[0]}.{name.last_latin}@{domain}".lower(), name
            )
        )
        leaver.left_at = period_start + span * rng.uniform(0.3, 0.8)
        contacts.append(leaver)
    return contacts


def _client_person(
    rng: random.Random, language: str, address: str, name: PersonName | None = None
) -> Person:
    domain = address.rsplit("@", 1)[1]
    mailer: Mailer = FREEMAIL_MAILERS.get(domain) or rng.choice(
        ["outlook", "outlook", "apple", "gmail"]
    )
    if language == "ru" and mailer == "outlook" and rng.random() < 0.3:
        mailer = "thebat"
    return Person(
        name or person_from_address(address), address, rng.choice(CLIENT_TITLES[language]), mailer
    )


def _ensure_legacy_mailer(profiles: list[ClientProfile]) -> None:
    """At least one Russian-speaking contact writes from a KOI8-R mail client."""
    russian = [p for p in profiles if p.language == "ru"]
    if russian and not any(c.person.mailer == "thebat" for p in russian for c in p.contacts):
        first = russian[0].contacts[0]
        first.person = Person(first.person.name, first.person.email, first.person.title, "thebat")
