"""The gate's SQL path (large tables) judges every declared check kind as Great
Expectations does (small tables): same expectation, same unexpected count."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import duckdb

from warehouse.quality import Check, sql_checks, validate_checks


def _warehouse(tmp_path) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect(str(tmp_path / "gate.duckdb"))
    con.execute("CREATE SCHEMA marts; CREATE SCHEMA staging")
    con.execute("CREATE TABLE staging.cfg_clients AS SELECT unnest(['acme', 'beta']) AS client_id")
    con.execute(
        """CREATE TABLE marts.t AS SELECT * FROM (VALUES
               ('acme', 'w1', 'achieved', 10.0),
               ('acme', 'w1', 'breached', 120.0),
               ('beta', 'w2', 'lost', NULL),
               ('gone', NULL, 'pending', -1.0),
               ('gone', NULL, NULL, 50.0),
               (NULL, NULL, 'achieved', 0.0)
           ) AS v (client_id, week, status, score)"""
    )
    return con


ROOT = Path(__file__).resolve().parent.parent

CHECKS = [
    Check("marts.t", "not_null", ("client_id",)),
    Check("marts.t", "not_null", ("status",)),
    Check("marts.t", "unique", ("client_id",)),
    Check("marts.t", "unique", ("week",)),
    Check("marts.t", "accepted_values", ("status",), ["achieved", "breached", "pending"]),
    Check("marts.t", "range", ("score",), {"min": 0, "max": 100}),
    Check("marts.t", "range", ("score",), {"max": 100}),
    Check("marts.t", "relationships", ("client_id",), "staging.cfg_clients.client_id"),
    Check("marts.t", "unique_combination", ("client_id", "week")),
]


def _judged(results) -> list[tuple]:
    return sorted((r.expectation, r.column, r.success, r.unexpected_count) for r in results)


def test_sql_checks_count_what_great_expectations_counts(tmp_path):
    con = _warehouse(tmp_path)
    in_sql = _judged(sql_checks(con, CHECKS))
    with_gx = _judged(validate_checks(con, CHECKS))
    assert in_sql == with_gx
    assert sum(not success for _, _, success, _ in in_sql) == len(CHECKS)  # all fail here


def test_tables_above_the_in_memory_limit_never_reach_pandas(tmp_path):
    _warehouse(tmp_path).close()
    code = f"""
import sys, duckdb
from tests.test_quality_sql import CHECKS
from warehouse.quality import validate_checks
con = duckdb.connect({str(tmp_path / "gate.duckdb")!r})
results = validate_checks(con, CHECKS, in_memory_max_rows=5)  # marts.t has 6 rows
assert len(results) == len(CHECKS) and not any(r.success for r in results)
print("great_expectations" in sys.modules)
"""
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True
    )
    assert done.stdout.strip() == "False"
