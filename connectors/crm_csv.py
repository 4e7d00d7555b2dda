"""CRM exports as CSV, for agencies on a CRM other than HubSpot.

A folder holds up to four files, each optional: `companies.csv`, `contacts.csv`,
`deals.csv` and `activities.csv` (columns in the README). Every good row becomes a
record in HubSpot's v3 shape (`id`, string `properties` under HubSpot's property
names, `createdAt`, `updatedAt`, `archived`, `associations`), so the warehouse and
the marts cannot tell which CRM fed them. Columns we do not know are kept as custom
properties under their own (lower-cased) name. A bad row is reported with its file,
row number (the header is row 1, as a spreadsheet shows it), field and reason, and
is left out; the rest of the file still loads.

Delimiters `,` `;` and tab are recognised, and a UTF-8 byte-order mark (Excel) is
skipped. Times without a zone are read in the agency's time zone.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

ACTIVITY_TYPES = {"call": "calls", "meeting": "meetings", "note": "notes", "email": "emails"}
_NUMBER = re.compile(r"^-?\d+(\.\d+)?$")
_TRUE, _FALSE = {"true", "yes", "1", "y"}, {"false", "no", "0", "n", ""}


class CsvValueError(ValueError):
    """A cell that cannot be read as its column's kind."""


@dataclass(frozen=True)
class Column:
    name: str
    kind: str = "text"  # text | number | date | datetime | bool
    required: bool = False
    property: str | None = None  # the HubSpot property it fills


@dataclass(frozen=True)
class FileSpec:
    file: str
    key: str
    columns: tuple[Column, ...]
    object_type: str | None = None  # None: each row's `type` decides (activities)


COMMON = (
    Column("owner_email", property="hubspot_owner_id"),
    Column("created_at", "datetime"),
    Column("updated_at", "datetime"),
    Column("archived", "bool"),
)
SPECS = (
    FileSpec(
        "companies.csv",
        "company_id",
        (
            Column("company_id", required=True),
            Column("name", required=True, property="name"),
            Column("domain", property="domain"),
            Column("lifecycle_stage", property="lifecyclestage"),
            Column("industry", property="industry"),
            *COMMON,
        ),
        "companies",
    ),
    FileSpec(
        "contacts.csv",
        "contact_id",
        (
            Column("contact_id", required=True),
            Column("company_id", required=True),
            Column("email", property="email"),
            Column("first_name", property="firstname"),
            Column("last_name", property="lastname"),
            Column("job_title", property="jobtitle"),
            Column("date_of_birth", "date", property="date_of_birth"),
            *COMMON,
        ),
        "contacts",
    ),
    FileSpec(
        "deals.csv",
        "deal_id",
        (
            Column("deal_id", required=True),
            Column("company_id", required=True),
            Column("contact_id"),
            Column("name", property="dealname"),
            Column("amount", "number", required=True, property="amount"),
            Column("stage", required=True, property="dealstage"),
            Column("pipeline", property="pipeline"),
            Column("close_date", "datetime", property="closedate"),
            Column("deal_type", property="dealtype"),
            *COMMON,
        ),
        "deals",
    ),
    FileSpec(
        "activities.csv",
        "activity_id",
        (
            Column("activity_id", required=True),
            Column("type", required=True),
            Column("company_id", required=True),
            Column("contact_id"),
            Column("occurred_at", "datetime", required=True, property="hs_timestamp"),
            Column("title"),
            Column("outcome", property="hs_meeting_outcome"),
            Column("location", property="hs_meeting_location"),
            Column("direction"),
            *COMMON,
        ),
    ),
)
# Activity columns whose HubSpot property depends on the activity type.
TYPED_PROPERTIES = {
    "title": {
        "calls": "hs_call_title",
        "meetings": "hs_meeting_title",
        "notes": "hs_note_body",
        "emails": "hs_email_subject",
    },
    "direction": {"calls": "hs_call_direction", "emails": "hs_email_direction"},
}


