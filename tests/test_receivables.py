"""Receivables: invoices from HubSpot or invoices.csv into `core.client_receivables`, with
only what was known as of each build (docs/domain.md §5, §7).

The small agency as of Monday 2026-11-16 (Kyiv). Every figure below is worked out by hand
from the invoice rows beside it.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from clientpulse.pipeline.build_signals import build_models
from clientpulse.pipeline.ingest import ingest_crm_csv
from sandbox.fake_hubspot import HubSpotFaults
from tests.clock import FakeClock
from tests.factories import AS_OF, crm, small_config
from tests.test_crm_csv import csv_config
from tests.test_ingest_crm import fake_portal, sync
from warehouse.db import open_writer
from warehouse.load import upsert


def at(day: str) -> datetime:
    return datetime.fromisoformat(f"{day}T10:00:00+00:00")


def invoice(invoice_id, company, issued, due, amount, *, paid=None, balance=None, **extra):
    """An invoice row as HubSpot keeps it now; `created`/`updated` default to its issue."""
    created = extra.pop("created", issued)
    updated = extra.pop("updated", paid or created)
    properties = {
        "hs_number": f"INV-{invoice_id}",
        "hs_invoice_status": extra.pop("status", "paid" if paid else "open"),
        "hs_amount_billed": amount,
        "hs_balance_due": 0 if paid else (amount if balance is None else balance),
        "hs_currency": extra.pop("currency", "EUR"),
        "hs_invoice_date": f"{issued}T00:00:00.000Z",
        "hs_due_date": f"{due}T00:00:00.000Z",
    }
    if paid:
        properties["hs_payment_date"] = at(paid).isoformat()
    row = crm("invoices", invoice_id, properties, companies=[company], at=at(updated), **extra)
    payload = json.loads(row["payload"])
    payload["createdAt"] = at(created).isoformat()
    return row | {"payload": json.dumps(payload)}


ROWS = [
    # paid 20 days late, but before as_of: nothing open
    invoice("1", "500", "2026-08-01", "2026-08-31", 1000, paid="2026-09-20"),
    # paid only after as_of: open and 46 days past due as of 2026-11-16, for the full amount
    invoice("2", "500", "2026-09-01", "2026-10-01", 1000, paid="2026-11-20"),
    # 500 paid before as_of: 700 still open, 16 days past due
    invoice("3", "500", "2026-10-01", "2026-10-31", 1200, balance=700, updated="2026-11-05"),
    invoice("4", "500", "2026-11-01", "2026-12-01", 1000),  # open, not yet due
    # dated 10 November but entered in the CRM on the 20th: unknown on the 16th
    invoice("5", "500", "2026-11-10", "2026-12-10", 900, created="2026-11-20"),
    invoice("6", "500", "2026-06-01", "2026-07-01", 5000, status="voided"),  # never counted
    invoice("7", "500", "2026-11-02", "2026-12-02", 5000, status="draft"),  # never sent
    invoice("8", "500", "2026-05-01", "2026-05-15", 500),  # 185 days past due
    invoice("9", "500", "2026-10-01", "2026-10-15", 4000, archived=True),  # deleted
    invoice("10", "600", "2026-10-10", "2026-10-20", 800, paid="2026-10-19", currency="USD"),
]
COLUMNS = (
    "client_id, currency, open_invoices, open_amount, overdue_invoices, overdue_amount, "
    "overdue_1_30, overdue_31_60, overdue_61_90, overdue_over_90, oldest_overdue_days, "
    "monthly_billing, overdue_to_monthly_billing"
)


@pytest.fixture
def build_as_of(tmp_path):
    config = small_config(tmp_path)
    crm_rows = [
        crm("companies", "500", {"name": "Acme"}),
        crm("companies", "600", {"name": "Beta"}),
    ]
    with open_writer(config.warehouse.path) as con:
        upsert(con, "raw.crm_objects", crm_rows + ROWS, ["object_type", "id"])

        def build(as_of: datetime) -> list[tuple]:
            build_models(con, config, as_of)
            return con.execute(
                f"SELECT {COLUMNS} FROM core.client_receivables ORDER BY client_id"
            ).fetchall()

        yield build


def test_open_and_overdue_as_of_the_build_from_hand_computed_invoices(build_as_of):
    acme, beta = build_as_of(AS_OF)
    # open: 2 (1000), 3 (700), 4 (1000), 8 (500) = 3200; overdue: 2, 3, 8 = 2200 in the
    # bands 1–30 (3: 700), 31–60 (2: 1000) and over 90 (8: 500, since 15 May = 185 days).
    # Billing in the 180 days before (since 20 May): 1, 2, 3, 4 = 4200 → 700 a month;
    # 2200 / 700 = 3.14 months of billing overdue.
    assert acme == (
        "acme", "EUR", 4, Decimal("3200.00"), 3, Decimal("2200.00"), Decimal("700.00"),
        Decimal("1000.00"), Decimal("0.00"), Decimal("500.00"), 185, 700.0, 3.14,
    )  # fmt: skip
    # beta paid a day early: nothing open; 800 in the window → 133.33 a month
    assert beta[:11] == ("beta", "USD", 0, 0, 0, 0, 0, 0, 0, 0, None)
    assert beta[11] == pytest.approx(800 / 6) and beta[12] == 0


def test_a_later_build_sees_the_payment_and_the_backdated_invoice(build_as_of):
    (acme, _) = build_as_of(AS_OF + timedelta(days=9))  # Wednesday 25 November
    # 2 is paid (20 Nov); 5 is now on record (900, due 10 Dec); 3 is 25 days past due
    # and 8 is 194 days past due; billing since 29 May: 1, 2, 3, 4, 5 = 5100 → 850
    assert acme == (
        "acme", "EUR", 4, Decimal("3100.00"), 2, Decimal("1200.00"), Decimal("700.00"),
        Decimal("0.00"), Decimal("0.00"), Decimal("500.00"), 194, 850.0, 1.41,
    )  # fmt: skip


def test_hubspot_invoices_land_through_the_fake_and_a_missing_scope_is_skipped(tmp_path):
    config = small_config(tmp_path)
    clock = FakeClock(datetime.now(UTC).timestamp())
    records = [json.loads(r["payload"]) for r in ROWS if not r["archived"]]
    data = {"companies": [json.loads(crm("companies", "500", {"name": "Acme"})["payload"])]}
    for record in records:
        record["associations"] = {"companies": record["associations"]["companies"]}
        record["updatedAt"] = record["createdAt"]
    data["invoices"] = records

    def sync_with(faults: HubSpotFaults) -> dict:
        with fake_portal(data, faults) as (base_url, _):
            return sync(config, base_url, clock)

    refused = sync_with(HubSpotFaults(clock=clock, ungranted=frozenset({"invoices"})))
    assert "crm.objects.invoices.read" in refused["invoices_skipped"]
    assert refused["companies"] == 1 and refused["invoices"] == 0

    stats = sync_with(HubSpotFaults(clock=clock))
    assert stats["invoices"] == len(records) and "invoices_skipped" not in stats
    with open_writer(config.warehouse.path) as con:
        build_models(con, config, AS_OF)
        staged = con.execute(
            "SELECT invoice_id, status, amount_billed, currency, issued_on::VARCHAR, "
            "due_on::VARCHAR, client_id FROM staging.crm_invoices ORDER BY invoice_id::INT"
        ).fetchall()
    # drafts and voided invoices are left out; the rest keep HubSpot's values
    assert [row[0] for row in staged] == ["1", "2", "3", "4", "5", "8", "10"]
    assert staged[1] == ("2", "paid", Decimal("1000.00"), "EUR", "2026-09-01", "2026-10-01", "acme")
    assert staged[-1][3] == "USD" and staged[-1][6] == "beta"


INVOICES_CSV = """invoice_number;company_id;amount;currency;issued_on;due_on;paid_at;status
A-1;500;1000;EUR;2026-09-01;2026-10-01;2026-11-20;paid
A-2;500;"1 200,00";EUR;2026-10-01;2026-10-31;;open
A-3;500;900;EUR;2026-10-01;31.10.2026;;open
A-4;999;100;EUR;2026-10-01;2026-10-31;;open
"""


def test_invoices_csv_reads_like_hubspot_and_bad_rows_are_quarantined(tmp_path):
    config = csv_config(tmp_path)  # companies 500 (acme) and 600 (beta), among other files
    (tmp_path / "exports" / "invoices.csv").write_text(INVOICES_CSV, encoding="utf-8")
    ingest_crm_csv(config, "run-1")
    with open_writer(config.warehouse.path) as con:
        problems = con.execute(
            "SELECT record_ref, field FROM ops.quarantine "
            "WHERE source = 'crm_csv' AND record_ref LIKE 'invoices%' ORDER BY 1"
        ).fetchall()
        build_models(con, config, AS_OF)
        acme = con.execute(
            "SELECT open_invoices, open_amount, overdue_amount, overdue_31_60, overdue_1_30 "
            "FROM core.client_receivables WHERE client_id = 'acme'"
        ).fetchone()
    assert problems == [("invoices.csv:4", "due_on"), ("invoices.csv:5", "company_id")]
    # A-1 paid on the 20th was open on the 16th, 46 days past due; A-2 is 16 days past due
    # (a CSV row without created_at is known from its invoice date)
    assert acme == (
        2,
        Decimal("2200.00"),
        Decimal("2200.00"),
        Decimal("1000.00"),
        Decimal("1200.00"),
    )
