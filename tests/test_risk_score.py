"""The churn-risk score on hand-made rows, with the arithmetic worked out in comments:
two-way contact against the cadence and against the client's own usual rate, the
weighted score and its coverage, the minimum sample, a critical factor, lost and not yet
started clients, and no figure of a past week using what happened after it."""

from __future__ import annotations

import json
from datetime import date, timedelta

import pytest
import yaml

from clientpulse.config import load_config
from clientpulse.pipeline import calibration
from clientpulse.pipeline.build_signals import build_models
from clientpulse.pipeline.compose import lost_clients
from clientpulse.reports.evidence import render_evidence
from tests.factories import AS_OF, FIXTURE, crm, message, task
from warehouse.db import open_writer
from warehouse.load import upsert

D = timedelta(days=1)
H = timedelta(hours=1)
ONLY_CONTACT = {
    # every factor off but three: 1 × cadence, 4 × own baseline, 2 × first replies
    **{
        name: {"weight": 0}
        for name in (
            "next_reply_compliance",
            "unanswered_past_target",
            "on_time_rate",
            "silent_slips",
            "open_overdue_tasks",
            "revision_rounds",
            "contact_gap",
            "on_site_gap",
            "revenue_qoq",
            "revenue_yoy",
            "lost_deals",
            "no_repeat_order",
            "active_contacts",
            "senior_contacts",
        )
    },
    "contact_vs_cadence": {"weight": 1},
    "contact_vs_baseline": {"weight": 4},
    "first_reply_compliance": {"weight": 2},
}


def _config(tmp_path, risk=None, clients=None, extra=None):
    """The fixture agency with `risk` settings, `clients` fields changed and `extra`
    managers and clients ({"account_managers": [...], "clients": [...]}) added."""
    raw = yaml.safe_load(FIXTURE.read_text(encoding="utf-8"))
    for key, rows in (extra or {}).items():
        raw[key] += rows
    # recent contact over the last 4 weeks; the hand-made mail reaches 12.5 weeks behind
    # them: a 12-week baseline lies wholly on record (the default half year, partly on
    # record, has its own test)
    raw["signals"]["risk"] = {
        "contact_recent_weeks": 4,
        "contact_baseline_weeks": 12,
        **(risk or {}),
    }
    for client in raw["clients"]:
        client.update((clients or {}).get(client["id"], {}))
    (tmp_path / "agency.yaml").write_text(yaml.safe_dump(raw, allow_unicode=True))
    return load_config(tmp_path / "agency.yaml")


def _exchange(key: str, at, client="ceo@acme.test", manager="anna@agency.test"):
    """acme (or `client`) writes, Anna (or `manager`) answers an hour later: one two-way
    exchange that week."""
    return [
        message(f"{key}q", client, [manager], at),
        message(f"{key}r", manager, [client], at + H, refs=[f"{key}q"], irt=f"{key}q"),
    ]


def _mid_week(weeks_back: int):
    """Thursday 19:00 UTC of the week `weeks_back` weeks before as_of (a Monday)."""
    return AS_OF - (7 * weeks_back - 3.5) * D


def _acme_contact_history():
    # the last four weeks: exchanges in weeks 1 and 3 → 2 / 4 = 0.5 a week;
    # the twelve weeks before: weeks 5-16, with a second exchange in weeks 5-10
    # → 18 / 12 = 1.5 a week; the mailbox goes back to week 17 (a one-way note), so
    # both windows are covered by mail on record
    rows = [message("m17", "anna@agency.test", ["ceo@acme.test"], _mid_week(17))]
    for week in (1, 3):
        rows += _exchange(f"r{week}", _mid_week(week))
    for week in range(5, 17):
        rows += _exchange(f"b{week}", _mid_week(week))
        if week <= 10:
            rows += _exchange(f"c{week}", _mid_week(week) + 2 * H)
    return rows


def _factors(con, client="acme"):
    return {
        r[0]: r[1:]
        for r in con.execute(
            "SELECT factor, raw_value, score, weight FROM intermediate.client_risk_factors "
            "WHERE client_id = ?",
            [client],
        ).fetchall()
    }


def _words(evidence: str) -> str:
    """The evidence as an English reader gets it (agency currency: EUR)."""
    return render_evidence(evidence, "en", "EUR")


