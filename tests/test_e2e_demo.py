"""The demo chain end to end, through Airflow: sandbox → ingest → build → Slack and SMTP.

Runs `python -m tooling.demo` (what `make demo` runs) twice on a private copy of the
demo config, and checks each stage against the simulator's own truth: every task,
message and CRM record landed once; every client has signals and the churned ones are
flagged; one digest and its chart (uploaded through Slack's v2 file upload) reached
the fake Slack and one status email per client reached the real SMTP server, holding
only that client's data; the second run adds nothing and sends nothing. While the
first run is going, another process reads the snapshot.
"""

from __future__ import annotations

import contextlib
import email
import email.policy
import email.utils
import json
import shutil
import subprocess
import sys
import time
from datetime import date, timedelta
from pathlib import Path

import duckdb
import pytest

from benchmarks.bench_build_large import add_new_mail
from clientpulse.config import DEMO_CONFIG, PROJECT_ROOT, load_config
from clientpulse.pipeline.alerts import compose_alerts
from clientpulse.pipeline.build_signals import build_signals
from clientpulse.pipeline.risk_backfill import backfill
from clientpulse.reports import i18n
from clientpulse.reports.account_manager_alerts import Playbook
from clientpulse.reports.client_status import LISTS
from clientpulse.reports.i18n import STRINGS
from clientpulse.reports.leadership_digest import compose_digest
from connectors.slack import escape_mrkdwn
from sandbox.sim_crm import RECORD_KINDS as CRM_TYPES
from sandbox.sim_text import JUSTIFICATIONS, NOT_STARTED_REASONS
from sandbox.simulator import DEMO_AS_OF, simulate
from tests.factories import model_rows
from tests.language_check import problems, slack_text
from tooling.local_airflow import LocalAirflow
from transforms.catalog import catalog

pytestmark = [pytest.mark.airflow, pytest.mark.e2e, pytest.mark.timeout(3000)]

ROW_COUNTS = (
    "raw.email_messages",
    "raw.email_sightings",
    "raw.asana_tasks",
    "raw.asana_stories",
    "raw.crm_objects",
    "marts.client_health",
    "marts.client_risk_weekly",
    "core.fct_email_sla",
    "marts.client_sla_weekly",
    "ops.outbox",
    "ops.approvals",
    "ops.sent_log",
    "ops.alert_log",
    "ops.quarantine",
)


