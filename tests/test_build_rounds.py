"""Hourly builds over several rounds of new mail, task and CRM changes (some rounds
bring nothing and are skipped) leave the same models as one full build of the end state
as of the last build that ran (a skipped hour keeps the marts of that build, as of then;
the daily 06:00 build moves time-based figures)."""

from __future__ import annotations

import shutil
from datetime import timedelta

from clientpulse.pipeline.build_signals import build_signals
from tests.factories import (
    AS_OF,
    crm,
    engagement,
    load_small_world,
    message,
    model_rows,
    small_config,
    task,
)
from warehouse.db import open_writer
from warehouse.load import upsert

H = timedelta(hours=1)
REPLY = message("r2", "anna@agency.test", ["ceo@acme.test"], AS_OF - 4 * H, refs=["r1"], irt="r1")
ROUNDS = [
    {"raw.email_messages": [message("r1", "ceo@acme.test", ["anna@agency.test"], AS_OF - 5 * H)]},
    {},  # nothing new: skipped
    {
        "raw.email_messages": [REPLY],
        "raw.asana_tasks": [task("t-new", "100", due="2026-11-10")],
    },
    {"raw.crm_objects": [engagement("e-new", "meetings", "c-acme", AS_OF - 2 * H)]},
    {"raw.asana_tasks": [task("t-new", "100", due="2026-11-10", completed=True)]},
    {"raw.crm_objects": [crm("companies", "c-gone", {"name": "Gone"}, archived=True)]},
    {},
]
KEYS = {"raw.email_messages": ["message_key"], "raw.asana_tasks": ["gid"]}


def test_hourly_builds_after_rounds_of_changes_equal_a_full_build(tmp_path):
    config = small_config(tmp_path)
    with open_writer(config.warehouse.path) as con:
        load_small_world(con, config)
    skipped = []
    for hour, changes in enumerate(ROUNDS, start=1):
        with open_writer(config.warehouse.path) as con:
            for table, rows in changes.items():
                upsert(con, table, rows, KEYS.get(table, ["object_type", "id"]))
        stats = build_signals(config, AS_OF + hour * H, f"hour-{hour}")
        skipped.append(bool(stats.get("skipped")))
    assert skipped == [False, True, False, False, False, False, True]
    full = tmp_path / "full.duckdb"
    shutil.copyfile(config.warehouse.path, full)
    full_config = config.model_copy(
        update={"warehouse": config.warehouse.model_copy(update={"path": full})}
    )
    last_built = max(hour for hour, skip in enumerate(skipped, start=1) if not skip)
    build_signals(full_config, AS_OF + last_built * H, "full", full_refresh=True)
    assert model_rows(config.warehouse.path) == model_rows(full)
