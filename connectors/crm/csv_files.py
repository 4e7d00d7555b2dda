"""CRM exports as CSV, for agencies on a CRM other than HubSpot.

A folder holds up to six files, each optional: `companies.csv`, `contacts.csv`,
`deals.csv`, `invoices.csv`, `feedback.csv` and `activities.csv` (columns in
connectors/crm/README.md).
Every good row becomes a record in HubSpot's v3 shape (`id`, string `properties` under
HubSpot's property names, `createdAt`, `updatedAt`, `archived`, `associations`), so the
warehouse and the marts cannot tell which CRM fed them. Columns we do not know are kept as custom
properties under their own (lower-cased) name. A bad row is reported with its file,
row number (the header is row 1, as a spreadsheet shows it), field and reason, and
is left out; the rest of the file still loads.

The delimiter (`,` `;` tab `|`) is the one that splits the header into known column
names. Text is decoded by its byte-order mark (UTF-8, UTF-16: Excel's "Unicode
text"), else as the configured encoding, else UTF-8, else the legacy code page it
looks like (cp1251 for Cyrillic, cp1252). UTF-8 is decided per row, not per file: a
file whose other rows are UTF-8 is read as UTF-8 and a row that is not (pasted from a
cp1251 program) is quarantined naming its byte. A quote that never closes is blamed on the
row it opened in and swallows no rows after it; a cell over `MAX_CELL_CHARS` puts its
row in quarantine. A file that cannot be read at all (undecodable, empty, required
columns missing) is reported by name and the other files are read all the same.
Times without a zone are read in the agency's time zone.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

DELIMITERS = (",", ";", "\t", "|")
# A cell longer than this is not CRM data; its row is quarantined.
MAX_CELL_CHARS = 1 << 20
_HIGH_LETTER = re.compile(rb"[\xc0-\xff]")
_HIGH_RUN = re.compile(rb"[\xc0-\xff]{2,}")
ACTIVITY_TYPES = {"call": "calls", "meeting": "meetings", "note": "notes", "email": "emails"}
_NUMBER = re.compile(r"^-?\d+(\.\d+)?$")
_TRUE, _FALSE = {"true", "yes", "1", "y"}, {"false", "no", "0", "n", ""}


class CsvValueError(ValueError):
    """A cell that cannot be read as its column's kind."""


class CsvFileError(ValueError):
    """A whole file cannot be read (encoding, header); the message names the file, and
    `row` and `field` say where (the header is row 1)."""

    def __init__(self, message: str, row: int = 1, field: str | None = None) -> None:
        super().__init__(message)
        self.row = row
        self.field = field


@dataclass(frozen=True)
class Column:
    name: str
    kind: str = "text"  # text | number | date | datetime | bool
    required: bool = False
    property: str | None = None  # the HubSpot property it fills
    private: bool = False  # free text a person wrote: dropped on read unless kept on purpose


@dataclass(frozen=True)
class FileSpec:
    file: str
    key: str
    columns: tuple[Column, ...]
    object_type: str | None = None  # None: each row's `type` decides (activities)

    @property
    def object_types(self) -> tuple[str, ...]:
        """The record types this file holds."""
        return (self.object_type,) if self.object_type else tuple(ACTIVITY_TYPES.values())


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
        "invoices.csv",
        "invoice_number",
        (
            Column("invoice_number", required=True, property="hs_number"),
            Column("company_id", required=True),
            Column("amount", "number", required=True, property="hs_amount_billed"),
            Column("balance_due", "number", property="hs_balance_due"),
            Column("currency", property="hs_currency"),
            Column("issued_on", "date", required=True, property="hs_invoice_date"),
            Column("due_on", "date", required=True, property="hs_due_date"),
            Column("paid_at", "datetime", property="hs_payment_date"),
            Column("status", property="hs_invoice_status"),
            *COMMON,
        ),
        "invoices",
    ),
    FileSpec(
        "feedback.csv",
        "response_id",
        (
            Column("response_id", required=True),
            Column("company_id", required=True),
            Column("contact_id"),
            Column("contact_email", property="hs_contact_email"),
            Column("submitted_at", "datetime", required=True, property="hs_submission_timestamp"),
            Column("score", "score", required=True, property="hs_value"),
            Column("survey_type", property="hs_survey_type"),
            Column("comment", property="hs_content", private=True),
            *COMMON,
        ),
        "feedback_submissions",
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
    unreadable: list[str] = field(default_factory=list)  # files none of which was read
    # Per file read, the key of every row in it, good or quarantined.
    present: dict[str, set[str]] = field(default_factory=dict)

    def add(self, object_type: str, record: dict[str, Any]) -> None:
        self.records.setdefault(object_type, []).append(record)


def _number(value: str) -> str:
    cleaned = value.replace(" ", "").replace("\u00a0", "")
    if "," in cleaned and "." not in cleaned:
        cleaned = cleaned.replace(",", ".")
    if not _NUMBER.match(cleaned):
        raise CsvValueError(f"not a number: {value!r}")
    return cleaned


def _score(value: str) -> str:
    """A 0–10 survey answer (NPS)."""
    if not value.isdigit() or int(value) > 10:
        raise CsvValueError(f"not a score from 0 to 10: {value!r}")
    return str(int(value))


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
        "score": _score,
    }


