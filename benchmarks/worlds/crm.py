"""The HubSpot portal of an independent world, in the shapes the fake serves.

Every client has a company, its contacts, and deals: the first won deal when the
relationship started, then its contract's renewals (a yearly or quarterly retainer won
again each term; project clients win a new project every few months) and upsell
proposals, of which about half are lost by clients who stay. A churned client's last
renewal is lost: on the decline's first day for a budget cut, a few days before it
leaves otherwise. Calls and meetings follow the client's activity.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import numpy as np

from .asana import stamp
from .cast import AS_OF, START, Agency, Client
from .draw import pick
from .texts import PROPOSALS

JsonObject = dict[str, Any]
TERM_DAYS = {"yearly": 365, "quarterly": 91, "projects": 120}


def _moment(day: date, rng: np.random.Generator) -> datetime:
    return datetime.combine(day, datetime.min.time(), UTC) + timedelta(
        hours=float(rng.uniform(8, 16))
    )


def _record(
    obj_id: str, properties: dict, created: datetime, updated: datetime, **assoc
) -> JsonObject:
    properties = {
        **properties,
        "createdate": stamp(created),
        "hs_lastmodifieddate": stamp(updated),
        "hs_object_id": obj_id,
    }
    associations = {"companies": [], "contacts": [], "deals": []} | assoc
    return {
        "id": obj_id,
        "properties": properties,
        "createdAt": stamp(created),
        "updatedAt": stamp(updated),
        "archived": False,
        "associations": associations,
    }


class CrmWriter:
    def __init__(self, agency: Agency, rng: np.random.Generator) -> None:
        self.agency, self.rng = agency, rng
        self.owner_of: dict[str, str] = {}
        self.data: dict[str, list[JsonObject]] = {
            key: [] for key in ("owners", "companies", "contacts", "deals", "calls", "meetings")
        } | {"notes": [], "emails": []}
        since = datetime.combine(START - timedelta(days=1000), datetime.min.time(), UTC)
        for i, manager in enumerate(agency.managers, 1):
            first, _, last = manager.person.name.partition(" ")
            owner = {
                "id": f"7110000{i}",
                "email": manager.person.email,
                "firstName": first,
                "lastName": last,
                "userId": 9200000 + i,
                "createdAt": stamp(since),
                "updatedAt": stamp(since),
                "archived": False,
            }
            self.data["owners"].append(owner)
            self.owner_of[manager.id] = owner["id"]
        self._ids = 0
        self._contact_ids: dict[str, list[str]] = {}

    def _id(self, base: int) -> str:
        self._ids += 1
        return str(base + self._ids)

    def _deal(
        self,
        client: Client,
        name: str,
        amount: float,
        opened: date,
        closed: date | None,
        stage: str,
    ) -> str:
        rng = self.rng
        created = _moment(opened, rng)
        closing = _moment(closed, rng) if closed else created + timedelta(days=30)
        updated = min(closing, AS_OF - timedelta(hours=1)) if closed else created
        deal_id = self._id(52_000_000_000)
        properties = {
            "dealname": f"{client.name} — {name}",
            "amount": str(int(amount)),
            "dealstage": stage,
            "pipeline": "default",
            "closedate": stamp(closing),
            "hubspot_owner_id": self.owner_of[client.manager],
        }
        contact = self._contact_ids[client.id][0]
        self.data["deals"].append(
            _record(
                deal_id,
                properties,
                created,
                updated,
                companies=[client.company_id],
                contacts=[contact],
            )
        )
        return deal_id

    def client(self, client: Client) -> None:
        rng, fate = self.rng, client.fate
        created = _moment(client.since - timedelta(days=20), rng)
        contact_ids = []
        for contact in client.contacts:
            first, _, last = contact.person.name.partition(" ")
            added = max(contact.active_from, client.since)
            contact_id = self._id(81_000)
            contact_ids.append(contact_id)
            properties = {
                "email": contact.person.email,
                "firstname": first,
                "lastname": last,
                "jobtitle": contact.person.title or "Marketing Manager",
                "hubspot_owner_id": self.owner_of[client.manager],
            }
            when = _moment(added, rng)
            self.data["contacts"].append(
                _record(contact_id, properties, when, when, companies=[client.company_id])
            )
        self._contact_ids[client.id] = contact_ids
        end = fate.left if fate.story else None
        deals = self._deals(client, end)
        company = {
            "name": client.name,
            "domain": client.domain,
            "lifecyclestage": "customer",
            "hubspot_owner_id": self.owner_of[client.manager],
            "annual_marketing_budget": str(int(rng.integers(3, 30)) * 10_000),
        }
        self.data["companies"].append(
            _record(client.company_id, company, created, created, contacts=contact_ids, deals=deals)
        )
        self._engagements(client, contact_ids)

    def _deals(self, client: Client, end: date | None) -> list[str]:
        rng, fate = self.rng, client.fate
        term = TERM_DAYS[client.contract]
        fee = float(rng.integers(2, 20)) * 1000 * (term / 91)
        label = "project" if client.contract == "projects" else f"{client.contract} retainer"
        deals = [
            self._deal(
                client,
                f"first {label}",
                fee,
                client.since - timedelta(days=25),
                client.since,
                "closedwon",
            )
        ]
        lost_on = None
        if fate.story == "budget":
            lost_on = fate.decline
        elif fate.story:
            lost_on = fate.left - timedelta(days=int(rng.integers(1, 4)))
        renewal = client.since + timedelta(days=term)
        n = 2
        while renewal < AS_OF.date() + timedelta(days=20) and (
            lost_on is None or renewal < lost_on
        ):
            closed = renewal if renewal < AS_OF.date() else None
            stage = "closedwon" if closed else "contractsent"
            name = f"project #{n}" if client.contract == "projects" else f"renewal #{n}"
            deals.append(self._deal(client, name, fee, renewal - timedelta(days=28), closed, stage))
            renewal += timedelta(days=term + int(rng.integers(-10, 10)))
            n += 1
        if lost_on is not None:
            name = f"renewal #{n}" if client.contract != "projects" else f"project #{n}"
            deals.append(
                self._deal(client, name, fee, lost_on - timedelta(days=30), lost_on, "closedlost")
            )
        if fate.lookalike == "budget":
            deals.append(
                self._deal(
                    client,
                    "proposal: " + PROPOSALS[0],
                    fee * 2,
                    fate.decline - timedelta(days=21),
                    fate.decline,
                    "closedlost",
                )
            )
            won = fate.decline + timedelta(days=int(rng.integers(21, 56)))
            if won < AS_OF.date():
                deals.append(
                    self._deal(
                        client, "retainer renewal", fee, won - timedelta(days=28), won, "closedwon"
                    )
                )
        last = end or AS_OF.date()
        for _ in range(int(rng.poisson(1.5 * (last - START).days / 365))):
            opened = START + timedelta(days=int(rng.integers(0, max((last - START).days - 40, 1))))
            closed = opened + timedelta(days=int(rng.integers(10, 40)))
            stage = str(rng.choice(["closedwon", "closedlost"], p=[0.5, 0.5]))
            proposal = "proposal: " + pick(rng, PROPOSALS)
            deals.append(
                self._deal(client, proposal, fee * rng.uniform(0.5, 2), opened, closed, stage)
            )
        return deals

    def _engagements(self, client: Client, contact_ids: list[str]) -> None:
        rng, agency, fate = self.rng, self.agency, client.fate
        for week in range((AS_OF.date() - START).days // 7):
            monday = START + timedelta(weeks=week)
            if not fate.active(monday):
                break
            level = agency.seasons.factor(monday) * fate.mail(monday)
            for kind, rate in (("meetings", 0.3), ("calls", 0.4)):
                for _ in range(int(rng.poisson(rate * level))):
                    day = monday + timedelta(days=int(rng.integers(0, 5)))
                    if not fate.active(day):
                        continue
                    when = _moment(day, rng)
                    obj_id = self._id(61_000_000_000)
                    properties = {
                        "hs_timestamp": stamp(when),
                        "hubspot_owner_id": self.owner_of[client.manager],
                    }
                    if kind == "meetings":
                        end = when + timedelta(hours=1)
                        properties |= {
                            "hs_meeting_title": "Status meeting",
                            "hs_meeting_outcome": "COMPLETED",
                            "hs_meeting_location": "Zoom",
                            "hs_meeting_start_time": stamp(when),
                            "hs_meeting_end_time": stamp(end),
                        }
                    else:
                        properties |= {
                            "hs_call_title": "Check-in",
                            "hs_call_duration": str(int(rng.integers(5, 40)) * 60_000),
                            "hs_call_direction": "OUTBOUND",
                            "hs_call_status": "COMPLETED",
                        }
                    contact = contact_ids[int(rng.integers(len(contact_ids)))]
                    self.data[kind].append(
                        _record(
                            obj_id,
                            properties,
                            when,
                            when,
                            companies=[client.company_id],
                            contacts=[contact],
                        )
                    )


def generate_crm(agency: Agency, rng: np.random.Generator) -> JsonObject:
    writer = CrmWriter(agency, rng)
    for client in agency.clients:
        writer.client(client)
    return writer.data
