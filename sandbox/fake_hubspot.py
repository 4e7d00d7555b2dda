"""A local HubSpot CRM API speaking the real wire protocol.

Serves CRM v3 object listing and search, v3 owners and v4 batch association reads
with HubSpot's paths, Bearer auth, `paging.next.after` cursors, error bodies
(`status`, `message`, `correlationId`, `category`) and rate-limit 429s. Clients use
the server root as base URL, as they would https://api.hubapi.com.

The simulator's `hubspot_data` lists associations in a simple internal form
(`{"companies": ["12", ...]}`); the fake indexes them in both directions and renders
HubSpot's API forms. Tests may change records between syncs through
`app.state.hubspot` (`update`, `archive`) and read its per-path `request_counts`.
"""

from __future__ import annotations

import copy
import functools
import math
import operator
import time
import uuid
from collections import Counter, defaultdict, deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from fastapi import FastAPI, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

OBJECT_TYPES = (
    "companies", "contacts", "deals", "calls", "meetings", "notes", "emails", "invoices",
    "feedback_submissions",
)  # fmt: skip
OBJECT_TYPE_IDS = {
    "0-1": "contacts",
    "0-2": "companies",
    "0-3": "deals",
    "0-46": "notes",
    "0-47": "meetings",
    "0-48": "calls",
    "0-49": "emails",
    "0-19": "feedback_submissions",
    "0-53": "invoices",
}
SINGULAR = {
    "companies": "company",
    "contacts": "contact",
    "deals": "deal",
    "calls": "call",
    "meetings": "meeting",
    "notes": "note",
    "emails": "email",
    "invoices": "invoice",
    "feedback_submissions": "feedback submission",
}
# Properties HubSpot returns when a request names none.
DEFAULT_PROPERTIES = {
    "companies": ("name", "domain"),
    "contacts": ("email", "firstname", "lastname"),
    "deals": ("dealname", "amount", "dealstage", "pipeline", "closedate"),
}
DATETIME_PROPERTIES = frozenset(
    {
        "createdate",
        "hs_lastmodifieddate",
        "lastmodifieddate",
        "hs_timestamp",
        "closedate",
        "hs_invoice_date",
        "hs_due_date",
        "hs_payment_date",
        "hs_submission_timestamp",
    }
)
NUMERIC_PROPERTIES = frozenset(
    {
        "hs_object_id",
        "amount",
        "hs_call_duration",
        "hs_amount_billed",
        "hs_balance_due",
        "hs_value",
    }
)
# HubSpot-defined association type ids (v4 `associationTypes[].typeId`).
ASSOCIATION_TYPE_IDS = {
    ("contacts", "companies"): 279,
    ("companies", "contacts"): 280,
    ("deals", "contacts"): 3,
    ("contacts", "deals"): 4,
    ("deals", "companies"): 341,
    ("companies", "deals"): 342,
    ("calls", "contacts"): 194,
    ("contacts", "calls"): 193,
    ("calls", "companies"): 182,
    ("companies", "calls"): 181,
    ("calls", "deals"): 206,
    ("deals", "calls"): 205,
    ("emails", "contacts"): 198,
    ("contacts", "emails"): 197,
    ("emails", "companies"): 186,
    ("companies", "emails"): 185,
    ("emails", "deals"): 210,
    ("deals", "emails"): 209,
    ("meetings", "contacts"): 200,
    ("contacts", "meetings"): 199,
    ("meetings", "companies"): 188,
    ("companies", "meetings"): 187,
    ("meetings", "deals"): 212,
    ("deals", "meetings"): 211,
    ("notes", "contacts"): 202,
    ("contacts", "notes"): 201,
    ("notes", "companies"): 190,
    ("companies", "notes"): 189,
    ("notes", "deals"): 214,
    ("deals", "notes"): 213,
    ("invoices", "companies"): 179,
    ("companies", "invoices"): 180,
}
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
LIST_LIMIT_MAX = 100
OWNERS_LIMIT_MAX = 500
SEARCH_LIMIT_MAX = 200
SEARCH_RESULT_CAP = 10_000
BATCH_INPUTS_MAX = 1_000
COMPARATORS: dict[str, Callable[[Any, Any], bool]] = {
    "EQ": operator.eq,
    "NEQ": operator.ne,
    "LT": operator.lt,
    "LTE": operator.le,
    "GT": operator.gt,
    "GTE": operator.ge,
}