def _decode(path: Path, encoding: str | None) -> tuple[str, dict[int, int]]:
    """The file's text: a byte-order mark decides (UTF-8, UTF-16); else the configured
    encoding; else UTF-8, or failing that the legacy code page the bytes look like. With
    it, the rows (1 = header) that are not UTF-8 in a UTF-8 file, each with the offset of
    its first bad byte (their bad bytes read as U+FFFD)."""
    data = path.read_bytes()
    if data.startswith(codecs.BOM_UTF8):
        chosen = "utf-8-sig"
    elif data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        chosen = "utf-16"
    elif len(data) > 1 and data.count(0) * 3 > len(data):  # UTF-16 without a BOM
        chosen = "utf-16-le" if data[1::2].count(0) > data[0::2].count(0) else "utf-16-be"
    elif encoding:
        chosen = encoding
    else:
        text, bad = _utf8_rows(data)
        if text is not None:
            return text, bad
        chosen = _legacy_code_page(data)
    try:
        return data.decode(chosen), {}
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise CsvFileError(
            f"{path.name}: not {chosen} text (byte {exc.start}, row {line}); set "
            "sources.crm.csv_encoding to the encoding the CRM exports in",
            row=line,
        ) from None


def _utf8_rows(data: bytes) -> tuple[str | None, dict[int, int]]:
    """The text and its non-UTF-8 rows {row: byte} when the file is UTF-8 (wholly, or in
    every row with non-ASCII text but some); (None, {}) when no such row is UTF-8."""
    try:
        return data.decode("utf-8"), {}
    except UnicodeDecodeError:
        pass
    parts, bad, utf8_rows, offset = [], {}, 0, 0
    for row, line in enumerate(data.splitlines(keepends=True), start=1):
        try:
            parts.append(line.decode("utf-8"))
            utf8_rows += not line.isascii()
        except UnicodeDecodeError as exc:
            bad[row] = offset + exc.start
            parts.append(line.decode("utf-8", errors="replace"))
        offset += len(line)
    return ("".join(parts), bad) if utf8_rows else (None, {})


def _legacy_code_page(data: bytes) -> str:
    """cp1251 (Cyrillic Excel) when most letters above ASCII come in runs, as Cyrillic
    words do; cp1252 (Western Excel) when they sit alone inside Latin words."""
    high = len(_HIGH_LETTER.findall(data))
    in_runs = sum(map(len, _HIGH_RUN.findall(data)))
    return "cp1251" if in_runs * 2 > high else "cp1252"


def _header(path: Path, line: str, spec: FileSpec) -> tuple[str, list[str]]:
    """The delimiter that splits the header into the most known column names, and the
    names; a header still missing required columns is an error naming them."""
    splits = {
        d: [(n or "").strip().lower() for n in next(csv.reader([line], delimiter=d), [])]
        for d in DELIMITERS
    }
    known = {c.name for c in spec.columns}
    delimiter = max(DELIMITERS, key=lambda d: (len(known & set(splits[d])), len(splits[d])))
    names = splits[delimiter]
    missing = [c.name for c in spec.columns if c.required and c.name not in names]
    if missing:
        shown = " ".join("tab" if d == "\t" else d for d in DELIMITERS)
        raise CsvFileError(
            f"{path.name}: missing required column(s): {', '.join(missing)} (the header "
            f"{line.strip()[:200]!r} read with delimiter {delimiter!r}; tried {shown})",
            field=missing[0],
        )
    return delimiter, names


def _records(
    lines: list[str], delimiter: str, width: int
) -> Iterator[tuple[int, list[str], str | None]]:
    """(row, cells, problem) per record of `lines`, the rows after the header (row 1).

    A record's row is the line it starts on. A quote that does not close before the
    file ends, or makes a record span rows with a cell count other than the header's
    `width`, is the problem of the row where it opened (`cells` are then that row's
    own); reading resumes on the next row, so nothing after it is swallowed.
    """
    # csv's own limit (128 KiB a cell) would abort the file; cells are capped per row
    # instead (MAX_CELL_CHARS). The limit is process-wide, so it is only ever raised.
    csv.field_size_limit(max(csv.field_size_limit(), sum(map(len, lines)) + 1))
    start = 0
    while start < len(lines):
        reader = csv.reader(lines[start:], delimiter=delimiter, strict=True)
        done = 0  # lines of lines[start:] read before the current record
        try:
            for cells in reader:
                if reader.line_num - done > 1 and len(cells) != width:
                    raise csv.Error(f"{reader.line_num - done} rows made one of {len(cells)} cells")
                yield start + done + 2, cells, None
                done = reader.line_num
            return
        except csv.Error as exc:
            opening = next(csv.reader([lines[start + done]], delimiter=delimiter), [])
            yield (
                start + done + 2,
                opening,
                f"unclosed quote ({exc}); the rows after it are read on their own",
            )
            start += done + 1


