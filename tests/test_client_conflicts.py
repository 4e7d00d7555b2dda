"""Conflicts in client mail (intermediate.client_conflicts), on hand-made threads of the
small agency as of Monday 2026-11-16, each worked out by hand.

Acme writes little: one message a thread is its usual, so three client messages in 48
hours are a burst. Beta writes a lot: five client messages within a day is its ordinary
week, so the same pattern that puts an Acme thread in conflict is only busy for Beta.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
import yaml

from clientpulse.config import load_config
from clientpulse.pipeline.build_signals import build_models
from clientpulse.reports.evidence import render_evidence
from tests.factories import AS_OF, FIXTURE, crm, engagement, message, small_config
from warehouse.db import open_writer
from warehouse.load import upsert

D, H, M = timedelta(days=1), timedelta(hours=1), timedelta(minutes=1)
ANNA = "anna@agency.test"


def thread(root: str, subject: str, steps: list[tuple[str, datetime, tuple[str, ...]]]):
    """Messages of one thread: each step (sender, sent at, cc) replies to the one before;
    agency steps go to the client's first sender, client steps to Anna."""
    client = next(sender for sender, _, _ in steps if sender != ANNA)
    rows, refs = [], []
    for n, (sender, at, cc) in enumerate(steps):
        key = f"<{root}.{n}@mail>"
        to = [client] if sender == ANNA else [ANNA]
        prefix = "Re: " if n else ""
        rows.append(
            message(key, sender, to, at, cc=cc, refs=list(refs), irt=refs[-1] if refs else None,
                    subject=prefix + subject)
        )  # fmt: skip
        refs.append(key)
    return rows


PM, CEO, BETA = "pm@acme.test", "ceo@acme.test", "director@beta.test"
T1 = AS_OF - 5 * D
MAIL = [
    # Acme's usual: one client message a thread, answered the next day
    *(
        m
        for i in range(6)
        for m in thread(f"acme-old{i}", f"Brief {i}", [
            (PM, AS_OF - (150 - 20 * i) * D, ()), (ANNA, AS_OF - (149 - 20 * i) * D, ()),
        ])
    ),
    # c1: the client chases three times within 2 h ("still not"), Anna answers after 5 h:
    # a burst for Acme (3 ≥ max(3, 2 × its usual 1)) with complaint words — a conflict
    *thread("c1", "Banner sizes still not right", [
        (PM, T1, ()), (PM, T1 + 60 * M, ()), (PM, T1 + 120 * M, ()), (ANNA, T1 + 5 * H, ()),
    ]),
    # c3: brisk ping-pong (a burst and 4 quick replies) with nothing else: a busy thread
    *thread("c3", "Banner copy", [
        (PM, T1, ()), (ANNA, T1 + 30 * M, ()), (PM, T1 + 70 * M, ()),
        (ANNA, T1 + 90 * M, ()), (PM, T1 + 120 * M, ()),
    ]),
    # c2: the CEO copied in for the first time, with "Unacceptable" in the subject: two
    # signals at the third message; Anna answers; 7 calm days later it has ended
    *thread("c2", "Unacceptable delays", [
        (PM, AS_OF - 22 * D, ()), (ANNA, AS_OF - 21 * D, ()), (PM, AS_OF - 20 * D, (CEO,)),
        (ANNA, AS_OF - 19 * D, ()),
    ]),
    # Beta's usual: five client messages within a day in every thread
    *(
        m
        for i in range(6)
        for m in thread(f"beta-old{i}", f"Campaign {i}", [
            *((BETA, AS_OF - (150 - 20 * i) * D + k * 3 * H, ()) for k in range(5)),
            (ANNA, AS_OF - (148 - 20 * i) * D, ()),
        ])
    ),
    # b1: c1's pattern for Beta: three messages in 2 h are its ordinary week, no burst
    *thread("b1", "Landing page still not right", [
        (BETA, T1, ()), (BETA, T1 + 60 * M, ()), (BETA, T1 + 120 * M, ()), (ANNA, T1 + 5 * H, ()),
    ]),
]  # fmt: skip
CRM = [
    crm("companies", "500", {"name": "Acme"}),
    crm("contacts", "k1", {"email": CEO, "jobtitle": "CEO"}, companies=["500"]),
]
COLUMNS = (
    "conversation_id, subject, started_at, signals, seniors_copied, client_messages, "
    "agency_messages, ended_at, ended_by, is_open, open_days"
)