def _risk(con, client="acme"):
    row = con.execute(
        "SELECT status, score, coverage, band, at_risk, reasons, lost_on "
        "FROM marts.client_risk_weekly WHERE client_id = ? AND week_start = ?",
        [client, date(2026, 11, 16)],
    ).fetchone()
    return row


def test_two_way_contact_against_cadence_and_own_baseline_and_the_weighted_score(tmp_path):
    config = _config(tmp_path, {"factors": ONLY_CONTACT})
    with open_writer(config.warehouse.path) as con:
        upsert(con, "raw.email_messages", _acme_contact_history(), ["message_key"])
        build_models(con, config, AS_OF)
        factors = _factors(con)
        # cadence 7 days asks for 1 a week: 0.5 → (1 - 0.5 / 1) × 100 = 50
        assert factors["contact_vs_cadence"] == (0.5, 50.0, 1.0)
        # own usual rate 18 / 12 = 1.5 a week (the weeks hold 2 or 1: dispersion
        # 12 × 0.5² / 1.5 / 11 = 0.18, so 1); the quietest run is the last 4 weeks: 2 where
        # 6 were expected, z = sqrt(2 (2 ln(2/6) + 4)) = 1.899 (the last 2 weeks, 1 of 3:
        # 1.343; 3 weeks, 2 of 4.5: 1.325; the last week alone expects 1.5, under the
        # minimum of 3); (1.899 - 1.5) / (4 - 1.5) × 100 = 16.0
        assert factors["contact_vs_baseline"] == (1.9, 16.0, 4.0)
        # two first replies decided in 28 days, under the minimum of 4: no score, no weight
        assert factors["first_reply_compliance"] == (1.0, None, 2.0)
        status, score, coverage, band, at_risk, reasons, _ = _risk(con)
    # (50 × 1 + 15.95 × 4) / (1 + 4) = 113.8 / 5 = 22.76; weight with data 5 of 7 = 0.71
    assert (status, score, coverage) == ("active", 22.8, 0.71)
    assert (band, at_risk) == ("at_risk", True)  # 22.8 ≥ at_risk_at 22
    # the model returns the evidence as values and keys; the words are the catalog's
    assert json.loads(reasons[0]) == {
        "key": "contact_vs_cadence",
        "per_week": 0.5,
        "expected_per_week": 1.0,
    }
    assert [_words(r) for r in reasons] == [
        "0.5 two-way exchanges a week; the agreed rhythm asks for 1 a week"
    ]


def test_one_way_mail_is_no_contact(tmp_path):
    config = _config(tmp_path, {"factors": ONLY_CONTACT})
    newsletters = [
        message(f"n{w}", "anna@agency.test", ["ceo@acme.test"], _mid_week(w)) for w in range(1, 9)
    ]
    with open_writer(config.warehouse.path) as con:
        upsert(con, "raw.email_messages", _acme_contact_history() + newsletters, ["message_key"])
        build_models(con, config, AS_OF)
        assert _factors(con)["contact_vs_cadence"][:2] == (0.5, 50.0)  # unchanged


def test_a_critical_factor_puts_a_client_at_risk_by_itself(tmp_path):
    risk = {
        "factors": {**ONLY_CONTACT, "contact_vs_cadence": {"weight": 1, "critical_at": 50}},
        "watch_at": 20,
        "at_risk_at": 90,
    }
    config = _config(tmp_path, risk)
    with open_writer(config.warehouse.path) as con:
        upsert(con, "raw.email_messages", _acme_contact_history(), ["message_key"])
        build_models(con, config, AS_OF)
        _, score, _, band, at_risk, _, _ = _risk(con)
    assert score == 22.8 and score < 90
    assert (band, at_risk) == ("at_risk", True)  # contact_vs_cadence 50 ≥ its critical 50


def test_without_the_critical_mark_the_same_score_is_only_watched(tmp_path):
    config = _config(tmp_path, {"factors": ONLY_CONTACT, "watch_at": 20, "at_risk_at": 90})
    with open_writer(config.warehouse.path) as con:
        upsert(con, "raw.email_messages", _acme_contact_history(), ["message_key"])
        build_models(con, config, AS_OF)
        assert _risk(con)[3:5] == ("watch", False)


