"""`python -m tooling.airflow_users`: the Airflow users an agency config needs.

Every client email that needs approval is assigned to its manager's Airflow user
(`AccountManager.approver`), and the Slack listener acts as the clicking manager, so
each account manager needs an Airflow user of that name with the `user` role. This
prints the SimpleAuthManager setting that creates them, for `.env` (it overrides
deploy/airflow.env's `admin`-only list); with another auth manager, create the same
names there.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from clientpulse.config import AgencyConfig, load_config

SETTING = "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS"
ADMIN = "admin"


def simple_auth_users(config: AgencyConfig, admin: str = ADMIN) -> str:
    """`admin:admin,<approver>:user,…`: the admin first, then each manager's Airflow
    user once (two managers may share one), in config order."""
    approvers = dict.fromkeys(m.approver for m in config.account_managers if m.approver != admin)
    return ",".join([f"{admin}:admin", *(f"{user}:user" for user in approvers)])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tooling.airflow_users", description=__doc__)
    parser.add_argument("config", nargs="?", type=Path, help="default: $CLIENTPULSE_CONFIG")
    parser.add_argument("--admin", default=ADMIN, help="the admin user's name (default: admin)")
    args = parser.parse_args(argv)
    print(f"{SETTING}={simple_auth_users(load_config(args.config), args.admin)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
