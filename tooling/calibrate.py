"""`make calibrate`: fill the weekly risk history where weeks are missing (on the data
already ingested, sending nothing), then print the alarm budget's trade-off on the
agency's own history — for each threshold, the share of its lost clients flagged 4
weeks ahead and the false-alarm weeks per retained client a year — and the threshold
the latest week is judged by (clientpulse/pipeline/calibration.py)."""

from __future__ import annotations

import argparse
import sys
from datetime import datetime
from zoneinfo import ZoneInfo

from clientpulse.config import load_config
from clientpulse.pipeline.calibration import latest_threshold, load_history, tradeoff
from clientpulse.pipeline.risk_backfill import backfill
from clientpulse.pipeline.risk_history import data_weeks
from warehouse.db import open_writer

THRESHOLDS = [float(t) for t in range(10, 62, 4)]


def main(argv: list[str] | None = None) -> int:
    argparse.ArgumentParser(description=__doc__).parse_args(argv)
    config = load_config()
    with open_writer(config.warehouse.path) as con:
        reach = data_weeks(con, config.agency.timezone)
    if reach is None:
        print("no data ingested yet: run the ingests first", file=sys.stderr)
        return 2
    run_id = f"calibrate-{datetime.now(ZoneInfo('UTC')):%Y%m%dT%H%M%S}"
    figures = backfill(config, reach[0], reach[1], run_id, missing_only=True)
    budget = config.signals.risk.false_alarm_budget
    with open_writer(config.warehouse.path) as con:
        history = load_history(con)
        latest = latest_threshold(con)
    print(
        f"history: {len(history.weeks)} clients, {len(history.lost_on)} lost; "
        f"{figures['weeks']} missing weeks filled"
    )
    print(f"{'at_risk_at':>10} {'recall@4w':>10} {'false alarms/yr':>16}")
    for p in tradeoff(history, THRESHOLDS):
        recall = "—" if p.recall_4w is None else f"{p.recall_4w:.2f}"
        alarms = "—" if p.false_alarms_per_year is None else f"{p.false_alarms_per_year:.2f}"
        print(f"{p.at_risk_at:>10.0f} {recall:>10} {alarms:>16}")
    if latest is not None:
        week, at, calibrated = latest
        how = "calibrated" if calibrated else "the default: not enough history yet"
        print(f"week of {week} is judged at {at} ({how}; budget {budget} weeks a year)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