def test_lost_clients_are_neither_at_risk_nor_emailed_and_unstarted_ones_not_scored(tmp_path):
    clients = {"beta": {"end_date": "2026-11-01"}}
    config = _config(tmp_path, {"factors": ONLY_CONTACT}, clients)
    with open_writer(config.warehouse.path) as con:
        upsert(con, "raw.email_messages", _acme_contact_history(), ["message_key"])
        upsert(con, "raw.email_messages", _exchange("beta", AS_OF - 5 * D), ["message_key"])
        con.execute(
            "UPDATE raw.email_messages SET from_addr = 'director@beta.test' "
            "WHERE message_key = 'betaq'"
        )
        con.execute(
            "UPDATE raw.email_messages SET to_addrs = ['director@beta.test'] "
            "WHERE message_key = 'betar'"
        )
        build_models(con, config, AS_OF)
        beta = _risk(con, "beta")
        assert beta[0] == "lost" and beta[6] == date(2026, 11, 1)
        assert beta[3:5] == (None, False)  # no band, never at risk
        assert lost_clients(con) == {"beta"}
    # acme started with its first exchange (16 weeks ago); moved to next year, no row yet
    later = _config(tmp_path, {"factors": ONLY_CONTACT}, {"acme": {"start_date": "2027-01-04"}})
    with open_writer(later.warehouse.path) as con:
        build_models(con, later, AS_OF)
        assert _risk(con, "acme") is None


def test_a_client_gone_quiet_with_no_deal_or_work_is_lost_from_its_last_exchange(tmp_path):
    config = _config(tmp_path, {"factors": ONLY_CONTACT, "lost_after_days": 30})
    old = [r for r in _acme_contact_history() if r["message_key"].startswith(("b", "c"))]
    with open_writer(config.warehouse.path) as con:
        upsert(con, "raw.email_messages", old, ["message_key"])
        build_models(con, config, AS_OF)
        status, *_, lost_on = _risk(con)
    # the last exchange: week 5, Thursday 2026-10-15 21:00 UTC, 31.4 days before as_of > 30
    assert (status, lost_on) == ("lost", date(2026, 10, 15))


def _closed_deal(deal_id: str, stage: str, created, closed, amount=100):
    """A deal of acme's (company 500), opened `created` and won or lost `closed`."""
    properties = {"dealstage": stage, "amount": amount}
    row = crm("deals", deal_id, properties, companies=["500"], at=created)
    payload = json.loads(row["payload"])
    payload["properties"]["closedate"] = closed.isoformat()
    payload["updatedAt"] = closed.isoformat()
    return {**row, "payload": json.dumps(payload), "updated_at": closed}


def test_after_its_last_deal_was_lost_a_quiet_client_is_lost_sooner(tmp_path):
    config = _config(tmp_path, {"factors": ONLY_CONTACT})  # lost_after_lost_deal_days 14
    old = [r for r in _acme_contact_history() if r["message_key"].startswith(("b", "c"))]
    renewal_lost = _closed_deal("d1", "closedlost", AS_OF - 60 * D, AS_OF - 35 * D)
    with open_writer(config.warehouse.path) as con:
        upsert(con, "raw.email_messages", old, ["message_key"])
        upsert(con, "raw.crm_objects", [renewal_lost], KEYS["raw.crm_objects"])
        build_models(con, config, AS_OF)
        status, *_, lost_on = _risk(con)
        # the last exchange, 2026-10-15 21:00 UTC, is 31.4 days back: short of the 60 days
        # of the general rule, past the 14 once the last deal was lost and none is open
        assert (status, lost_on) == ("lost", date(2026, 10, 15))
        # a deal won after the lost one: the relationship goes on, the 60 days apply
        won = _closed_deal("d2", "closedwon", AS_OF - 40 * D, AS_OF - 33 * D)
        upsert(con, "raw.crm_objects", [won], KEYS["raw.crm_objects"])
        build_models(con, config, AS_OF)
        status, *_, lost_on = _risk(con)
        assert (status, lost_on) == ("active", None)


