"""A synthetic HubSpot portal of any size, for sync tests and the CRM benchmark.

Unlike the agency simulator it makes no story, only volume: companies with their
contacts, deals and engagements, every record linked to its company (and the
engagements and deals to a contact), modification times spread over the year before
`until`. Output is the `hubspot_data` form `sandbox.fake_hubspot.create_app` takes.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from typing import Any

from sandbox.fake_hubspot import iso_ms, modified_property

ENGAGEMENT_TYPES = ("calls", "meetings", "notes", "emails")
OWNER_BASE, COMPANY_BASE, CONTACT_BASE, DEAL_BASE, ENGAGEMENT_BASE = (
    70_000,
    1_000_000,
    2_000_000,
    3_000_000,
    4_000_000,
)


def _record(
    object_type: str, object_id: int, moment: datetime, properties: dict[str, Any], **links: list
) -> dict[str, Any]:
    stamp = iso_ms(moment)
    return {
        "id": str(object_id),
        "properties": {
            "hs_object_id": str(object_id),
            "createdate": stamp,
            modified_property(object_type): stamp,
            **{k: None if v is None else str(v) for k, v in properties.items()},
        },
        "createdAt": stamp,
        "updatedAt": stamp,
        "archived": False,
        "associations": {k: [str(i) for i in v] for k, v in links.items()},
    }


def synthetic_portal(
    companies: int,
    until: datetime,
    *,
    contacts_per_company: int = 4,
    deals_per_company: int = 2,
    engagements_per_company: int = 12,
    seed: int = 1,
) -> dict[str, list[dict[str, Any]]]:
    """`companies` companies and their records, last modified within the year before `until`."""
    rng = random.Random(seed)
    owners = [
        {
            "id": str(OWNER_BASE + i),
            "email": f"owner{i}@agency.example",
            "firstName": f"Owner{i}",
            "lastName": "Example",
            "userId": 900 + i,
            "createdAt": iso_ms(until - timedelta(days=900)),
            "updatedAt": iso_ms(until - timedelta(days=800)),
            "archived": False,
        }
        for i in range(3)
    ]
    data: dict[str, list[dict[str, Any]]] = {"owners": owners, "companies": [], "contacts": []}
    data.update({"deals": [], **{t: [] for t in ENGAGEMENT_TYPES}})
    ids = {"contacts": CONTACT_BASE, "deals": DEAL_BASE, "engagements": ENGAGEMENT_BASE}

    def moment() -> datetime:
        return until - timedelta(seconds=rng.randrange(1, 365 * 86_400))

    for index in range(companies):
        company = COMPANY_BASE + index
        owner = owners[index % len(owners)]["id"]
        contacts = []
        for n in range(contacts_per_company):
            ids["contacts"] += 1
            contacts.append(ids["contacts"])
            properties = {"email": f"p{n}@c{index}.example", "jobtitle": "Brand Manager"}
            data["contacts"].append(
                _record("contacts", ids["contacts"], moment(), properties, companies=[company])
            )
        for n in range(deals_per_company):
            ids["deals"] += 1
            properties = {
                "dealname": f"Deal {n} of {index}",
                "amount": rng.randint(1, 20) * 1000,
                "dealstage": rng.choice(("closedwon", "closedlost", "contractsent")),
                "pipeline": "default",
                "closedate": iso_ms(moment()),
                "hubspot_owner_id": owner,
            }
            data["deals"].append(
                _record(
                    "deals",
                    ids["deals"],
                    moment(),
                    properties,
                    companies=[company],
                    contacts=contacts[:1],
                )
            )
        for n in range(engagements_per_company):
            ids["engagements"] += 1
            kind = ENGAGEMENT_TYPES[n % len(ENGAGEMENT_TYPES)]
            at = moment()
            data[kind].append(
                _record(
                    kind,
                    ids["engagements"],
                    at,
                    {"hs_timestamp": iso_ms(at), "hubspot_owner_id": owner},
                    companies=[company],
                    contacts=[rng.choice(contacts)] if contacts else [],
                )
            )
        data["companies"].append(
            _record(
                "companies",
                company,
                moment(),
                {"name": f"Company {index}", "domain": f"c{index}.example"},
                contacts=contacts,
            )
        )
    return data
