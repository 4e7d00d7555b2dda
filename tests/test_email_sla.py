"""The tricky SLA cases, run through the real DuckDB models, with every expected row
worked out by hand in the comments.

Agency: Kyiv, Mon-Fri 09:00-18:00 (EET = UTC+2 from 25 Oct 2026), holidays UA (none
while martial law suspends them). Clients:
- acme: Kyiv calendar, standard tier, 24 business hours (1440 min) for both metrics;
- beta: prospect, 3 business hours (180 min);
- gamma: New York, Mon-Fri 09:00-17:00, US holidays, its own targets: first reply 12 h
  (720 min), next reply 4 h (240 min). EDT = UTC-4 until 1 Nov 2026, then EST = UTC-5.
Evaluated as of Wed 2 Dec 2026 12:00 UTC (14:00 in Kyiv).
"""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
import yaml

from clientpulse.config import load_config
from clientpulse.pipeline.build_signals import build_models
from tests.factories import FIXTURE, crm, message
from warehouse.db import open_writer
from warehouse.load import upsert

AS_OF = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)
KYIV, NEW_YORK = ZoneInfo("Europe/Kyiv"), ZoneInfo("America/New_York")
ACME, BETA, GAMMA = "ceo@acme.test", "director@beta.test", "buyer@gamma.test"
ANNA, BOB = "anna@agency.test", "bob@agency.test"


def kyiv(month: int, day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=KYIV).astimezone(UTC)


def ny(month: int, day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=NEW_YORK).astimezone(UTC)


def reply(key, sender, to, at, parent, *, refs=(), **flags):
    return message(key, sender, to, at, irt=parent, refs=[*refs, parent], **flags)