def test_the_usual_rate_is_half_a_year_or_the_part_of_it_on_record(tmp_path):
    config = _config(tmp_path, {"factors": ONLY_CONTACT, "contact_baseline_weeks": 26})
    with open_writer(config.warehouse.path) as con:
        upsert(con, "raw.email_messages", _acme_contact_history(), ["message_key"])
        build_models(con, config, AS_OF)
        factors = _factors(con)
        reasons = _risk(con)[5]
    # 26 weeks before the recent 4 reach back before the first message (week 17's
    # Thursday): the whole weeks on record are weeks 16 … 5 before the recent ones, 12 ≥
    # the 12 needed, holding the same 18 exchanges: 1.5 a week, z 1.9 and 16.0 as above
    assert factors["contact_vs_baseline"] == (1.9, 16.0, 4.0)
    assert _words(reasons[0]) == "0.5 two-way exchanges a week; the agreed rhythm asks for 1 a week"
    # the mail starting with week 14 covers only weeks 13 … 5 (9) before the recent
    # window: no usual rate yet, so no score and no weight
    (tmp_path / "short").mkdir()
    short = _config(tmp_path / "short", {"factors": ONLY_CONTACT, "contact_baseline_weeks": 26})
    drop = ("m17", "b15q", "b15r", "b16q", "b16r")
    rows = [r for r in _acme_contact_history() if r["message_key"] not in drop]
    with open_writer(short.warehouse.path) as con:
        upsert(con, "raw.email_messages", rows, ["message_key"])
        build_models(con, short, AS_OF)
        assert _factors(con)["contact_vs_baseline"][:2] == (None, None)


def _bounce(answered: str, at):
    """The mailer daemon's delivery failure notice for message `answered`."""
    return message(
        f"{answered}-dsn",
        "mailer-daemon@agency.test",
        ["anna@agency.test"],
        at,
        irt=answered,
        is_bounce=True,
        return_path_null=True,
    )


def test_a_report_recipient_whose_mail_bounces_puts_the_client_at_risk(tmp_path):
    # at_risk_at 90: the contact factors' 22.8 alone would be only watched
    config = _config(tmp_path, {"factors": ONLY_CONTACT, "watch_at": 20, "at_risk_at": 90})
    friday = _mid_week(1) + 15 * H  # after ceo's last mail, Thursday of week 1
    update = message("u1", "anna@agency.test", ["ceo@acme.test", "boss.acme@gmail.com"], friday)
    boss_writes = message("w1", "boss.acme@gmail.com", ["anna@agency.test"], friday + D)
    rows = [*_acme_contact_history(), update, _bounce("u1", friday + H / 30)]
    with open_writer(config.warehouse.path) as con:
        upsert(con, "raw.email_messages", rows, ["message_key"])
        build_models(con, config, AS_OF)
        # the update to two people bounced and neither has written since: the bounce could
        # be either's, so it names nobody yet
        assert _factors(con)["key_contact_left"] == (0.0, 0.0, 0.0)
        assert _risk(con)[3:5] == ("watch", False)
        # boss.acme (a listed contact) writes the day after: it was ceo's, who receives
        # the reports → 100
        upsert(con, "raw.email_messages", [boss_writes], ["message_key"])
        build_models(con, config, AS_OF)
        assert _factors(con)["key_contact_left"] == (1.0, 100.0, 0.0)
        _, score, _, band, at_risk, reasons, _ = _risk(con)
        assert (score, band, at_risk) == (22.8, "at_risk", True)  # critical at 100
        # the reason that decided comes first, though it weighs nothing in the score, and
        # the account manager's alert leads with it too
        assert _words(reasons[0]) == "ceo@acme.test left (mail bounced 13 Nov 2026), no word since"
        alert = con.execute(
            "SELECT change, moved_factors[1].factor, main_factor FROM marts.client_risk_alerts "
            "WHERE client_id = 'acme'"
        ).fetchone()
        assert alert == ("newly_at_risk", "key_contact_left", "key_contact_left")
        # later mail to ceo went through (no bounce in the day after it): not gone after all
        later = message("u2", "anna@agency.test", ["ceo@acme.test"], AS_OF - 30 * H)
        upsert(con, "raw.email_messages", [later], ["message_key"])
        build_models(con, config, AS_OF)
        assert _factors(con)["key_contact_left"] == (0.0, 0.0, 0.0)
        assert _risk(con)[3:5] == ("watch", False)


