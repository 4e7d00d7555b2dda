"""HubSpot → raw: owners, companies, contacts, deals and engagements with associations.

The first run lists every object, remembering the paging cursor after each committed
page so a listing cut short (HubSpot's daily quota) resumes where it stood. Later runs
ask the search API for records modified since the cursor, minus a lookback for the
search index's lag, and read their associations in batches of up to 1,000. Each batch
is committed together with the cursor that covers it. Every run also lists the recycle
bin (`archived=true`): archived records become tombstones (`archived`, `archived_at`)
that staging leaves out. Records are upserted by (type, id), so overlaps cost nothing
but a few calls.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb

from connectors.crm.cursors import HubspotCursors, ListingProgress
from connectors.crm.hubspot import (
    ASSOCIATION_BATCH_SIZE,
    DailyLimitReached,
    HubSpotClient,
    modified_property,
)
from connectors.crm.settings import CrmSource
from connectors.errors import ApiError
from warehouse.db import open_writer, transaction
from warehouse.load import upsert
from warehouse.runlog import run_step

log = logging.getLogger(__name__)

INDEX_LAG_LOOKBACK = timedelta(minutes=10)
KEY = ["object_type", "id"]

PROPERTIES: dict[str, list[str]] = {
    "companies": ["name", "domain", "lifecyclestage", "hubspot_owner_id", "industry"],
    "contacts": ["email", "firstname", "lastname", "jobtitle", "date_of_birth", "hubspot_owner_id"],
    "deals": [
        "dealname",
        "amount",
        "dealstage",
        "pipeline",
        "closedate",
        "dealtype",
        "hubspot_owner_id",
    ],
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
    "invoices": [
        "hs_number",
        "hs_invoice_status",
        "hs_amount_billed",
        "hs_balance_due",
        "hs_currency",
        "hs_invoice_date",
        "hs_due_date",
        "hs_payment_date",
    ],
    # survey answers; the comment (hs_content) only when sources.crm.keep_feedback_comments
    "feedback_submissions": [
        "hs_survey_type",
        "hs_survey_name",
        "hs_value",
        "hs_response_group",
        "hs_submission_timestamp",
    ],
}
ASSOCIATIONS: dict[str, tuple[str, ...]] = {
    "companies": (),
    "contacts": ("companies",),
    "deals": ("companies", "contacts"),
    "calls": ("companies", "contacts"),
    "meetings": ("companies", "contacts"),
    "notes": ("companies", "contacts"),
    "emails": ("companies", "contacts"),
    "invoices": ("companies",),
    "feedback_submissions": ("contacts",),
}
# Types an agency may not use or not grant: without their read scope HubSpot answers 403,
# and the sync goes on without them instead of failing the whole CRM.
OPTIONAL_TYPES = frozenset({"invoices", "feedback_submissions"})


def crm_properties(crm: CrmSource | None, wanted: list[str]) -> dict[str, list[str]]:
    """The properties fetched per type: ours plus the custom company ones the source names
    and the `wanted` ones (those the signals read, e.g. segmentation inputs)."""
    extra = [*crm.company_properties] if crm else []
    if crm and crm.budget_property:
        extra.append(crm.budget_property)
    extra += wanted
    companies = list(dict.fromkeys([*PROPERTIES["companies"], *extra]))
    feedback = PROPERTIES["feedback_submissions"]
    if crm and crm.keep_feedback_comments:
        feedback = [*feedback, "hs_content"]
    return {**PROPERTIES, "companies": companies, "feedback_submissions": feedback}


def _timestamp(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def crm_row(object_type: str, record: dict[str, Any], now: datetime) -> dict[str, Any]:
    """A `raw.crm_objects` row for a record in HubSpot's v3 shape."""
    return {
        "object_type": object_type,
        "id": str(record["id"]),
        "updated_at": _timestamp(record.get("updatedAt")),
        "archived": bool(record.get("archived", False)),
        "archived_at": _timestamp(record.get("archivedAt")),
        "payload": json.dumps(record, ensure_ascii=False),
        "extracted_at": now,
    }


def _batches(pages: Iterable[list[dict[str, Any]]], size: int) -> Iterator[list[dict[str, Any]]]:
    """Search pages regrouped into batches of `size` records (one association read each)."""
    batch: list[dict[str, Any]] = []
    for page in pages:
        batch.extend(page)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


