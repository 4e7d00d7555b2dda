"""`make calibrate`: the alarm budget's trade-off on the agency's own risk history (fill
it first with `make backfill`) — for each threshold, the share of its lost clients
flagged 4 weeks ahead and the false-alarm weeks per retained client a year, over the
weeks from the first whose windows lie after the first message — and the threshold the
latest week is judged by (clientpulse/pipeline/calibration.py). Reads only."""

from __future__ import annotations

import argparse
import sys
from contextlib import closing

import duckdb

from clientpulse.config import load_config
from clientpulse.pipeline.calibration import (
    latest_threshold,
    load_history,
    tradeoff,
    warm_up_end,
)
from clientpulse.pipeline.risk_history import history_exists

THRESHOLDS = [float(t) for t in range(10, 62, 4)]


def main(argv: list[str] | None = None) -> int:
    argparse.ArgumentParser(description=__doc__).parse_args(argv)
    config = load_config()
    risk = config.signals.risk
    with closing(duckdb.connect(str(config.warehouse.path), read_only=True)) as con:
        since = warm_up_end(con, risk) if history_exists(con) else None
        if since is None:
            print("no risk history yet: run `make backfill` first", file=sys.stderr)
            return 2
        history = load_history(con, since)
        latest = latest_threshold(con)
    print(f"history from {since}: {len(history.weeks)} clients, {len(history.lost_on)} lost")
    print(f"{'at_risk_at':>10} {'recall@4w':>10} {'false alarms/yr':>16}")
    for p in tradeoff(history, THRESHOLDS):
        recall = "—" if p.recall_4w is None else f"{p.recall_4w:.2f}"
        alarms = "—" if p.false_alarms_per_year is None else f"{p.false_alarms_per_year:.2f}"
        print(f"{p.at_risk_at:>10.0f} {recall:>10} {alarms:>16}")
    if latest is not None:
        week, at, calibrated = latest
        how = "calibrated" if calibrated else "the default: not enough history yet"
        print(
            f"week of {week} is judged at {at} ({how}; budget {risk.false_alarm_budget} "
            "weeks a year)"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