def _future_rows():
    """What happened after as_of: an exchange, the task done, a deal lost, a meeting."""
    done = json.loads(task("t1", "100", due="2026-11-10")["payload"])
    done.update(
        completed=True,
        completed_at=(AS_OF + 2 * D).isoformat(),
        modified_at=(AS_OF + 2 * D).isoformat(),
    )
    return {
        "raw.email_messages": [
            *_exchange("future", AS_OF + 3 * D),
            _bounce("u1", AS_OF + H),  # the update sent before as_of bounced after it
        ],
        "raw.asana_tasks": [
            {
                **task("t1", "100", due="2026-11-10"),
                "payload": json.dumps(done),
                "modified_at": AS_OF + 2 * D,
            }
        ],
        "raw.crm_objects": [
            _deal("closedlost", closed=AS_OF + 5 * D),
            crm(
                "meetings",
                "m9",
                {"hs_timestamp": (AS_OF + D).isoformat()},
                companies=["500"],
                at=AS_OF + D,
            ),
        ],
    }


def _deal(stage: str, closed=None):
    """Deal d9, opened 20 days before as_of; `closed` when it was won or lost."""
    if closed is not None:
        return _closed_deal("d9", stage, AS_OF - 20 * D, closed)
    return crm(
        "deals", "d9", {"dealstage": stage, "amount": 100}, companies=["500"], at=AS_OF - 20 * D
    )


KEYS = {
    "raw.email_messages": ["message_key"],
    "raw.asana_tasks": ["gid"],
    "raw.crm_objects": ["object_type", "id"],
}


def _past_week(tmp_path, with_future: bool):
    config = _config(tmp_path)
    with open_writer(config.warehouse.path) as con:
        upsert(con, "raw.email_messages", _acme_contact_history(), ["message_key"])
        update = message("u1", "anna@agency.test", ["ceo@acme.test"], AS_OF - 2 * H)
        upsert(con, "raw.email_messages", [update], ["message_key"])
        upsert(con, "raw.asana_tasks", [task("t1", "100", due="2026-11-10")], ["gid"])
        upsert(con, "raw.crm_objects", [_deal("appointmentscheduled")], KEYS["raw.crm_objects"])
        if with_future:
            for table, rows in _future_rows().items():
                upsert(con, table, rows, KEYS[table])
        build_models(con, config, AS_OF)
        factors = con.execute(
            "SELECT client_id, factor, raw_value, evidence, score FROM "
            "intermediate.client_risk_factors ORDER BY ALL"
        ).fetchall()
        risk = con.execute(
            "SELECT * EXCLUDE (as_of) FROM marts.client_risk_weekly ORDER BY client_id"
        ).fetchall()
        overdue = con.execute(
            "SELECT open_overdue_tasks FROM intermediate.client_overdue_tasks "
            "WHERE client_id = 'acme'"
        ).fetchone()[0]
        deals = dict(con.execute("SELECT client_id, open_deals FROM core.dim_client").fetchall())
    return factors, risk, overdue, deals


PARTS = ("factors", "risk", "overdue", "open deals")


@pytest.mark.parametrize("part", PARTS)
def test_a_past_week_uses_nothing_from_after_it(tmp_path, part):
    index = PARTS.index(part)
    (tmp_path / "cut").mkdir()
    (tmp_path / "full").mkdir()
    cut = _past_week(tmp_path / "cut", with_future=False)
    full = _past_week(tmp_path / "full", with_future=True)
    assert full[index] == cut[index]
    assert cut[2] == 1  # the task was overdue on the day, though it is done now
    assert cut[3]["acme"] == 1  # the deal was open on the day, though it is lost now


def test_before_the_first_message_on_record_silence_is_no_data(tmp_path):
    config = _config(tmp_path, {"factors": ONLY_CONTACT})
    # only the last three weeks of mail exist: the 4-week window is not covered yet
    recent = [r for r in _acme_contact_history() if r["message_key"] in ("r1q", "r1r")]
    with open_writer(config.warehouse.path) as con:
        upsert(con, "raw.email_messages", recent, ["message_key"])
        build_models(con, config, AS_OF)
        factors = _factors(con)
    assert factors["contact_vs_cadence"][:2] == (None, None)
    assert factors["contact_vs_baseline"][:2] == (None, None)


