"""`python -m tooling.resend`: release one delivery to be sent again, on purpose.

Its sent-log row is kept in `ops.resend_log` and the outbox entry is cleared, so the
next run of its DAG for that period renders and sends it afresh (warehouse/outbox.py).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from clientpulse.config import load_config
from warehouse.db import open_writer
from warehouse.outbox import release_for_resend


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tooling.resend", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    resend = commands.add_parser("resend", help="release one delivery to be sent again")
    resend.add_argument("--kind", required=True, help="leadership_digest | client_weekly_status")
    resend.add_argument("--period", required=True, help="ISO week, e.g. 2026-W47")
    resend.add_argument("--recipient", help="one channel or address; default: all of them")
    resend.add_argument("--reason", required=True, help="kept in ops.resend_log")
    resend.add_argument("--warehouse", type=Path, help="default: the configured warehouse")
    args = parser.parse_args(argv)
    if args.warehouse is None:
        args.warehouse = load_config().warehouse.path
    with open_writer(args.warehouse) as con:
        keys = release_for_resend(con, args.kind, args.period, args.reason, args.recipient)
    if not keys:
        print(f"nothing in the outbox for {args.kind} {args.period} {args.recipient or ''}")
        return 1
    print("released for re-send by the next run of its DAG for that period:")
    print("\n".join(f"  {key}" for key in keys))
    return 0


if __name__ == "__main__":
    sys.exit(main())