@dataclass(frozen=True)
class RowProblem:
    file: str
    row: int
    field: str | None
    reason: str
    values: dict[str, str]


@dataclass
class CsvImport:
    """What a folder held: records by object type (owners included) and the bad rows."""

    records: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    problems: list[RowProblem] = field(default_factory=list)

    def add(self, object_type: str, record: dict[str, Any]) -> None:
        self.records.setdefault(object_type, []).append(record)


def _number(value: str) -> str:
    cleaned = value.replace(" ", "").replace("\u00a0", "")
    if "," in cleaned and "." not in cleaned:
        cleaned = cleaned.replace(",", ".")
    if not _NUMBER.match(cleaned):
        raise CsvValueError(f"not a number: {value!r}")
    return cleaned


def _moment(value: str, tz: ZoneInfo) -> str:
    try:
        parsed = datetime.fromisoformat(value.replace(" ", "T", 1) if " " in value else value)
    except ValueError:
        raise CsvValueError(f"not a date or date-time (YYYY-MM-DD[ HH:MM]): {value!r}") from None
    if isinstance(parsed, date) and not isinstance(parsed, datetime):
        parsed = datetime.combine(parsed, time())
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=tz)
    return parsed.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _date(value: str) -> str:
    try:
        return date.fromisoformat(value).isoformat()
    except ValueError:
        raise CsvValueError(f"not a date (YYYY-MM-DD): {value!r}") from None


def _bool(value: str) -> str:
    lowered = value.lower()
    if lowered in _TRUE:
        return "true"
    if lowered in _FALSE:
        return "false"
    raise CsvValueError(f"not true/false: {value!r}")


def _parsers(tz: ZoneInfo) -> dict[str, Callable[[str], str]]:
    return {
        "text": str,
        "number": _number,
        "date": _date,
        "datetime": lambda v: _moment(v, tz),
        "bool": _bool,
    }


def _rows(path: Path) -> Iterator[tuple[int, dict[str, str]]]:
    """(row number, cells) per data row; the header is row 1."""
    with path.open(encoding="utf-8-sig", newline="") as handle:
        sample = handle.read(8192)
        handle.seek(0)
        try:
            dialect = csv.Sniffer().sniff(sample.splitlines()[0] if sample else "", ",;\t")
        except csv.Error:
            dialect = csv.excel
        reader = csv.DictReader(handle, dialect=dialect)
        reader.fieldnames = [(n or "").strip().lower() for n in reader.fieldnames or []]
        for cells in reader:
            # DictReader puts surplus cells under None; a short row yields None values.
            extra = cells.pop(None, None)  # type: ignore[call-overload]
            row = {k: (v or "").strip() for k, v in cells.items()}
            if extra:
                row[""] = ",".join(extra)
            yield reader.line_num, row