MESSAGES = [
    # 1. Weekend and a public holiday (gamma): Wed 25 Nov 16:00 EST → Mon 30 Nov 10:00 EST
    message("g1", GAMMA, [ANNA], ny(11, 25, 16)),
    reply("g1r", ANNA, [GAMMA], ny(11, 30, 10), "g1"),
    # 2. Client in New York, agency in Kyiv, across New York's DST change (1 Nov):
    #    Fri 30 Oct 16:30 EDT (20:30 UTC) → Mon 2 Nov 17:00 Kyiv = 15:00 UTC = 10:00 EST
    message("d1", GAMMA, [ANNA], ny(10, 30, 16, 30)),
    reply("d1r", ANNA, [GAMMA], kyiv(11, 2, 17), "d1"),
    # 3. A reply outside business hours (acme): Tue 24 Nov 17:00 → 21:30 Kyiv
    message("o1", ACME, [ANNA], kyiv(11, 24, 17)),
    reply("o1r", ANNA, [ACME], kyiv(11, 24, 21, 30), "o1"),
    # 4. A CC'd colleague answers (acme): Mon 23 Nov 10:00 → 13:00 Kyiv
    message("cc1", ACME, [ANNA], kyiv(11, 23, 10), cc=[BOB]),
    reply("cc1r", BOB, [ACME], kyiv(11, 23, 13), "cc1", cc=[ANNA]),
    # 5. A "reply" to internal people only does not count (acme):
    #    Tue 17 Nov 10:00; Anna writes to Bob at 11:00; to the client Thu 19 Nov 12:00
    message("n1", ACME, [ANNA], kyiv(11, 17, 10)),
    reply("n1i", ANNA, [BOB], kyiv(11, 17, 11), "n1"),
    reply("n1r", ANNA, [ACME], kyiv(11, 19, 12), "n1i", refs=["n1"]),
    # 6. An auto-reply before the human reply (beta): Wed 18 Nov 10:00, auto 10:01, 14:00
    message("u1", BETA, [ANNA], kyiv(11, 18, 10)),
    reply("u1a", ANNA, [BETA], kyiv(11, 18, 10, 1), "u1", auto_submitted="auto-replied"),
    reply("u1r", ANNA, [BETA], kyiv(11, 18, 14), "u1"),
    # 7. A thanks-only closing message (acme): Mon 30 Nov 09:00, reply 10:00, thanks 11:00
    message("t1", ACME, [ANNA], kyiv(11, 30, 9), subject="Logo files"),
    reply("t1r", ANNA, [ACME], kyiv(11, 30, 10), "t1", subject="Re: Logo files"),
    reply("t2", ACME, [ANNA], kyiv(11, 30, 11), "t1r", refs=["t1"], subject="Re: Thanks!"),
    # 8. Three client messages before one reply (acme), Thu 19 Nov: 09:30, answered 10:00;
    #    then 11:00, 11:20, 12:00 from the client, answered at 15:00
    message("m1", ACME, [ANNA], kyiv(11, 19, 9, 30), subject="Banner sizes"),
    reply("m1r", ANNA, [ACME], kyiv(11, 19, 10), "m1"),
    reply("m2", ACME, [ANNA], kyiv(11, 19, 11), "m1r", refs=["m1"]),
    reply("m3", ACME, [ANNA], kyiv(11, 19, 11, 20), "m2", refs=["m1", "m1r"]),
    reply("m4", ACME, [ANNA], kyiv(11, 19, 12), "m3", refs=["m1", "m1r", "m2"]),
    reply("m4r", ANNA, [ACME], kyiv(11, 19, 15), "m4", refs=["m1", "m1r", "m2", "m3"]),
    # 9. Unanswered (beta): Tue 1 Dec 16:00 (past target) and Wed 2 Dec 13:00 (not yet due)
    message("p1", BETA, [ANNA], kyiv(12, 1, 16)),
    message("p2", BETA, [ANNA], kyiv(12, 2, 13)),
    # 10. A forwarded chain (acme): the client forwards an old "thanks" chain, Wed 25 Nov
    #     10:00 (a forward is never a closing message); Anna forwards it to Bob at 10:30
    #     (internal: not a reply) and answers the client at 12:00
    message("f1", ACME, [ANNA], kyiv(11, 25, 10), subject="Fwd: Re: Thanks, got it"),
    reply("f1i", ANNA, [BOB], kyiv(11, 25, 10, 30), "f1", subject="Fwd: Fwd: Re: Thanks, got it"),
    reply("f1r", ANNA, [ACME], kyiv(11, 25, 12), "f1", subject="Re: Fwd: Re: Thanks, got it"),
    # 11. A subject change within a thread (acme), Mon 23 Nov: 14:00 "Website", reply 15:00,
    #     the client answers as "New banner request" at 16:00, reply 17:00; an unrelated
    #     "Website" message on Tue 24 Nov 10:00 stays its own conversation, unanswered
    message("s1", ACME, [ANNA], kyiv(11, 23, 14), subject="Website"),
    reply("s1r", ANNA, [ACME], kyiv(11, 23, 15), "s1", subject="Re: Website"),
    reply("s2", ACME, [ANNA], kyiv(11, 23, 16), "s1r", refs=["s1"], subject="New banner request"),
    reply("s2r", ANNA, [ACME], kyiv(11, 23, 17), "s2", refs=["s1", "s1r"], subject="Re: New ..."),
    message("s9", ACME, [ANNA], kyiv(11, 24, 10), subject="Website"),
    # 12. Ten silent days (> segment_gap_days = 7) start a new segment (acme):
    #     Mon 2 Nov 10:00, reply 11:00; the client writes again Thu 12 Nov 10:00, reply 10:45
    message("k1", ACME, [ANNA], kyiv(11, 2, 10)),
    reply("k1r", ANNA, [ACME], kyiv(11, 2, 11), "k1"),
    reply("k2", ACME, [ANNA], kyiv(11, 12, 10), "k1r", refs=["k1"]),
    reply("k2r", ANNA, [ACME], kyiv(11, 12, 10, 45), "k2", refs=["k1", "k1r"]),
    # 14. A segment the agency opened (acme), Thu 26 Nov: Anna writes at 10:00, the client
    #     answers at 11:00, Anna replies at 11:30: the client's wait is a next reply
    message("q0", ANNA, [ACME], kyiv(11, 26, 10), subject="Invoice"),
    reply("q1", ACME, [ANNA], kyiv(11, 26, 11), "q0", subject="Re: Invoice"),
    reply("q1r", ANNA, [ACME], kyiv(11, 26, 11, 30), "q1", refs=["q0"], subject="Re: Invoice"),
    # 13. A freemail address known only as a CRM contact of acme's company: Fri 20 Nov
    #     10:00 → 10:20; a vendor and an unknown freemail sender are not clients
    message("j1", "jane.acme@gmail.com", [ANNA], kyiv(11, 20, 10)),
    reply("j1r", ANNA, ["jane.acme@gmail.com"], kyiv(11, 20, 10, 20), "j1"),
    message("v1", "sales@printshop.test", [ANNA], kyiv(11, 20, 11)),
    message("x1", "stranger@gmail.com", [ANNA], kyiv(11, 20, 12)),
    # 15. Thanks in the body only (acme), Fri 27 Nov: 10:00, reply 11:00, and at 12:00 the
    #     client's "Re: Brief" whose body the connector read as a closer; then a reply
    #     whose body was not a closer ("Thanks, but ...") at 13:00 on "Re: Thanks" waits
    message("b1", ACME, [ANNA], kyiv(11, 27, 10), subject="Brief"),
    reply("b1r", ANNA, [ACME], kyiv(11, 27, 11), "b1", subject="Re: Brief"),
    reply(
        "b2",
        ACME,
        [ANNA],
        kyiv(11, 27, 12),
        "b1r",
        refs=["b1"],
        subject="Re: Brief",
        closing_verdict="closer",
        closing_rule="en_thanks",
    ),
]

