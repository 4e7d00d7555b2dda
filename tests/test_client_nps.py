"""Client survey answers (HubSpot feedback submissions or feedback.csv) into
staging.crm_feedback and intermediate.client_nps, worked out by hand for the small agency
as of Monday 2026-11-16 (the score 180 days before: as of 2026-05-20)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
import yaml

from clientpulse.config import load_config
from clientpulse.pipeline.build_signals import build_models
from clientpulse.pipeline.ingest import ingest_crm_csv
from sandbox.fake_hubspot import HubSpotFaults
from tests.clock import FakeClock
from tests.factories import AS_OF, FIXTURE, crm, small_config
from tests.test_crm_csv import csv_config
from tests.test_ingest_crm import fake_portal, sync
from warehouse.db import open_writer
from warehouse.load import upsert


def answer(response_id, contact, day, score, survey="NPS", **extra):
    properties = {
        "hs_survey_type": survey,
        "hs_value": score,
        "hs_submission_timestamp": f"{day}T12:00:00Z",
        "hs_content": "they never listen",
    }
    return crm("feedback_submissions", response_id, properties, contacts=[contact], **extra)


def contacts(left_archived: bool) -> list[dict]:
    return [
        crm("companies", "500", {"name": "Acme"}),
        crm("contacts", "701", {"email": "CEO@acme.test"}, companies=["500"]),
        crm("contacts", "702", {"email": "pm@acme.test"}, companies=["500"]),
        crm(
            "contacts", "703", {"email": "gone@acme.test"}, companies=["500"],
            archived=left_archived, at=AS_OF - timedelta(days=30),
        ),
    ]  # fmt: skip


ANSWERS = [
    answer("801", "701", "2026-03-01", 10),
    answer("802", "701", "2026-09-01", 8),  # 701's latest now: passive
    answer("803", "702", "2026-10-20", 3),  # 702's latest now: a detractor 27 days ago
    answer("804", "703", "2026-08-01", 2),  # a detractor who has since left
    answer("805", "702", "2025-12-01", 9),  # 702's latest as of 2026-05-20: promoter
    answer("806", "701", "2026-11-01", 1, survey="CSAT"),  # not an NPS answer
    answer("807", "701", "2026-11-02", 0, archived=True),  # deleted
]
COLUMNS = (
    "answers, promoters, passives, detractors, nps, nps_180_days_before, nps_change, "
    "recent_detractor_score, recent_detractor_at, recent_detractor_contact"
)


def nps(folder, rows) -> tuple:
    folder.mkdir()
    config = small_config(folder)
    with open_writer(config.warehouse.path) as con:
        upsert(con, "raw.crm_objects", rows, ["object_type", "id"])
        build_models(con, config, AS_OF)
        return con.execute(
            f"SELECT {COLUMNS} FROM intermediate.client_nps WHERE client_id = 'acme'"
        ).fetchone()


def test_one_voice_per_person_and_people_who_left_no_longer_count(tmp_path):
    detractor_at = datetime(2026, 10, 20, 12, tzinfo=UTC)
    # now: 701 passive (802), 702 detractor (803); 703 left 30 days ago → (0 − 1) / 2 = −50.
    # 180 days before: 701 promoter (801), 702 promoter (805) → 100.
    assert nps(tmp_path / "left", contacts(True) + ANSWERS) == (
        2,
        0,
        1,
        1,
        -50,
        100,
        -150,
        3,
        detractor_at,
        "pm@acme.test",
    )
    # had 703 stayed, their detractor answer would count: (0 − 2) / 3 = −67; 804 is 107
    # days old, so the recent detractor is still 803
    assert nps(tmp_path / "stayed", contacts(False) + ANSWERS) == (
        3,
        0,
        1,
        2,
        -67,
        100,
        -167,
        3,
        detractor_at,
        "pm@acme.test",
    )


@pytest.mark.parametrize("keep", [False, True])
def test_hubspot_answers_land_and_the_comment_is_read_only_when_kept(tmp_path, keep):
    raw = yaml.safe_load(FIXTURE.read_text(encoding="utf-8"))
    raw["sources"]["crm"] = {"keep_feedback_comments": keep}
    (tmp_path / "agency.yaml").write_text(yaml.safe_dump(raw, allow_unicode=True))
    config = load_config(tmp_path / "agency.yaml")
    records = [json.loads(r["payload"]) for r in contacts(False) + ANSWERS[:3]]
    data: dict[str, list] = {"companies": [], "contacts": [], "feedback_submissions": []}
    for record, row in zip(records, contacts(False) + ANSWERS[:3], strict=True):
        data[row["object_type"]].append(record)
    clock = FakeClock(datetime.now(UTC).timestamp())
    with fake_portal(data, HubSpotFaults(clock=clock)) as (base_url, _):
        stats = sync(config, base_url, clock)
    assert stats["feedback_submissions"] == 3
    with open_writer(config.warehouse.path) as con:
        stored = con.execute(
            "SELECT count(*) FROM raw.crm_objects WHERE payload LIKE '%never listen%'"
        ).fetchone()[0]
        build_models(con, config, AS_OF)
        staged = con.execute(
            "SELECT response_id, score, response_group, contact_email, client_id, comment "
            "FROM staging.crm_feedback ORDER BY response_id"
        ).fetchall()
    comment = "they never listen" if keep else None
    assert stored == (3 if keep else 0)
    assert staged == [
        ("801", 10, "promoter", "ceo@acme.test", "acme", comment),
        ("802", 8, "passive", "ceo@acme.test", "acme", comment),
        ("803", 3, "detractor", "pm@acme.test", "acme", comment),
    ]


FEEDBACK_CSV = """response_id,company_id,contact_email,submitted_at,score,comment
f1,600,Dir@Beta.test,2026-10-01 10:00,6,the launch slipped twice
f2,600,pa@beta.test,2026-10-02,11,too good to be true
f3,600,,2026-10-03,9,
"""


def test_feedback_csv_scores_are_checked_and_comments_never_stored(tmp_path):
    config = csv_config(tmp_path)  # companies 500 (acme) and 600 (beta), among other files
    (tmp_path / "exports" / "feedback.csv").write_text(FEEDBACK_CSV, encoding="utf-8")
    ingest_crm_csv(config, "run-1")
    with open_writer(config.warehouse.path) as con:
        problems = con.execute(
            "SELECT record_ref, field, reason, payload::VARCHAR FROM ops.quarantine "
            "WHERE record_ref LIKE 'feedback%'"
        ).fetchall()
        leaked = con.execute(
            "SELECT count(*) FROM raw.crm_objects WHERE payload LIKE '%slipped%'"
        ).fetchone()[0]
        build_models(con, config, AS_OF)
        beta = con.execute(
            "SELECT answers, promoters, detractors, nps, recent_detractor_score "
            "FROM intermediate.client_nps WHERE client_id = 'beta'"
        ).fetchone()
    assert [p[:3] for p in problems] == [
        ("feedback.csv:3", "score", "not a score from 0 to 10: '11'")
    ]
    assert "too good" not in problems[0][3] and leaked == 0
    # f1 (dir@beta.test, 6: detractor) and f3 (no contact: its own voice, 9: promoter)
    assert beta == (2, 1, 1, 0, 6)
