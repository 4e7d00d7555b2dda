"""The leadership digest: movers and at-risk actions computed by their models, the chart
drawn from marts.portfolio_weekly, one screen at 500 clients, and the chart uploaded
through Slack's v2 file upload at most once."""

from __future__ import annotations

import io
import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import duckdb
import matplotlib.image
import pytest

from clientpulse.config import LeadershipDigest
from clientpulse.pipeline.build_signals import model_variables
from clientpulse.pipeline.compose import DIGEST_KINDS, compose_leadership_digest
from clientpulse.pipeline.config_seeds import config_seeds
from clientpulse.pipeline.deliver import Senders, deliver
from clientpulse.reports.digest_chart import ChartData, chart_figure
from clientpulse.reports.leadership_digest import compose_digest
from connectors.slack import SlackPoster
from sandbox.fake_slack import create_app
from sandbox.http_server import serving
from sandbox.slack_render import render_text
from tests.factories import AS_OF, load_small_world, small_config
from transforms.catalog import MODELS_DIR, catalog, checks
from transforms.runner import build
from warehouse.db import open_writer
from warehouse.quality import run_gate

THIS_WEEK = date(2026, 11, 16)
# One screen: what a laptop shows of a Slack message without scrolling far, read in a
# minute. The digest at any portfolio size stays within these.
MAX_BLOCKS = 15
MAX_CHARACTERS = 4000  # of block text, as sent (mrkdwn, escaped)
MAX_LINES = 45  # as rendered: header, fields, section lines, dividers, context
MAX_FALLBACK = 300  # the notification text
# the first digest of a month adds last month's client feedback: at most three lines
FEEDBACK_LINES = 3
FEEDBACK_CHARACTERS = 600
FIRST_MONDAY = datetime(2026, 11, 2, 8, 0, tzinfo=UTC)  # 10:00 in Kyiv, covers October


def _model(con: duckdb.DuckDBPyConnection, name: str) -> None:
    """Build one mart from its own SQL file, over the tables a test laid out."""
    sql = (MODELS_DIR / "marts" / f"{name}.sql").read_text(encoding="utf-8")
    con.execute(f"CREATE OR REPLACE TABLE marts.{name} AS\n{sql.strip().rstrip(';')}")


FACTOR = (
    "STRUCT(factor VARCHAR, area VARCHAR, raw_value DOUBLE, evidence JSON, "
    "score DOUBLE, weight DOUBLE, contribution DOUBLE)"
)


