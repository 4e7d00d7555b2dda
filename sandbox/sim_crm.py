"""Simulated HubSpot CRM: owners, companies, contacts, deals and logged engagements.

Objects use the CRM v3 shape (`id`, string-valued `properties`, `createdAt`, `updatedAt`,
`archived`) plus the ids of associated objects. Healthy clients come back with repeat
orders; a declining client's renewal stalls or is lost; a churned client's record goes
quiet on its churn date.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from .mail_render import Mail
from .sim_cast import Cast, ClientProfile, Person
from .sim_time import DAY, WEEK, iso_z, poisson, weeks

OWNER_ID_BASE = 61200000
OWNER_USER_ID_BASE = 9100000
CONTACT_ID_BASE = 75100
DEAL_ID_BASE = 18900000000
ENGAGEMENT_ID_BASE = 40100000000
INVOICE_ID_BASE = 30500000000
INVOICE_CURRENCY = "EUR"
FEEDBACK_ID_BASE = 52700000000
SURVEY_MONTHS = (3, 9)  # the agency's NPS survey goes out each March and September
OPEN_STAGES = (
    "appointmentscheduled",
    "qualifiedtobuy",
    "presentationscheduled",
    "decisionmakerboughtin",
    "contractsent",
)
INDUSTRIES = (
    "FOOD_BEVERAGES",
    "LOGISTICS_AND_SUPPLY_CHAIN",
    "FINANCIAL_SERVICES",
    "HOSPITAL_HEALTH_CARE",
    "RETAIL",
    "CONSTRUCTION",
    "EDUCATION_MANAGEMENT",
    "LEGAL_SERVICES",
    "COMPUTER_SOFTWARE",
    "HOSPITALITY",
)
MEETING_PLACES = ("Google Meet", "Zoom", "Agency office")
ON_SITE = "On-site: client office"
CALL_TITLES = ("Weekly sync", "Feedback on drafts", "Budget check-in", "Quick question")
NOTE_TEXTS = (
    "Client asked for a faster turnaround.",
    "Discussed next quarter's plans.",
    "Client mentioned another agency pitched to them.",
    "Agreed on a new reporting format.",
)
LOGGED_EMAIL_SHARE = 0.25
BUDGET_PROPERTY = "annual_marketing_budget"  # a custom company property, set for about half
RECORD_KINDS = (
    "owners", "companies", "contacts", "deals", "calls", "meetings", "notes", "emails", "invoices",
    "feedback_submissions",
)  # fmt: skip


def _record(
    object_id: str,
    properties: dict,
    created: datetime,
    updated: datetime,
    companies: Sequence[str] = (),
    contacts: Sequence[str] = (),
    deals: Sequence[str] = (),
) -> dict:
    return {
        "id": object_id,
        "properties": {
            key: None if value is None else str(value) for key, value in properties.items()
        },
        "createdAt": iso_z(created),
        "updatedAt": iso_z(updated),
        "archived": False,
        "associations": {
            "companies": list(companies),
            "contacts": list(contacts),
            "deals": list(deals),
        },
    }


@dataclass
class _Ids:
    """Sequential ids per object type, so output does not depend on dict ordering."""

    counters: dict[str, int] = field(default_factory=dict)

    def next(self, kind: str, base: int) -> str:
        self.counters[kind] = self.counters.get(kind, 0) + 1
        return str(base + self.counters[kind])


def _meeting(rng: random.Random, start: datetime, place: str, booked: bool = False) -> dict:
    return {
        "hs_meeting_title": "Visit to the client" if place == ON_SITE else "Status meeting",
        "hs_meeting_outcome": "SCHEDULED"
        if booked
        else rng.choice(("COMPLETED", "COMPLETED", "COMPLETED", "RESCHEDULED", "NO_SHOW")),
        "hs_meeting_location": place,
        "hs_meeting_start_time": iso_z(start),
        "hs_meeting_end_time": iso_z(start + timedelta(minutes=rng.choice((30, 45, 60, 90)))),
    }


@dataclass
class _EngagementLog:
    """Engagements for one company; anything at or after the cutoff never happened."""

    out: dict[str, list[dict]]
    ids: _Ids
    company_id: str
    owner: str
    contact_ids: dict[str, str]
    cutoff: datetime
    stamps: list[datetime] = field(default_factory=list)

    def add(
        self,
        kind: str,
        moment: datetime,
        person: Person,
        properties: dict,
        created: datetime | None = None,
    ) -> None:
        created = created or moment
        if created >= self.cutoff:
            return
        engagement_id = self.ids.next("engagement", ENGAGEMENT_ID_BASE)
        self.stamps.append(created)
        contact = self.contact_ids.get(person.email)
        self.out[kind].append(
            _record(
                engagement_id,
                {
                    "hs_timestamp": iso_z(moment),
                    **properties,
                    "hubspot_owner_id": self.owner,
                    "createdate": iso_z(created),
                    "hs_lastmodifieddate": iso_z(created),
                },
                created,
                created,
                companies=[self.company_id],
                contacts=[contact] if contact else [],
            )
        )


class _CrmBuilder:
    def __init__(self, cast: Cast, seed: int, mails: list[Mail]) -> None:
        self.cast = cast
        self.seed = seed
        self.ids = _Ids()
        self.out: dict[str, list[dict]] = {kind: [] for kind in RECORD_KINDS}
        self.owner_ids: dict[str, str] = {}
        self.mails_by_client: dict[str, list[Mail]] = {}
        for mail in mails:
            if mail.client_id and mail.kind == "human":
                self.mails_by_client.setdefault(mail.client_id, []).append(mail)
        self._owners()

    def _owners(self) -> None:
        joined = self.cast.period_start - DAY * 400
        for index, manager in enumerate(self.cast.config.account_managers):
            owner_id = str(OWNER_ID_BASE + index + 1)
            self.owner_ids[manager.id] = owner_id
            first, _, last = manager.name.partition(" ")
            self.out["owners"].append(
                {
                    "id": owner_id,
                    "email": manager.email,
                    "firstName": first,
                    "lastName": last,
                    "userId": OWNER_USER_ID_BASE + index + 1,
                    "createdAt": iso_z(joined),
                    "updatedAt": iso_z(joined + DAY * 30),
                    "archived": False,
                }
            )

    # -- one client -------------------------------------------------------------------

    def add_client(self, profile: ClientProfile) -> None:
        company_id = profile.client.crm_company_id
        if company_id is None:
            return
        rng = random.Random(f"{self.seed}/crm/{profile.client.id}")
        cutoff = min(profile.end, self.cast.as_of)
        owner = self.owner_ids[profile.client.account_manager]
        deals = self._deals(rng, profile, owner, cutoff)
        first_seen = min(profile.start, *(created for _, created, _ in deals))
        company_created = first_seen - DAY * rng.randint(1, 20)
        contact_ids = self._contacts(rng, profile, company_id, owner, company_created)
        log = _EngagementLog(self.out, self.ids, company_id, owner, contact_ids, cutoff)
        self._engagements(rng, profile, log, cutoff)
        deal_ids = []
        for properties, created, updated in deals:
            deal_id = self.ids.next("deal", DEAL_ID_BASE)
            deal_ids.append(deal_id)
            self.out["deals"].append(
                _record(
                    deal_id,
                    {**properties, "hs_object_id": deal_id},
                    created,
                    updated,
                    companies=[company_id],
                    contacts=list(contact_ids.values())[:1],
                )
            )
        last_touch = max([*log.stamps, *(d[2] for d in deals)])
        client = profile.client
        # A separate stream, so these details leave the rest of the world unchanged.
        extra = random.Random(f"{self.seed}/crm-extra/{client.id}")
        budget = extra.randint(4, 30) * 10_000 if extra.random() < 0.5 else None
        self._birthdays(extra, contact_ids)
        self._invoices(profile, company_id)
        self._surveys(profile, contact_ids)
        self.out["companies"].append(
            _record(
                company_id,
                {
                    "name": client.name,
                    "domain": client.email_domains[0] if client.email_domains else None,
                    "lifecyclestage": "opportunity" if profile.is_prospect else "customer",
                    "hubspot_owner_id": owner,
                    "industry": rng.choice(INDUSTRIES),
                    "createdate": iso_z(company_created),
                    "hs_lastmodifieddate": iso_z(last_touch),
                    "hs_object_id": company_id,
                    BUDGET_PROPERTY: budget,
                },
                company_created,
                last_touch,
                contacts=list(contact_ids.values()),
                deals=deal_ids,
            )
        )

    def _invoices(self, profile: ClientProfile, company_id: str) -> None:
        """A monthly invoice from the client's first month while it stays (docs/domain.md
        §5, §7). Each client pays at its own habitual delay (some are always late, which
        is no warning sign by itself); a declining client pays later and later, and a
        churning one stops paying its last invoices. Paid after `as_of`: open today."""
        if profile.is_prospect:
            return
        # Its own stream: invoices leave the rest of the world unchanged.
        rng = random.Random(f"{self.seed}/invoices/{profile.client.id}")
        premium = profile.client.tier == "premium"
        fee = (rng.randint(8, 20) if premium else rng.randint(2, 7)) * 500
        terms = rng.choice((14, 30, 30))
        habit = rng.uniform(8, 25) if rng.random() < 0.2 else rng.uniform(-6, 4)
        tz = self.cast.agency_calendar.tz
        as_of, cutoff = self.cast.as_of, min(profile.end, self.cast.as_of)
        first = profile.start.astimezone(tz).date().replace(day=1)
        month = date(first.year + first.month // 12, first.month % 12 + 1, 1)
        while (issued_at := datetime(month.year, month.month, 1, 9, tzinfo=tz)) < cutoff:
            due_at = issued_at + DAY * terms
            late = habit + profile.decline(due_at) * rng.uniform(20, 60) + rng.gauss(0, 3)
            unpaid = profile.fate == "churned" and profile.decline(due_at) > 0.6
            paid_at = None
            if not unpaid or rng.random() >= 0.7:
                paid_at = self._at_work(rng, due_at + DAY * max(-terms, late))
            paid = paid_at is not None and paid_at <= as_of
            invoice_id = self.ids.next("invoice", INVOICE_ID_BASE)
            amount = fee * rng.choice((1, 1, 1, 1.2, 0.8))
            touched = paid_at if paid else issued_at
            self.out["invoices"].append(
                _record(
                    invoice_id,
                    {
                        "hs_number": f"INV-{month:%Y%m}-{invoice_id[-4:]}",
                        "hs_invoice_status": "paid" if paid else "open",
                        "hs_amount_billed": f"{amount:.2f}",
                        "hs_balance_due": "0.00" if paid else f"{amount:.2f}",
                        "hs_currency": INVOICE_CURRENCY,
                        "hs_invoice_date": f"{month:%Y-%m-%d}T00:00:00.000Z",
                        "hs_due_date": f"{due_at:%Y-%m-%d}T00:00:00.000Z",
                        "hs_payment_date": iso_z(paid_at) if paid else None,
                        "createdate": iso_z(issued_at),
                        "hs_lastmodifieddate": iso_z(touched),
                        "hs_object_id": invoice_id,
                    },
                    issued_at,
                    touched,
                    companies=[company_id],
                )
            )
            month = date(month.year + month.month // 12, month.month % 12 + 1, 1)

    def _surveys(self, profile: ClientProfile, contact_ids: dict[str, str]) -> None:
        """NPS answers (docs/domain.md §5): each survey, some of the client's contacts answer,
        higher the better the relationship stands that week."""
        if profile.is_prospect:
            return
        rng = random.Random(f"{self.seed}/surveys/{profile.client.id}")
        calendar = self.cast.agency_calendar
        cutoff = min(profile.end, self.cast.as_of)
        for week in weeks(profile.start, cutoff):
            day = week.astimezone(calendar.tz).date()
            if day.month not in SURVEY_MONTHS or day.day > 7:
                continue  # one survey week, the first of the month
            for email, contact_id in list(contact_ids.items())[:3]:
                if rng.random() >= 0.5:
                    continue
                at = calendar.working_moment(rng, day + DAY * rng.randint(0, 4))
                if at >= cutoff:
                    continue
                health = profile.health(at)
                score = max(0, min(10, round(3 + 7 * health + rng.gauss(0, 1.2))))
                response_id = self.ids.next("feedback", FEEDBACK_ID_BASE)
                self.out["feedback_submissions"].append(
                    _record(
                        response_id,
                        {
                            "hs_survey_type": "NPS",
                            "hs_survey_name": "Client NPS",
                            "hs_value": score,
                            "hs_submission_timestamp": iso_z(at),
                            "hs_contact_email": email,
                            "createdate": iso_z(at),
                            "hs_lastmodifieddate": iso_z(at),
                            "hs_object_id": response_id,
                        },
                        at,
                        at,
                        contacts=[contact_id],
                    )
                )

    def _birthdays(self, rng: random.Random, contact_ids: dict[str, str]) -> None:
        """Some contacts' dates of birth are known (a date worth a greeting, docs/domain.md §4)."""
        wanted = set(contact_ids.values())
        for record in self.out["contacts"]:
            if record["id"] in wanted and rng.random() < 0.4:
                born = date(rng.randint(1965, 1995), rng.randint(1, 12), rng.randint(1, 28))
                record["properties"]["date_of_birth"] = born.isoformat()

    def _contacts(
        self,
        rng: random.Random,
        profile: ClientProfile,
        company_id: str,
        owner: str,
        since: datetime,
    ) -> dict[str, str]:
        """Contacts are added between the company's creation and the first activity."""
        ids: dict[str, str] = {}
        for contact in profile.contacts:
            person = contact.person
            created = since + (profile.start - since) * rng.uniform(0.05, 0.95)
            contact_id = self.ids.next("contact", CONTACT_ID_BASE)
            ids[person.email] = contact_id
            self.out["contacts"].append(
                _record(
                    contact_id,
                    {
                        "email": person.email,
                        "firstname": person.name.first,
                        "lastname": person.name.last,
                        "jobtitle": person.title,
                        "hubspot_owner_id": owner,
                        "createdate": iso_z(created),
                        "lastmodifieddate": iso_z(created),
                        "hs_object_id": contact_id,
                    },
                    created,
                    created,
                    companies=[company_id],
                )
            )
        return ids

    def _deals(
        self, rng: random.Random, profile: ClientProfile, owner: str, cutoff: datetime
    ) -> list[tuple[dict, datetime, datetime]]:
        """(properties, created, last modified) per deal, oldest first.

        An initial deal, then repeat orders while the client is well; a churned client's
        last renewal is lost before it leaves, an at-risk client's renewal stalls.
        """
        premium = profile.client.tier == "premium"
        amount = rng.randint(6, 15) * 1000 if premium else rng.randint(2, 6) * 1000
        deals: list[tuple[dict, datetime, datetime]] = []

        def deal(
            name: str, stage: str, created: datetime, closes: datetime, updated: datetime
        ) -> None:
            created, closes, updated = (self._at_work(rng, t) for t in (created, closes, updated))
            deals.append(
                (
                    {
                        "dealname": f"{profile.client.name} — {name}",
                        "amount": amount,
                        "dealstage": stage,
                        "pipeline": "default",
                        "closedate": iso_z(closes),
                        "hubspot_owner_id": owner,
                        "createdate": iso_z(created),
                        "hs_lastmodifieddate": iso_z(updated),
                    },
                    created,
                    updated,
                )
            )

        as_of = self.cast.as_of
        if profile.is_prospect:
            created = profile.start + DAY * rng.randint(0, 7)
            progress = (as_of - created) / (DAY * 70)
            stage = OPEN_STAGES[min(len(OPEN_STAGES) - 2, int(progress * 4))]
            deal(
                "first project",
                stage,
                created,
                as_of + DAY * rng.randint(14, 45),
                created + (as_of - DAY - created) * rng.uniform(0.5, 1),
            )
            return deals
        existed_before = profile.start == self.cast.period_start
        created = profile.start - DAY * (
            rng.randint(120, 400) if existed_before else rng.randint(20, 45)
        )
        closed = min(created + DAY * rng.randint(15, 40), profile.start - DAY)
        deal("initial project", "closedwon", created, closed, closed)
        well_until = profile.decline_from or cutoff
        moment = profile.start + DAY * rng.randint(45, 100)
        while moment < well_until:
            closes = moment + DAY * rng.randint(10, 40)
            name = f"repeat order #{len(deals) + 1}"
            if closes < cutoff:
                amount = int(amount * rng.uniform(0.9, 1.25) / 100) * 100
                deal(name, "closedwon", moment, closes, closes)
            else:
                deal(
                    name,
                    rng.choice(OPEN_STAGES[2:]),
                    moment,
                    closes,
                    moment + (cutoff - moment) * rng.uniform(0.2, 0.9),
                )
            moment = closes + DAY * rng.randint(30, 90)
        if profile.decline_from is not None:
            renewal = profile.decline_from + (cutoff - profile.decline_from) * rng.uniform(0.1, 0.4)
            if profile.fate == "churned":
                lost = cutoff - DAY * rng.randint(2, 10)
                deal("renewal", "closedlost", renewal, lost, lost)
            else:  # stalls: nobody has touched it since soon after it was opened
                deal(
                    "renewal",
                    "presentationscheduled",
                    renewal,
                    as_of + DAY * 30,
                    renewal + DAY * rng.randint(1, 5),
                )
        return deals

    def _at_work(self, rng: random.Random, moment: datetime) -> datetime:
        """The same day at a random working-hours time (CRM edits happen at work)."""
        calendar = self.cast.agency_calendar
        return calendar.working_moment(rng, moment.astimezone(calendar.tz).date())

    # -- engagements ------------------------------------------------------------------

    def _engagements(
        self, rng: random.Random, profile: ClientProfile, log: _EngagementLog, cutoff: datetime
    ) -> None:
        """Calls, notes, meetings (a monthly on-site visit when things go well), logged mail."""
        calendar = self.cast.agency_calendar
        people = [c.person for c in profile.contacts]
        for week in weeks(profile.start, cutoff):
            activity = profile.activity(min(week + WEEK / 2, cutoff - DAY))
            days = calendar.business_days(week, week + WEEK - DAY)
            if not days:
                continue
            for _ in range(poisson(rng, 0.6 * activity)):
                log.add(
                    "calls",
                    calendar.working_moment(rng, rng.choice(days)),
                    rng.choice(people),
                    {
                        "hs_call_title": rng.choice(CALL_TITLES),
                        "hs_call_duration": rng.randint(2, 45) * 60_000,
                        "hs_call_direction": rng.choice(("OUTBOUND", "INBOUND")),
                        "hs_call_status": "COMPLETED",
                    },
                )
            for _ in range(poisson(rng, 0.3 * activity)):
                log.add(
                    "notes",
                    calendar.working_moment(rng, rng.choice(days)),
                    rng.choice(people),
                    {"hs_note_body": rng.choice(NOTE_TEXTS)},
                )
            places = [rng.choice(MEETING_PLACES) for _ in range(poisson(rng, 0.25 * activity))]
            if rng.random() < 0.25 * profile.health(week):
                places.append(ON_SITE)
            for place in places:
                moment = calendar.working_moment(rng, rng.choice(days))
                log.add("meetings", moment, rng.choice(people), _meeting(rng, moment, place))
        if profile.end >= self.cast.as_of and profile.health(self.cast.as_of - DAY) > 0.5:
            day = (self.cast.as_of + DAY * rng.randint(1, 9)).astimezone(calendar.tz).date()
            upcoming = calendar.working_moment(rng, day)
            log.add(
                "meetings",
                upcoming,
                people[0],
                _meeting(rng, upcoming, ON_SITE, booked=True),
                created=self.cast.as_of - DAY * rng.randint(1, 5),
            )
        for mail in self.mails_by_client.get(profile.client.id, []):
            client_side = next(
                (p for p in (mail.sender, *mail.to) if p.email in log.contact_ids), None
            )
            if client_side is None or rng.random() >= LOGGED_EMAIL_SHARE:
                continue
            log.add(
                "emails",
                mail.sent_at,
                client_side,
                {
                    "hs_email_direction": "INCOMING_EMAIL" if mail.from_client else "EMAIL",
                    "hs_email_subject": mail.subject,
                    "hs_email_status": "SENT",
                },
            )

    def build(self) -> dict:
        for profile in self.cast.profiles:
            self.add_client(profile)
        return self.out


def generate_crm(cast: Cast, seed: int, mails: list[Mail]) -> dict:
    return _CrmBuilder(cast, seed, mails).build()
