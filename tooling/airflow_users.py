"""`python -m tooling.airflow_users`: the Airflow users an agency config needs.

Every client email that needs approval is assigned to its manager's Airflow user
(`AccountManager.approver`), and the Slack listener acts as the clicking manager, so
each account manager needs an Airflow user of that name with the `user` role. This
prints the SimpleAuthManager setting that creates them, for `.env` (it overrides
deploy/airflow.env's `admin`-only list); with another auth manager, create the same
names there.

With `--passwords-file` (docker-compose.yml's airflow-init) it writes SimpleAuthManager's
passwords file instead: the admin's password from AIRFLOW_ADMIN_PASSWORD, a password kept
from the file or a fresh one for every other user. It refuses when the users setting in
the environment lacks a manager (the line to paste into `.env` is in the error).
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import sys
from collections.abc import Iterable, Mapping
from pathlib import Path

from clientpulse.config import AgencyConfig, load_config

SETTING = "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS"
ADMIN = "admin"
ADMIN_PASSWORD = "AIRFLOW_ADMIN_PASSWORD"  # noqa: S105 (the variable's name)


def simple_auth_users(config: AgencyConfig, admin: str = ADMIN) -> str:
    """`admin:admin,<approver>:user,…`: the admin first, then each manager's Airflow
    user once (two managers may share one), in config order."""
    approvers = dict.fromkeys(m.approver for m in config.account_managers if m.approver != admin)
    return ",".join([f"{admin}:admin", *(f"{user}:user" for user in approvers)])


def user_names(setting: str) -> list[str]:
    """The user names of a `name:role,…` setting."""
    return [entry.split(":")[0].strip() for entry in setting.split(",") if entry.strip()]


def write_passwords(
    path: Path, users: Iterable[str], given: Mapping[str, str] | None = None
) -> dict[str, str]:
    """SimpleAuthManager's passwords file for `users`: a `given` password, else the one
    the file holds already (a redeploy keeps them), else a fresh one; written owner-only."""
    held = json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
    given = given or {}
    passwords = {u: given.get(u) or held.get(u) or secrets.token_urlsafe(16) for u in users}
    path.parent.mkdir(parents=True, exist_ok=True)
    fresh = path.with_suffix(".tmp")
    fresh.touch(mode=0o600)
    fresh.write_text(json.dumps(passwords), encoding="utf-8")
    fresh.replace(path)
    return passwords


def write_deployment_passwords(
    config: AgencyConfig, path: Path, env: Mapping[str, str], admin: str = ADMIN
) -> list[str]:
    """What airflow-init does: every user of the environment's setting gets a password,
    after checking that it names every manager's Airflow user; return the users."""
    needed = user_names(simple_auth_users(config, admin))
    users = user_names(env.get(SETTING, ""))
    missing = [user for user in needed if user not in users]
    if missing:
        raise SystemExit(
            f"{SETTING} lacks the Airflow users {missing} that approvals are assigned to; "
            f"put this line in .env:\n{SETTING}={simple_auth_users(config, admin)}"
        )
    if not env.get(ADMIN_PASSWORD):
        raise SystemExit(f"{ADMIN_PASSWORD} is not set")
    write_passwords(path, users, {admin: env[ADMIN_PASSWORD]})
    return users


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tooling.airflow_users", description=__doc__)
    parser.add_argument("config", nargs="?", type=Path, help="default: $CLIENTPULSE_CONFIG")
    parser.add_argument("--admin", default=ADMIN, help="the admin user's name (default: admin)")
    parser.add_argument("--passwords-file", type=Path, help="write this passwords file")
    args = parser.parse_args(argv)
    config = load_config(args.config)
    if args.passwords_file is None:
        print(f"{SETTING}={simple_auth_users(config, args.admin)}")
        return 0
    users = write_deployment_passwords(config, args.passwords_file, os.environ, args.admin)
    print(f"passwords for {len(users)} Airflow users in {args.passwords_file}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
