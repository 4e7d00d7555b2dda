"""The sandbox runner: a detached process serving the fakes, its env file, start/stop/status."""

from __future__ import annotations

import json
import mailbox
import os
import shlex
import smtplib
import subprocess
import sys
from email.message import EmailMessage
from pathlib import Path

import duckdb
import pytest
import requests
import yaml

from clientpulse.config import DEMO_CONFIG, PROJECT_ROOT, load_config
from clientpulse.pipeline.ingest import ingest_mailboxes
from connectors.mailboxes.mbox import iter_mbox
from sandbox.demo_mail import GRAPH_CLIENT_ID, GRAPH_CLIENT_SECRET, GRAPH_TENANT_ID
from sandbox.runner import (
    ASANA_TOKEN,
    HUBSPOT_TOKEN,
    SLACK_TOKEN,
    SandboxError,
    SandboxInfo,
    read_connections,
    running_pid,
    start_sandbox,
    status,
    stop_sandbox,
)

CONNECTIONS = (
    *("CLIENTPULSE_ASANA", "CLIENTPULSE_HUBSPOT", "CLIENTPULSE_SLACK", "CLIENTPULSE_SMTP"),
    *("CLIENTPULSE_GMAIL", "CLIENTPULSE_GRAPH"),
)


def small_config(folder: Path, out: Path, clients: int = 6) -> Path:
    """The demo config with fewer clients, its warehouse under `out`."""
    raw = yaml.safe_load(DEMO_CONFIG.read_text(encoding="utf-8"))
    raw["clients"] = raw["clients"][:clients]
    raw["warehouse"] = {"path": str(out / "wh.duckdb"), "snapshot_path": str(out / "snap.duckdb")}
    raw["delivery"]["dry_run_dir"] = str(out / "dry_run")
    path = folder / "config.yaml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    return path


def process_exists(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    stat = Path(f"/proc/{pid}/stat")
    return not stat.exists() or stat.read_text().split(") ")[-1][:1] != "Z"


def read_env(path: Path) -> dict[str, dict]:
    connections = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("export "):
            name, _, value = line.removeprefix("export ").partition("=")
            connections[name.removeprefix("AIRFLOW_CONN_")] = json.loads(shlex.split(value)[0])
    return connections


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory: pytest.TempPathFactory):
    out = tmp_path_factory.mktemp("out")
    config_path = small_config(tmp_path_factory.mktemp("config"), out)
    info = start_sandbox(config_path, out, seed=7, months=2)
    yield info, config_path
    stop_sandbox(out)


def test_each_service_answers_with_the_demo_token_only(sandbox: tuple[SandboxInfo, Path]) -> None:
    info, config_path = sandbox
    config = load_config(config_path)
    good, bad = {"Authorization": f"Bearer {ASANA_TOKEN}"}, {"Authorization": "Bearer wrong"}
    me = requests.get(f"{info.asana_url}/users/me", headers=good, timeout=10)
    assert me.status_code == 200 and me.json()["data"]["gid"]
    assert requests.get(f"{info.asana_url}/users/me", headers=bad, timeout=10).status_code == 401
    projects = requests.get(
        f"{info.asana_url}/projects",
        headers=good,
        timeout=10,
        params={"workspace": config.sources.asana.workspace_gid},
    )
    assert {p["gid"] for p in projects.json()["data"]} == {
        g for c in config.clients for g in c.asana_projects
    }

    companies = requests.get(
        f"{info.hubspot_url}/crm/v3/objects/companies",
        timeout=10,
        headers={"Authorization": f"Bearer {HUBSPOT_TOKEN}"},
        params={"limit": 100},
    )
    assert companies.status_code == 200
    assert {c["id"] for c in companies.json()["results"]} == {
        c.crm_company_id for c in config.clients
    }
    assert (
        requests.get(
            f"{info.hubspot_url}/crm/v3/objects/companies", headers=bad, timeout=10
        ).status_code
        == 401
    )

    slack = requests.post(
        f"{info.slack_url}auth.test", timeout=10, headers={"Authorization": f"Bearer {SLACK_TOKEN}"}
    )
    assert slack.json()["ok"] is True
    refused = requests.post(f"{info.slack_url}auth.test", headers=bad, timeout=10)
    assert refused.json() == {"ok": False, "error": "invalid_auth"}

    message = EmailMessage()
    message["From"], message["To"] = "reports@northwind.test", "client@harborlane.test"
    message["Subject"] = "Sandbox runner test"
    message.set_content("hello")
    with smtplib.SMTP(info.smtp_host, info.smtp_port, timeout=10) as smtp:
        assert not smtp.send_message(message)  # no refused recipients
    captured = [p.read_bytes() for p in (info.out_dir / "email").rglob("*.eml")]
    assert any(b"Sandbox runner test" in body for body in captured)


