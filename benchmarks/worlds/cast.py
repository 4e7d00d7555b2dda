"""Who is in an independent world: the agency, its account managers (with their
holidays), its clients (with their contacts, rhythms, contracts and fates)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

import numpy as np

from .draw import pick
from .names import COMPANY_WORDS, FIRST, LAST, slug
from .seasons import Calendar, Seasons
from .stories import DECLINING, Fate

AS_OF = datetime(2026, 11, 16, 7, 0, tzinfo=UTC)  # a Monday morning
WEEKS = 58
START = AS_OF.date() - timedelta(weeks=WEEKS)
YEARS = (2024, 2025, 2026)
CLIENTS = 40
AGENCY_PLACES = (("UA", "Europe/Kyiv"), ("PL", "Europe/Warsaw"))
CLIENT_PLACES = {  # language → (country, time zone) choices
    "en": (("US", "America/New_York"), ("GB", "Europe/London"), ("DE", "Europe/Berlin")),
    "uk": (("UA", "Europe/Kyiv"),),
    "ru": (("UA", "Europe/Kyiv"), ("KZ", "Asia/Almaty")),
}
WORKSPACE_GID = "1310000000000001"


@dataclass(frozen=True)
class Person:
    name: str
    email: str
    title: str = ""


@dataclass
class Contact:
    person: Person
    weight: float
    active_from: date = date.min
    active_until: date | None = None  # left the client's company: mail to them bounces
    champion: bool = False

    def active(self, day: date) -> bool:
        return self.active_from <= day and (self.active_until is None or day < self.active_until)


@dataclass
class Manager:
    id: str
    person: Person
    language: str
    reply_hours: float  # median business hours to answer a client
    holidays: list[tuple[date, date]] = field(default_factory=list)  # [start, end)
    cover: str = ""  # the colleague who answers some of their mail meanwhile

    def holiday(self, day: date) -> tuple[date, date] | None:
        return next((h for h in self.holidays if h[0] <= day < h[1]), None)


@dataclass
class Client:
    id: str
    name: str
    domain: str
    language: str
    calendar: Calendar
    timezone: str
    manager: str
    tier: str
    contacts: list[Contact]
    rate: float  # threads the client starts in an ordinary week
    agency_rate: float  # threads the agency starts
    dispersion: float  # gamma shape of the week-to-week factor (small: very uneven)
    reply_prob: float
    reply_hours: float  # median hours the client takes to answer
    tasks_per_week: float
    on_time: float
    contract: str  # yearly | quarterly | projects
    since: date
    fate: Fate
    projects: list[str] = field(default_factory=list)
    company_id: str = ""
    freemail: list[str] = field(default_factory=list)


@dataclass
class Agency:
    seed: int
    name: str
    domain: str
    country: str
    timezone: str
    calendar: Calendar
    seasons: Seasons
    managers: list[Manager]
    clients: list[Client]
    workers: list[Person]  # designers and developers assigned to tasks
    director: Person

    @property
    def team(self) -> Person:
        return Person(self.name, f"team@{self.domain}")

    def manager(self, manager_id: str) -> Manager:
        return next(m for m in self.managers if m.id == manager_id)


def _person(rng: np.random.Generator, language: str, domain: str, used: set[str]) -> Person:
    while True:
        first, last = pick(rng, FIRST[language]), pick(rng, LAST[language])
        email = f"{slug(first)}.{slug(last)}@{domain}"
        if email not in used:
            used.add(email)
            return Person(f"{first} {last}", email)


def _holidays(rng: np.random.Generator) -> list[tuple[date, date]]:
    """1–3 weeks a year: most take a summer block, some a week at another time."""
    blocks = []
    if rng.random() < 0.75:
        monday = date(2026, 6, 1) + timedelta(weeks=int(rng.integers(0, 12)))
        blocks.append((monday, monday + timedelta(weeks=int(rng.integers(1, 3)))))
    if not blocks or rng.random() < 0.4:
        monday = START + timedelta(weeks=int(rng.integers(2, WEEKS - 2)))
        if all(abs((monday - b[0]).days) > 28 for b in blocks):
            blocks.append((monday, monday + timedelta(weeks=1)))
    return sorted(blocks)


def _rates(rng: np.random.Generator) -> tuple[float, float]:
    """Threads a week the client starts and the agency starts: a few very busy, most
    one to three, some once a fortnight."""
    kind = rng.choice(["busy", "steady", "rare"], p=[0.15, 0.62, 0.23])
    client = {"busy": (4.0, 7.0), "steady": (0.8, 2.5), "rare": (0.3, 0.6)}[kind]
    rate = float(rng.uniform(*client))
    return rate, 0.4 * rate + float(rng.uniform(0.1, 0.5))


def _company(rng: np.random.Generator, language: str, used: set[str]) -> str:
    while True:
        words = COMPANY_WORDS[language]
        name = " ".join(pick(rng, w) for w in words)
        if name not in used:
            used.add(name)
            return name


def _fates(rng: np.random.Generator, n: int) -> list[Fate]:
    """6–7 churners (one sudden), one look-alike of each declining story, the rest
    ordinary; shuffled."""
    churners = int(rng.integers(6, 8))
    while True:
        stories = [str(s) for s in rng.choice(DECLINING, size=churners - 1)]
        if len(set(stories)) >= 3:
            break
    fates = []
    for story in [*stories, "sudden"]:
        left = START + timedelta(days=int(rng.integers(20 * 7, (WEEKS - 3) * 7)))
        decline = left if story == "sudden" else left - timedelta(days=int(rng.integers(42, 85)))
        fates.append(Fate(story=story, decline=decline, left=left))
    for story in DECLINING:
        begin = START + timedelta(days=int(rng.integers(10 * 7, (WEEKS - 8) * 7)))
        end = begin + timedelta(days=int(rng.integers(28, 43)))
        fates.append(Fate(lookalike=story, decline=begin, episode_end=end))
    while len(fates) < n:
        dip = None
        if rng.random() < 0.25:
            begin = START + timedelta(days=int(rng.integers(0, WEEKS * 7 - 21)))
            dip = (begin, begin + timedelta(weeks=3), float(rng.uniform(0.4, 0.7)))
        fates.append(Fate(dip=dip))
    order = rng.permutation(len(fates))
    return [fates[i] for i in order]


def _contacts(rng: np.random.Generator, client: Client, used: set[str]) -> None:
    """1–6 contacts; the first is the champion. Some healthy clients lose a contact
    mid-year to a new job and get a replacement; look-alike champions introduce a
    successor; churning champions just stop."""
    count = int(rng.choice([1, 2, 3, 4, 5, 6], p=[0.2, 0.3, 0.22, 0.14, 0.09, 0.05]))
    weights = rng.dirichlet([3.0] + [1.0] * (count - 1)) if count > 1 else np.array([1.0])
    weights = sorted(weights, reverse=True)
    for i, weight in enumerate(weights):
        person = _person(rng, client.language, client.domain, used)
        client.contacts.append(Contact(person, float(weight), champion=i == 0))
    if rng.random() < 0.1:  # one contact writes from a freemail address
        contact = client.contacts[-1]
        local = contact.person.email.split("@")[0]
        address = f"{local}{int(rng.integers(1, 99))}@gmail.com"
        contact.person = Person(contact.person.name, address)
        client.freemail.append(address)
    fate = client.fate
    champion = client.contacts[0]
    if fate.story == "champion":
        champion.active_until = fate.decline
    elif fate.lookalike == "champion":
        champion.active_until = fate.decline
        successor = _person(rng, client.language, client.domain, used)
        client.contacts.append(Contact(successor, champion.weight, active_from=fate.decline))
    elif fate.story is None and fate.lookalike is None and count > 1 and rng.random() < 0.25:
        leaver = client.contacts[int(rng.integers(1, count))]
        leaver.active_until = START + timedelta(days=int(rng.integers(30, WEEKS * 7 - 30)))
        newcomer = _person(rng, client.language, client.domain, used)
        client.contacts.append(
            Contact(newcomer, leaver.weight, active_from=leaver.active_until + timedelta(7))
        )
    if fate.story == "conflict" or fate.lookalike == "conflict":
        boss = _person(rng, client.language, client.domain, used)
        boss = Person(boss.name, boss.email, "CEO")
        client.contacts.append(Contact(boss, 0.0, active_from=fate.decline))


def build_agency(seed: int, clients: int = CLIENTS) -> Agency:
    """The agency of `seed`: everything drawn from one seeded generator. Fewer clients
    than 12 leave no room for every churner and look-alike."""
    rng = np.random.default_rng([22, seed])
    country, timezone = AGENCY_PLACES[int(rng.integers(len(AGENCY_PLACES)))]
    label = pick(rng, ["Finch", "Lantern", "Kite", "Orchard", "Compass", "Beacon"])
    domain = f"{label.lower()}{seed}.test"
    days_off = frozenset({date(2025, 12, 31), date(2026, 1, 2), date(2026, 12, 31)})
    calendar = Calendar(country, YEARS, days_off)
    seasons = Seasons(new_year=float(rng.uniform(0.25, 0.45)), august=float(rng.uniform(0.4, 0.7)))
    used: set[str] = set()
    languages = ["en", "uk", "ru"]
    managers = []
    for i in range(int(rng.integers(4, 8))):
        language = languages[i] if i < 3 else str(rng.choice(languages, p=[0.3, 0.45, 0.25]))
        person = _person(rng, language, domain, used)
        managers.append(
            Manager(
                slug(person.email.split("@")[0]),
                person,
                language,
                float(rng.uniform(1.5, 6.0)),
                _holidays(rng),
            )
        )
    for i, manager in enumerate(managers):
        same = [m for m in managers if m is not manager and m.language == manager.language]
        manager.cover = (same or [managers[(i + 1) % len(managers)]])[0].id
    companies: set[str] = set()
    cast = []
    for n, fate in enumerate(_fates(rng, clients)):
        manager = managers[int(rng.integers(len(managers)))]
        language = manager.language
        name = _company(rng, language, companies)
        client_country, client_tz = CLIENT_PLACES[language][
            int(rng.integers(len(CLIENT_PLACES[language])))
        ]
        rate, agency_rate = _rates(rng)
        contract = "yearly" if fate.story == "budget" else None
        contract = contract or str(
            rng.choice(["yearly", "quarterly", "projects"], p=[0.5, 0.3, 0.2])
        )
        client = Client(
            id=slug(name),
            name=name,
            domain=f"{slug(name)}.test",
            language=language,
            calendar=Calendar(client_country, YEARS),
            timezone=client_tz,
            manager=manager.id,
            tier="premium" if rng.random() < 0.35 else "standard",
            contacts=[],
            rate=rate,
            agency_rate=agency_rate,
            dispersion=float(rng.uniform(1.2, 5.0)),
            reply_prob=float(rng.uniform(0.6, 0.95)),
            reply_hours=float(np.exp(rng.uniform(np.log(0.7), np.log(40)))),
            tasks_per_week=float(np.clip(rate * rng.uniform(0.6, 1.4), 0.5, 7.0)),
            on_time=float(rng.uniform(0.75, 0.95)),
            contract=contract,
            since=START - timedelta(days=int(rng.integers(60, 900))),
            fate=fate,
            projects=[f"13100000000{n:02d}{p}" for p in range(1 + int(rng.random() < 0.3))],
            company_id=f"3110000{n:04d}",
        )
        _contacts(rng, client, used)
        cast.append(client)
    workers = [_person(rng, pick(rng, languages), domain, used) for _ in range(8)]
    director = _person(rng, "en", domain, used)
    return Agency(
        seed,
        f"{label} Agency {seed}",
        domain,
        country,
        timezone,
        calendar,
        seasons,
        managers,
        cast,
        workers,
        Person(director.name, director.email, "Managing Director"),
    )