def _weekly(key: str, weeks, per_week: int, client="ceo@acme.test", manager="anna@agency.test"):
    """`per_week` exchanges (each its own conversation) in each of `weeks` weeks back."""
    return [
        row
        for week in weeks
        for n in range(per_week)
        for row in _exchange(f"{key}{week}-{n}", _mid_week(week) + 2 * n * H, client, manager)
    ]


def _fall(con, client="acme"):
    return con.execute(
        "SELECT fall_z, run_weeks, observed, expected, manager_away_weeks, recent_season "
        "FROM intermediate.client_contact_fall WHERE client_id = ?",
        [client],
    ).fetchone()


NOTE = message("m17", "anna@agency.test", ["ceo@acme.test"], _mid_week(17))  # mail from week 17


def test_a_low_volume_clients_wobble_is_no_fall_where_a_busy_clients_silence_is(tmp_path):
    config = _config(tmp_path, {"factors": ONLY_CONTACT})
    # one exchange every other week (weeks 6, 8, … 16): 6 in 12 weeks, 0.5 a week; then
    # four quiet weeks. Expected in them: 0.5 × 4 = 2 < the minimum evidence of 3 (four
    # empty weeks happen to such a client with probability e^-2 = 0.14): no fall
    sparse = [NOTE, *_weekly("s", range(6, 17, 2), 1)]
    with open_writer(config.warehouse.path) as con:
        upsert(con, "raw.email_messages", sparse, ["message_key"])
        build_models(con, config, AS_OF)
        assert _fall(con)[0] == 0
        assert _factors(con)["contact_vs_baseline"][:2] == (0.0, 0.0)
    # two a week in weeks 5-16 (2.0 a week, every week alike: dispersion 1), then the same
    # four quiet weeks: 0 where 8 were expected, z = sqrt(2 × 8) = 4.0 → 100
    (tmp_path / "busy").mkdir()
    busy_config = _config(tmp_path / "busy", {"factors": ONLY_CONTACT})
    busy = [NOTE, *_weekly("b", range(5, 17), 2)]
    with open_writer(busy_config.warehouse.path) as con:
        upsert(con, "raw.email_messages", busy, ["message_key"])
        build_models(con, busy_config, AS_OF)
        assert _fall(con)[:4] == (4.0, 4, 0, 8.0)
        assert _factors(con)["contact_vs_baseline"][:2] == (4.0, 100.0)


def test_an_agency_wide_lull_is_no_fall(tmp_path):
    config = _config(tmp_path, {"factors": ONLY_CONTACT})
    # acme and beta: 4 exchanges a week in weeks 5-16; in the last 4 weeks both 1 a week
    usual = [
        NOTE,
        *_weekly("a", range(5, 17), 4),
        *_weekly("b", range(5, 17), 4, client="director@beta.test"),
    ]
    lull = [*_weekly("ar", range(1, 5), 1), *_weekly("br", range(1, 5), 1, "director@beta.test")]
    with open_writer(config.warehouse.path) as con:
        upsert(con, "raw.email_messages", usual + lull, ["message_key"])
        build_models(con, config, AS_OF)
        # the rest of the agency (beta) is at 1 of its usual 4: season 0.25 each recent
        # week, so acme is expected 4 × 0.25 = 1 a week and has 1: no fall
        assert _fall(con)[0] == 0 and _fall(con)[5] == 0.25
    # beta busy as usual: acme alone fell, 4 where 16 were expected over 4 weeks:
    # z = sqrt(2 (4 ln(4/16) + 12)) = 3.593, shown 3.59 (3 weeks, 3 of 12: 3.112) → the
    # sub-score from the z as shown: (3.59 - 1.5) / 2.5 × 100 = 83.6
    (tmp_path / "alone").mkdir()
    alone = _config(tmp_path / "alone", {"factors": ONLY_CONTACT})
    beta_busy = _weekly("bb", range(1, 5), 4, client="director@beta.test")
    with open_writer(alone.warehouse.path) as con:
        upsert(con, "raw.email_messages", usual + lull[:8] + beta_busy, ["message_key"])
        build_models(con, alone, AS_OF)
        assert _fall(con)[:4] == (3.59, 4, 4, 16.0)
        assert _factors(con)["contact_vs_baseline"][1] == 83.6