def _query(snapshot: Path, sql: str):
    con = duckdb.connect(str(snapshot), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def _emails(out: Path, kind: str) -> dict[tuple[str, ...], email.message.EmailMessage]:
    """The emails of one kind the SMTP server received, by their sorted recipients."""
    found = {}
    for path in (out / "email").glob("*.eml"):
        message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        if message["Message-ID"].strip().startswith(f"<{kind}."):
            found[tuple(sorted(a.strip() for a in message["To"].split(",")))] = message
    return found


def _slack_lines(out: Path) -> list[str]:
    """The messages the fake Slack captured (none yet: no file)."""
    capture = out / "slack" / "messages.jsonl"
    return capture.read_text(encoding="utf-8").splitlines() if capture.exists() else []


def _run_demo(
    config_path: Path, out: Path, *, read_snapshot: Path | None = None
) -> tuple[str, list]:
    """Run the demo; if asked, query the snapshot from this process while it runs."""
    command = [
        sys.executable,
        "-m",
        "tooling.demo",
        "--config",
        str(config_path),
        "--out",
        str(out),
    ]
    log = out.parent / f"demo-{time.monotonic_ns()}.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("w") as sink:
        process = subprocess.Popen(
            command, cwd=PROJECT_ROOT, stdout=sink, stderr=subprocess.STDOUT, text=True
        )
        reads_during_run = []
        # A first run reads the managers' mailboxes at Gmail's real quota (~80 s) on a
        # machine other jobs share.
        deadline = time.monotonic() + 1400
        while process.poll() is None and time.monotonic() < deadline:
            if read_snapshot is not None and read_snapshot.exists():
                # a failed read means the snapshot is being replaced at this instant
                with contextlib.suppress(duckdb.Error):
                    reads_during_run.append(
                        _query(read_snapshot, "SELECT count(*) FROM marts.client_health")
                    )
            time.sleep(0.5)
        process.wait(timeout=max(1.0, deadline - time.monotonic()))
    output = log.read_text(encoding="utf-8")
    assert process.returncode == 0, output[-5000:]
    return output, reads_during_run


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    root = tmp_path_factory.mktemp("demo")
    (root / "config").mkdir()
    config_path = root / "config" / "demo.yaml"
    shutil.copy(DEMO_CONFIG, config_path)  # its relative paths now point under root/out
    config = load_config(config_path)
    out = root / "out" / "demo"
    first_output, reads = _run_demo(config_path, out, read_snapshot=config.warehouse.snapshot_path)
    first = {
        t: _query(config.warehouse.path, f"SELECT count(*) FROM {t}")[0][0] for t in ROW_COUNTS
    }
    emails_first = sorted(p.name for p in (out / "email").glob("*.eml"))
    slack_first = _slack_lines(out)
    second_output, _ = _run_demo(config_path, out)
    return {
        "config": config,
        "out": out,
        "world": simulate(config, seed=7),
        "reads_during_run": reads,
        "first_counts": first,
        "emails_first": emails_first,
        "slack_first": slack_first,
        "first_output": first_output,
        "second_output": second_output,
    }


def test_snapshot_was_queried_by_another_process_during_the_run(demo):
    assert demo["reads_during_run"], "the snapshot was never readable while the demo ran"


def test_every_source_record_landed_exactly_once(demo):
    config, world = demo["config"], demo["world"]
    snapshot = config.warehouse.snapshot_path
    tasks = _query(snapshot, "SELECT count(*), count(DISTINCT gid) FROM raw.asana_tasks")[0]
    assert tasks == (len(world.asana["tasks"]), len(world.asana["tasks"]))
    stories = sum(len(s) for s in world.asana["stories"].values())
    assert _query(snapshot, "SELECT count(*) FROM raw.asana_stories")[0][0] == stories
    crm = dict(_query(snapshot, "SELECT object_type, count(*) FROM raw.crm_objects GROUP BY 1"))
    assert crm == {t: len(world.hubspot[t]) for t in CRM_TYPES if world.hubspot[t]}
    messages = _query(
        snapshot, "SELECT count(*), count(DISTINCT message_key) FROM raw.email_messages"
    )[0]
    rejected = _query(snapshot, "SELECT count(*) FROM ops.quarantine WHERE field <> 'Date'")[0][0]
    # The shared inbox is read through Graph: Exchange keeps none of the mailbox's own
    # automatic replies (docs/mail_graph.md), and no manager's mailbox holds them.
    team = config.sources.mailboxes.graph[0].mailboxes[0]
    missing = [m for m in world.messages if _own_auto_reply(m, team)]
    assert missing and messages[0] == messages[1]
    assert messages[0] + rejected == len(world.messages) - len(missing)
    assert messages[0] > 0.99 * len(world.messages)


def _own_auto_reply(message: bytes, mailbox: str) -> bool:
    head = email.message_from_bytes(message.split(b"\r\n\r\n", 1)[0])
    sender = email.utils.parseaddr(str(head["From"]))[1].lower()
    return sender == mailbox and str(head.get("Auto-Submitted", "no")).lower() != "no"


def test_signals_exist_for_every_client_and_the_score_tells_lost_from_at_risk(demo):
    config, world = demo["config"], demo["world"]
    snapshot = config.warehouse.snapshot_path
    health = {
        r[0]: r[1:]
        for r in _query(
            snapshot,
            "SELECT client_id, at_risk, first_reply_measurements, open_tasks, "
            "days_since_last_contact "
            "FROM marts.client_health",
        )
    }
    assert set(health) == {c.id for c in config.clients}
    risk = {
        r[0]: r[1:]
        for r in _query(
            snapshot,
            "SELECT client_id, status, at_risk, lost_on FROM marts.client_risk_weekly "
            "WHERE week_start = '2026-11-16'",
        )
    }
    assert set(risk) == {c.id for c in config.clients}
    churned = world.ground_truth["churned"]
    assert churned, "the simulator should churn some clients"
    for client_id, left_on in churned.items():
        status, at_risk, lost_on = risk[client_id]
        assert status == "lost" and not at_risk, client_id
        # dated by the last exchange: at most a few weeks before the simulator's end date
        assert 0 <= (date.fromisoformat(left_on) - lost_on).days <= 45, (client_id, lost_on)
    degraded = world.ground_truth["at_risk"]
    for client_id in degraded:
        assert risk[client_id][:2] == ("active", True), f"degraded {client_id} is not at risk"
    healthy = world.ground_truth["healthy"]
    healthy_flagged = [c for c in healthy if risk[c][1]]
    assert len(healthy_flagged) <= len(healthy) // 5, healthy_flagged
    # every factor of every week is a number (a NaN once sorted above every real fall and
    # scored 100, with "nan" in the reason a manager reads: NaN in the evidence JSON)
    not_numbers = _query(
        snapshot,
        "SELECT client_id, week_start, f.factor FROM (SELECT client_id, week_start, "
        "unnest(factors) AS f FROM marts.client_risk_weekly) "
        "WHERE isnan(f.raw_value) OR isnan(f.score) "
        "OR CAST(f.evidence AS VARCHAR) LIKE '%:NaN%'",
    )
    assert not_numbers == []
    active = [c for c in health if c not in churned]
    assert sum(health[c][1] > 0 for c in active) > 0.8 * len(active)  # mail reached the marts
    with_tasks = {
        r[0] for r in _query(snapshot, "SELECT DISTINCT client_id FROM core.fct_task_delivery")
    }
    assert len(with_tasks & set(active)) > 0.8 * len(active)  # tasks reached the marts


def _digest_blocks(posted: dict, heading: str) -> str:
    return next(b["text"]["text"] for b in posted["blocks"] if heading in str(b.get("text")))


def test_one_digest_and_its_chart_reached_slack(demo):
    messages = [json.loads(line) for line in demo["slack_first"]]
    leadership = [m for m in messages if m["channel_name"].lstrip("#") == "leadership"]
    assert len(leadership) == 2  # the digest, then its chart
    others = [m["channel_id"] for m in messages if m not in leadership]
    # the rest: the managers' DMs (`D…`): alerts, portfolio views, approval requests
    assert all(c.startswith("D") for c in others), others
    assert messages[0] is leadership[0]  # the digest goes first
    posted, chart = leadership
    assert posted["blocks"][0]["type"] == "header"
    assert "2026-W47" in posted["blocks"][0]["text"]["text"]
    assert len(posted["blocks"]) <= 15 and len(posted["text"]) <= 300
    config = demo["config"]
    snapshot = config.warehouse.snapshot_path
    at_risk = _digest_blocks(posted, "*At-risk clients*")
    ranked = [
        r[0]
        for r in _query(
            snapshot, "SELECT client_id FROM marts.client_risk_actions ORDER BY risk_rank"
        )
    ]
    for client_id in demo["world"].ground_truth["at_risk"]:
        assert client_id in ranked, f"degraded {client_id} is not at risk"
    for client_id in ranked[:5]:  # the top five by score are named, the rest counted
        assert escape_mrkdwn(config.client(client_id).name) in at_risk, client_id
    assert at_risk.count("\n• ") == min(5, len(ranked))
    if len(ranked) > 5:
        assert f"…and {len(ranked) - 5} more at risk" in at_risk
    for client_id in demo["world"].ground_truth["churned"]:  # lost, not at risk
        assert escape_mrkdwn(config.client(client_id).name) not in at_risk, client_id
    # movers: the largest rise and fall of the risk score, with the factor that moved it
    movers = _digest_blocks(posted, "*Biggest movers*")
    top = _query(
        snapshot,
        "SELECT client_name, direction, factor FROM marts.client_risk_movers WHERE mover_rank = 1",
    )
    assert top, "no client's risk score moved in the demo's last week"
    playbook = Playbook.load(config.alerts.playbook)  # the factor named in words
    for name, direction, factor in top:
        arrow = ":small_red_triangle:" if direction == "rose" else ":small_red_triangle_down:"
        line = next(x for x in movers.splitlines() if f"*{escape_mrkdwn(name)}*" in x)
        assert line.startswith(arrow + " ") and line.endswith(playbook.factor("en", factor)), line
    # strategies as counts over every client
    strategies = _digest_blocks(posted, "*Strategies*").splitlines()[0]
    counts = [int(part.rsplit(" ", 1)[1]) for part in strategies.split(": ", 1)[1].split(" · ")]
    assert sum(counts) == len(config.clients)
    # the chart: shared into the channel through files.getUploadURLExternal, the upload
    # URL and files.completeUploadExternal (the fake shares files no other way)
    assert chart["channel_name"] == "leadership"
    (shared,) = chart["files"]
    assert shared["name"] == "clientpulse-digest-2026-W47.png"
    assert shared["alt_txt"].startswith("Two line charts over 12 weeks")
    assert chart["text"].startswith("Last 12 weeks (")  # the chart's numbers as text
    assert Path(shared["path"]).read_bytes().startswith(b"\x89PNG")
    refs = dict(_query(config.warehouse.path, "SELECT kind, provider_ref FROM ops.sent_log"))
    assert refs["leadership_digest_chart"] == f"{chart['channel_id']}:{shared['id']}"
    assert "leadership digest as posted" in demo["first_output"]
    assert shared["path"] in demo["first_output"]


LAST_WEEK = "2026-11-09"  # the full agency-local week before the demo's as-of


def _sla_weekly(snapshot: Path) -> dict[tuple[str, str], tuple]:
    """(client, metric) → last week's row of marts.client_sla_weekly."""
    rows = _query(
        snapshot,
        "SELECT client_id, metric, achieved, breached, pending, median_business_minutes, "
        f"p90_business_minutes FROM marts.client_sla_weekly WHERE week_start = '{LAST_WEEK}'",
    )
    return {(r[0], r[1]): r[2:] for r in rows}


def test_digest_sla_figures_come_from_the_weekly_mart(demo):
    weekly = _sla_weekly(demo["config"].warehouse.snapshot_path)
    posted = json.loads(demo["slack_first"][0])
    block = next(b["text"]["text"] for b in posted["blocks"] if "Email SLA" in str(b))
    lines = block.splitlines()
    assert lines[0].startswith("*Email SLA, 2026-W46*")
    for metric, label in ((m, STRINGS["en"][m]) for m in ("first_reply", "next_reply")):
        rows = [v for (_, m), v in weekly.items() if m == metric]
        achieved, breached = sum(r[0] for r in rows), sum(r[1] for r in rows)
        pending = sum(r[2] for r in rows)
        assert achieved + breached > 0, metric
        line = next(x for x in lines if x.startswith(f"• {label}:"))
        share = f"{achieved / (achieved + breached):.0%}"
        assert f"{share} on time ({achieved} of {achieved + breached})" in line, line
        assert f"{breached} breached · {pending} pending" in line, line


def test_each_client_email_shows_its_own_sla_figures_from_the_weekly_mart(demo):
    config, out = demo["config"], demo["out"]
    weekly = _sla_weekly(config.warehouse.snapshot_path)
    bodies = {
        recipients: message.get_body(("plain",)).get_content()
        for recipients, message in _emails(out, "client_weekly_status").items()
    }
    checked = 0
    churned = demo["world"].ground_truth["churned"]
    for client in (c for c in config.clients if c.report_recipients and c.id not in churned):
        body = bodies[tuple(sorted(client.report_recipients))]
        t = STRINGS[client.language]
        for metric in ("first_reply", "next_reply"):
            row = weekly.get((client.id, metric))
            if row is None:
                assert t["sla_none"].format(label=t[metric]) in body, (client.id, metric)
                continue
            achieved, breached, pending, median, p90 = row
            decided = achieved + breached
            compliance = (
                t["sla_compliance"].format(
                    compliance=i18n.percent(achieved / decided, client.language),
                    achieved=achieved,
                    decided=decided,
                )
                if decided
                else t["sla_none_decided"]
            )
            times = (
                t["sla_times"].format(
                    median=i18n.decimal(median / 60, client.language),
                    p90=i18n.decimal(p90 / 60, client.language),
                )
                if median is not None
                else t["sla_no_times"]
            )
            expected = t["sla_line"].format(
                label=t[metric],
                compliance=compliance,
                times=times,
                breached=breached,
                pending=pending,
            )
            assert expected in body, (client.id, metric, expected)
            checked += 1
    assert checked > len(bodies)  # most clients had mail last week to measure


def test_each_active_client_got_one_email_with_only_its_own_data(demo):
    config, out = demo["config"], demo["out"]
    churned = demo["world"].ground_truth["churned"]
    with_recipients = [c for c in config.clients if c.report_recipients and c.id not in churned]
    by_recipients, bodies = _emails(out, "client_weekly_status"), []
    assert len(by_recipients) == len(with_recipients)  # lost clients get none
    for client in with_recipients:
        message = by_recipients[tuple(sorted(client.report_recipients))]
        assert client.name in message["Subject"]
        body = message.get_body(("plain",)).get_content()
        html = message.get_body(("html",)).get_content()
        others = [c for c in config.clients if c.id != client.id and c.name not in client.name]
        for other in others:
            assert other.name not in body and other.name not in html, (client.id, other.id)
        titles = [STRINGS[client.language][name] for name in LISTS]
        assert all(title in body and title in html for title in titles), client.id
        bodies.append((client.language, body))
    # the lists carry reasons and justifications from the tasks' own fields
    for language, texts in (("en", JUSTIFICATIONS["en"]), ("uk", NOT_STARTED_REASONS["uk"])):
        assert any(t in body for lang, body in bodies if lang == language for t in texts)


def test_second_run_adds_no_rows_and_sends_nothing(demo):
    config, out = demo["config"], demo["out"]
    second = {
        t: _query(config.warehouse.path, f"SELECT count(*) FROM {t}")[0][0] for t in ROW_COUNTS
    }
    assert second == demo["first_counts"]
    assert _slack_lines(out) == demo["slack_first"]
    assert sorted(p.name for p in (out / "email").glob("*.eml")) == demo["emails_first"]
    assert "0 this run" in demo["second_output"]


def test_the_snapshot_describes_every_model_and_mart_column(demo):
    snapshot = demo["config"].warehouse.snapshot_path
    tables = _query(
        snapshot,
        "SELECT schema_name || '.' || table_name, comment FROM duckdb_tables() "
        "WHERE schema_name IN ('staging', 'core', 'intermediate', 'marts')",
    )
    assert {t for t, _ in tables} == set(catalog())
    assert [t for t, comment in tables if not comment] == []
    blank = _query(
        snapshot,
        "SELECT table_name || '.' || column_name FROM duckdb_columns() "
        "WHERE schema_name = 'marts' AND coalesce(comment, '') = ''",
    )
    assert blank == []


def test_portfolio_sla_counts_are_the_sum_of_the_client_rows(demo):
    snapshot = demo["config"].warehouse.snapshot_path
    mismatched = _query(
        snapshot,
        """SELECT p.week_start, p.metric FROM marts.portfolio_sla_weekly p
           JOIN (SELECT week_start, metric, sum(measurements) AS measurements,
                        sum(achieved) AS achieved, sum(breached) AS breached,
                        sum(pending) AS pending, sum(decided) AS decided
                 FROM marts.client_sla_weekly GROUP BY ALL) c USING (week_start, metric)
           WHERE (p.measurements, p.achieved, p.breached, p.pending, p.decided)
               <> (c.measurements, c.achieved, c.breached, c.pending, c.decided)""",
    )
    assert mismatched == []


def test_the_risk_history_covers_the_demos_past_weekly(demo):
    snapshot = demo["config"].warehouse.snapshot_path
    weeks, first, last, per_week = _query(
        snapshot,
        "SELECT count(DISTINCT week_start), min(week_start), max(week_start), "
        "max(n) FROM (SELECT week_start, count(*) OVER (PARTITION BY week_start) AS n "
        "FROM marts.client_risk_weekly)",
    )[0]
    assert last == date(2026, 11, 16)
    assert weeks == (last - first).days // 7 + 1 >= 52  # every week, none missing
    assert per_week <= len(demo["config"].clients)


def _managers_clients(config, where: str) -> list[tuple[str, str]]:
    """(manager, client name) of the demo's Monday rows matching `where`."""
    return _query(
        config.warehouse.path,
        "SELECT account_manager_id, client_name FROM marts.client_risk_alerts "
        f"WHERE {where} AND week_start = (SELECT max(week_start) FROM marts.client_risk_alerts)",
    )


def _demo_dms(demo) -> dict[str, list[dict]]:
    """Manager id → the Block Kit DMs (alerts, portfolio views, approval requests) the
    first demo run posted to them."""
    messages = [json.loads(line) for line in demo["slack_first"]]
    return {
        m.id: [
            x for x in messages if x["channel_name"] == f"dm-{m.slack_user_id}" and x.get("blocks")
        ]
        for m in demo["config"].account_managers
    }


def test_each_manager_with_at_risk_clients_got_one_dm_naming_them_with_factors_and_action(demo):
    config = demo["config"]
    playbook = Playbook.load(config.alerts.playbook)
    at_risk = _managers_clients(config, "at_risk")
    assert at_risk, "the demo's Monday has at-risk clients"
    dms = _demo_dms(demo)
    for manager in config.account_managers:
        header = playbook.label(manager.language, "header")
        alerts = [d for d in dms[manager.id] if d["blocks"][0]["text"]["text"] == header]
        mine = [name for m, name in at_risk if m == manager.id]
        if not mine:
            continue
        assert len(alerts) == 1, manager.id  # one DM per manager per run
        sections = [b["text"]["text"] for b in alerts[0]["blocks"] if b["type"] == "section"]
        for name in mine:
            risk = [s for s in sections if f"*{escape_mrkdwn(name)}*" in s and "\n• *" in s]
            assert len(risk) == 1, (manager.id, name)  # named once, with the factors
            assert f"_{playbook.label(manager.language, 'action')}_: " in risk[0]
        assert alerts[0]["text"]  # the notification fallback


def test_every_manager_got_a_portfolio_view_of_all_their_active_clients(demo):
    config = demo["config"]
    playbook = Playbook.load(config.alerts.playbook)
    active = _managers_clients(config, "status = 'active'")
    for manager, posted in _demo_dms(demo).items():
        language = config.manager(manager).language
        header = playbook.label(language, "portfolio_header")
        [view] = [d for d in posted if d["blocks"][0]["text"]["text"] == header]
        text = "\n".join(b["text"]["text"] for b in view["blocks"] if b["type"] == "section")
        for m, name in active:
            if m == manager:
                assert f"*{escape_mrkdwn(name)}*" in text, (manager, name)


def test_portfolio_views_show_each_clients_overdue_invoices_and_nps(demo):
    """Under each client of a portfolio DM: one line a currency of its overdue invoices
    (core.client_receivables) and one with its NPS (intermediate.client_nps), as the
    Monday build has them. (Before the tests below rebuild the warehouse.)"""
    config = demo["config"]
    playbook = Playbook.load(config.alerts.playbook)
    names = {c.id: c.name for c in config.clients}
    overdue: dict[str, int] = {}
    for client_id, currencies in _query(
        config.warehouse.path,
        "SELECT client_id, count(*) FROM core.client_receivables WHERE overdue_amount > 0 "
        "GROUP BY client_id",
    ):
        overdue[names[client_id]] = currencies
    with_nps = {
        names[c]
        for (c,) in _query(
            config.warehouse.path,
            "SELECT client_id FROM intermediate.client_nps WHERE nps IS NOT NULL",
        )
    }
    shown: dict[str, list[str]] = {}
    for manager, posted in _demo_dms(demo).items():
        header = playbook.label(config.manager(manager).language, "portfolio_header")
        [view] = [d for d in posted if d["blocks"][0]["text"]["text"] == header]
        client = None
        for block in view["blocks"]:
            if block["type"] != "section":
                continue
            for line in block["text"]["text"].splitlines():
                if line.startswith(("↑ ", "→ ", "↓ ")):
                    client = next(n for n in names.values() if f"*{escape_mrkdwn(n)}*" in line)
                    shown[client] = []
                elif line.startswith("    ◦ ") and client:
                    shown[client].append(line)
    assert shown and sum(overdue.get(c, 0) for c in shown) > 0  # the demo has both
    assert with_nps & shown.keys()
    for client, lines in shown.items():
        nps_lines = [line for line in lines if "NPS" in line]
        assert len(lines) - len(nps_lines) == overdue.get(client, 0), (client, lines)
        assert len(nps_lines) == (client in with_nps), (client, lines)


def test_a_backfilled_past_week_and_a_rerun_queue_no_alert(demo):
    config = demo["config"]
    outbox = "SELECT count(*) FROM ops.outbox"
    before = _query(config.warehouse.path, outbox)
    past = DEMO_AS_OF.date() - timedelta(days=14)
    backfill(config, past, past, "e2e-backfill")  # `make backfill`'s code path
    skipped = compose_alerts(config, DEMO_AS_OF - timedelta(days=14), "e2e/past")
    again = compose_alerts(config, DEMO_AS_OF, "e2e/rerun")
    assert skipped["skipped"].startswith("past week")
    assert again["dms"] == 0 and again["portfolio_dms"] == 0
    assert _query(config.warehouse.path, outbox) == before


def test_a_snooze_triggered_through_airflow_is_stored_with_who_and_why(demo):
    config, out = demo["config"], demo["out"]
    airflow = LocalAirflow(out / "airflow", config.source_path, {})
    conf = {
        "action": "snooze",
        "client": "lumen-energy",
        "until": "2026-12-01",
        "reason": "CEO on holiday; call booked for 2 Dec",
        "by": "taras-savchuk",
    }
    feedback = "SELECT client_id, action, until_on, reason, recorded_by FROM ops.alert_feedback"
    before = _query(config.warehouse.path, feedback)
    result = airflow.airflow(
        "dags", "test", "-c", json.dumps(conf), "account_manager_feedback", DEMO_AS_OF.isoformat()
    )
    assert result.returncode == 0, (result.stdout + result.stderr)[-3000:]
    stored = _query(config.warehouse.path, feedback)
    assert [row for row in stored if row not in before] == [
        ("lumen-energy", "snooze", date(2026, 12, 1), conf["reason"], "taras-savchuk")
    ]


def test_the_demos_managers_answered_from_slack_and_airflow_recorded_it(demo):
    """Every click went through Socket Mode and the listener to Airflow's REST API: the
    HITL answers say via=slack and name the clicking manager's Airflow user; the alert
    answers became account_manager_feedback runs that stored a snooze and a "not a
    risk" by the clicking managers; each DM shows the answer; the summary prints it."""
    from tooling.demo_slack import DEMO_REJECTED, NOT_A_RISK_REASON

    config, out = demo["config"], demo["out"]
    clicks = [
        json.loads(line)
        for line in (out / "slack" / "clicks.jsonl").read_text(encoding="utf-8").splitlines()
    ]
    # every run appends its clicks (the second found nothing new to answer)
    assert "acting from Slack" in demo["first_output"]
    approvals = [c for c in clicks if c["action"] in ("Approve", "Reject")]
    assert approvals and [c["client"] for c in clicks if c["action"] == "Reject"] == list(
        DEMO_REJECTED
    )
    for click in approvals:
        manager = config.manager(config.client(click["client"]).account_manager)
        recorded = click["airflow"]
        assert click["slack_user"] == manager.slack_user_id and click["ack_ms"] < 3000
        assert recorded["chosen_options"] == [click["action"]]
        assert recorded["responded_by"] == manager.approver
        assert recorded["params_input"]["via"] == "slack"
        assert recorded["params_input"].get("reason") == click["reason"]
        assert click["dm_line"].startswith("✅" if click["action"] == "Approve" else "❌")
    answers = {c["action"]: c for c in clicks if c["action"] not in ("Approve", "Reject")}
    assert answers.keys() == {"Snooze 1 week", "Not a risk"}
    for click in answers.values():
        run = click["airflow"]
        manager = config.manager(config.client(click["client"]).account_manager)
        assert run["state"] == "success" and run["dag_run"].startswith(
            "account_manager_feedback/slack__"
        )
        assert run["triggered_by"] == manager.approver and run["conf"]["by"] == manager.id
    stored = _query(
        config.warehouse.path, "SELECT client_id, action, reason FROM ops.alert_feedback"
    )
    snooze, not_a_risk = answers["Snooze 1 week"], answers["Not a risk"]
    assert (snooze["client"], "snooze", "snoozed in Slack") in stored
    assert (not_a_risk["client"], "not_a_risk", NOT_A_RISK_REASON) in stored


def test_monthly_reports_went_out_after_approval_and_the_rejected_one_did_not(demo):
    from clientpulse.reports.monthly_report import monthly_texts
    from tooling.demo_slack import DEMO_REJECTED

    config, out = demo["config"], demo["out"]
    churned = demo["world"].ground_truth["churned"]
    active = [c for c in config.clients if c.report_recipients and c.id not in churned]
    monthly = _emails(out, "client_monthly_report")
    expected = [c for c in active if c.id not in DEMO_REJECTED]
    assert len(monthly) == len(expected) and len(expected) < len(active)
    tested = dict(
        _query(
            config.warehouse.path,
            "SELECT client_id, count(*) FROM marts.client_monthly_hypotheses GROUP BY ALL",
        )
    )
    # the simulated agency tests hypotheses: some reports list them, the rest say none
    assert 0 < len(tested.keys() & {c.id for c in expected}) < len(expected)
    for client in expected:
        message = monthly[tuple(sorted(client.report_recipients))]
        t = monthly_texts(client.language)
        # every space kept, also where the header folds between encoded words
        subject = t["subject"].format(client=client.name, month="")[:-1]
        assert message["Subject"].startswith(subject), message["Subject"]
        body = message.get_body(("plain",)).get_content()
        assert t["weak_spots"] in body and t["signature"].format(manager="")[:-1] in body
        # the fourth part, between Check and Act: one line per hypothesis, or none said so
        start = body.index(t["hypotheses"].split("{")[0], body.index(t["weak_spots"]))
        part = body[start : body.index(t["act"].split("{")[0], start)]
        lines = part.strip().splitlines()[1:]
        if client.id in tested:
            assert len(lines) == tested[client.id], (client.id, part)
        else:
            assert lines == [t["no_hypotheses"]], (client.id, part)
    trail = _query(
        config.warehouse.path,
        """SELECT a.client_id, a.kind, a.decision, a.decided_by, a.via, o.status
           FROM ops.approvals a JOIN ops.outbox o USING (delivery_key)""",
    )
    assert {(k, d) for _, k, d, *_ in trail} <= {
        ("client_weekly_status", "approved"),
        ("client_monthly_report", "approved"),
        ("client_monthly_report", "rejected"),
    }
    rejected = [r for r in trail if r[2] == "rejected"]
    assert [r[0] for r in rejected] == list(DEMO_REJECTED) and rejected[0][5] == "rejected"
    reasons = _query(config.warehouse.path, "SELECT client_id, reason FROM ops.approvals")
    assert [r for r in reasons if r[1]] == list(DEMO_REJECTED.items())
    # each approval answered in Slack by the Airflow user it was assigned to: the manager
    answered = {(r[0], r[3]) for r in trail if r[4] == "slack"}
    assert answered and "airflow_hitl" not in {r[4] for r in trail}
    assert all(
        who == config.manager(config.client(c).account_manager).approver for c, who in answered
    )
    assert all(r[5] == "sent" for r in trail if r[2] == "approved")
    # each manager got one DM per run listing their drafts, each with Approve / Reject
    # and a link to the approval on Airflow's page
    messages = [json.loads(line) for line in demo["slack_first"]]
    approvals = [m for m in messages if _buttons(m, "approve")]
    per_manager = {m["channel_name"]: 0 for m in approvals}
    for m in approvals:
        per_manager[m["channel_name"]] += 1
    assert approvals and set(per_manager.values()) == {2}  # the weekly and the monthly run
    drafts = [b for m in approvals for b in _buttons(m, "see_email")]
    assert len(drafts) == len([r for r in trail if r[4] == "slack"])
    assert all("/required_actions?map_index=" in b["url"] for b in drafts)


def _buttons(message: dict, action_id: str) -> list[dict]:
    """The buttons `action_id` in a posted message's blocks."""
    return [
        element
        for block in message.get("blocks") or []
        if block.get("type") == "actions"
        for element in block["elements"]
        if element.get("action_id") == action_id
    ]


def _demo_round(path: Path, hour: int) -> None:
    """One hour's changes on the demo's raw data: new replies in 0.5% of conversations
    (odd hours), five open tasks completed (hour 3) and a deal lost with one contact
    archived (hour 4)."""
    if hour % 2:
        add_new_mail(path, 0.005, mark=f"~h{hour}")
    done_at = (DEMO_AS_OF + timedelta(hours=hour)).isoformat()
    con = duckdb.connect(str(path))
    try:
        if hour == 3:
            con.execute(
                """UPDATE raw.asana_tasks
                   SET payload = json_merge_patch(payload, json_object(
                           'completed', true, 'completed_at', $at)),
                       modified_at = CAST($at AS TIMESTAMPTZ)
                   WHERE gid IN (SELECT gid FROM raw.asana_tasks
                                 WHERE deleted_at IS NULL AND NOT (payload ->> 'completed')::BOOLEAN
                                 ORDER BY gid LIMIT 5)""",
                {"at": done_at},
            )
        if hour == 4:
            con.execute(
                """UPDATE raw.crm_objects
                   SET payload = json_merge_patch(payload, $lost),
                       updated_at = CAST($at AS TIMESTAMPTZ)
                   WHERE object_type = 'deals' AND id = (
                       SELECT min(id) FROM raw.crm_objects WHERE object_type = 'deals'
                       AND payload ->> '$.properties.dealstage' NOT IN ('closedwon', 'closedlost')
                   )""",
                {"at": done_at, "lost": json.dumps({"properties": {"dealstage": "closedlost"}})},
            )
            con.execute(
                """UPDATE raw.crm_objects
                   SET archived = true, archived_at = CAST($at AS TIMESTAMPTZ)
                   WHERE object_type = 'contacts'
                   AND id = (SELECT min(id) FROM raw.crm_objects WHERE object_type = 'contacts')""",
                {"at": done_at},
            )
    finally:
        con.close()


def test_hourly_builds_on_the_demo_equal_a_full_build(demo, tmp_path):
    """Hourly builds after rounds of new mail, task and CRM changes on the demo (two
    hours bring nothing and are skipped) leave the same models as one full build of the
    end state; history tables are compared on the weeks the full build made."""
    config = demo["config"]
    hourly, full = tmp_path / "hourly.duckdb", tmp_path / "full.duckdb"
    shutil.copyfile(config.warehouse.path, hourly)

    def on(path: Path):
        warehouse = config.warehouse.model_copy(
            update={"path": path, "snapshot_path": path.with_suffix(".snapshot")}
        )
        return config.model_copy(update={"warehouse": warehouse})

    skipped = []
    for hour in range(1, 7):
        if hour in (1, 3, 4, 5):
            _demo_round(hourly, hour)
        stats = build_signals(on(hourly), DEMO_AS_OF + timedelta(hours=hour), f"hour-{hour}")
        skipped.append(bool(stats.get("skipped")))
    assert skipped == [False, True, False, False, False, True]
    shutil.copyfile(hourly, full)
    build_signals(on(full), DEMO_AS_OF + timedelta(hours=5), "full", full_refresh=True)
    assert model_rows(hourly, partitions_in=full) == model_rows(full)


def test_open_conflicts_and_near_greetings_reached_their_managers_in_their_language(demo):
    """The demo's quarrel still open on its Monday (an at-risk client's, begun at the
    weekend; the others ended before) and its dates a few days ahead each reach the
    client's manager once, in the manager's words (the alert log has the key)."""
    config = demo["config"]
    playbook = Playbook.load(config.alerts.playbook)
    path = config.warehouse.path
    logged = _query(
        path,
        "SELECT reason, account_manager_id, count(*) FROM ops.alert_log "
        "WHERE reason IN ('conflict', 'greeting') GROUP BY ALL",
    )
    conflicts = sum(n for reason, _, n in logged if reason == "conflict")
    [(open_now,)] = _query(path, "SELECT count(*) FROM intermediate.client_conflicts WHERE is_open")
    assert conflicts == open_now >= 1
    assert {reason for reason, _, _ in logged} == {"conflict", "greeting"}
    for reason, manager, count in logged:
        label = f"— {playbook.label(config.manager(manager).language, reason)}"
        sections = [
            b["text"]["text"]
            for d in _demo_dms(demo)[manager]
            for b in d["blocks"]
            if b["type"] == "section"
        ]
        assert sum(s.count(label) for s in sections) == count, (manager, reason)


def _external_text(config) -> set[str]:
    """What the demo's texts quote as it was written: client, people, task, project and
    section names, the team's reasons, mail subjects, email subjects, the CRM's contact
    names and job titles, time zones. Subjects
    come from the mail itself: a conflict or early warning quoted in a DM may be closed
    in the models by the time this runs (later tests rebuild the warehouse)."""
    names = {c.name for c in config.clients} | {m.name for m in config.account_managers}
    names |= {config.agency.name, config.agency.timezone}
    names |= {c.timezone for c in config.clients if c.timezone}
    quoted = _query(
        config.warehouse.path,
        """SELECT DISTINCT unnest([task_name, project_name, section_name, status_reason,
                                  justification]) FROM staging.asana_tasks
           UNION SELECT subject FROM staging.email_messages
           UNION SELECT unnest([contact_name, job_title]) FROM staging.crm_contacts
           UNION SELECT json_extract_string(payload, '$.subject') FROM ops.outbox""",
    )
    return names | {text for (text,) in quoted if text}


def _readers_texts(config, out: Path) -> list[tuple[str, str, str]]:
    """(where, the reader's language, the text) of every Slack message and client email
    the demo sent: a DM in its manager's language, the digest in the digest's, an email
    in its client's."""
    languages = {f"dm-{m.slack_user_id}": m.language for m in config.account_managers}
    digest = config.delivery.slack.leadership_channel.lstrip("#")
    languages[digest] = config.leadership_digest.language
    texts = []
    for line in _slack_lines(out):
        message = json.loads(line)
        channel = message["channel_name"].lstrip("#")
        texts.append((channel, languages[channel], slack_text(message)))
    clients = {a: c for c in config.clients for a in c.report_recipients}
    for path in sorted((out / "email").glob("*.eml")):
        sent = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        client = clients[sent["To"].split(",")[0].strip()]
        body = sent.get_body(preferencelist=("plain",)).get_content()
        texts.append((path.name, client.language, f"{sent['Subject']}\n{body}"))
    return texts


def _language_problems(config, out: Path) -> tuple[dict[str, list[str]], set[str]]:
    """Each text's problems by the language checks (tests/language_check.py), and the
    languages that were read."""
    names = _external_text(config)
    texts = _readers_texts(config, out)
    found = {
        f"{where}: {text[:60]}": wrong
        for where, language, text in texts
        if (wrong := problems(text, language, names))
    }
    return found, {language for _, language, _ in texts}


def test_every_message_and_email_the_demo_sent_is_in_its_readers_language(demo):
    found, languages = _language_problems(demo["config"], demo["out"])
    assert languages == {"en", "uk", "ru"}  # the demo's readers write all three
    assert found == {}


@pytest.mark.parametrize("language", ["uk", "ru"])
def test_the_demos_digest_reads_in_uk_and_ru(demo, language):
    """The demo's leadership channel reads English; its digest, rendered from the same
    snapshot in uk and ru (leadership_digest.language), passes the same checks."""
    config = demo["config"]
    settings = config.leadership_digest.model_copy(update={"language": language})
    playbook = Playbook.load(config.alerts.playbook, config.agency.currency)
    con = duckdb.connect(str(config.warehouse.snapshot_path), read_only=True)
    try:
        digest = compose_digest(
            con, DEMO_AS_OF, config.agency.timezone, "2026-W47", settings, playbook
        )
    finally:
        con.close()
    chart = digest["chart"]
    text = "\n".join([slack_text(digest), chart["alt_text"], chart["text_fallback"]])
    assert problems(text, language, _external_text(config)) == []
    assert text.count("\n• ") >= len(config.account_managers)  # the lines were rendered