# (client, conversation, metric, inbound, reply, responder, business min, calendar min,
#  target, status)
EXPECTED = [
    # 2. Fri 16:30-17:00 EDT = 30; Mon 09:00-10:00 EST = 60 → 90.
    #    Calendar: Fri 20:30 UTC → Mon 15:00 UTC = 2 d 18 h 30 min = 3990
    ("gamma", "d1", "first_reply", "d1", "d1r", ANNA, 90.0, 3990.0, 720.0, "achieved"),
    # 1. Wed 16-17 = 60; Thu 26 Nov Thanksgiving 0; Fri 09-17 = 480; weekend 0;
    #    Mon 09-10 = 60 → 600 ≤ 720 (with the holiday counted it would be 1080, breached).
    #    Calendar: Wed 21:00 UTC → Mon 15:00 UTC = 4 d 18 h = 6840
    ("gamma", "g1", "first_reply", "g1", "g1r", ANNA, 600.0, 6840.0, 720.0, "achieved"),
    # 6. The auto-reply at 10:01 is skipped: 10:00 → 14:00 = 240 > 180
    ("beta", "u1", "first_reply", "u1", "u1r", ANNA, 240.0, 240.0, 180.0, "breached"),
    # 9. Tue 16-18 = 120 + Wed 09-14 = 300 → 420 > 180; calendar 14:00 → 12:00 UTC = 22 h
    ("beta", "p1", "first_reply", "p1", None, None, 420.0, 1320.0, 180.0, "breached"),
    #    Wed 13:00 → 14:00 = 60 ≤ 180, not yet due
    ("beta", "p2", "first_reply", "p2", None, None, 60.0, 60.0, 180.0, "pending"),
    # 4. 10:00 → 13:00 = 180, answered by Bob from CC
    ("acme", "cc1", "first_reply", "cc1", "cc1r", BOB, 180.0, 180.0, 1440.0, "achieved"),
    # 10. 10:00 → 12:00 = 120; the 10:30 forward to Bob does not count
    ("acme", "f1", "first_reply", "f1", "f1r", ANNA, 120.0, 120.0, 1440.0, "achieved"),
    # 13. 10:00 → 10:20 = 20
    ("acme", "j1", "first_reply", "j1", "j1r", ANNA, 20.0, 20.0, 1440.0, "achieved"),
    # 12. 10:00 → 11:00 = 60; the new segment: 10:00 → 10:45 = 45, a first reply again
    ("acme", "k1", "first_reply", "k1", "k1r", ANNA, 60.0, 60.0, 1440.0, "achieved"),
    ("acme", "k1", "first_reply", "k2", "k2r", ANNA, 45.0, 45.0, 1440.0, "achieved"),
    # 8. 09:30 → 10:00 = 30; then one wait from the oldest (11:00) to 15:00 = 240
    ("acme", "m1", "first_reply", "m1", "m1r", ANNA, 30.0, 30.0, 1440.0, "achieved"),
    ("acme", "m1", "next_reply", "m2", "m4r", ANNA, 240.0, 240.0, 1440.0, "achieved"),
    # 5. Tue 10-18 = 480 + Wed 540 + Thu 09-12 = 180 → 1200; calendar 2 d 2 h = 3000
    ("acme", "n1", "first_reply", "n1", "n1r", ANNA, 1200.0, 3000.0, 1440.0, "achieved"),
    # 14. 11:00 → 11:30 = 30
    ("acme", "q0", "next_reply", "q1", "q1r", ANNA, 30.0, 30.0, 1440.0, "achieved"),
    # 3. 17:00 → 18:00 = 60 (clipped at closing); calendar 17:00 → 21:30 = 270
    ("acme", "o1", "first_reply", "o1", "o1r", ANNA, 60.0, 270.0, 1440.0, "achieved"),
    # 11. 14:00 → 15:00 = 60; after the subject change 16:00 → 17:00 = 60, same thread
    ("acme", "s1", "first_reply", "s1", "s1r", ANNA, 60.0, 60.0, 1440.0, "achieved"),
    ("acme", "s1", "next_reply", "s2", "s2r", ANNA, 60.0, 60.0, 1440.0, "achieved"),
    #     Tue 10-18 = 480 + Wed, Thu, Fri, Mon, Tue 5 × 540 = 2700 + Wed 09-14 = 300 → 3480;
    #     calendar Tue 24 Nov 08:00 UTC → Wed 2 Dec 12:00 UTC = 8 d 4 h = 11760
    ("acme", "s9", "first_reply", "s9", None, None, 3480.0, 11760.0, 1440.0, "breached"),
    # 7. 09:00 → 10:00 = 60; the thanks (11:00) needs no reply; its clock still shows
    #    Mon 11-18 = 420 + Tue 540 + Wed 09-14 = 300 → 1260; calendar 2 d 3 h = 3060
    ("acme", "t1", "first_reply", "t1", "t1r", ANNA, 60.0, 60.0, 1440.0, "achieved"),
    ("acme", "t1", "next_reply", "t2", None, None, 1260.0, 3060.0, 1440.0, "no_reply_needed"),
    # 15. 10:00 → 11:00 = 60; the body-only thanks needs no reply; its clock shows
    #     Fri 12-18 = 360 + Mon, Tue 2 × 540 + Wed 09-14 = 300 → 1740; calendar 5 d 2 h = 7320
    ("acme", "b1", "first_reply", "b1", "b1r", ANNA, 60.0, 60.0, 1440.0, "achieved"),
    ("acme", "b1", "next_reply", "b2", None, None, 1740.0, 7320.0, 1440.0, "no_reply_needed"),
]