def test_the_account_managers_holiday_is_no_fall(tmp_path):
    extra = {
        "account_managers": [{"id": "ben", "name": "Ben", "email": "ben@agency.test"}],
        "clients": [
            {
                "id": "gamma",
                "name": "Gamma",
                "email_domains": ["gamma.test"],
                "account_manager": "ben",
                "language": "en",
            }
        ],
    }
    config = _config(tmp_path, {"factors": ONLY_CONTACT}, extra=extra)
    # acme and beta (Anna's) and gamma (Ben's): 2 exchanges a week in weeks 5-16; gamma
    # goes on so in the last 4 weeks, acme and beta only in weeks 3 and 4: in weeks 1 and
    # 2 Anna sent nothing to anyone (her holiday)
    gamma = [
        *_weekly("g", range(1, 17), 2, client="cto@gamma.test", manager="ben@agency.test"),
    ]
    anna = [
        NOTE,
        *_weekly("a", [*range(3, 5), *range(5, 17)], 2),
        *_weekly("b", [*range(3, 5), *range(5, 17)], 2, client="director@beta.test"),
    ]
    with open_writer(config.warehouse.path) as con:
        upsert(con, "raw.email_messages", gamma + anna, ["message_key"])
        build_models(con, config, AS_OF)
        # weeks 1 and 2 are left out on both sides; weeks 3-4: 4 exchanges where
        # 2.0 × 2 were expected (season 1: beta and gamma as usual then): no fall
        fall_z, _, _, _, away, _ = _fall(con)
        assert (fall_z, away) == (0, 2)
        # Anna did write to beta in weeks 1 and 2: acme alone was quiet. 0 where 4 were
        # expected over the last 2 weeks: z = sqrt(2 × 4) = 2.83 (3 weeks, 2 of 6: 1.90;
        # 4 weeks, 4 of 8: 1.57) → (2.83 - 1.5) / 2.5 × 100 = 53.2
        upsert(
            con,
            "raw.email_messages",
            _weekly("bh", [1, 2], 2, "director@beta.test"),
            KEYS["raw.email_messages"],
        )
        build_models(con, config, AS_OF)
        assert _fall(con)[:5] == (2.83, 2, 0, 4.0, 0)
        assert _factors(con)["contact_vs_baseline"][1] == 53.2


def test_a_lost_proposal_is_not_a_lost_renewal(tmp_path):
    config = _config(tmp_path)
    retainer = _closed_deal("d1", "closedwon", AS_OF - 220 * D, AS_OF - 200 * D, amount=1000)
    proposal = _closed_deal("d2", "closedlost", AS_OF - 40 * D, AS_OF - 10 * D, amount=1500)
    with open_writer(config.warehouse.path) as con:
        upsert(con, "raw.email_messages", _acme_contact_history(), ["message_key"])
        upsert(con, "raw.crm_objects", [retainer, proposal], KEYS["raw.crm_objects"])
        build_models(con, config, AS_OF)
        # 1,500 is no fee acme has paid (1,000 ± 1%): a proposal, not a renewal
        assert _factors(con)["lost_deals"][:2] == (0.0, 0.0)
        # the retainer's renewal at the same 1,000, lost 5 days ago: critical by itself
        renewal = _closed_deal("d3", "closedlost", AS_OF - 30 * D, AS_OF - 5 * D, amount=1000)
        upsert(con, "raw.crm_objects", [renewal], KEYS["raw.crm_objects"])
        build_models(con, config, AS_OF)
        factors = _factors(con)
        assert factors["lost_deals"][:2] == (1.0, 100.0)
        _, _, _, band, at_risk, reasons, _ = _risk(con)
        assert (band, at_risk) == ("at_risk", True)
        assert _words(reasons[0]) == (
            "renewal lost 11 Nov 2026: deal d3 (€1,000.00, the fee won 1 time before, last on "
            "30 Apr 2026)"
        )


