"""`benchmarks.risk_backtest.judge` on a hand-made warehouse of a few client-weeks, and
the backtest's second agency (benchmarks/agencies.py).

Weeks W0..W7 are the Mondays 2026-01-05 .. 2026-02-23. N = the new flag (`at_risk`),
O = the old rule (`threshold_rule_flagged`); `-` not flagged, `.` NULL, `L` a lost week (flagged,
but lost weeks never count).

    client     truth                 2025-11-10 11-17  W0 W1 W2 W3 W4 W5 W6 W7
    early      churned 2026-02-20    N          -      -  N  N  N  N  NO NO L(NO)
    late       churned 2026-02-11                      O  O  NO NO O  NO
    ghost      churned 2026-01-20    (no rows: never scored)
    degraded   at risk                                 -  -  -  -  -  -  N  N
    healthy1   healthy                                 -  O  O  NO O  -  -  -
    healthy2   healthy                                 O  .  -  -  -  -  -  -
"""

from __future__ import annotations

from collections import Counter
from datetime import date, timedelta

import duckdb
import pytest

from benchmarks.agencies import seed2, seed3, write_config
from benchmarks.risk_backtest import judge
from clientpulse.config import DEMO_CONFIG, load_config
from sandbox.sim_cast import CHURN_STORIES, build_cast
from sandbox.simulator import DEMO_AS_OF, DEMO_MONTHS

W = [date(2026, 1, 5) + timedelta(weeks=i) for i in range(8)]
TRUTH = {
    "churned": {"early": "2026-02-20", "late": "2026-02-11", "ghost": "2026-01-20"},
    "at_risk": ["degraded"],
    "healthy": ["healthy1", "healthy2"],
}


def _rows() -> list[tuple]:
    """(client_id, week_start, status, at_risk, threshold_rule_flagged)."""
    rows = [
        ("early", date(2025, 11, 10), "active", True, False),
        ("early", date(2025, 11, 17), "active", False, False),
        ("early", W[0], "active", False, False),
        *(("early", W[i], "active", True, i >= 5) for i in range(1, 7)),
        ("early", W[7], "lost", True, True),
    ]
    rows += [("late", W[i], "active", i in (2, 3, 5), True) for i in range(6)]
    rows += [("degraded", W[i], "active", i >= 6, False) for i in range(8)]
    rows += [("healthy1", W[i], "active", i == 3, 1 <= i <= 4) for i in range(8)]
    rows += [
        ("healthy2", W[i], "active", False, {0: True, 1: None}.get(i, False)) for i in range(8)
    ]
    return rows


@pytest.fixture
def warehouse(tmp_path):
    path = tmp_path / "risk.duckdb"
    con = duckdb.connect(str(path))
    con.execute("CREATE SCHEMA marts")
    con.execute(
        "CREATE TABLE marts.client_risk_weekly (client_id VARCHAR, week_start DATE, "
        "status VARCHAR, at_risk BOOLEAN, threshold_rule_flagged BOOLEAN)"
    )
    con.executemany("INSERT INTO marts.client_risk_weekly VALUES (?, ?, ?, ?, ?)", _rows())
    con.close()
    return path


def test_new_flag(warehouse):
    result = judge(warehouse, TRUTH, "at_risk")
    # leads: early flagged W1..W6 unbroken → (02-20 − 01-12) = 39 days = 5.57 weeks (≥ 4);
    #   late: W4 breaks the run, so only W5 → (02-11 − 02-09) = 2 days = 0.29; ghost 0
    assert result.recall_4w == pytest.approx(1 / 3)
    assert result.median_lead_weeks == pytest.approx(2 / 7)
    # flagged active weeks: early 7 (2025-11-10 is 102 days before leaving, past the
    #   12-week horizon: undeserved; W1..W6 deserved), late 3, degraded 2 (W6, W7),
    #   healthy1 1 (W3); early's lost W7 does not count → 11 deserved of 13
    assert result.precision == pytest.approx(11 / 13)
    # healthy1's one flagged week over two healthy clients
    assert result.false_alarms_per_healthy == pytest.approx(0.5)


