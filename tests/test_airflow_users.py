"""The Airflow users an agency config needs, as SimpleAuthManager reads them."""

from __future__ import annotations

import pytest
import yaml

from clientpulse.config import DEMO_CONFIG, load_config
from tooling.airflow_users import (
    ADMIN_PASSWORD,
    SETTING,
    main,
    simple_auth_users,
    user_names,
    write_deployment_passwords,
)


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


def test_airflow_init_writes_a_password_for_every_user_and_keeps_them(tmp_path, monkeypatch):
    """docker-compose.yml's airflow-init: the admin's password from the environment, one
    for each manager's Airflow user (kept on a redeploy), read back by Airflow itself."""
    from airflow.api_fastapi.auth.managers.simple.simple_auth_manager import SimpleAuthManager

    config = load_config(DEMO_CONFIG)
    path = tmp_path / "auth" / "passwords.json"
    users = simple_auth_users(config)
    env = {SETTING: users, ADMIN_PASSWORD: "s3cret-admin"}

    assert write_deployment_passwords(config, path, env) == user_names(users)
    monkeypatch.setenv(SETTING, users)
    monkeypatch.setenv("AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE", str(path))
    passwords = SimpleAuthManager.get_passwords()
    assert passwords.keys() == {u.username for u in SimpleAuthManager.get_users()}
    assert passwords["admin"] == "s3cret-admin"
    assert {m.approver for m in config.account_managers} <= passwords.keys()
    assert len(set(passwords.values())) == len(passwords)
    assert path.stat().st_mode & 0o077 == 0  # owner only

    # a redeploy with a new admin password keeps the managers' (the listener holds them)
    write_deployment_passwords(config, path, {**env, ADMIN_PASSWORD: "rotated"})
    again = SimpleAuthManager.get_passwords()
    assert again == {**passwords, "admin": "rotated"}


def test_airflow_init_stops_when_env_lacks_a_manager(tmp_path):
    config = load_config(DEMO_CONFIG)
    path = tmp_path / "passwords.json"
    env = {SETTING: "admin:admin", ADMIN_PASSWORD: "x"}
    with pytest.raises(SystemExit) as stopped:
        write_deployment_passwords(config, path, env)
    assert f"{SETTING}={simple_auth_users(config)}" in str(stopped.value)
    assert not path.exists()
