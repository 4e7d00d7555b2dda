"""The playbook's three risk factors (overdue receivables, an open written conflict, a
detractor's answer) on the small agency as of Monday 2026-11-16, from the hand-made
invoices, threads and survey answers of their own model tests. The open conflict is
critical; the other two are scored and shown but weigh nothing."""

from __future__ import annotations

import json

from clientpulse.pipeline.build_signals import build_models
from clientpulse.reports.evidence import render_evidence
from tests.factories import AS_OF, small_config
from tests.test_client_conflicts import CRM as CONFLICT_CRM
from tests.test_client_conflicts import MAIL
from tests.test_client_nps import ANSWERS, contacts
from tests.test_receivables import ROWS as INVOICES
from warehouse.db import open_writer
from warehouse.load import upsert


def test_the_playbook_factors_are_scored_and_an_open_conflict_puts_the_client_at_risk(tmp_path):
    config = small_config(tmp_path)
    crm_rows = {(r["object_type"], r["id"]): r for r in CONFLICT_CRM + contacts(True) + ANSWERS}
    with open_writer(config.warehouse.path) as con:
        upsert(con, "raw.email_messages", MAIL, ["message_key"])
        upsert(con, "raw.crm_objects", [*crm_rows.values(), *INVOICES], ["object_type", "id"])
        build_models(con, config, AS_OF)
        factors = {
            factor: (raw, score, evidence)
            for factor, raw, score, evidence in con.execute(
                "SELECT factor, raw_value, score, evidence FROM intermediate.client_risk_factors "
                "WHERE client_id = 'acme' AND factor IN "
                "('overdue_receivables', 'open_conflict', 'detractor')"
            ).fetchall()
        }
        at_risk, band = con.execute(
            "SELECT at_risk, band FROM marts.client_risk_weekly "
            "WHERE client_id = 'acme' AND week_start = '2026-11-16'"
        ).fetchone()
    # 2200 overdue against 700 a month: 3.14 months, past the 2 that score 100
    assert factors["overdue_receivables"][:2] == (3.14, 100.0)
    # c1 has been open 4 days, past the 3 that make it critical
    assert factors["open_conflict"][:2] == (4.0, 100.0)
    # 702's answer of 3 on 20 October
    assert factors["detractor"][:2] == (3.0, 100.0)
    assert at_risk and band == "at_risk"
    words = {f: render_evidence(e, "uk", "EUR") for f, (_, _, e) in factors.items()}
    assert words == {
        "overdue_receivables": "прострочено 2\xa0200,00 євро, найстаріший рахунок — "
        "185 днів після терміну (3,1 × звичайна місячна сума рахунків)",
        "open_conflict": "письмова суперечка «Re: Banner sizes still not right» триває з "
        "11 лист. 2026\u202fр. (4 дні)",
        "detractor": "оцінка готовності рекомендувати 3 з 10 від pm@acme.test, "
        "20 жовт. 2026\u202fр.",
    }
    assert json.loads(factors["open_conflict"][2])["copied"] == []
