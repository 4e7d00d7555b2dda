"""The `sources.crm` section of the agency config."""

from __future__ import annotations

import codecs
from pathlib import Path
from typing import Literal

from pydantic import Field, model_validator

from connectors.settings import SettingsModel


class CrmSource(SettingsModel):
    """HubSpot (over its API) or CSV exports from another CRM (`csv_dir`)."""

    enabled: bool = True  # false: ingest_crm skips
    # `hubspot` (its API) or `csv` (a folder of exports)
    kind: Literal["hubspot", "csv"] = "hubspot"
    # HubSpot: Airflow Connection with the private app token
    connection_id: str = "clientpulse_hubspot"
    # CSV: the folder of exports (companies, contacts, deals, invoices, feedback, activities)
    csv_dir: Path | None = None
    # For CSV files without a byte-order mark, e.g. cp1251; default: UTF-8, else detected.
    csv_encoding: str | None = None
    # Each export file lists every live record: one missing from a newer export was
    # deleted in the CRM and is archived (off: rows are only ever added or updated).
    csv_full_export: bool = False
    burst_per_10s: int = Field(100, ge=10)  # the HubSpot account tier's ten-second budget
    won_stages: list[str] = Field(["closedwon"], min_length=1)  # deal stage ids that count as won
    lost_stages: list[str] = ["closedlost"]  # deal stage ids that count as lost
    company_properties: list[str] = []  # custom company properties to fetch as well
    budget_property: str | None = None  # company property: the client's yearly marketing budget
    # Survey comments are what a client's person wrote: not read (HubSpot's hs_content,
    # feedback.csv's comment) unless the agency decides to keep them in the warehouse.
    keep_feedback_comments: bool = False

    @model_validator(mode="after")
    def _csv_dir_matches_kind(self) -> CrmSource:
        if self.kind == "csv" and self.csv_dir is None:
            raise ValueError("csv_dir: required when kind is 'csv'")
        if self.csv_encoding is not None:
            try:
                codecs.lookup(self.csv_encoding)
            except LookupError:
                raise ValueError(f"csv_encoding: unknown encoding {self.csv_encoding!r}") from None
        if self.kind != "csv" and self.csv_dir is not None:
            raise ValueError(f"csv_dir: only used when kind is 'csv' (kind is {self.kind!r})")
        return self