def test_env_file_names_every_connection(sandbox: tuple[SandboxInfo, Path]) -> None:
    info, _ = sandbox
    connections = read_env(info.env_file)
    assert set(connections) == set(CONNECTIONS)
    asana, hubspot = connections["CLIENTPULSE_ASANA"], connections["CLIENTPULSE_HUBSPOT"]
    slack, smtp = connections["CLIENTPULSE_SLACK"], connections["CLIENTPULSE_SMTP"]
    assert asana == {"conn_type": "http", "host": info.asana_url, "password": ASANA_TOKEN}
    assert hubspot == {"conn_type": "http", "host": info.hubspot_url, "password": HUBSPOT_TOKEN}
    assert slack == {
        "conn_type": "slack",
        "password": SLACK_TOKEN,
        "extra": {"base_url": info.slack_url},
    }
    assert smtp == {
        "conn_type": "smtp",
        "host": "127.0.0.1",
        "port": info.smtp_port,
        "extra": {"disable_tls": True, "disable_ssl": True},
    }
    gmail, graph = connections["CLIENTPULSE_GMAIL"], connections["CLIENTPULSE_GRAPH"]
    key = gmail["extra"]["keyfile_dict"]
    assert gmail["conn_type"] == "google_cloud_platform"
    assert gmail["extra"]["api_base_url"] == gmail["extra"]["directory_base_url"] == info.gmail_url
    assert key["type"] == "service_account" and "PRIVATE KEY" in key["private_key"]
    assert key["token_uri"] == f"{info.gmail_url}/token"
    login = (graph["conn_type"], graph["login"], graph["password"], graph["extra"]["tenant_id"])
    assert login == ("generic", GRAPH_CLIENT_ID, GRAPH_CLIENT_SECRET, GRAPH_TENANT_ID)
    assert graph["extra"]["login_url"] + "/v1.0" == graph["extra"]["graph_url"]
    assert graph["extra"]["login_url"] == info.graph_url
    log = (info.out_dir / "sandbox" / "sandbox.log").read_text()
    assert GRAPH_CLIENT_SECRET not in log and key["private_key"].splitlines()[1] not in log
    # what a client builds from the connection works
    workspaces = requests.get(
        f"{asana['host']}/workspaces",
        timeout=10,
        headers={"Authorization": f"Bearer {asana['password']}"},
    )
    assert workspaces.status_code == 200


def test_world_files_and_status_describe_the_running_sandbox(
    sandbox: tuple[SandboxInfo, Path],
) -> None:
    info, config_path = sandbox
    folder = info.out_dir / "sandbox"
    summary = json.loads((folder / "world_summary.json").read_text())
    truth = json.loads((folder / "ground_truth.json").read_text())
    ids = {c.id for c in load_config(config_path).clients}
    assert set(truth["churned"]) | set(truth["at_risk"]) | set(truth["healthy"]) == ids
    box = mailbox.mbox(info.mbox_path)
    try:
        assert len(box) == summary["messages"] > 0
    finally:
        box.close()
    assert running_pid(info.out_dir) == info.pid and process_exists(info.pid)
    assert status(info.out_dir) == json.loads((folder / "sandbox.json").read_text())
    assert status(info.out_dir)["asana_url"] == info.asana_url
    assert "demo-" not in (folder / "sandbox.log").read_text()  # tokens stay out of the log