def _risk_table(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(
        "CREATE SCHEMA IF NOT EXISTS marts; CREATE SCHEMA IF NOT EXISTS core; "
        "CREATE SCHEMA IF NOT EXISTS staging"
    )
    con.execute(
        f"""CREATE TABLE marts.client_risk_weekly (client_id VARCHAR, week_start DATE,
            as_of TIMESTAMPTZ, status VARCHAR, started_on DATE, lost_on DATE,
            lost_recently BOOLEAN, score DOUBLE, band VARCHAR, at_risk BOOLEAN,
            coverage DOUBLE, factors {FACTOR}[], reasons VARCHAR[], score_change_1w DOUBLE,
            score_change_4w DOUBLE, threshold_rule_flagged BOOLEAN)"""
    )


def _risk_row(client, week, score, change, factors, *, status="active", at_risk=False):
    structs = [
        {
            "factor": f,
            "area": "contact",
            "raw_value": 0.0,
            "evidence": json.dumps({"key": "on_site_gap", "days": c}),
            "score": 0.0,
            "weight": 1.0,
            "contribution": c,
        }
        for f, c in factors
    ]
    return [
        client,
        week,
        AS_OF,
        status,
        None,
        None,
        False,
        score,
        None,
        at_risk,
        1.0,
        structs,
        [],
        change,
        None,
        False,
    ]


def _built_from(con: duckdb.DuckDBPyConnection, rows: list[list], model: str, select: str):
    """`rows` as marts.client_risk_weekly, then `model` built on them; `select` from it
    (columns, then ORDER BY)."""
    con.executemany(f"INSERT INTO marts.client_risk_weekly VALUES ({', '.join('?' * 16)})", rows)
    _model(con, model)
    columns, order = select.split(" ORDER BY ")
    return con.execute(f"SELECT {columns} FROM marts.{model} ORDER BY {order}").fetchall()


def test_movers_name_the_factor_that_moved_each_score_most(tmp_path):
    con = duckdb.connect(str(tmp_path / "m.duckdb"))
    _risk_table(con)
    con.execute(
        "CREATE TABLE staging.cfg_clients AS SELECT * FROM (VALUES "
        "('a', 'Alpha', 'Anna'), ('b', 'Beta', 'Bob'), ('c', 'Gamma', 'Anna'), "
        "('d', 'Delta', 'Bob'), ('e', 'Epsilon', 'Anna')) "
        "AS t (client_id, client_name, account_manager_name)"
    )
    last = THIS_WEEK - timedelta(days=7)
    rows = [
        # a rose 30 → 55: contact_gap +20 points, silent_slips +5
        _risk_row("a", last, 30, None, [("contact_gap", 10), ("silent_slips", 20)]),
        _risk_row("a", THIS_WEEK, 55, 25, [("contact_gap", 30), ("silent_slips", 25)]),
        # b fell 60 → 40: lost_deals −30, contact_gap +10
        _risk_row("b", last, 60, None, [("lost_deals", 40), ("contact_gap", 20)]),
        _risk_row("b", THIS_WEEK, 40, -20, [("lost_deals", 10), ("contact_gap", 30)]),
        # c rose by 5 only: second among risers; d unchanged: not a mover
        _risk_row("c", last, 10, None, [("on_time_rate", 10)]),
        _risk_row("c", THIS_WEEK, 15, 5, [("on_time_rate", 15)]),
        _risk_row("d", THIS_WEEK, 20, 0, [("on_time_rate", 20)]),
        # e rose 0.6 → 16.4: printed in whole points, 1 → 16 (+15), never "(+16)"
        _risk_row("e", last, 0.6, None, [("contact_gap", 0.6)]),
        _risk_row("e", THIS_WEEK, 16.4, 15.8, [("contact_gap", 16.4)]),
    ]
    got = _built_from(
        con,
        rows,
        "client_risk_movers",
        "client_id, direction, mover_rank, previous_score, score_change_1w, factor, "
        "factor_contribution_change ORDER BY client_id",
    )
    assert got == [
        ("a", "rose", 1, 30.0, 25.0, "contact_gap", 20.0),
        ("b", "fell", 1, 60.0, -20.0, "lost_deals", -30.0),
        ("c", "rose", 3, 10, 5, "on_time_rate", 5.0),
        ("e", "rose", 2, 1, 15, "contact_gap", 15.8),
    ]


def test_at_risk_actions_take_the_two_heaviest_factors_and_never_a_lost_client(tmp_path):
    con = duckdb.connect(str(tmp_path / "a.duckdb"))
    _risk_table(con)
    con.execute(
        "CREATE TABLE staging.cfg_clients AS SELECT * FROM (VALUES "
        "('a', 'Alpha', 'Anna'), ('b', 'Beta', 'Bob'), ('l', 'Gone', 'Bob')) "
        "AS t (client_id, client_name, account_manager_name)"
    )
    rows = [
        _risk_row(
            "a",
            THIS_WEEK,
            50,
            None,
            [("contact_gap", 5), ("silent_slips", 25), ("lost_deals", 20)],
            at_risk=True,
        ),
        _risk_row(
            "b", THIS_WEEK, 70, 3, [("contact_vs_baseline", 70), ("on_site_gap", 0)], at_risk=True
        ),
        _risk_row("l", THIS_WEEK, 90, None, [("contact_gap", 90)], status="lost"),
    ]
    got = _built_from(
        con,
        rows,
        "client_risk_actions",
        "client_id, risk_rank, top_factor, second_factor, top_factor_evidence ORDER BY risk_rank",
    )
    # values and keys only: the words (and the action) are the digest's, per language
    assert got == [
        ("b", 1, "contact_vs_baseline", None, '{"key": "on_site_gap", "days": 70}'),
        ("a", 2, "silent_slips", "lost_deals", '{"key": "on_site_gap", "days": 25}'),
    ]


@pytest.fixture
def history(tmp_path):
    """The small agency built as of three Mondays: three weeks of risk history."""
    config = small_config(tmp_path)
    with open_writer(config.warehouse.path) as con:
        load_small_world(con, config)
        for weeks_back in (2, 1, 0):
            as_of = AS_OF - timedelta(weeks=weeks_back)
            build(con, as_of, model_variables(config), config_seeds(config))
    return config


def test_the_chart_draws_the_weekly_mart_series(history):
    with open_writer(history.warehouse.path) as con:
        message = compose_digest(con, AS_OF, history.agency.timezone, "2026-W47")
        rows = con.execute(
            "SELECT iso_week, at_risk_clients, first_reply_compliance, next_reply_compliance, "
            "on_time_rate FROM marts.portfolio_weekly ORDER BY week_start"
        ).fetchall()
    chart = message["chart"]
    assert [r[0] for r in rows] == ["2026-W45", "2026-W46", "2026-W47"]
    assert chart["data"] == {
        "weeks": [r[0] for r in rows],
        "at_risk": [r[1] for r in rows],
        "first_reply": [r[2] for r in rows],
        "next_reply": [r[3] for r in rows],
        "on_time": [r[4] for r in rows],
    }
    # what the figure plots is that data (compliance as percent), not something else
    figure = chart_figure(ChartData(**chart["data"]), "en")
    top, bottom = figure.axes
    assert list(top.lines[0].get_ydata()) == [r[1] for r in rows]
    for line, column in zip(bottom.lines, (2, 3, 4), strict=True):
        expected = [float("nan") if r[column] is None else round(100 * r[column], 1) for r in rows]
        assert [str(v) for v in line.get_ydata()] == [str(v) for v in expected]
    image = matplotlib.image.imread(io.BytesIO(chart["png"]), format="png")
    assert image.shape[:2] == (450, 800)
    assert "3 weeks, 2026-W45 to 2026-W47" in chart["alt_text"]
    assert chart["text_fallback"].splitlines()[0] == "Last 3 weeks (W45, W46, W47):"


WEEK_OF_W = "DATE '2026-11-16' - CAST(7 * w AS INTEGER)"  # w weeks before this one


def _playbook_figures(con: duckdb.DuckDBPyConnection, clients: int) -> None:
    """Open conflicts on every 9th client (and an ended one on c10), a recent detractor on
    every 7th, 1 000,50 EUR overdue on every 5th (the oldest i days) and 200 USD on c4."""
    con.execute(
        f"""CREATE TABLE intermediate.client_conflicts AS
            SELECT 'c' || i AS client_id, 't' || i AS conversation_id, i % 9 = 0 AS is_open
            FROM range({clients}) t (i) WHERE i % 9 = 0 OR i = 10"""
    )
    con.execute(
        f"""CREATE TABLE intermediate.client_nps AS
            SELECT 'c' || i AS client_id, CASE WHEN i % 7 = 0 THEN 3 END AS recent_detractor_score
            FROM range({clients}) t (i)"""
    )
    con.execute(
        f"""CREATE TABLE core.client_receivables AS
            SELECT 'c' || i AS client_id, 'EUR' AS currency,
                   CASE WHEN i % 5 = 0 THEN 1000.5 ELSE 0 END AS overdue_amount,
                   CASE WHEN i % 5 = 0 THEN i END AS oldest_overdue_days
            FROM range({clients}) t (i)
            UNION ALL SELECT 'c4', 'USD', 200, 12"""
    )


def _feedback_figures(con: duckdb.DuckDBPyConnection) -> None:
    """October's feedback for the agency and every manager (NPS +25, −15 on July), every
    7th client's latest answer a detractor's."""
    con.execute(
        """CREATE TABLE marts.portfolio_feedback_monthly AS
            WITH scopes AS (
                SELECT 'agency' AS scope, NULL::VARCHAR AS account_manager_id,
                       NULL::VARCHAR AS account_manager_name
                UNION ALL
                SELECT 'account_manager', account_manager_id, account_manager_name
                FROM staging.cfg_account_managers
            )
            SELECT DATE '2026-10-01' AS month_start, scope, account_manager_id,
                   account_manager_name, 40 AS answers, 20 AS promoters, 10 AS passives,
                   10 AS detractors, 25 AS nps, DATE '2026-07-01' AS previous_month_start,
                   40 AS previous_nps, -15 AS nps_change,
                   (SELECT list({'client_id': client_id, 'client_name': client_name,
                                 'score': 3, 'answered_on': DATE '2026-10-20'})
                    FROM staging.cfg_clients WHERE hash(client_id) % 7 = 0) AS detractor_clients
            FROM scopes"""
    )


def _simulated_portfolio(
    con: duckdb.DuckDBPyConnection, clients: int, managers: int, calibrated: bool = True
) -> None:
    """`clients` clients under `managers` managers, 13 weeks of risk history with long
    names that need escaping, about a quarter at risk, one in twelve lost and one in
    twelve changing strategy; then the digest's marts built from their own SQL."""
    lost = clients // 12
    con.execute("SET VARIABLE as_of = ?::TIMESTAMPTZ", [AS_OF])
    con.execute("SET VARIABLE risk_false_alarm_budget = 2.0")
    con.execute(
        "CREATE SCHEMA marts; CREATE SCHEMA intermediate; CREATE SCHEMA core; CREATE SCHEMA staging"
    )
    con.execute(
        f"""CREATE TABLE staging.cfg_account_managers AS
            SELECT 'm' || i AS account_manager_id,
                   'Account Manager Number ' || i || ' <Lead>' AS account_manager_name
            FROM range({managers}) AS t (i)"""
    )
    con.execute(
        f"""CREATE TABLE staging.cfg_clients AS
            SELECT 'c' || i AS client_id,
                   'Northwind Logistics & Partners Holding ' || i AS client_name,
                   'm' || (i % {managers}) AS account_manager_id,
                   'Account Manager Number ' || (i % {managers}) || ' <Lead>'
                       AS account_manager_name
            FROM range({clients}) AS t (i)"""
    )
    con.execute(
        f"""CREATE TABLE marts.client_risk_weekly AS
        WITH base AS (
            SELECT 'c' || i AS client_id, i, {WEEK_OF_W} AS week_start,
                   (hash(i * 31 + w) % 1000) / 10.0 AS score
            FROM range({clients}) AS c (i), range(13) AS ws (w)
        )
        SELECT client_id, week_start, TIMESTAMPTZ '2026-11-16 07:00:00+00' AS as_of,
            CASE WHEN i < {lost} THEN 'lost' ELSE 'active' END AS status,
            DATE '2025-01-01' AS started_on,
            CASE WHEN i < {lost} THEN DATE '2026-11-02' + CAST(i % 14 AS INTEGER) END AS lost_on,
            i < {lost} AS lost_recently, score,
            CASE WHEN i < {lost} THEN NULL WHEN score >= 75 THEN 'at_risk' ELSE 'healthy' END
                AS band,
            i >= {lost} AND score >= 75 AS at_risk, 1.0 AS coverage,
            [{{'factor': 'contact_vs_baseline', 'area': 'contact', 'raw_value': 0.4,
               'evidence': json_object('key', 'contact_fall', 'observed', 2, 'weeks', 4,
                   'expected', 5.0, 'usual_per_week', 1.3, 'away_weeks', 0, 'z', 2.1),
               'score': score, 'weight': 8.0, 'contribution': score * 0.6}},
             {{'factor': 'silent_slips', 'area': 'delivery', 'raw_value': 3.0,
               'evidence': json_object('key', 'silent_slips', 'count', 3, 'weeks', 8),
               'score': score, 'weight': 2.0, 'contribution': score * 0.4}}] AS factors,
            [json_object('key', 'silent_slips', 'count', 3, 'weeks', 8)] AS reasons,
            score - lead(score) OVER (PARTITION BY client_id ORDER BY week_start DESC)
                AS score_change_1w,
            NULL::DOUBLE AS score_change_4w, false AS threshold_rule_flagged,
            75.0 AS at_risk_at, {calibrated} AS calibrated
        FROM base"""
    )
    con.execute(
        f"""CREATE TABLE marts.client_health AS
            SELECT 'c' || i AS client_id, i % 3 AS open_overdue_tasks FROM range({clients}) t (i)"""
    )
    con.execute(
        f"""CREATE TABLE intermediate.reply_compliance AS
            WITH clients AS (
                SELECT 'client' AS grain, 'c' || i AS client_id, 'week' AS period,
                       {WEEK_OF_W} AS period_start, 7 AS window_days, metric,
                       4 + i % 3 AS achieved, 5 AS decided,
                       240.0 AS median_business_minutes, 900.0 AS p90_business_minutes
                FROM range({clients}) c (i), range(14) ws (w),
                     (VALUES ('first_reply'), ('next_reply')) m (metric)
            ),
            everyone AS (
                SELECT * FROM clients
                UNION ALL BY NAME
                SELECT 'portfolio' AS grain, NULL AS client_id, period, period_start,
                       window_days, metric, sum(achieved) AS achieved, sum(decided) AS decided,
                       240.0 AS median_business_minutes, 900.0 AS p90_business_minutes
                FROM clients GROUP BY ALL
            )
            SELECT grain, client_id, period, period_start, window_days,
                   strftime(period_start, '%G-W%V') AS iso_week, metric,
                   decided AS measurements, achieved, decided - achieved AS breached,
                   0 AS pending, 0 AS no_reply_needed, decided, achieved / decided AS compliance,
                   0 AS unanswered_past_target, median_business_minutes, p90_business_minutes
            FROM everyone"""
    )
    for name in ("client_sla_weekly", "portfolio_sla_weekly"):
        _model(con, name)
    con.execute(
        f"""CREATE TABLE core.client_delivery_weekly AS
            SELECT 'c' || i AS client_id, {WEEK_OF_W} AS week_start,
                   3 AS dated_completed_tasks, 2 + (i + w) % 2 AS on_time_tasks
            FROM range({clients}) c (i), range(14) ws (w)"""
    )
    strategies = "['strengthen', 'invest', 'invest_loyal', 'protect', 'earn', 'consider_ending']"
    con.execute(
        f"""CREATE TABLE marts.client_segment_weekly AS
            SELECT 'c' || i AS client_id, {WEEK_OF_W} AS week_start,
                   {strategies}[1 + (i + CASE WHEN w = 0 AND i < {lost} THEN 1 ELSE 0 END) % 6]
                       AS strategy_key
            FROM range({clients}) c (i), range(2) ws (w)"""
    )
    con.execute(
        """CREATE TABLE marts.client_segment AS
            SELECT client_id, strategy_key, replace(strategy_key, '_', ' ') AS strategy
            FROM marts.client_segment_weekly WHERE week_start = DATE '2026-11-16'"""
    )
    _playbook_figures(con, clients)
    _feedback_figures(con)
    for name in (
        "portfolio_health",
        "portfolio_playbook",
        "portfolio_weekly",
        "manager_portfolio",
        "client_risk_movers",
        "client_risk_actions",
        "client_strategy_changes",
        "portfolio_segments",
    ):
        _model(con, name)


def _screen(message: dict) -> tuple[int, int, int]:
    """(blocks, characters of block text as sent, lines as rendered)."""
    texts = []
    for block in message["blocks"]:
        texts.append((block.get("text") or {}).get("text", ""))
        texts += [f["text"] for f in block.get("fields") or []]
        texts += [e.get("text", "") for e in block.get("elements") or []]
    rendered = render_text([{"channel_name": "leadership", "posted_at": "", **message}])
    return len(message["blocks"]), sum(len(t) for t in texts), len(rendered.splitlines()) - 1


@pytest.mark.parametrize("first_of_month", [False, True])
@pytest.mark.parametrize("clients,managers", [(36, 4), (500, 25)])
def test_the_digest_stays_within_one_screen(tmp_path, clients, managers, first_of_month):
    con = duckdb.connect(str(tmp_path / "p.duckdb"))
    _simulated_portfolio(con, clients, managers)
    at_risk = con.execute("SELECT count(*) FROM marts.client_risk_actions").fetchone()[0]
    as_of = FIRST_MONDAY if first_of_month else AS_OF
    message = compose_digest(con, as_of, "Europe/Kyiv", "2026-W47", LeadershipDigest())
    blocks, characters, lines = _screen(message)
    print(f"{clients} clients: {blocks} blocks, {characters} characters, {lines} lines")
    extra_lines, extra_characters = (
        (FEEDBACK_LINES, FEEDBACK_CHARACTERS) if first_of_month else (0, 0)
    )
    assert blocks <= MAX_BLOCKS
    assert characters <= MAX_CHARACTERS + extra_characters and lines <= MAX_LINES + extra_lines
    feedback = [b["text"]["text"] for b in message["blocks"] if "*Client feedback" in str(b)]
    assert len(feedback) == first_of_month
    if first_of_month:  # three detractors and three managers named, the rest counted
        assert feedback[0].count("(3 of 10, 20 Oct 2026)") == 3
        assert feedback[0].count("(NPS: +25, 40 answers)") == 3
        assert f"…and {managers - 3} more" in feedback[0]
    assert len(message["text"]) <= MAX_FALLBACK
    dumped = json.dumps(message["blocks"], ensure_ascii=False)
    assert "<Lead>" not in dumped and " & " not in dumped  # every name escaped
    at_risk_text = next(
        b["text"]["text"] for b in message["blocks"] if "*At-risk clients*" in str(b)
    )
    assert at_risk_text.count("\n• ") == min(5, at_risk)  # top five named, the rest counted
    if at_risk > 5:
        assert f"…and {at_risk - 5} more at risk" in at_risk_text
    for lost in range(clients // 12):  # lost clients are never listed at risk
        assert f"Holding {lost}*" not in at_risk_text
    movers = next(b["text"]["text"] for b in message["blocks"] if "*Biggest movers*" in str(b))
    assert movers.count(":small_red_triangle:") == 3
    assert movers.count(":small_red_triangle_down:") == 3
    strategies = next(b["text"]["text"] for b in message["blocks"] if "*Strategies*" in str(b))
    changed = clients // 12  # three named, the rest counted
    assert strategies.count(" → ") == min(3, changed)
    assert (f"…and {changed - 3} more" in strategies) == (changed > 3)


def test_the_playbook_line_counts_active_clients_only_and_keeps_currencies_apart(tmp_path):
    con = duckdb.connect(str(tmp_path / "p.duckdb"))
    _simulated_portfolio(con, 36, 4)  # c0, c1 and c2 lost
    message = compose_digest(con, AS_OF, "Europe/Kyiv", "2026-W47", LeadershipDigest())
    [line] = [b["text"]["text"] for b in message["blocks"] if "*Open conflicts*" in str(b)]
    # EUR: c5 … c35, 7 × 1 000,50; USD: c4; conflicts c9, c18, c27 (c0 lost, c10 ended);
    # detractors c7, c14, c21, c28, c35 (c0 lost)
    assert line == (
        "*Overdue invoices* €7,003.50 + US$200.00 at 8 clients (the oldest 35 days past due)"
        " · *Recent detractors* 5 clients · *Open conflicts* 3"
    )


@pytest.mark.parametrize("calibrated", [True, False])
def test_the_footer_says_which_threshold_flagged_the_week_and_whether_it_was_calibrated(
    tmp_path, calibrated
):
    con = duckdb.connect(str(tmp_path / "p.duckdb"))
    _simulated_portfolio(con, 36, 4, calibrated=calibrated)
    message = compose_digest(con, AS_OF, "Europe/Kyiv", "2026-W47", LeadershipDigest())
    footer = message["blocks"][-1]["elements"][0]["text"]
    if calibrated:
        assert "at risk from score 75, calibrated this week on the year before" in footer
        assert "to 2 false-alarm weeks per retained client a year" in footer
    else:
        assert "at risk from score 75 (the default: too little history to calibrate)" in footer


def test_the_chart_is_uploaded_through_slacks_v2_flow_once(history, tmp_path):
    with open_writer(history.warehouse.path) as con:
        assert all(r.success for r in run_gate(con, "build-1", checks(catalog())))
    live = history.model_copy(
        update={"delivery": history.delivery.model_copy(update={"dry_run": False})}
    )
    capture = tmp_path / "slack.jsonl"
    token = "xoxb-digest"

    def refuse():
        raise AssertionError("the digest sends no email")

    with serving(create_app(token, capture, channels=("leadership", "ops"))) as server:
        poster = SlackPoster.with_token(token, f"{server.base_url}/api/")
        for attempt in range(2):
            compose_leadership_digest(live, AS_OF, f"run-{attempt}")
            sent = deliver(live, Senders(lambda: poster, refuse), f"run-{attempt}", DIGEST_KINDS)
            assert sent["sent"] == (2 if attempt == 0 else 0)
    digest, chart = [json.loads(x) for x in capture.read_text(encoding="utf-8").splitlines()]
    assert digest["blocks"][0]["text"]["text"] == "ClientPulse weekly digest · 2026-W47"
    assert "chart of the last 3 weeks posted below" in json.dumps(digest["blocks"])
    (shared,) = chart["files"]
    assert chart["channel_name"] == "leadership"
    assert chart["text"].startswith("Last 3 weeks (W45, W46, W47):")
    assert shared["name"] == "clientpulse-digest-2026-W47.png"
    assert shared["alt_txt"].startswith("Two line charts over 3 weeks")
    assert Path(shared["path"]).read_bytes().startswith(b"\x89PNG")
    with open_writer(history.warehouse.path) as con:
        refs = con.execute(
            "SELECT kind, provider_ref FROM ops.sent_log ORDER BY sent_at"
        ).fetchall()
    assert [k for k, _ in refs] == list(DIGEST_KINDS)
    assert refs[1][1].endswith(":" + shared["id"])
