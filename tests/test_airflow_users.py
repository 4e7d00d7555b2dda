"""The Airflow users an agency config needs, as SimpleAuthManager reads them."""

from __future__ import annotations

import yaml

from clientpulse.config import DEMO_CONFIG, load_config
from tooling.airflow_users import SETTING, main, simple_auth_users


def test_every_manager_is_a_user_once_and_the_admin_stays_admin(tmp_path, monkeypatch, capsys):
    raw = yaml.safe_load(DEMO_CONFIG.read_text(encoding="utf-8"))
    managers = raw["account_managers"]
    managers[1]["airflow_user"] = "taras"  # named explicitly
    managers[2]["airflow_user"] = "taras"  # two managers answering as one user
    path = tmp_path / "agency.yaml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    config = load_config(path)

    listed = simple_auth_users(config)

    expected = ["admin", "taras", *(m["id"] for m in managers[3:])]
    expected.insert(1, managers[0]["id"])
    assert [u.split(":")[0] for u in listed.split(",")] == expected
    assert {u.split(":")[1] for u in listed.split(",")[1:]} == {"user"}
    # Airflow's own parser reads it back: the users the approvals are assigned to exist.
    from airflow.api_fastapi.auth.managers.simple.simple_auth_manager import SimpleAuthManager

    monkeypatch.setenv(SETTING, listed)
    users = {u.username: u.role for u in SimpleAuthManager.get_users()}
    assert {m.approver for m in config.account_managers} <= users.keys()
    assert users["admin"] == "admin"

    assert main([str(path)]) == 0
    # the last line: importing Airflow above may have logged a warning to stdout
    assert capsys.readouterr().out.splitlines()[-1] == f"{SETTING}={listed}"
