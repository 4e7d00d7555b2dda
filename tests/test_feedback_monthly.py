"""The monthly leadership view of client feedback (marts.portfolio_feedback_monthly) and its
line in the first leadership digest of each month, worked out by hand for the small agency
on Kyiv's calendar (UTC+3 in summer, +2 from 25 October), with a second manager: Anna has
Acme, Ivan has Beta. Answers in August and October, none in September."""

from __future__ import annotations

from datetime import UTC, datetime

import yaml

from clientpulse.config import LeadershipDigest, load_config
from clientpulse.pipeline.build_signals import build_models
from clientpulse.reports.leadership_digest import compose_digest
from tests.factories import FIXTURE, crm
from warehouse.db import open_writer
from warehouse.load import upsert

KYIV = "Europe/Kyiv"
LEFT_AT = datetime(2026, 10, 17, 7, 0, tzinfo=UTC)  # gone@acme's CRM contact deleted


def answer(response_id: str, contact: str, at: str, score: int) -> dict:
    properties = {"hs_survey_type": "NPS", "hs_value": score, "hs_submission_timestamp": at}
    return crm("feedback_submissions", response_id, properties, contacts=[contact])


ROWS = [
    crm("companies", "500", {"name": "Acme"}),
    crm("companies", "600", {"name": "Beta"}),
    crm("contacts", "701", {"email": "ceo@acme.test"}, companies=["500"]),
    crm("contacts", "702", {"email": "pm@acme.test"}, companies=["500"]),
    crm(
        "contacts",
        "703",
        {"email": "gone@acme.test"},
        companies=["500"],
        archived=True,
        at=LEFT_AT,
    ),
    crm("contacts", "711", {"email": "dir@beta.test"}, companies=["600"]),
    crm("contacts", "712", {"email": "pa@beta.test"}, companies=["600"]),
    # August: Acme 10 and 2 (gone@, still there then), Beta 8
    answer("a1", "701", "2026-08-10T09:00:00Z", 10),
    answer("a2", "703", "2026-08-12T09:00:00Z", 2),
    answer("a3", "711", "2026-08-20T09:00:00Z", 8),
    # October: Acme 9, 7 and 1 (gone@, who left on 17 October: out of October);
    # Beta 10 and 3 at 23:30 on 31 October in Kyiv
    answer("a4", "702", "2026-10-05T09:00:00Z", 9),
    answer("a5", "703", "2026-10-02T09:00:00Z", 1),
    answer("a6", "701", "2026-10-20T09:00:00Z", 7),
    answer("a7", "712", "2026-10-10T09:00:00Z", 10),
    answer("a8", "711", "2026-10-31T21:30:00Z", 3),
    # 00:30 on 1 November in Kyiv, still 31 October in UTC: recorded after October's end
    answer("a9", "701", "2026-10-31T22:30:00Z", 0),
]


def two_managers(folder):
    folder.mkdir(parents=True, exist_ok=True)
    raw = yaml.safe_load(FIXTURE.read_text(encoding="utf-8"))
    raw["account_managers"].append({"id": "ivan", "name": "Ivan", "email": "ivan@agency.test"})
    [beta] = [c for c in raw["clients"] if c["id"] == "beta"]
    beta["account_manager"] = "ivan"
    (folder / "agency.yaml").write_text(yaml.safe_dump(raw, allow_unicode=True))
    return load_config(folder / "agency.yaml")


def built(folder, as_of: datetime, query: str | None = None):
    """The rows of `query` over the small agency built as of `as_of`; without one, the
    leadership digest composed then."""
    config = two_managers(folder)
    with open_writer(config.warehouse.path) as con:
        upsert(con, "raw.crm_objects", ROWS, ["object_type", "id"])
        build_models(con, config, as_of)
        if query is None:
            return compose_digest(con, as_of, KYIV, "W", LeadershipDigest(chart=False))
        return con.execute(query).fetchall()