@pytest.fixture
def conflicts(tmp_path):
    config = small_config(tmp_path)
    with open_writer(config.warehouse.path) as con:
        upsert(con, "raw.email_messages", MAIL, ["message_key"])
        upsert(con, "raw.crm_objects", CRM, ["object_type", "id"])

        def build(extra_crm=()) -> dict[str, tuple]:
            if extra_crm:
                upsert(con, "raw.crm_objects", list(extra_crm), ["object_type", "id"])
            build_models(con, config, AS_OF)
            rows = con.execute(
                f"SELECT {COLUMNS} FROM intermediate.client_conflicts ORDER BY started_at"
            ).fetchall()
            return {row[0]: row[1:] for row in rows}

        yield build


def test_a_burst_is_judged_against_the_clients_own_rhythm_and_heat_alone_is_no_conflict(
    conflicts,
):
    found = conflicts()
    # b1 is Beta's ordinary week; c3 is only brisk
    assert set(found) == {"<c1.0@mail>", "<c2.0@mail>"}
    assert found["<c1.0@mail>"] == (
        "Re: Banner sizes still not right", T1 + 120 * M, ["burst", "complaint_words"], [],
        1, 1, None, None, True, 4,
    )  # fmt: skip
    # c2 started at its third message; answered the next day, calm from 20 + 7 days
    assert found["<c2.0@mail>"] == (
        "Re: Unacceptable delays", AS_OF - 20 * D, ["complaint_words", "senior_copied"], [CEO],
        1, 1, AS_OF - 13 * D, "calm", False, 7,
    )  # fmt: skip


def test_a_call_after_the_start_ends_the_conflict_and_one_before_does_not(conflicts):
    before = engagement("e1", "calls", "500", T1 - 1 * D)
    after = engagement("e2", "calls", "500", AS_OF - 2 * D)
    assert conflicts([before])["<c1.0@mail>"][-3:] == (None, True, 4)
    ended = conflicts([after])["<c1.0@mail>"]
    assert ended[-4:] == (AS_OF - 2 * D, "call_or_meeting", False, 2)


def test_who_was_copied_is_named_as_the_crm_and_the_config_know_them(tmp_path):
    """c4: the CEO, the CFO, Boris (an account manager and director) and the agency's owner
    copied in on "Unacceptable…" at its third message: two signals, open since then."""
    raw = yaml.safe_load(FIXTURE.read_text())
    raw["account_managers"].append(
        {"id": "boris", "name": "Boris <Director>", "email": "Boris@agency.test"}
    )
    raw.setdefault("signals", {}).setdefault("conflict", {})["directors"] = [
        "boris@agency.test",
        "owner@agency.test",
    ]
    (tmp_path / "agency.yaml").write_text(yaml.safe_dump(raw))
    config = load_config(tmp_path / "agency.yaml")
    cfo, boris, owner = "cfo@acme.test", "boris@agency.test", "owner@agency.test"
    mail = thread("c4", "Unacceptable delays", [
        (PM, AS_OF - 3 * D, ()), (ANNA, AS_OF - 3 * D + H, ()),
        (PM, AS_OF - 2 * D, (CEO, cfo, boris, owner)),
    ])  # fmt: skip
    contacts = [
        crm("companies", "500", {"name": "Acme"}),
        crm("contacts", "k1", {"email": CEO, "firstname": "Olga", "lastname": "Shevchenko",
                               "jobtitle": "CEO"}, companies=["500"]),
        crm("contacts", "k2", {"email": cfo, "jobtitle": "CFO"}, companies=["500"]),
    ]  # fmt: skip
    with open_writer(config.warehouse.path) as con:
        upsert(con, "raw.email_messages", mail, ["message_key"])
        upsert(con, "raw.crm_objects", contacts, ["object_type", "id"])
        build_models(con, config, AS_OF)
        [(copied,)] = con.execute(
            "SELECT copied_people FROM intermediate.client_conflicts"
        ).fetchall()
        [(evidence,)] = con.execute(
            "SELECT evidence FROM intermediate.client_risk_factors "
            "WHERE client_id = 'acme' AND factor = 'open_conflict'"
        ).fetchall()
    # by address; the CRM's name and title, the account manager's name, else nothing
    assert copied == [
        {"address": boris, "name": "Boris <Director>", "title": None},
        {"address": CEO, "name": "Olga Shevchenko", "title": "CEO"},
        {"address": cfo, "name": None, "title": "CFO"},
        {"address": owner, "name": None, "title": None},
    ]
    assert render_evidence(evidence, "en", "EUR") == (
        "written quarrel «Re: Unacceptable delays» open since 14 Nov 2026 (2 days); "
        "Boris <Director>, Olga Shevchenko (CEO), cfo@acme.test (CFO), owner@agency.test "
        "copied in"
    )
