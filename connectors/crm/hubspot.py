"""HubSpot CRM connector: paged listing, incremental search, owners, associations.

Built on `JsonApiClient`: a token bucket keeps the client inside HubSpot's ten-second
burst budget (and a second one inside the search endpoints' per-second budget), a
429 waits `Retry-After`, and a 429 for the *daily* quota stops at once with
`DailyLimitReached` so a run can end cleanly and resume tomorrow.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any

import requests

from connectors.errors import ConnectorError
from connectors.http import ApiStats, JsonApiClient, TokenBucket

LIST_PAGE_SIZE = 100
SEARCH_PAGE_SIZE = 200
SEARCH_RESULT_CAP = 10_000  # HubSpot answers 400 to any search page past this many results
ASSOCIATION_BATCH_SIZE = 1_000
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class DailyLimitReached(ConnectorError):
    """HubSpot's daily request quota is spent; retrying before it resets is pointless."""


def modified_property(object_type: str) -> str:
    """Contacts keep their modification time in `lastmodifieddate`, other objects in `hs_...`."""
    return "lastmodifieddate" if object_type == "contacts" else "hs_lastmodifieddate"


def _epoch_ms(moment: datetime) -> int:
    """Exact milliseconds since the epoch (float timestamps can be off by one)."""
    if moment.tzinfo is None:
        raise ValueError("HubSpot timestamps need a timezone-aware datetime")
    return (moment - EPOCH) // timedelta(milliseconds=1)