def test_mail_is_read_through_the_gmail_and_graph_fakes_with_the_sandbox_connections(
    sandbox: tuple[SandboxInfo, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each manager's Gmail mailbox holds what they sent, got or were copied on; the
    shared inbox on Graph holds every message but its own automatic replies (Exchange
    keeps none); together they are the world's Takeout, each message one row."""
    from clientpulse_connections import gmail_connection, graph_credentials

    info, config_path = sandbox
    config = load_config(config_path)
    for name, value in read_connections(info.out_dir).items():
        monkeypatch.setenv(name, value)
    ingest_mailboxes(config, "sandbox-mail", None, graph_credentials, gmail_connection)

    takeout = _takeout(info.mbox_path)
    team = config.sources.mailboxes.graph[0].mailboxes[0]
    own_auto = {
        key
        for key, (sender, _, auto) in takeout.items()
        if sender == team and (auto or "no").lower() != "no"
    }
    expected = {
        (box, "gmail"): {k for k, (_, people, _) in takeout.items() if box in people}
        for box in config.sources.mailboxes.gmail[0].mailboxes
    } | {(team, "graph"): set(takeout) - own_auto}
    with duckdb.connect(str(config.warehouse.path), read_only=True) as con:
        seen = con.execute(
            "SELECT mailbox, source, list(message_key) FROM raw.email_sightings GROUP BY ALL"
        ).fetchall()
        rows = con.execute("SELECT count(*), count(DISTINCT message_key) FROM raw.email_messages")
        assert rows.fetchone() == (len(takeout) - len(own_auto),) * 2
    got = {(box, source): set(keys) for box, source, keys in seen}
    assert {k: v for k, v in expected.items() if v} == got
    assert own_auto and len(got) >= 2


def _takeout(path: Path) -> dict[str, tuple[str, set[str], str]]:
    """The Takeout's messages by key: (sender, From/To/Cc addresses, Auto-Submitted)."""
    return {
        r.message_key: (r.from_addr, {r.from_addr, *r.to_addrs, *r.cc_addrs}, r.auto_submitted)
        for r in iter_mbox(path, mailbox="team@northwind.test", workers=1)
    }


def test_start_replaces_a_running_sandbox_and_stop_leaves_nothing(tmp_path: Path) -> None:
    out = tmp_path / "out"
    config_path = small_config(tmp_path, out, clients=4)
    first = start_sandbox(config_path, out, seed=1, months=1)
    second = start_sandbox(config_path, out, seed=1, months=1)
    assert not process_exists(first.pid) and process_exists(second.pid)
    assert stop_sandbox(out) is True
    assert not process_exists(second.pid)
    assert not (out / "sandbox" / "sandbox.pid").exists()
    assert not (out / "sandbox" / "connections.env").exists()
    assert status(out) is None
    assert stop_sandbox(out) is False  # idempotent
    with pytest.raises(requests.ConnectionError):
        requests.get(f"{second.asana_url}/users/me", timeout=2)


def test_cli_status_says_not_running(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "sandbox", "status", "--out", str(tmp_path)],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 3 and "No sandbox is running" in result.stdout


def test_a_config_reading_an_mbox_gets_the_takeout_there_and_no_mail_fakes(
    tmp_path: Path,
) -> None:
    out = tmp_path / "out"
    raw = yaml.safe_load(small_config(tmp_path, out, clients=4).read_text(encoding="utf-8"))
    takeout = tmp_path / "mail" / "team.mbox"
    raw["sources"]["mailboxes"] = {
        "mbox": [{"path": str(takeout), "mailbox": "team@northwind.test"}]
    }
    path = tmp_path / "mbox-config.yaml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    info = start_sandbox(path, out, seed=1, months=1)
    try:
        assert info.mbox_path == takeout and takeout.stat().st_size > 0
        assert info.gmail_url == info.graph_url == ""
        assert set(read_env(info.env_file)) == set(CONNECTIONS[:4])
    finally:
        stop_sandbox(out)


def test_a_serve_process_that_dies_is_reported_with_its_log(tmp_path: Path) -> None:
    out = tmp_path / "out"
    (out / "email").parent.mkdir(parents=True)
    (out / "email").write_text("a file where the SMTP capture wants its folder")
    config_path = small_config(tmp_path, out, clients=4)
    with pytest.raises(SandboxError, match=r"exited \(code 1\).*sandbox\.log"):
        start_sandbox(config_path, out, months=1)
    assert "FileExistsError" in (out / "sandbox" / "sandbox.log").read_text()
    assert not (out / "sandbox" / "sandbox.pid").exists()
    assert not (out / "sandbox" / "connections.env").exists()