def test_the_calibration_meets_the_alarm_budget_on_the_history_before_each_week(tmp_path):
    # a budget of 13 flagged weeks per retained client a year: a quarter of their weeks;
    # calibrated from 4 weeks of history on
    config = _config(tmp_path, {"false_alarm_budget": 13, "calibration_min_weeks": 4})
    weeks = [date(2026, 10, 12) + timedelta(weeks=n) for n in range(5)]
    scores = {"acme": [10, 20, 30, 40, 50], "beta": [5, 5, 5, 5, 5]}
    with open_writer(config.warehouse.path) as con:
        build_models(con, config, AS_OF)
        for client, row in scores.items():
            for week, score in zip(weeks, row, strict=True):
                con.execute(
                    "INSERT INTO intermediate.client_risk_history BY NAME SELECT ? AS client_id, "
                    "? AS week_start, 'active' AS status, ? AS score, 'healthy' AS band",
                    [client, week, score],
                )
        build_models(con, config, AS_OF)
        rows = con.execute(
            "SELECT week_start, at_risk_at, calibrated, at_risk FROM marts.client_risk_weekly "
            "WHERE client_id = 'acme' ORDER BY week_start"
        ).fetchall()
        # weeks 1-4 have under 4 weeks before them: the default 22 (acme at 30 and 40 is
        # at risk); week 5 has 4: the retained clients' 8 past scores 5 5 5 5 10 20 30 40,
        # their 0.75 quantile at position 7 × 0.75 = 5.25: 20 + 0.25 × (30 - 20) = 22.5.
        # Past weeks at or above it: 30 and 40, 2 of 8 = a quarter = 13 / 52, the budget
        assert rows == [
            (weeks[0], 22.0, False, False),
            (weeks[1], 22.0, False, False),
            (weeks[2], 22.0, False, True),
            (weeks[3], 22.0, False, True),
            (weeks[4], 22.5, True, True),
        ]
        # beta lost in week 5: no longer retained, its quiet weeks leave the calibration:
        # acme's 10 20 30 40 alone, position 3 × 0.75 = 2.25: 30 + 0.25 × 10 = 32.5; and a
        # week after week 5 changes nothing of week 5 (no future leak)
        con.execute(
            "UPDATE intermediate.client_risk_history SET status = 'lost' "
            "WHERE client_id = 'beta' AND week_start = ?",
            [weeks[4]],
        )
        con.execute(
            "INSERT INTO intermediate.client_risk_history BY NAME SELECT 'acme' AS client_id, "
            "? AS week_start, 'active' AS status, 100 AS score, 'at_risk' AS band",
            [weeks[4] + timedelta(weeks=1)],
        )
        build_models(con, config, AS_OF)
        week5 = con.execute(
            "SELECT at_risk_at FROM marts.client_risk_weekly "
            "WHERE client_id = 'acme' AND week_start = ?",
            [weeks[4]],
        ).fetchone()
        assert week5 == (32.5,)


def test_the_calibration_curve_trades_the_agencys_own_churns_against_its_false_alarms():
    weeks = [date(2026, 1, 5) + timedelta(weeks=n) for n in range(6)]
    # gone: scores rise 20 30 40 50 60 before it leaves on the 6th Monday (lost that week);
    # stays: 10 every week but 35 in week 3 and a critical factor in week 4
    history = calibration.History(
        weeks={
            "gone": {
                **{w: (True, s, False) for w, s in zip(weeks, [20, 30, 40, 50, 60], strict=False)},
                weeks[5]: (False, None, False),
            },
            "stays": {w: (True, 35 if n == 2 else 10, n == 3) for n, w in enumerate(weeks)},
        },
        lost_on={"gone": weeks[5]},
    )
    low, middle, high = calibration.tradeoff(history, [25, 38, 55])
    # at 25: gone flagged from week 2 on, 4 weeks before it left; stays flagged in weeks
    # 3 (35) and 4 (critical): 2 of its 6 active weeks, × 52 / 6 = 17.3 a year
    assert (low.recall_4w, round(low.false_alarms_per_year, 1)) == (1.0, 17.3)
    # at 38: gone from week 3, 3 weeks ahead: missed; stays only the critical week: 8.7
    assert (middle.recall_4w, round(middle.false_alarms_per_year, 1)) == (0.0, 8.7)
    assert (high.recall_4w, round(high.false_alarms_per_year, 1)) == (0.0, 8.7)