def _shape_problem(
    names: list[str], cells: list[str], quote_problem: str | None
) -> tuple[str | None, str] | None:
    """(field, reason) when a record cannot be read cell by cell at all."""
    if quote_problem:  # the field whose quote opened is the row's last cell
        return names[min(len(cells), len(names)) - 1], quote_problem
    if len(cells) > len(names):
        return None, "more cells than header columns"
    for name, cell in zip(names, cells, strict=False):
        if len(cell) > MAX_CELL_CHARS:
            return name, f"value longer than {MAX_CELL_CHARS} characters ({len(cell)})"
    return None


def _not_utf8(
    names: list[str], cells: list[str], row: int, not_utf8: dict[int, int]
) -> tuple[str | None, str] | None:
    """(field, reason) when a row of a UTF-8 file was not UTF-8 (its first such cell)."""
    rows = [r for r in not_utf8 if r >= row]
    field = next((n for n, c in zip(names, cells, strict=False) if "\ufffd" in c), None)
    if field is None or not rows:
        return None
    byte = not_utf8[min(rows)]
    return field, (
        f"not UTF-8 text (byte {byte}) in a file whose other rows are UTF-8; re-export "
        "the row or fix it in a UTF-8 editor (it was probably pasted from a cp1251/cp1252 "
        "program)"
    )


class _FileReader:
    def __init__(
        self,
        spec: FileSpec,
        tz: ZoneInfo,
        known_companies: set[str],
        out: CsvImport,
        keep_private: bool = False,
    ):
        self.spec = spec
        # never read, so never stored nor quarantined
        self.dropped = () if keep_private else tuple(c.name for c in spec.columns if c.private)
        self.parsers = _parsers(tz)
        self.known_companies = known_companies
        self.out = out
        self.first_row: dict[str, int] = {}
        self.owners: set[str] = set()
        self.present: set[str] = set()  # keys of every row read, good or bad

    def problem(self, row: int, column: str | None, reason: str, values: dict[str, str]) -> None:
        clipped = {k: v if len(v) <= 1000 else v[:1000] + " …" for k, v in values.items()}
        self.out.problems.append(RowProblem(self.spec.file, row, column, reason, clipped))

    def read(self, path: Path, encoding: str | None) -> None:
        """Read one file; raise `CsvFileError` when none of it can be read."""
        text, not_utf8 = _decode(path, encoding)
        lines = list(io.StringIO(text, newline=""))
        if not "".join(lines).strip():
            raise CsvFileError(f"{path.name}: the file is empty (not even a header row)")
        delimiter, names = _header(path, lines[0], self.spec)
        self.present = self.out.present.setdefault(self.spec.file, set())
        for number, cells, quote_problem in _records(lines[1:], delimiter, len(names)):
            if not any(cell.strip() for cell in cells):
                continue  # a blank row, as spreadsheets leave at the end
            values = dict(zip(names, (c.strip() for c in cells), strict=False))
            for name in self.dropped:
                values.pop(name, None)
            if values.get(self.spec.key):  # seen, even if quarantined below
                self.present.add(values[self.spec.key])
            if len(cells) > len(names):
                values[""] = delimiter.join(cells[len(names) :])
            problem = _shape_problem(names, cells, quote_problem) or _not_utf8(
                names, cells, number, not_utf8
            )
            if problem:
                self.problem(number, *problem, values)
            else:
                self._add(number, values)

    def _add(self, number: int, values: dict[str, str]) -> None:
        record = self._record(number, values)
        if record is not None:
            object_type = self.spec.object_type or ACTIVITY_TYPES[values["type"].lower()]
            self.out.add(object_type, record)

    def _record(self, number: int, values: dict[str, str]) -> dict[str, Any] | None:
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
    folder: Path,
    timezone: str,
    known_companies: set[str] | frozenset[str] = frozenset(),
    encoding: str | None = None,
    keep_private: bool = False,
) -> CsvImport:
    """Read every export file present in `folder`.

    `known_companies` are company ids imported before: rows of the other files may
    refer to them as well as to the companies of this `companies.csv`. A file that
    cannot be read at all is a problem of its row 1 and is listed in `unreadable`; the
    other files are read all the same. `encoding` is for files without a byte-order
    mark (default: UTF-8, else the legacy code page the bytes look like). Free text people
    wrote (survey comments) is dropped as it is read unless `keep_private`.
    """
    tz = ZoneInfo(timezone)
    out = CsvImport()
    companies = set(known_companies)
    owners: set[str] = set()
    for spec in SPECS:
        path = folder / spec.file
        if not path.is_file():
            continue
        reader = _FileReader(spec, tz, companies, out, keep_private)
        try:
            reader.read(path, encoding)
        except CsvFileError as exc:
            out.unreadable.append(spec.file)
            reader.problem(exc.row, exc.field, str(exc), {})
        owners |= reader.owners
        if spec.object_type == "companies":
            companies |= {r["id"] for r in out.records.get("companies", [])}
    for email in sorted(owners):
        out.add("owners", {"id": email, "email": email, "archived": False})
    return out
