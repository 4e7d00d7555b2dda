"""`make run` without the sandbox: an agency with mail only, delivery in dry-run.

The pipeline runs once through Airflow on a config that switches Asana and the CRM
off and writes deliveries to files: the mail still lands, the switched-off ingests
skip, signals are built, and the digest and client emails are written, not sent
(no Slack or SMTP connection exists at all).
"""

from __future__ import annotations

import os
import subprocess
import sys

import duckdb
import pytest
import yaml

from clientpulse.config import CONFIG_ENV, DEMO_CONFIG, PROJECT_ROOT, load_config
from clientpulse.pipeline.compose import lost_clients
from sandbox.mbox_writer import write_mbox
from sandbox.simulator import DEMO_AS_OF, simulate

pytestmark = [pytest.mark.airflow, pytest.mark.e2e, pytest.mark.timeout(1800)]


@pytest.fixture(scope="module")
def mail_only_run(tmp_path_factory):
    root = tmp_path_factory.mktemp("run")
    raw = yaml.safe_load(DEMO_CONFIG.read_text(encoding="utf-8"))
    raw["warehouse"] = {"path": "wh/cp.duckdb", "snapshot_path": "wh/cp_snapshot.duckdb"}
    raw["sources"]["asana"]["enabled"] = False
    del raw["sources"]["crm"]
    raw["sources"]["mailboxes"] = {
        "mbox": [{"path": "mail/inbox.mbox", "mailbox": "team@northwind.test"}]
    }
    raw["delivery"]["dry_run"] = True
    raw["delivery"]["dry_run_dir"] = "dry_run"
    config_path = root / "agency.yaml"
    config_path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    config = load_config(config_path)
    write_mbox(simulate(config, months=2).messages, root / "mail" / "inbox.mbox")
    env = {k: v for k, v in os.environ.items() if not k.startswith("AIRFLOW_CONN_")}
    env[CONFIG_ENV] = str(config_path)
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "tooling.local_airflow",
            "--airflow-home",
            str(root / "airflow"),
            "--logical-date",
            DEMO_AS_OF.isoformat(),
            "--approve-as",
            "local-run approver",
        ],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    assert result.returncode == 0, (result.stdout + result.stderr)[-5000:]
    return config, root


def test_mail_lands_and_switched_off_sources_stay_empty(mail_only_run):
    config, _ = mail_only_run
    con = duckdb.connect(str(config.warehouse.path), read_only=True)
    try:
        counts = {
            t: con.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
            for t in ("raw.email_messages", "raw.asana_tasks", "raw.crm_objects")
        }
        health = con.execute(
            "SELECT count(*), sum(first_reply_measurements) FROM marts.client_health"
        ).fetchone()
        log = dict(con.execute("SELECT step, status FROM ops.runs").fetchall())
    finally:
        con.close()
    assert counts["raw.email_messages"] > 1000
    assert counts["raw.asana_tasks"] == counts["raw.crm_objects"] == 0
    assert health[0] == len(config.clients) and health[1] > 0
    assert "ingest_asana" not in log and "ingest_crm" not in log  # skipped before any work
    assert log["build_signals"] == "success"


def test_dry_run_writes_deliveries_to_files(mail_only_run):
    config, _ = mail_only_run
    folder = config.delivery.dry_run_dir
    digests = list((folder / "leadership_digest").rglob("*.json"))
    emails = list((folder / "client_weekly_status").rglob("*.eml"))
    assert len(digests) == 1
    con = duckdb.connect(str(config.warehouse.path), read_only=True)
    try:
        lost = lost_clients(con)
    finally:
        con.close()
    # lost clients (their relationship has ended) get no status email
    assert len(emails) == sum(1 for c in config.clients if c.report_recipients and c.id not in lost)