class _FileReader:
    def __init__(self, spec: FileSpec, tz: ZoneInfo, known_companies: set[str], out: CsvImport):
        self.spec = spec
        self.parsers = _parsers(tz)
        self.known_companies = known_companies
        self.out = out
        self.first_row: dict[str, int] = {}
        self.owners: set[str] = set()

    def problem(self, row: int, column: str | None, reason: str, values: dict[str, str]) -> None:
        self.out.problems.append(RowProblem(self.spec.file, row, column, reason, values))

    def read(self, path: Path) -> None:
        rows = _rows(path)
        missing = self._missing_columns(path)
        if missing:
            reason = f"missing required column(s): {', '.join(missing)}"
            self.problem(1, missing[0], reason, {})
            return
        for number, values in rows:
            record = self._record(number, values)
            if record is not None:
                object_type = self.spec.object_type or ACTIVITY_TYPES[values["type"].lower()]
                self.out.add(object_type, record)

    def _missing_columns(self, path: Path) -> list[str]:
        with path.open(encoding="utf-8-sig", newline="") as handle:
            header = handle.readline()
        names = {n.strip().lower() for n in re.split(r"[,;\t]", header)}
        return [c.name for c in self.spec.columns if c.required and c.name not in names]

    def _record(self, number: int, values: dict[str, str]) -> dict[str, Any] | None:
        if "" in values:
            self.problem(number, None, "more cells than header columns", values)
            return None
        parsed: dict[str, str] = {}
        for column in self.spec.columns:
            raw = values.get(column.name, "")
            if not raw:
                if column.required:
                    self.problem(number, column.name, "required value is empty", values)
                    return None
                continue
            try:
                parsed[column.name] = self.parsers[column.kind](raw)
            except CsvValueError as exc:
                self.problem(number, column.name, str(exc), values)
                return None
        return self._checked(number, values, parsed)

    def _checked(
        self, number: int, values: dict[str, str], parsed: dict[str, str]
    ) -> dict[str, Any] | None:
        key = parsed[self.spec.key]
        if key in self.first_row:
            reason = f"duplicate {self.spec.key} {key!r} (first on row {self.first_row[key]})"
            self.problem(number, self.spec.key, reason, values)
            return None
        kind = parsed.get("type", "").lower()
        if self.spec.object_type is None and kind not in ACTIVITY_TYPES:
            reason = (
                f"unknown activity type {parsed['type']!r} (one of {', '.join(ACTIVITY_TYPES)})"
            )
            self.problem(number, "type", reason, values)
            return None
        company = parsed.get("company_id")
        if self.spec.object_type != "companies" and company not in self.known_companies:
            reason = f"company_id {company!r} is in no companies.csv row nor earlier import"
            self.problem(number, "company_id", reason, values)
            return None
        self.first_row[key] = number
        if "owner_email" in parsed:
            self.owners.add(parsed["owner_email"].lower())
        return self._hubspot_shape(values, parsed)

    def _hubspot_shape(self, values: dict[str, str], parsed: dict[str, str]) -> dict[str, Any]:
        object_type = self.spec.object_type or ACTIVITY_TYPES[parsed["type"].lower()]
        known = {c.name for c in self.spec.columns}
        properties = {k: v for k, v in values.items() if k not in known and v}
        for column in self.spec.columns:
            name = column.property or TYPED_PROPERTIES.get(column.name, {}).get(object_type)
            if name and column.name in parsed:
                properties[name] = parsed[column.name]
        if "hubspot_owner_id" in properties:
            properties["hubspot_owner_id"] = properties["hubspot_owner_id"].lower()
        created = parsed.get("created_at")
        updated = parsed.get("updated_at") or created
        archived = parsed.get("archived") == "true"
        record: dict[str, Any] = {
            "id": parsed[self.spec.key],
            "properties": {"hs_object_id": parsed[self.spec.key], **properties},
            "createdAt": created,
            "updatedAt": updated,
            "archived": archived,
            "associations": {
                to_type: [parsed[column]]
                for column, to_type in (("company_id", "companies"), ("contact_id", "contacts"))
                if column in parsed and column != self.spec.key
            },
        }
        if archived:
            record["archivedAt"] = updated
        return record


def read_crm_folder(
    folder: Path, timezone: str, known_companies: set[str] | frozenset[str] = frozenset()
) -> CsvImport:
    """Read every export file present in `folder`.

    `known_companies` are company ids imported before: rows of the other files may
    refer to them as well as to the companies of this `companies.csv`.
    """
    tz = ZoneInfo(timezone)
    out = CsvImport()
    companies = set(known_companies)
    owners: set[str] = set()
    for spec in SPECS:
        path = folder / spec.file
        if not path.is_file():
            continue
        reader = _FileReader(spec, tz, companies, out)
        reader.read(path)
        owners |= reader.owners
        if spec.object_type == "companies":
            companies |= {r["id"] for r in out.records.get("companies", [])}
    for email in sorted(owners):
        out.add("owners", {"id": email, "email": email, "archived": False})
    return out
