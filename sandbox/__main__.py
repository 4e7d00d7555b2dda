"""`python -m sandbox start|stop|status`: the demo sandbox from the command line.

`serve` is what `start` runs in the background; it is not meant to be typed.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from clientpulse.config import DEMO_CONFIG, PROJECT_ROOT

from .runner import SandboxError, serve, start_sandbox, status, stop_sandbox
from .simulator import DEMO_MONTHS, DEMO_SEED

DEFAULT_OUT = PROJECT_ROOT / "out" / "demo"
NOT_RUNNING = 3  # the LSB exit status for "program is not running"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m sandbox", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    for name, text in (
        ("start", "build the world and start the fake services (restarts a running sandbox)"),
        ("serve", "run the fake services in the foreground (used by start)"),
        ("stop", "stop the sandbox for an out dir"),
        ("status", "say whether the sandbox for an out dir is running, and where"),
    ):
        command = commands.add_parser(name, help=text, description=text)
        command.add_argument(
            "--out", type=Path, default=DEFAULT_OUT, help=f"output folder (default {DEFAULT_OUT})"
        )
        if name in ("start", "serve"):
            command.add_argument(
                "--config",
                type=Path,
                default=DEMO_CONFIG,
                help=f"agency config (default {DEMO_CONFIG})",
            )
            command.add_argument("--seed", type=int, default=DEMO_SEED)
            command.add_argument("--months", type=int, default=DEMO_MONTHS)
    commands.choices["serve"].add_argument("--ready-fd", type=int, default=None)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.command == "serve":
        return serve(args.config, args.out, args.seed, args.months, args.ready_fd)
    if args.command == "start":
        try:
            info = start_sandbox(args.config, args.out, args.seed, months=args.months)
        except SandboxError as exc:
            print(f"sandbox: {exc}", file=sys.stderr)
            return 1
        print(f"Sandbox running (pid {info.pid}).")
        print(f"  Asana    {info.asana_url}\n  HubSpot  {info.hubspot_url}")
        print(f"  Slack    {info.slack_url}\n  SMTP     {info.smtp_host}:{info.smtp_port}")
        print(f"  Mailbox  {info.mbox_path}\n  Log      {info.log_file}")
        print(f"Airflow connections: source {info.env_file}")
        return 0
    if args.command == "stop":
        print("Sandbox stopped." if stop_sandbox(args.out) else "No sandbox was running.")
        return 0
    current = status(args.out)
    if current is None:
        print("No sandbox is running.")
        return NOT_RUNNING
    print(json.dumps(current, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