def modified_property(object_type: str) -> str:
    """Contacts keep their modification time in `lastmodifieddate`, the rest in `hs_...`."""
    return "lastmodifieddate" if object_type == "contacts" else "hs_lastmodifieddate"


def iso_ms(moment: datetime) -> str:
    """HubSpot's timestamp form: UTC, millisecond precision, `Z` suffix."""
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def epoch_ms(value: Any) -> int:
    """Milliseconds since the epoch from an ISO date/datetime or a millisecond number."""
    if isinstance(value, int | float) or (isinstance(value, str) and value.isdigit()):
        return int(value)
    moment = datetime.fromisoformat(str(value))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return (moment - EPOCH) // timedelta(milliseconds=1)


@functools.lru_cache(maxsize=1 << 17)
def comparable(property_name: str, value: Any) -> Any:
    """The value in the type HubSpot compares that property by (raises ValueError).

    Cached: a search compares every record on every page request.
    """
    if property_name in DATETIME_PROPERTIES:
        return epoch_ms(value)
    if property_name in NUMERIC_PROPERTIES:
        return float(value)
    return str(value).casefold()


@dataclass
class HubSpotFaults:
    """Deterministic faults, all off by default.

    `clock` (epoch seconds) drives the rolling windows and the search index lag, so
    tests can share a fake clock with the client's `sleep`.
    """

    burst_per_10s: int | None = None
    search_per_second: int | None = None
    daily_limit: int | None = None
    inject_statuses: list[int] = field(default_factory=list)  # answered in order, 429 or 5xx
    search_index_lag_seconds: float = 0.0
    clock: Callable[[], float] = time.time
    # Object types the private app was not granted a read scope for (403 MISSING_SCOPES).
    ungranted: frozenset[str] = frozenset()


