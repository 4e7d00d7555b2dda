"""CRM CSV exports → raw, in the same shape as HubSpot's records.

The folder's files are read whole on every change and upserted by (type, id), so
importing the same export again adds nothing; an unchanged folder (same contents
hash) is skipped. Bad rows go to `ops.quarantine` as `crm_csv` / `<file>:<row>` with
the field and the reason. A file that cannot be read at all (encoding, header) does
not hold the others back: they are committed, then the task fails naming the file,
and the folder is read again next run. With `csv_full_export`, a record that a
newer export of its file no longer lists is archived (a tombstone, as HubSpot's).
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb

from connectors.crm.csv_files import SPECS, CsvImport, read_crm_folder
from connectors.crm.hubspot_sync import KEY, crm_row
from connectors.crm.settings import CrmSource
from warehouse.cursors import get_cursor, set_cursor
from warehouse.db import open_writer, transaction
from warehouse.load import upsert
from warehouse.quarantine import QuarantinedRecord, quarantine
from warehouse.runlog import run_step

SOURCE = "crm_csv"


def _fingerprint(folder: Path) -> str:
    digest = hashlib.sha256()
    for spec in SPECS:
        path = folder / spec.file
        if path.is_file():
            digest.update(spec.file.encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()


def _tombstone_vanished(con: duckdb.DuckDBPyConnection, imported: CsvImport, now: datetime) -> int:
    """Each file of a full export lists every live record: one it no longer lists was
    deleted in the CRM and is archived here. Files absent or unreadable change nothing."""
    archived = 0
    for spec in SPECS:
        if spec.file not in imported.present:
            continue
        (count,) = con.execute(
            """UPDATE raw.crm_objects SET archived = true, archived_at = ?, extracted_at = ?
               WHERE list_contains(?, object_type) AND NOT archived
                 AND NOT list_contains(?, id)""",
            [now, now, list(spec.object_types), sorted(imported.present[spec.file])],
        ).fetchone()
        archived += count
    return archived


def ingest_crm_csv(
    source: CrmSource, timezone: str, warehouse: Path, run_id: str, config_file: Path | str
) -> dict[str, Any]:
    """Import `source.csv_dir` (dates without a zone are in `timezone`); return counts per
    type and of quarantined rows. `config_file` names the config in errors."""
    folder = source.csv_dir
    if folder is None or not folder.is_dir():
        raise FileNotFoundError(f"{config_file}: sources.crm.csv_dir: {folder} is not a folder")
    with open_writer(warehouse) as con, run_step(con, run_id, "ingest_crm") as stats:
        fingerprint = _fingerprint(folder)
        if get_cursor(con, SOURCE, "folder") == fingerprint:
            stats["skipped"] = "unchanged since the last import"
            return dict(stats)
        known = {
            i
            for (i,) in con.execute(
                "SELECT id FROM raw.crm_objects WHERE object_type = 'companies'"
            ).fetchall()
        }
        imported = read_crm_folder(
            folder, timezone, known, source.csv_encoding, source.keep_feedback_comments
        )
        now = datetime.now(UTC)
        bad = [
            QuarantinedRecord(SOURCE, f"{p.file}:{p.row}", p.field, p.reason, p.values)
            for p in imported.problems
        ]
        with transaction(con):
            for object_type, records in imported.records.items():
                rows = [crm_row(object_type, r, now) for r in records]
                stats[object_type] = upsert(con, "raw.crm_objects", rows, KEY)
            stats["quarantined"] = quarantine(con, bad)
            if source.csv_full_export:
                stats["tombstoned"] = _tombstone_vanished(con, imported, now)
            if not imported.unreadable:
                set_cursor(con, SOURCE, "folder", fingerprint)
        if imported.unreadable:
            problems = [p.reason for p in imported.problems if p.file in imported.unreadable]
            raise CsvExportUnreadable(
                f"{folder}: imported the other files; could not read " + "; ".join(problems)
            )
        return dict(stats)


class CsvExportUnreadable(ValueError):
    """Some export files could not be read at all; the rest were imported."""