def test_old_rule(warehouse):
    result = judge(warehouse, TRUTH, "threshold_rule_flagged")
    # leads: early W5, W6 → (02-20 − 02-09) = 11 days = 1.57; late W0..W5 → 37 days = 5.29;
    #   ghost 0 → median 1.57
    assert result.recall_4w == pytest.approx(1 / 3)
    assert result.median_lead_weeks == pytest.approx(11 / 7)
    # flagged: early 2, late 6 (all deserved), healthy1 4, healthy2 1 (its NULL is not
    #   flagged) → 8 of 13
    assert result.precision == pytest.approx(8 / 13)
    assert result.false_alarms_per_healthy == pytest.approx(5 / 2)


def test_nothing_flagged_has_no_precision(warehouse):
    con = duckdb.connect(str(warehouse))
    con.execute("UPDATE marts.client_risk_weekly SET at_risk = false")
    con.close()
    result = judge(warehouse, TRUTH, "at_risk")
    assert result.precision is None
    assert result.recall_4w == 0.0
    assert result.median_lead_weeks == 0.0
    assert result.false_alarms_per_healthy == 0.0


def test_since_judges_only_the_weeks_from_then(warehouse):
    result = judge(warehouse, TRUTH, "at_risk", since=W[2])
    # early's run now starts at W2 → (02-20 − 01-19) = 32 days = 4.57 weeks, still ≥ 4;
    #   late W5 0.29, ghost 0; flagged: early 5 (W2..W6), late 3, degraded 2, healthy1 1
    assert result.recall_4w == pytest.approx(1 / 3)
    assert result.median_lead_weeks == pytest.approx(2 / 7)
    assert result.precision == pytest.approx(10 / 11)
    assert result.false_alarms_per_healthy == pytest.approx(0.5)


def test_recall_counts_only_observable_declines_and_false_alarms_are_yearly(warehouse):
    # early's decline began 8 weeks before it left, late's and ghost's 3 weeks before:
    #   only early (lead 5.57) counts for recall; the median lead still takes all three
    declines = {"early": "2025-12-26", "late": "2026-01-21", "ghost": "2025-12-30"}
    result = judge(warehouse, TRUTH | {"decline_start": declines}, "at_risk")
    assert result.recall_4w == 1.0
    assert result.median_lead_weeks == pytest.approx(2 / 7)
    # one flagged week over 16 healthy client-weeks → 52 / 16 a year
    assert result.false_alarms_per_healthy_year == pytest.approx(52 / 16)
    old = judge(warehouse, TRUTH | {"decline_start": declines}, "threshold_rule_flagged")
    assert old.recall_4w == 0.0  # early's old-rule lead is 1.57 weeks
    assert old.false_alarms_per_healthy_year == pytest.approx(5 * 52 / 16)


def test_seed2_agency_has_its_own_clients_and_churn_stories(tmp_path):
    agency = seed2()
    config = load_config(write_config(agency, tmp_path))
    clients = config.clients
    assert len(clients) == 108
    for values in (
        [c.id for c in clients],
        [d for c in clients for d in c.email_domains],
        [p for c in clients for p in c.asana_projects],
        [c.crm_company_id for c in clients],
        [a for c in clients for a in c.contact_addresses],
    ):
        assert len(values) == len(set(values))
    cast = build_cast(config, agency.seed, DEMO_AS_OF, DEMO_MONTHS, agency.options)
    fates = Counter(p.fate for p in cast.profiles)
    assert (fates["churned"], fates["at_risk"]) == (15, 8)
    stories = Counter(p.story for p in cast.profiles if p.fate == "churned")
    assert set(stories) == set(CHURN_STORIES) and min(stories.values()) >= 2
    # the demo keeps its one story, drawn as before
    demo_cast = build_cast(load_config(DEMO_CONFIG), 7, DEMO_AS_OF, DEMO_MONTHS)
    assert all(p.story is None and p.floor is None for p in demo_cast.profiles)
    # the holdout: the same agency, another draw of who churns and how
    holdout = seed3()
    assert holdout.config["clients"] == agency.config["clients"]
    holdout_cast = build_cast(config, holdout.seed, DEMO_AS_OF, DEMO_MONTHS, holdout.options)
    churned = {p.client.id for p in holdout_cast.profiles if p.fate == "churned"}
    assert len(churned) == 15
    assert churned != {p.client.id for p in cast.profiles if p.fate == "churned"}
