"""CRM CSV exports: good rows land in the HubSpot shapes, bad rows go to quarantine with
file, row, field and reason, and importing the same export again duplicates nothing."""

from __future__ import annotations

import shutil
from decimal import Decimal

import pytest
import yaml

from clientpulse.config import ConfigError, load_config
from clientpulse.pipeline.build_signals import build_models
from clientpulse.pipeline.ingest import ingest_crm_csv
from tests.factories import AS_OF, FIXTURE
from warehouse.db import open_writer

COMPANIES = """\ufeffcompany_id,name,domain,owner_email,annual_marketing_budget,created_at
500,Acme,acme.test,Anna@Agency.test,120000,2025-01-10
600,Бета Груп,beta.test,anna@agency.test,,2025-02-01
700,,nameless.test,,,
500,Acme again,acme.test,,,
"""
# semicolons, as a European Excel writes them
CONTACTS = """contact_id;company_id;email;first_name;last_name;job_title;date_of_birth
c1;500;ceo@acme.test;Ann;Lee;CEO;1980-11-20
c2;500;brand@acme.test;Bo;Kim;Brand Manager;
c3;600;dir@beta.test;Олег;Петренко;Маркетинг-директор;1975-11-25
c6;600;pa@beta.test;Ія;Ко;Асистентка;20.11.1980
c4;999;who@nowhere.test;X;Y;Designer;
"""
DEALS = """deal_id,company_id,contact_id,name,amount,stage,pipeline,close_date
d1,500,c1,Website,"12 500,50",closedwon,default,2025-03-01
d2,500,,Retainer,4000,closedwon,default,2025-09-15 14:30
d3,600,,Pitch,abc,contractsent,default,2026-12-01
d4,600,,Pitch 2,3000,,default,2026-12-01
"""
ACTIVITIES = """activity_id,type,company_id,contact_id,occurred_at,title,location,outcome
a1,meeting,500,c1,2026-11-02 10:00,Status,On-site: client office,COMPLETED
a2,call,500,c2,2026-11-10T09:00:00Z,Weekly sync,,
a3,visit,600,,2026-11-11 10:00,Coffee,,
a4,note,600,,yesterday,Note,,
a5,email,600,c3,2026-11-12 16:00,Re: brief,,,extra-cell
"""


def csv_config(tmp_path):
    raw = yaml.safe_load(FIXTURE.read_text(encoding="utf-8"))
    raw["sources"]["crm"] = {"kind": "csv", "csv_dir": "exports"}
    (tmp_path / "agency.yaml").write_text(yaml.safe_dump(raw, allow_unicode=True))
    folder = tmp_path / "exports"
    folder.mkdir()
    for name, text in (
        ("companies.csv", COMPANIES),
        ("contacts.csv", CONTACTS),
        ("deals.csv", DEALS),
        ("activities.csv", ACTIVITIES),
    ):
        (folder / name).write_text(text, encoding="utf-8")
    return load_config(tmp_path / "agency.yaml")


def query(config, sql):
    with open_writer(config.warehouse.path) as con:
        return con.execute(sql).fetchall()


def test_good_rows_land_and_bad_rows_are_quarantined_with_row_field_and_reason(tmp_path):
    config = csv_config(tmp_path)
    stats = ingest_crm_csv(config, "run-1")

    assert stats["quarantined"] == 9
    ids = query(config, "SELECT object_type, list(id ORDER BY id) FROM raw.crm_objects GROUP BY 1")
    assert dict(ids) == {
        "companies": ["500", "600"],
        "contacts": ["c1", "c2", "c3"],
        "deals": ["d1", "d2"],
        "meetings": ["a1"],
        "calls": ["a2"],
        "owners": ["anna@agency.test"],
    }
    bad = query(
        config,
        "SELECT record_ref, field, reason FROM ops.quarantine WHERE source = 'crm_csv' "
        "ORDER BY record_ref",
    )
    assert bad == [
        (
            "activities.csv:4",
            "type",
            "unknown activity type 'visit' (one of call, meeting, note, email)",
        ),
        (
            "activities.csv:5",
            "occurred_at",
            "not a date or date-time (YYYY-MM-DD[ HH:MM]): 'yesterday'",
        ),
        ("activities.csv:6", None, "more cells than header columns"),
        ("companies.csv:4", "name", "required value is empty"),
        ("companies.csv:5", "company_id", "duplicate company_id '500' (first on row 2)"),
        ("contacts.csv:5", "date_of_birth", "not a date (YYYY-MM-DD): '20.11.1980'"),
        (
            "contacts.csv:6",
            "company_id",
            "company_id '999' is in no companies.csv row nor earlier import",
        ),
        ("deals.csv:4", "amount", "not a number: 'abc'"),
        ("deals.csv:5", "stage", "required value is empty"),
    ]