class HubSpotError(Exception):
    """Answered as HubSpot's error body."""

    def __init__(self, status: int, category: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.category = category
        self.message = message


def error_response(status: int, category: str, message: str) -> JSONResponse:
    body = {
        "status": "error",
        "message": message,
        "correlationId": str(uuid.uuid4()),
        "category": category,
    }
    return JSONResponse(body, status_code=status)


def rate_limit_response(policy: str, message: str, retry_after: int | None) -> JSONResponse:
    body = {
        "status": "error",
        "message": message,
        "errorType": "RATE_LIMIT",
        "correlationId": str(uuid.uuid4()),
        "policyName": policy,
        "groupName": f"publicapi:private-app:{policy.lower()}",
    }
    headers = {"Retry-After": str(retry_after)} if retry_after is not None else None
    return JSONResponse(body, status_code=429, headers=headers)


class HubSpotStore:
    """Records, owners and associations of one fake portal."""

    def __init__(self, data: dict[str, Any], clock: Callable[[], float]) -> None:
        self._clock = clock
        self.owners: list[dict[str, Any]] = copy.deepcopy(data.get("owners", []))
        self.objects: dict[str, dict[str, dict[str, Any]]] = {t: {} for t in OBJECT_TYPES}
        self._links: dict[tuple[str, str], dict[str, set[str]]] = defaultdict(
            lambda: defaultdict(set)
        )
        self.request_counts: Counter[str] = Counter()
        self._version = 0
        self._last_search: tuple[Any, list[dict[str, Any]]] | None = None
        for object_type in OBJECT_TYPES:
            for raw in data.get(object_type, []):
                record = copy.deepcopy(raw)
                for to_type, to_ids in record.pop("associations", {}).items():
                    for to_id in to_ids:
                        self.link(object_type, record["id"], to_type, str(to_id))
                self.objects[object_type][record["id"]] = record

    def link(self, from_type: str, from_id: str, to_type: str, to_id: str) -> None:
        self._version += 1
        self._links[from_type, to_type][from_id].add(to_id)
        self._links[to_type, from_type][to_id].add(from_id)

    def associated(self, from_type: str, from_id: str, to_type: str) -> list[str]:
        return sorted(self._links[from_type, to_type].get(from_id, ()), key=int)

    def records(self, object_type: str, *, archived: bool) -> list[dict[str, Any]]:
        """Records in id order; archived ones only when `archived`."""
        chosen = [r for r in self.objects[object_type].values() if r["archived"] == archived]
        return sorted(chosen, key=lambda r: int(r["id"]))

    def update(
        self,
        object_type: str,
        object_id: str,
        properties: dict[str, str | None],
        *,
        at: datetime | None = None,
    ) -> None:
        """Change properties as a HubSpot user would, bumping the modification time."""
        record = self.objects[object_type][object_id]
        stamp = iso_ms(at or datetime.fromtimestamp(self._clock(), UTC))
        self._version += 1
        record["properties"].update(properties)
        record["properties"][modified_property(object_type)] = stamp
        record["updatedAt"] = stamp

    def archive(self, object_type: str, object_id: str, *, at: datetime | None = None) -> None:
        """Move a record to the recycle bin (HubSpot's "archived")."""
        record = self.objects[object_type][object_id]
        stamp = iso_ms(at or datetime.fromtimestamp(self._clock(), UTC))
        self._version += 1
        record.update(archived=True, archivedAt=stamp, updatedAt=stamp)

    def search_results(
        self, query_key: Any, run: Callable[[], list[dict[str, Any]]]
    ) -> list[dict[str, Any]]:
        """The ordered matches of a query, reused for its next pages while nothing changed."""
        key = (self._version, query_key)
        if self._last_search is None or self._last_search[0] != key:
            self._last_search = (key, run())
        return self._last_search[1]


class RateLimiter:
    """HubSpot's daily, ten-secondly rolling and search secondly policies."""

    def __init__(self, faults: HubSpotFaults) -> None:
        self.faults = faults
        self._burst: deque[float] = deque()
        self._search: deque[float] = deque()
        self._today = 0

    def admit(self, is_search: bool) -> JSONResponse | None:
        """Count the request, or answer the 429 HubSpot would send instead."""
        faults, now = self.faults, self.faults.clock()
        if faults.daily_limit is not None and self._today >= faults.daily_limit:
            return rate_limit_response("DAILY", "You have reached your daily limit.", None)
        if faults.burst_per_10s is not None:
            wait = _window_wait(self._burst, now, 10.0, faults.burst_per_10s)
            if wait:
                message = "You have reached your ten_secondly_rolling limit."
                return rate_limit_response("TEN_SECONDLY_ROLLING", message, wait)
        if is_search and faults.search_per_second is not None:
            wait = _window_wait(self._search, now, 1.0, faults.search_per_second)
            if wait:
                return rate_limit_response(
                    "SECONDLY", "You have reached your secondly limit.", wait
                )
            self._search.append(now)
        if faults.burst_per_10s is not None:
            self._burst.append(now)
        self._today += 1
        return None

    def headers(self) -> dict[str, str]:
        """The X-HubSpot-RateLimit-* headers of a successful non-search response."""
        faults, out = self.faults, {}
        if faults.burst_per_10s is not None:
            out["X-HubSpot-RateLimit-Interval-Milliseconds"] = "10000"
            out["X-HubSpot-RateLimit-Max"] = str(faults.burst_per_10s)
            out["X-HubSpot-RateLimit-Remaining"] = str(faults.burst_per_10s - len(self._burst))
        if faults.daily_limit is not None:
            out["X-HubSpot-RateLimit-Daily"] = str(faults.daily_limit)
            out["X-HubSpot-RateLimit-Daily-Remaining"] = str(faults.daily_limit - self._today)
        return out


def _window_wait(window: deque[float], now: float, span: float, limit: int) -> int:
    """Whole seconds until the rolling window has room (0 when it has room now)."""
    while window and window[0] <= now - span:
        window.popleft()
    if len(window) < limit:
        return 0
    return max(1, math.ceil(window[0] + span - now))


class SearchFilter(BaseModel):
    propertyName: str
    operator: str
    value: str | int | float | None = None


class FilterGroup(BaseModel):
    filters: list[SearchFilter] = Field(default_factory=list)


class SearchSort(BaseModel):
    propertyName: str
    direction: Literal["ASCENDING", "DESCENDING"] = "ASCENDING"


class SearchRequest(BaseModel):
    filterGroups: list[FilterGroup] = Field(default_factory=list, max_length=5)
    sorts: list[SearchSort] = Field(default_factory=list, max_length=1)
    properties: list[str] = Field(default_factory=list)
    limit: int = Field(default=10, ge=1, le=SEARCH_LIMIT_MAX)
    after: int = Field(default=0, ge=0)


class BatchInput(BaseModel):
    id: str


class BatchReadRequest(BaseModel):
    inputs: list[BatchInput] = Field(max_length=BATCH_INPUTS_MAX)


def resolve_object_type(name: str) -> str:
    object_type = OBJECT_TYPE_IDS.get(name, name.lower())
    if object_type not in OBJECT_TYPES:
        raise HubSpotError(400, "VALIDATION_ERROR", f"Unable to infer object type from: {name}")
    return object_type


def render_record(
    store: HubSpotStore,
    object_type: str,
    record: dict[str, Any],
    properties: Iterable[str],
    associations: Iterable[str] = (),
) -> dict[str, Any]:
    """A record as HubSpot answers it: requested properties plus the three it always adds."""
    wanted = list(properties) or list(DEFAULT_PROPERTIES.get(object_type, ()))
    wanted += ["hs_object_id", "createdate", modified_property(object_type)]
    stored = record["properties"]
    rendered: dict[str, Any] = {
        "id": record["id"],
        "properties": {name: stored.get(name) for name in wanted if name in stored},
        "createdAt": record["createdAt"],
        "updatedAt": record["updatedAt"],
        "archived": record["archived"],
    }
    if record["archived"]:
        rendered["archivedAt"] = record["archivedAt"]
    links = {}
    for to_type in associations:
        ids = store.associated(object_type, record["id"], to_type)
        if ids:
            kind = f"{SINGULAR[object_type]}_to_{SINGULAR[to_type]}"
            links[to_type] = {"results": [{"id": i, "type": kind} for i in ids]}
    if links:
        rendered["associations"] = links
    return rendered


def _split(csv: str | None) -> list[str]:
    return [part for part in (csv or "").split(",") if part]


def _cursor(after: str) -> int:
    if not after.isdigit():
        raise HubSpotError(400, "VALIDATION_ERROR", f"Invalid paging cursor: {after}")
    return int(after)


def _next_link(request: Request, after: str) -> str:
    return str(request.url.include_query_params(after=after))


def _matches(record: dict[str, Any], group: FilterGroup) -> bool:
    props = record["properties"]
    for flt in group.filters:
        actual = props.get(flt.propertyName)
        if flt.operator == "HAS_PROPERTY":
            ok = actual not in (None, "")
        elif flt.operator == "NOT_HAS_PROPERTY":
            ok = actual in (None, "")
        else:
            ok = actual not in (None, "") and COMPARATORS[flt.operator](
                comparable(flt.propertyName, actual), comparable(flt.propertyName, flt.value)
            )
        if not ok:
            return False
    return True


def _validate_filters(groups: list[FilterGroup]) -> None:
    for flt in (f for group in groups for f in group.filters):
        if flt.operator in ("HAS_PROPERTY", "NOT_HAS_PROPERTY"):
            continue
        if flt.operator not in COMPARATORS:
            raise HubSpotError(400, "VALIDATION_ERROR", f"Unsupported operator: {flt.operator}")
        try:
            comparable(flt.propertyName, flt.value)
        except (TypeError, ValueError):
            message = f"Invalid value {flt.value!r} for property {flt.propertyName}"
            raise HubSpotError(400, "VALIDATION_ERROR", message) from None


def _ordered_matches(
    store: HubSpotStore, object_type: str, body: SearchRequest, visible_before_ms: int | None
) -> list[dict[str, Any]]:
    modified = modified_property(object_type)
    found = [
        r
        for r in store.records(object_type, archived=False)
        if (
            visible_before_ms is None
            or comparable(modified, r["properties"][modified]) <= visible_before_ms
        )
        and (not body.filterGroups or any(_matches(r, g) for g in body.filterGroups))
    ]
    if body.sorts:
        # Ties keep the store's order: HubSpot promises no order among equal sort values.
        sort = body.sorts[0]
        name = sort.propertyName
        keyed = [r for r in found if r["properties"].get(name) is not None]
        keyed.sort(
            key=lambda r: comparable(name, r["properties"][name]),
            reverse=sort.direction == "DESCENDING",
        )
        found = keyed + [r for r in found if r["properties"].get(name) is None]
    return found


def search(
    store: HubSpotStore, object_type: str, body: SearchRequest, visible_before_ms: int | None
) -> dict[str, Any]:
    """Filter, sort and page like HubSpot's search, including its 10,000-result cap."""
    if body.after + body.limit > SEARCH_RESULT_CAP:
        message = (
            f"Search results are limited to {SEARCH_RESULT_CAP}; "
            f"after={body.after} with limit={body.limit} goes past it."
        )
        raise HubSpotError(400, "VALIDATION_ERROR", message)
    _validate_filters(body.filterGroups)
    query_key = (object_type, body.model_dump_json(exclude={"after", "limit"}), visible_before_ms)
    found = store.search_results(
        query_key, lambda: _ordered_matches(store, object_type, body, visible_before_ms)
    )
    page = found[body.after : body.after + body.limit]
    answer: dict[str, Any] = {
        "total": len(found),
        "results": [render_record(store, object_type, r, body.properties) for r in page],
    }
    if body.after + body.limit < len(found):
        answer["paging"] = {"next": {"after": str(body.after + body.limit)}}
    return answer


def create_app(data: dict[str, Any], token: str, *, faults: HubSpotFaults | None = None) -> FastAPI:
    """The fake HubSpot API over `data` (the simulator's `hubspot_data`)."""
    faults = faults or HubSpotFaults()
    store = HubSpotStore(data, faults.clock)
    limiter = RateLimiter(faults)
    app = FastAPI(title="Fake HubSpot")
    app.state.hubspot = store
    app.state.faults = faults

    @app.exception_handler(HubSpotError)
    async def hubspot_error(_: Request, exc: HubSpotError) -> JSONResponse:
        return error_response(exc.status, exc.category, exc.message)

    @app.exception_handler(RequestValidationError)
    async def invalid_request(_: Request, exc: RequestValidationError) -> JSONResponse:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()
        )
        return error_response(400, "VALIDATION_ERROR", f"Invalid input JSON: {problems}")

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        category = "OBJECT_NOT_FOUND" if exc.status_code == 404 else "VALIDATION_ERROR"
        return error_response(exc.status_code, category, str(exc.detail))

    @app.middleware("http")
    async def gatekeeper(request: Request, call_next: Callable) -> Response:
        store.request_counts[f"{request.method} {request.url.path}"] += 1
        if request.headers.get("authorization") != f"Bearer {token}":
            message = (
                "Authentication credentials not found. This API supports OAuth 2.0 "
                "authentication and you can find more details at "
                "https://developers.hubspot.com/docs/methods/auth/oauth-overview"
            )
            return error_response(401, "INVALID_AUTHENTICATION", message)
        is_search = request.url.path.endswith("/search")
        refused = limiter.admit(is_search)
        if refused is not None:
            return refused
        if faults.inject_statuses:
            status = faults.inject_statuses.pop(0)
            if status == 429:
                message = "You have reached your ten_secondly_rolling limit."
                return rate_limit_response("TEN_SECONDLY_ROLLING", message, 1)
            return error_response(status, "INTERNAL_ERROR", "Internal error, please retry.")
        response = await call_next(request)
        if not is_search:
            response.headers.update(limiter.headers())
        return response

    def granted(object_type: str) -> str:
        if object_type in faults.ungranted:
            raise HubSpotError(
                403,
                "MISSING_SCOPES",
                "This app hasn't been granted all required scopes to make this call. One or "
                f"more of the following scopes are required: crm.objects.{object_type}.read",
            )
        return object_type

    @app.get("/crm/v3/objects/{object_type}")
    async def list_objects(
        request: Request,
        object_type: str,
        limit: int = Query(10, ge=1),
        after: str | None = None,
        properties: str | None = None,
        associations: str | None = None,
        archived: bool = False,
    ) -> dict[str, Any]:
        object_type = granted(resolve_object_type(object_type))
        to_types = [resolve_object_type(t) for t in _split(associations)]
        records = store.records(object_type, archived=archived)
        if after:
            start_after = _cursor(after)
            records = [r for r in records if int(r["id"]) > start_after]
        page = records[: min(limit, LIST_LIMIT_MAX)]
        answer: dict[str, Any] = {
            "results": [
                render_record(store, object_type, r, _split(properties), to_types) for r in page
            ]
        }
        if len(records) > len(page):
            cursor = page[-1]["id"]
            answer["paging"] = {"next": {"after": cursor, "link": _next_link(request, cursor)}}
        return answer

    @app.post("/crm/v3/objects/{object_type}/search")
    async def search_objects(object_type: str, body: SearchRequest) -> dict[str, Any]:
        lag = faults.search_index_lag_seconds
        visible_before = int((faults.clock() - lag) * 1000) if lag else None
        return search(store, granted(resolve_object_type(object_type)), body, visible_before)

    @app.get("/crm/v3/owners")
    async def list_owners(
        request: Request,
        limit: int = Query(100, ge=1),
        after: str | None = None,
        archived: bool = False,
    ) -> dict[str, Any]:
        owners = [o for o in store.owners if o.get("archived", False) == archived]
        start = _cursor(after) if after else 0
        end = start + min(limit, OWNERS_LIMIT_MAX)
        answer: dict[str, Any] = {"results": owners[start:end]}
        if end < len(owners):
            answer["paging"] = {"next": {"after": str(end), "link": _next_link(request, str(end))}}
        return answer

    @app.post("/crm/v4/associations/{from_object_type}/{to_object_type}/batch/read")
    async def read_associations(
        from_object_type: str, to_object_type: str, body: BatchReadRequest
    ) -> JSONResponse:
        from_type = resolve_object_type(from_object_type)
        to_type = resolve_object_type(to_object_type)
        started = iso_ms(datetime.now(UTC))
        type_id = ASSOCIATION_TYPE_IDS.get((from_type, to_type), 0)
        kind = {"category": "HUBSPOT_DEFINED", "typeId": type_id, "label": None}
        results, errors = [], []
        for item in body.inputs:
            ids = store.associated(from_type, item.id, to_type)
            if ids:
                to = [{"toObjectId": int(i), "associationTypes": [kind]} for i in ids]
                results.append({"from": {"id": item.id}, "to": to})
            else:
                errors.append(_no_associations_error(from_type, to_type, item.id))
        answer: dict[str, Any] = {"status": "COMPLETE", "results": results}
        if errors:
            answer.update(numErrors=len(errors), errors=errors)
        answer.update(startedAt=started, completedAt=iso_ms(datetime.now(UTC)))
        return JSONResponse(answer, status_code=207 if errors else 200)

    return app


def _no_associations_error(from_type: str, to_type: str, from_id: str) -> dict[str, Any]:
    return {
        "status": "error",
        "category": "OBJECT_NOT_FOUND",
        "subCategory": "crm.associations.NO_ASSOCIATIONS_FOUND",
        "message": f"No {SINGULAR[to_type]} is associated with {SINGULAR[from_type]} {from_id}.",
        "context": {"fromObjectId": [from_id]},
    }