def _error_detail(response: requests.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.text[:200]
    if not isinstance(body, dict):
        return str(body)[:200]
    category = body.get("category") or body.get("policyName") or "error"
    return f"{category}: {body.get('message', '')} (correlationId {body.get('correlationId')})"


def _daily_limit(response: requests.Response) -> ConnectorError | None:
    if response.status_code != 429:
        return None
    try:
        policy = response.json().get("policyName")
    except (ValueError, AttributeError):
        return None
    if policy != "DAILY":
        return None
    path = response.request.path_url.split("?")[0] if response.request else "?"
    return DailyLimitReached(f"HubSpot {path}: daily API request limit reached; resume after reset")


@dataclass(frozen=True)
class ListedPage:
    """One page of a listing and the cursor of the page after it (None on the last)."""

    records: list[dict[str, Any]]
    next_after: str | None


@dataclass
class _Watermark:
    """Where a modified-since scan stands: the last timestamp yielded and the ids yielded at it."""

    ms: int
    ids_at_ms: set[str] = field(default_factory=set)

    def take(self, page: list[dict[str, Any]], modified: str) -> list[dict[str, Any]]:
        """The records of an ascending page not yet yielded; advances the watermark."""
        fresh = []
        for record in page:
            record_ms = _epoch_ms(datetime.fromisoformat(record["properties"][modified]))
            if record_ms == self.ms and record["id"] in self.ids_at_ms:
                continue
            if record_ms > self.ms:
                self.ms, self.ids_at_ms = record_ms, set()
            if record_ms == self.ms:
                self.ids_at_ms.add(record["id"])
            fresh.append(record)
        return fresh


class _SearchQuery:
    """One search query, paged ascending on `sort_by` until it ends or reaches the cap.

    After iterating, `capped` tells whether more results lay beyond HubSpot's cap.
    """

    def __init__(
        self,
        search: Callable[[dict[str, Any]], dict[str, Any]],
        filters: list[dict[str, Any]],
        sort_by: str,
        properties: list[str],
    ) -> None:
        self._search = search
        self._body = {
            "filterGroups": [{"filters": filters}],
            "sorts": [{"propertyName": sort_by, "direction": "ASCENDING"}],
            "properties": properties,
            "limit": SEARCH_PAGE_SIZE,
        }
        self.capped = False

    def __iter__(self) -> Iterator[list[dict[str, Any]]]:
        after = 0
        while True:
            answer = self._search({**self._body, "after": after})
            yield answer.get("results", [])
            next_after = answer.get("paging", {}).get("next", {}).get("after")
            if next_after is None:
                return
            after = int(next_after)
            if after + SEARCH_PAGE_SIZE > SEARCH_RESULT_CAP:
                self.capped = True
                return


class HubSpotClient:
    """Read-only HubSpot CRM client for a private-app token."""

    def __init__(
        self,
        base_url: str,
        token: str,
        *,
        burst_per_10s: int = 100,
        search_per_second: int = 4,
        session: requests.Session | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        # A bucket of capacity c refilled at r/s lets c + 10r requests through any
        # ten-second window; keep that sum at the burst budget.
        capacity = max(1, burst_per_10s // 10)
        refill_per_minute = max(1, burst_per_10s - capacity) * 6
        self._api = JsonApiClient(
            system="HubSpot",
            base_url=base_url,
            token=token,
            bucket=TokenBucket(refill_per_minute, capacity, clock=clock, sleep=sleep),
            session=session or requests.Session(),
            sleep=sleep,
            fatal_response=_daily_limit,
        )
        self._search_bucket = TokenBucket(search_per_second * 60, 1, clock=clock, sleep=sleep)

    @property
    def stats(self) -> ApiStats:
        return self._api.stats

    def list_pages(
        self,
        object_type: str,
        properties: Sequence[str],
        *,
        associations: Sequence[str] = (),
        archived: bool = False,
    ) -> Iterator[list[dict[str, Any]]]:
        """Every record of a type, one list per page.

        Associations come back flattened to id lists: `{"companies": ["12", ...]}`.
        """
        for page in self.list_pages_from(
            object_type, properties, None, associations=associations, archived=archived
        ):
            yield page.records

    def list_pages_from(
        self,
        object_type: str,
        properties: Sequence[str],
        after: str | None,
        *,
        associations: Sequence[str] = (),
        archived: bool = False,
    ) -> Iterator[ListedPage]:
        """Like `list_pages`, starting at a paging cursor a previous listing handed out.

        Each page carries the cursor of the next one, so a listing stopped midway (the
        daily quota) can be resumed where it stood instead of from the start.
        """
        path = f"/crm/v3/objects/{object_type}"
        params: dict[str, Any] = {
            "limit": LIST_PAGE_SIZE,
            "properties": ",".join(properties),
            "archived": "true" if archived else "false",
        }
        if associations:
            params["associations"] = ",".join(associations)
        for records, next_after in self._pages(path, params, after):
            yield ListedPage([_flatten_associations(r) for r in records], next_after)

    def owners(self, *, archived: bool = False) -> list[dict[str, Any]]:
        """All owners (the users records are assigned to); deactivated ones if `archived`."""
        params = {"limit": 500, "archived": "true" if archived else "false"}
        return [o for page, _ in self._pages("/crm/v3/owners", params) for o in page]

    def search_modified_since(
        self, object_type: str, since: datetime, properties: Sequence[str]
    ) -> Iterator[list[dict[str, Any]]]:
        """Records modified at or after `since`, oldest change first, one list per page.

        HubSpot's search stops at 10,000 results per query, so the scan runs in windows:
        each filters on `modified >= last timestamp yielded` and skips the ids already
        yielded at that timestamp. If one timestamp fills a whole window, that timestamp
        is walked in id order before the scan moves past it. Search indexing lags
        writes by a few seconds: callers should resume from a little before the
        newest timestamp they committed.
        """
        modified = modified_property(object_type)
        wanted = list(dict.fromkeys([*properties, modified]))
        mark = _Watermark(_epoch_ms(since))
        operator = "GTE"
        while True:
            window_start = mark.ms
            filters = [_filter(modified, operator, mark.ms)]
            query = _SearchQuery(partial(self._search, object_type), filters, modified, wanted)
            for page in query:
                if fresh := mark.take(page, modified):
                    yield fresh
            if not query.capped:
                return
            if mark.ms == window_start:
                yield from self._walk_timestamp(object_type, modified, wanted, mark)
                operator = "GT"
            else:
                operator = "GTE"

    def batch_associations(
        self, from_type: str, to_type: str, ids: Iterable[str]
    ) -> dict[str, list[str]]:
        """For each id, the ids of its associated `to_type` records (empty list when none)."""
        unique = list(dict.fromkeys(str(i) for i in ids))
        linked: dict[str, list[str]] = {i: [] for i in unique}
        path = f"/crm/v4/associations/{from_type}/{to_type}/batch/read"
        for start in range(0, len(unique), ASSOCIATION_BATCH_SIZE):
            chunk = unique[start : start + ASSOCIATION_BATCH_SIZE]
            _, body = self._api.request(
                "POST",
                path,
                json_body={"inputs": [{"id": i} for i in chunk]},
                error_detail=_error_detail,
            )
            for result in body.get("results", []):
                to_ids = dict.fromkeys(str(t["toObjectId"]) for t in result["to"])
                linked[str(result["from"]["id"])] = list(to_ids)
        return linked

    def _pages(
        self, path: str, params: dict[str, Any], after: str | None = None
    ) -> Iterator[tuple[list[dict[str, Any]], str | None]]:
        """(results, cursor of the next page or None) for each page from `after` on."""
        while True:
            query = {**params, "after": after} if after else params
            _, body = self._api.request("GET", path, params=query, error_detail=_error_detail)
            after = body.get("paging", {}).get("next", {}).get("after") or None
            yield body.get("results", []), after
            if not after:
                return

    def _search(self, object_type: str, body: dict[str, Any]) -> dict[str, Any]:
        self._search_bucket.acquire()
        path = f"/crm/v3/objects/{object_type}/search"
        _, answer = self._api.request("POST", path, json_body=body, error_detail=_error_detail)
        return answer

    def _walk_timestamp(
        self, object_type: str, modified: str, properties: list[str], mark: _Watermark
    ) -> Iterator[list[dict[str, Any]]]:
        """Every record modified exactly at `mark.ms` not yet yielded, in id order."""
        last_id = 0
        while True:
            filters = [_filter(modified, "EQ", mark.ms), _filter("hs_object_id", "GT", last_id)]
            search = partial(self._search, object_type)
            query = _SearchQuery(search, filters, "hs_object_id", properties)
            for page in query:
                fresh = [record for record in page if record["id"] not in mark.ids_at_ms]
                mark.ids_at_ms.update(record["id"] for record in fresh)
                if fresh:
                    yield fresh
                if page:
                    last_id = int(page[-1]["id"])
            if not query.capped:
                return


def _filter(property_name: str, operator: str, value: int) -> dict[str, Any]:
    return {"propertyName": property_name, "operator": operator, "value": str(value)}


def _flatten_associations(record: dict[str, Any]) -> dict[str, Any]:
    links = record.get("associations")
    if not links:
        return record
    flat = {
        to_type: list(dict.fromkeys(str(item["id"]) for item in block.get("results", [])))
        for to_type, block in links.items()
    }
    return {**record, "associations": flat}