COLUMNS = (
    "month_start::VARCHAR, coalesce(account_manager_id, '-'), answers, promoters, passives, "
    "detractors, nps, previous_month_start::VARCHAR, previous_nps, nps_change, "
    "[c.client_id || ' ' || c.score || ' ' || c.answered_on FOR c IN detractor_clients]"
)


def test_each_month_as_known_at_its_end(tmp_path):
    rows = built(
        tmp_path,
        datetime(2026, 11, 16, 7, tzinfo=UTC),
        f"SELECT {COLUMNS} FROM marts.portfolio_feedback_monthly ORDER BY 2, 1",
    )
    acme_2 = ["acme 2 2026-08-12"]
    assert rows == [
        # the agency. August: 10, 2, 8 → (1 − 1) / 3 = 0; Acme's latest is the 2.
        ("2026-08-01", "-", 3, 1, 1, 1, 0, None, None, None, acme_2),
        # September: nobody answered, so no NPS (not 0); August is the previous survey
        ("2026-09-01", "-", 0, 0, 0, 0, None, "2026-08-01", 0, None, acme_2),
        # October: 9, 7, 10, 3 → (2 − 1) / 4 = +25, +25 on August. Not the 1 (gone@ left on
        # 17 October) nor the 0 (1 November in Kyiv): either would make it (2 − 2) / 5 or
        # / 4 = 0. Beta's latest is the 3 (Kyiv's 31 October); Acme's the 7.
        ("2026-10-01", "-", 4, 2, 1, 1, 25, "2026-08-01", 0, 25, ["beta 3 2026-10-31"]),
        # Anna (Acme): August 10, 2 → 0; October 9, 7 → (1 − 0) / 2 = +50
        ("2026-08-01", "anna", 2, 1, 0, 1, 0, None, None, None, acme_2),
        ("2026-09-01", "anna", 0, 0, 0, 0, None, "2026-08-01", 0, None, acme_2),
        ("2026-10-01", "anna", 2, 1, 1, 0, 50, "2026-08-01", 0, 50, []),
        # Ivan (Beta): August 8 → 0; October 10, 3 → 0
        ("2026-08-01", "ivan", 1, 0, 1, 0, 0, None, None, None, []),
        ("2026-09-01", "ivan", 0, 0, 0, 0, None, "2026-08-01", 0, None, []),
        ("2026-10-01", "ivan", 2, 1, 0, 1, 0, "2026-08-01", 0, 0, ["beta 3 2026-10-31"]),
    ]


def feedback_line(message: dict) -> str | None:
    texts = [b["text"]["text"] for b in message["blocks"] if "text" in b and b["type"] == "section"]
    return next((t for t in texts if t.startswith("*Client feedback")), None)


def test_the_first_digest_of_the_month_tells_last_months_feedback(tmp_path):
    # Monday 2 November, 10:00 in Kyiv: the first digest of November covers October
    message = built(tmp_path / "nov", datetime(2026, 11, 2, 8, tzinfo=UTC))
    assert feedback_line(message) == (
        "*Client feedback, October 2026* · NPS: +25 (+25 against the survey of August 2026)"
        " · 4 answers: 2 promoters, 1 passive, 1 detractor\n"
        "Latest answer from a detractor: *Бета Груп* (3 of 10, 31 Oct 2026)\n"
        "By manager, lowest NPS first: Ivan (NPS: ±0, 2 answers), "
        "Anna &lt;Lead&gt; (NPS: +50, 2 answers)"
    )


def test_a_month_without_answers_says_so_and_a_later_digest_says_nothing(tmp_path):
    # Monday 5 October: September had no answers; Acme's latest is still gone@'s 2
    message = built(tmp_path / "oct", datetime(2026, 10, 5, 7, tzinfo=UTC))
    assert feedback_line(message) == (
        "*Client feedback, September 2026* · no survey answers "
        "(the last survey was in August 2026, NPS: ±0)\n"
        "Latest answer from a detractor: *Acme &lt;!channel&gt;* (2 of 10, 12 Aug 2026)"
    )
    later = built(tmp_path / "w47", datetime(2026, 11, 16, 7, tzinfo=UTC))
    assert feedback_line(later) is None  # the third Monday of November
