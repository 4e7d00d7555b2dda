"""HubSpot → raw: companies, contacts, deals and engagements with their associations.

The first run lists every object; later runs ask the search API for records modified
since the cursor (minus a lookback for HubSpot's search-index lag) and read the
associations of those records in batches. Records are upserted by (type, id), so the
overlap costs nothing but a few calls.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

from clientpulse.config import AgencyConfig
from clientpulse.pipeline.runlog import run_step
from connectors.hubspot import HubSpotClient
from warehouse.cursors import get_cursor, set_cursor
from warehouse.db import open_writer, transaction
from warehouse.load import upsert

SOURCE = "hubspot"
INDEX_LAG_LOOKBACK = timedelta(minutes=10)

PROPERTIES: dict[str, list[str]] = {
    "companies": ["name", "domain", "lifecyclestage", "hubspot_owner_id", "industry"],
    "contacts": ["email", "firstname", "lastname", "jobtitle", "hubspot_owner_id"],
    "deals": ["dealname", "amount", "dealstage", "pipeline", "closedate", "hubspot_owner_id"],
    "calls": ["hs_timestamp", "hs_call_title", "hs_call_duration", "hubspot_owner_id"],
    "meetings": [
        "hs_timestamp",
        "hs_meeting_title",
        "hs_meeting_outcome",
        "hs_meeting_location",
        "hubspot_owner_id",
    ],
    "notes": ["hs_timestamp", "hubspot_owner_id"],
    "emails": ["hs_timestamp", "hs_email_direction", "hs_email_subject", "hubspot_owner_id"],
}
ASSOCIATIONS: dict[str, tuple[str, ...]] = {
    "companies": (),
    "contacts": ("companies",),
    "deals": ("companies", "contacts"),
    "calls": ("companies", "contacts"),
    "meetings": ("companies", "contacts"),
    "notes": ("companies", "contacts"),
    "emails": ("companies", "contacts"),
}


def _row(object_type: str, record: dict[str, Any], now: datetime) -> dict[str, Any]:
    updated = record.get("updatedAt")
    return {
        "object_type": object_type,
        "id": str(record["id"]),
        "updated_at": datetime.fromisoformat(updated) if updated else None,
        "archived": bool(record.get("archived", False)),
        "payload": json.dumps(record, ensure_ascii=False),
        "extracted_at": now,
    }


def _attach_associations(
    client: HubSpotClient, object_type: str, records: list[dict[str, Any]]
) -> None:
    """Give search results the `associations` id lists that list results carry."""
    ids = [str(r["id"]) for r in records]
    for to_type in ASSOCIATIONS[object_type]:
        linked = client.batch_associations(object_type, to_type, ids)
        for record in records:
            record.setdefault("associations", {})[to_type] = linked.get(str(record["id"]), [])


def ingest_crm(config: AgencyConfig, client: HubSpotClient, run_id: str) -> dict[str, Any]:
    with open_writer(config.warehouse.path) as con, run_step(con, run_id, "ingest_crm") as stats:
        now = datetime.now(UTC)
        for object_type, properties in PROPERTIES.items():
            cursor = get_cursor(con, SOURCE, object_type)
            if cursor is None:
                pages = client.list_pages(
                    object_type, properties, associations=ASSOCIATIONS[object_type]
                )
            else:
                since = datetime.fromisoformat(cursor) - INDEX_LAG_LOOKBACK
                pages = client.search_modified_since(object_type, since, properties)
            loaded = 0
            high_water = datetime.fromisoformat(cursor) if cursor else None
            for page in pages:
                if cursor is not None:
                    _attach_associations(client, object_type, page)
                rows = [_row(object_type, r, now) for r in page]
                with transaction(con):
                    loaded += upsert(con, "raw.crm_objects", rows, ["object_type", "id"])
                stamps = [r["updated_at"] for r in rows if r["updated_at"] is not None]
                if stamps and (high_water is None or max(stamps) > high_water):
                    high_water = max(stamps)
            if high_water is not None:
                with transaction(con):
                    set_cursor(con, SOURCE, object_type, high_water.isoformat())
            stats[object_type] = loaded
        stats["api_requests"] = client.stats.requests
        return dict(stats)