def tricky_config(folder):
    raw = yaml.safe_load(FIXTURE.read_text(encoding="utf-8"))
    raw["agency"]["vendor_domains"] = ["printshop.test"]
    raw["clients"].append(
        {
            "id": "gamma",
            "name": "Gamma Inc",
            "email_domains": ["gamma.test"],
            "account_manager": "anna",
            "timezone": "America/New_York",
            "holiday_country": "US",
            "business_hours": {"start": "09:00", "end": "17:00"},
            "sla": {"first_reply_business_hours": 12, "next_reply_business_hours": 4},
        }
    )
    path = folder / "agency.yaml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    return load_config(path)


@pytest.fixture
def built(tmp_path):
    config = tricky_config(tmp_path)
    with open_writer(config.warehouse.path) as con:
        upsert(con, "raw.email_messages", MESSAGES, ["message_key"])
        sightings = [
            {
                "message_key": m["message_key"],
                "mailbox": "team@agency.test",
                "source": "mbox",
                "source_ref": f"team.mbox:{i}",
                "extracted_at": AS_OF,
            }
            for i, m in enumerate(MESSAGES)
        ]
        upsert(con, "raw.email_sightings", sightings, ["message_key", "mailbox"])
        contact = crm("contacts", "900", {"email": "Jane.Acme@gmail.com"}, companies=["500"])
        upsert(con, "raw.crm_objects", [contact], ["object_type", "id"])
        build_models(con, config, AS_OF)
        yield con