def test_csv_records_read_through_the_same_staging_as_hubspot(tmp_path):
    config = csv_config(tmp_path)
    ingest_crm_csv(config, "run-1")
    with open_writer(config.warehouse.path) as con:
        build_models(con, config, AS_OF)
        deals = con.execute(
            "SELECT deal_id, amount, close_date::VARCHAR, is_won, client_id "
            "FROM staging.crm_deals ORDER BY deal_id"
        ).fetchall()
        contacts = con.execute(
            "SELECT contact_id, seniority, date_of_birth::VARCHAR, client_id "
            "FROM staging.crm_contacts ORDER BY contact_id"
        ).fetchall()
        engagements = con.execute(
            "SELECT engagement_id, engagement_type, occurred_at, on_site, client_id "
            "FROM staging.crm_engagements ORDER BY engagement_id"
        ).fetchall()
        company = con.execute(
            "SELECT owner_id, properties ->> 'annual_marketing_budget' FROM staging.crm_companies "
            "WHERE company_id = '500'"
        ).fetchone()
        owners = con.execute(
            "SELECT owner_id, account_manager_id FROM staging.crm_owners"
        ).fetchall()

    # 2025-09-15 14:30 in Kyiv is still the 15th in Kyiv
    assert deals == [
        ("d1", Decimal("12500.50"), "2025-03-01", True, "acme"),
        ("d2", Decimal("4000.00"), "2025-09-15", True, "acme"),
    ]
    assert contacts == [
        ("c1", "executive", "1980-11-20", "acme"),
        ("c2", "manager", None, "acme"),
        ("c3", "executive", "1975-11-25", "beta"),
    ]
    assert [(e[0], e[1], e[3], e[4]) for e in engagements] == [
        ("a1", "meetings", True, "acme"),
        ("a2", "calls", False, "acme"),
    ]
    assert engagements[0][2].isoformat() == "2026-11-02T08:00:00+00:00"  # 10:00 Kyiv (EET)
    assert company == ("anna@agency.test", "120000")  # an unknown column is a custom property
    assert owners == [("anna@agency.test", "anna")]


def test_the_same_export_imported_again_adds_nothing(tmp_path):
    config = csv_config(tmp_path)
    ingest_crm_csv(config, "run-1")
    before = query(config, "SELECT count(*) FROM raw.crm_objects")[0][0]
    assert ingest_crm_csv(config, "run-2")["skipped"]

    # A new export with one more deal and an edited one: upserts, no duplicates.
    deals = config.sources.crm.csv_dir / "deals.csv"
    deals.write_text(
        DEALS.replace("d2,500,,Retainer,4000", "d2,500,,Retainer,4500")
        + "d5,600,,New,900,closedwon,default,2026-11-01\n",
        encoding="utf-8",
    )
    stats = ingest_crm_csv(config, "run-3")
    assert stats["deals"] == 3
    assert query(config, "SELECT count(*) FROM raw.crm_objects")[0][0] == before + 1
    amount = query(
        config, "SELECT payload -> 'properties' ->> 'amount' FROM raw.crm_objects WHERE id = 'd2'"
    )
    assert amount == [("4500",)]
    quarantined = query(config, "SELECT count(*) FROM ops.quarantine WHERE source = 'crm_csv'")
    assert quarantined == [(9,)]  # the same bad rows again are not new entries


def test_a_deleted_row_marked_archived_becomes_a_tombstone(tmp_path):
    config = csv_config(tmp_path)
    ingest_crm_csv(config, "run-1")
    deals = config.sources.crm.csv_dir / "deals.csv"
    deals.write_text(
        "deal_id,company_id,amount,stage,archived,updated_at\n"
        "d2,500,4000,closedwon,yes,2026-11-01\n",
        encoding="utf-8",
    )
    ingest_crm_csv(config, "run-2")
    rows = query(
        config,
        "SELECT id, archived, archived_at IS NOT NULL FROM raw.crm_objects "
        "WHERE object_type = 'deals' ORDER BY id",
    )
    assert rows == [("d1", False, False), ("d2", True, True)]


def test_csv_kind_needs_a_folder_and_says_where(tmp_path):
    raw = yaml.safe_load(FIXTURE.read_text(encoding="utf-8"))
    raw["sources"]["crm"] = {"kind": "csv"}
    path = tmp_path / "agency.yaml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True))
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert f"{path}: 1 problem(s)" in str(caught.value)
    assert "sources.crm: csv_dir: required when kind is 'csv'" in str(caught.value)


def test_a_missing_folder_is_a_clear_error(tmp_path):
    config = csv_config(tmp_path)
    shutil.rmtree(config.sources.crm.csv_dir)
    with pytest.raises(
        FileNotFoundError, match=r"sources\.crm\.csv_dir: .*exports is not a folder"
    ):
        ingest_crm_csv(config, "run-1")
