"""Data-quality gate: Great Expectations run on DataFrames pulled from the marts.

GX's SQL path does not work with DuckDB, so each checked table is read into pandas
and validated there. Results go to `ops.quality_checks`; the delivery steps refuse
to send digests built on a build whose gate failed.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import duckdb
import pandas as pd

os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")

SLA_STATUSES = ["achieved", "breached", "pending", "no_reply_needed"]
SLA_METRICS = ["first_reply", "next_reply"]
# DOMAIN §6 strategies (marts.client_segment), most to least invested in.
STRATEGY_KEYS = ("strengthen", "invest", "invest_loyal", "protect", "earn", "consider_ending")


@dataclass(frozen=True)
class CheckResult:
    table: str
    expectation: str
    column: str
    success: bool
    unexpected_count: int


def _email_sla_suite(gx, client_ids: list[str]) -> list:
    e = gx.expectations
    return [
        e.ExpectColumnValuesToNotBeNull(column="client_id"),
        e.ExpectColumnValuesToBeInSet(column="client_id", value_set=client_ids),
        e.ExpectColumnValuesToBeBetween(column="business_minutes", min_value=0),
        e.ExpectColumnValuesToBeBetween(column="calendar_minutes", min_value=0),
        e.ExpectColumnValuesToBeInSet(column="status", value_set=SLA_STATUSES),
        e.ExpectColumnValuesToBeInSet(column="metric", value_set=SLA_METRICS),
        e.ExpectCompoundColumnsToBeUnique(column_list=["inbound_message_id", "metric"]),
    ]


def _sla_weekly_suite(gx, client_ids: list[str]) -> list:
    e = gx.expectations
    return [
        e.ExpectColumnValuesToBeInSet(column="client_id", value_set=client_ids),
        e.ExpectColumnValuesToBeBetween(column="compliance", min_value=0, max_value=1),
        e.ExpectCompoundColumnsToBeUnique(column_list=["client_id", "week_start", "metric"]),
    ]


def _health_suite(gx, client_ids: list[str]) -> list:
    e = gx.expectations
    return [
        e.ExpectColumnValuesToBeUnique(column="client_id"),
        e.ExpectColumnValuesToBeInSet(column="client_id", value_set=client_ids),
        e.ExpectColumnValuesToBeBetween(column="open_overdue_tasks", min_value=0),
        e.ExpectColumnValuesToBeBetween(
            column="first_reply_compliance", min_value=0, max_value=1, mostly=1.0
        ),
    ]


def _segment_suite(gx, client_ids: list[str]) -> list:
    e = gx.expectations
    return [
        e.ExpectColumnValuesToBeUnique(column="client_id"),
        e.ExpectColumnValuesToBeInSet(column="client_id", value_set=client_ids),
        e.ExpectColumnValuesToBeBetween(column="attractiveness_score", min_value=0, max_value=100),
        e.ExpectColumnValuesToBeBetween(column="relationship_score", min_value=0, max_value=100),
        e.ExpectColumnValuesToBeInSet(column="strategy_key", value_set=list(STRATEGY_KEYS)),
    ]


SUITES = {
    "marts.fct_email_sla": _email_sla_suite,
    "marts.client_sla_weekly": _sla_weekly_suite,
    "marts.client_health": _health_suite,
    "marts.client_segment": _segment_suite,
}


def validate_frame(table: str, frame: pd.DataFrame, client_ids: list[str]) -> list[CheckResult]:
    """Run the table's expectations on `frame` and return one result per expectation."""
    import great_expectations as gx  # heavy: imported only when the gate runs
    from great_expectations.data_context.types.base import ProgressBarsConfig

    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    asset = context.data_sources.add_pandas("clientpulse").add_dataframe_asset(table)
    batch = asset.add_batch_definition_whole_dataframe("all").get_batch(
        batch_parameters={"dataframe": frame}
    )
    suite = context.suites.add(gx.ExpectationSuite(name=table))
    for expectation in SUITES[table](gx, client_ids):
        suite.add_expectation(expectation)
    outcome = batch.validate(suite)
    results = []
    for item in outcome.results:
        config = item.expectation_config
        kwargs = config.kwargs
        column = kwargs.get("column") or ",".join(kwargs.get("column_list", []))
        results.append(
            CheckResult(
                table=table,
                expectation=config.type,
                column=column,
                success=bool(item.success),
                unexpected_count=int(item.result.get("unexpected_count") or 0),
            )
        )
    return results


def run_gate(con: duckdb.DuckDBPyConnection, run_id: str) -> list[CheckResult]:
    """Validate the gated marts, store the results, and return them."""
    client_ids = [r[0] for r in con.execute("SELECT client_id FROM staging.cfg_clients").fetchall()]
    results: list[CheckResult] = []
    for table in SUITES:
        frame = con.execute(f"SELECT * FROM {table}").df()
        results.extend(validate_frame(table, frame, client_ids))
    con.execute("DELETE FROM ops.quality_checks WHERE run_id = ?", [run_id])
    con.executemany(
        "INSERT INTO ops.quality_checks VALUES (?, ?, ?, ?, ?, ?, now())",
        [
            [run_id, r.table, r.expectation, r.column, r.success, r.unexpected_count]
            for r in results
        ],
    )
    return results


def describe_failure(result: CheckResult) -> str:
    """`table: expectation on column (n unexpected)`, as ops and the gate check read it."""
    return (
        f"{result.table}: {result.expectation} on {result.column} "
        f"({result.unexpected_count} unexpected)"
    )


def last_gate_failures(con: duckdb.DuckDBPyConnection) -> list[str] | None:
    """Failed expectations of the latest gated build; None when no build was gated yet."""
    latest = con.execute(
        "SELECT run_id FROM ops.quality_checks ORDER BY checked_at DESC LIMIT 1"
    ).fetchone()
    if latest is None:
        return None
    rows = con.execute(
        "SELECT table_name, expectation, column_name, success, unexpected_count "
        "FROM ops.quality_checks WHERE run_id = ? AND NOT success ORDER BY table_name, expectation",
        [latest[0]],
    ).fetchall()
    return [describe_failure(CheckResult(*row)) for row in rows]
