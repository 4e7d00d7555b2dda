"""`make backfill FROM=YYYY-MM-DD TO=YYYY-MM-DD`: the weekly risk history for past weeks,
for the agency named by CLIENTPULSE_CONFIG, on the data already ingested; sends nothing
(clientpulse/pipeline/risk_backfill.py)."""

from __future__ import annotations

import argparse
import sys
from datetime import date, datetime
from zoneinfo import ZoneInfo

from clientpulse.config import load_config
from clientpulse.pipeline.risk_backfill import BackfillOutOfRange, backfill


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--from", dest="first", type=date.fromisoformat, required=True)
    parser.add_argument("--to", dest="last", type=date.fromisoformat, required=True)
    args = parser.parse_args(argv)
    if args.first > args.last:
        parser.error("--from is after --to")
    config = load_config()
    run_id = f"backfill-{datetime.now(ZoneInfo('UTC')):%Y%m%dT%H%M%S}"
    try:
        figures = backfill(config, args.first, args.last, run_id)
    except BackfillOutOfRange as exc:
        print(f"backfill refused: {exc}", file=sys.stderr)
        return 2
    print(f"risk history filled for {figures['weeks']} weeks, {args.first} to {args.last}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
