"""Issue 28's faults (the second hostile probe): each is a row of the fault matrix
(tests/test_fault_matrix.py), and each test here failed before its fix."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from clientpulse.config import CONFIG_ENV
from clientpulse.pipeline.build_signals import build_models, build_settings
from clientpulse.pipeline.risk_backfill import HISTORY
from tests.factories import AS_OF, load_small_world, small_config
from tooling import backfill as backfill_command
from transforms.runner import build
from warehouse.db import open_writer


@pytest.fixture
def world(tmp_path):
    config = small_config(tmp_path)
    with open_writer(config.warehouse.path) as con:
        load_small_world(con, config)
    return config


def _history_weeks(config) -> list[str]:
    with open_writer(config.warehouse.path) as con:
        rows = con.execute(
            "SELECT DISTINCT week_start FROM intermediate.client_risk_history ORDER BY 1"
        ).fetchall()
    return [r[0].isoformat() for r in rows]


# 1. A backfill into the future, or before any data ----------------------------------


def test_a_backfill_outside_the_data_is_refused_naming_the_weeks_it_would_accept(
    world, monkeypatch, capsys
):
    monkeypatch.setenv(CONFIG_ENV, str(world.source_path))
    before = _history_weeks(world)
    for first, last in (("2027-03-01", "2027-03-15"), ("2020-01-06", "2020-01-20")):
        assert backfill_command.main(["--from", first, "--to", last]) == 2
        err = capsys.readouterr().err
        assert "2026-10-05" in err and "2026-11-16" in err, err  # the range it accepts
    assert _history_weeks(world) == before == ["2026-11-16"]


def test_history_rows_from_the_future_are_dropped_by_the_next_build(world):
    future = datetime(2027, 3, 1, 4, 0, tzinfo=AS_OF.tzinfo)
    with open_writer(world.warehouse.path) as con:  # what an unguarded backfill wrote
        settings = build_settings(world)
        build(con, future, settings["variables"], settings["seeds"], select=[HISTORY])
    assert "2027-03-01" in _history_weeks(world)
    with open_writer(world.warehouse.path) as con:
        build_models(con, world, AS_OF)
        week = con.execute("SELECT max(week_start) FROM marts.client_risk_weekly").fetchone()[0]
        at_risk = con.execute("SELECT at_risk_clients FROM marts.portfolio_health").fetchone()
    assert _history_weeks(world) == ["2026-11-16"]
    assert week == (AS_OF - timedelta(days=AS_OF.weekday())).date()
    assert at_risk is not None