def test_every_tricky_case_gives_the_hand_computed_rows(built):
    got = built.execute(
        """SELECT client_id, conversation_id, metric, inbound_message_id, reply_message_id,
                  responder, business_minutes, calendar_minutes, target_minutes, status
           FROM core.fct_email_sla ORDER BY client_id, conversation_id, inbound_message_id"""
    ).fetchall()
    assert got == sorted(EXPECTED, key=lambda r: (r[0], r[1], r[3]))


def test_every_row_carries_its_mailbox_and_the_runs_as_of(built):
    got = built.execute("SELECT DISTINCT mailbox, evaluated_at FROM core.fct_email_sla").fetchall()
    assert got == [("team@agency.test", AS_OF)]


def test_parties_and_directions(built):
    got = dict(
        built.execute(
            "SELECT message_key, sender_party || '/' || direction FROM staging.email_messages "
            "WHERE message_key IN ('v1', 'x1', 'j1', 'n1i', 'f1i', 'u1a', 'cc1r')"
        ).fetchall()
    )
    assert got == {
        "v1": "vendor/other",
        "x1": "unknown/other",
        "j1": "client/inbound",  # jane.acme@gmail.com through the CRM contact only
        "n1i": "internal/internal",
        "f1i": "internal/internal",
        "u1a": "internal/automated",
        "cc1r": "internal/outbound",
    }


def test_weekly_rollup_by_hand(built):
    got = built.execute(
        """SELECT client_id, iso_week, metric, measurements, achieved, breached, pending,
                  no_reply_needed, compliance, median_business_minutes, p90_business_minutes
           FROM marts.client_sla_weekly WHERE client_id = 'acme' ORDER BY iso_week, metric"""
    ).fetchall()
    assert got == [
        # week of 2 Nov: k1 60; week of 9 Nov: k2 45 (its segment began on 12 Nov)
        ("acme", "2026-W45", "first_reply", 1, 1, 0, 0, 0, 1.0, 60.0, 60.0),
        ("acme", "2026-W46", "first_reply", 1, 1, 0, 0, 0, 1.0, 45.0, 45.0),
        # week of 16 Nov: n1 1200, m1 30, j1 20 → median 30, P90 30 + 0.8 × 1170 = 966
        ("acme", "2026-W47", "first_reply", 3, 3, 0, 0, 0, 1.0, 30.0, 966.0),
        ("acme", "2026-W47", "next_reply", 1, 1, 0, 0, 0, 1.0, 240.0, 240.0),
        # week of 23 Nov: cc1 180, s1 60, o1 60, f1 120, b1 60 answered; s9 breached,
        # unanswered → 5 / 6; median of (60, 60, 60, 120, 180) = 60, P90 = 120 + 0.6 × 60
        ("acme", "2026-W48", "first_reply", 6, 5, 1, 0, 0, 5 / 6, 60.0, 156.0),
        # s2 60 and q1 30 → median 45, P90 30 + 0.9 × 30 = 57; b2's body-only thanks
        # needs no reply and leaves compliance out
        ("acme", "2026-W48", "next_reply", 3, 2, 0, 0, 1, 1.0, 45.0, 57.0),
        # week of 30 Nov: t1 60; the thanks needs no reply and leaves compliance out
        ("acme", "2026-W49", "first_reply", 1, 1, 0, 0, 0, 1.0, 60.0, 60.0),
        ("acme", "2026-W49", "next_reply", 1, 0, 0, 0, 1, None, None, None),
    ]