class _HubSpotSync:
    """One run's work against one warehouse connection; fills `stats` as it goes."""

    def __init__(
        self,
        con: duckdb.DuckDBPyConnection,
        client: HubSpotClient,
        properties: dict[str, list[str]],
        stats: dict[str, Any],
    ) -> None:
        self.con = con
        self.cursors = HubspotCursors(con)
        self.client = client
        self.properties = properties
        self.stats = stats
        self.now = datetime.now(UTC)

    def _load(self, object_type: str, records: list[dict[str, Any]]) -> int:
        rows = [crm_row(object_type, r, self.now) for r in records]
        return upsert(self.con, "raw.crm_objects", rows, KEY)

    def owners(self) -> None:
        """Owners are few (one page of 500 a list): the active ones every run; the
        deactivated ones only when a record names an owner the active list lacks."""
        active = self.client.owners()
        referenced = {
            owner_id
            for (owner_id,) in self.con.execute(
                "SELECT DISTINCT payload -> 'properties' ->> 'hubspot_owner_id' "
                "FROM raw.crm_objects WHERE object_type <> 'owners'"
            ).fetchall()
            if owner_id
        }
        missing = referenced - {str(o["id"]) for o in active}
        deactivated = self.client.owners(archived=True) if missing else []
        with transaction(self.con):
            self.stats["owners"] = self._load("owners", active + deactivated)

    def read(self, object_type: str) -> None:
        """Live records, then the recycle bin; an optional type without its scope is
        skipped with a warning that names the scope."""
        try:
            self.live(object_type)
            self.archived(object_type)
        except ApiError as exc:
            if object_type not in OPTIONAL_TYPES or exc.status != 403:
                raise
            reason = f"not read: the private app lacks crm.objects.{object_type}.read ({exc})"
            log.warning("HubSpot %s %s", object_type, reason)
            self.stats[f"{object_type}_skipped"] = reason

    def live(self, object_type: str) -> None:
        since = self.cursors.modified_since(object_type)
        if since is None:
            self._first_listing(object_type)
        else:
            self._changed_since(object_type, since)

    def _first_listing(self, object_type: str) -> None:
        """List everything; afterwards search from when the listing started."""
        progress = self.cursors.listing(object_type) or ListingProgress(None, self.now.isoformat())
        pages = self.client.list_pages_from(
            object_type,
            self.properties[object_type],
            progress.after,
            associations=ASSOCIATIONS[object_type],
        )
        for page in pages:
            with transaction(self.con):
                self.stats[object_type] += self._load(object_type, page.records)
                if page.next_after is not None:
                    progress.after = page.next_after
                    self.cursors.save_listing(object_type, progress)
                else:
                    # Changes made while the listing ran are at or after its start.
                    self.cursors.finish_listing(object_type, progress)

    def _changed_since(self, object_type: str, cursor: datetime) -> None:
        since = cursor - INDEX_LAG_LOOKBACK
        modified = modified_property(object_type)
        pages = self.client.search_modified_since(object_type, since, self.properties[object_type])
        for batch in _batches(pages, ASSOCIATION_BATCH_SIZE):
            self._attach_associations(object_type, batch)
            newest = max(datetime.fromisoformat(r["properties"][modified]) for r in batch)
            with transaction(self.con):
                self.stats[object_type] += self._load(object_type, batch)
                if newest > cursor:
                    cursor = newest
                    self.cursors.set_modified_since(object_type, cursor)

    def _attach_associations(self, object_type: str, records: list[dict[str, Any]]) -> None:
        """Give search results the `associations` id lists that list results carry."""
        ids = [str(r["id"]) for r in records]
        for to_type in ASSOCIATIONS[object_type]:
            linked = self.client.batch_associations(object_type, to_type, ids)
            for record in records:
                record.setdefault("associations", {})[to_type] = linked.get(str(record["id"]), [])

    def archived(self, object_type: str) -> None:
        """The recycle bin, whole: search never returns archived records."""
        pages = self.client.list_pages(object_type, self.properties[object_type], archived=True)
        for page in pages:
            with transaction(self.con):
                self.stats[f"{object_type}_archived"] += self._load(object_type, page)


def ingest_crm(
    properties: dict[str, list[str]], warehouse: Path, client: HubSpotClient, run_id: str
) -> dict[str, Any]:
    """Sync HubSpot into `raw.crm_objects`; stops cleanly when the daily quota is spent.

    Everything committed before the quota ran out stays, with cursors that cover
    exactly it, so the next run resumes instead of starting over.
    """
    with open_writer(warehouse) as con, run_step(con, run_id, "ingest_crm") as stats:
        stats.update({t: 0 for t in properties} | {f"{t}_archived": 0 for t in properties})
        sync = _HubSpotSync(con, client, properties, stats)
        try:
            for object_type in properties:
                sync.read(object_type)
            sync.owners()  # last: this run's records name the owners to look for
        except DailyLimitReached as exc:
            log.warning("%s; what was fetched is committed and the next run resumes", exc)
            stats["stopped"] = str(exc)
        stats["api_requests"] = client.stats.requests
        return dict(stats)
