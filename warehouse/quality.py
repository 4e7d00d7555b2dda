"""Data-quality gate: the checks the model catalog declares.

A table of up to `in_memory_max_rows` rows is validated with Great Expectations on a
pandas frame of its checked columns. GX's SQL path still does not run on DuckDB
(GX 1.24 with duckdb-engine 0.17: its `table.column_types` metric fails), so a larger
table is checked as SQL in DuckDB, where the data lives, with the same meaning as the
GX expectation (nulls are not checked values; every row of a duplicated value counts),
recorded under the same expectation name. Results go to `ops.quality_checks`; the
delivery steps refuse to send digests built on a build whose gate failed.
"""

from __future__ import annotations

import importlib
import os
import threading
from dataclasses import dataclass
from typing import Any

import duckdb

os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")


def import_gx_in_background() -> None:
    """Start importing Great Expectations on a thread of its own.

    Its import takes seconds of Python (more than its checks at agency scale). A build
    calls this first, so the import runs while DuckDB builds the models (which releases
    the GIL); the gate's own import then finds the module loaded, or waits on Python's
    import lock for the rest of it."""
    threading.Thread(
        target=importlib.import_module, args=("great_expectations",), daemon=True
    ).start()


@dataclass(frozen=True)
class Check:
    """One declared check: `kind` on `columns` of `table` (see transforms/catalog.py)."""

    table: str
    kind: str  # not_null | unique | accepted_values | range | relationships | unique_combination
    columns: tuple[str, ...]
    argument: Any = None


@dataclass(frozen=True)
class CheckResult:
    table: str
    expectation: str
    column: str
    success: bool
    unexpected_count: int


def _expectation(gx: Any, con: duckdb.DuckDBPyConnection, check: Check) -> Any:
    """The Great Expectations expectation that runs a declared check."""
    e = gx.expectations
    column = check.columns[0]
    if check.kind == "not_null":
        return e.ExpectColumnValuesToNotBeNull(column=column)
    if check.kind == "unique":
        return e.ExpectColumnValuesToBeUnique(column=column)
    if check.kind == "accepted_values":
        return e.ExpectColumnValuesToBeInSet(column=column, value_set=list(check.argument))
    if check.kind == "range":
        bounds = check.argument or {}
        return e.ExpectColumnValuesToBeBetween(
            column=column, min_value=bounds.get("min"), max_value=bounds.get("max")
        )
    if check.kind == "relationships":
        table, _, field = str(check.argument).rpartition(".")
        values = [r[0] for r in con.execute(f'SELECT DISTINCT "{field}" FROM {table}').fetchall()]
        return e.ExpectColumnValuesToBeInSet(column=column, value_set=values)
    if check.kind == "unique_combination":
        return e.ExpectCompoundColumnsToBeUnique(column_list=list(check.columns))
    raise ValueError(f"{check.table}: unknown check {check.kind!r}")


_EXPECTATIONS = {
    "not_null": "expect_column_values_to_not_be_null",
    "unique": "expect_column_values_to_be_unique",
    "accepted_values": "expect_column_values_to_be_in_set",
    "range": "expect_column_values_to_be_between",
    "relationships": "expect_column_values_to_be_in_set",
    "unique_combination": "expect_compound_columns_to_be_unique",
}


def _literal(value: Any) -> str:
    if isinstance(value, bool) or value is None:
        return str(value).upper() if value is not None else "NULL"
    if isinstance(value, int | float):
        return repr(value)
    return "'" + str(value).replace("'", "''") + "'"


def _unexpected_sql(check: Check) -> str:
    """SQL counting the rows that fail `check`, as GX counts them."""
    column = f'"{check.columns[0]}"'
    checked = f"FROM {check.table} WHERE {column} IS NOT NULL"
    if check.kind == "not_null":
        return f"SELECT count(*) FROM {check.table} WHERE {column} IS NULL"
    if check.kind in ("unique", "unique_combination"):
        columns = ", ".join(f'"{c}"' for c in check.columns)
        present = " OR ".join(f'"{c}" IS NOT NULL' for c in check.columns)
        return (
            f"SELECT coalesce(sum(n), 0) FROM (SELECT count(*) AS n FROM {check.table} "
            f"WHERE {present} GROUP BY {columns} HAVING count(*) > 1)"
        )
    if check.kind == "accepted_values":
        values = ", ".join(_literal(v) for v in check.argument)
        return f"SELECT count(*) {checked} AND {column} NOT IN ({values})"
    if check.kind == "range":
        bounds = check.argument or {}
        outside = [
            f"{column} {op} {_literal(bounds[key])}"
            for key, op in (("min", "<"), ("max", ">"))
            if bounds.get(key) is not None
        ]
        return f"SELECT count(*) {checked} AND ({' OR '.join(outside) or 'FALSE'})"
    if check.kind == "relationships":
        table, _, field = str(check.argument).rpartition(".")
        return (
            f"SELECT count(*) {checked} AND NOT EXISTS "
            f'(SELECT 1 FROM {table} AS parent WHERE parent."{field}" = {check.table}.{column})'
        )
    raise ValueError(f"{check.table}: unknown check {check.kind!r}")


def sql_checks(con: duckdb.DuckDBPyConnection, checks: list[Check]) -> list[CheckResult]:
    """Run `checks` as SQL where the data lives: nothing is read into Python."""
    results = []
    for check in checks:
        unexpected = int(con.execute(_unexpected_sql(check)).fetchone()[0])
        results.append(
            CheckResult(
                table=check.table,
                expectation=_EXPECTATIONS[check.kind],
                column=",".join(check.columns),
                success=unexpected == 0,
                unexpected_count=unexpected,
            )
        )
    return results


def validate_checks(
    con: duckdb.DuckDBPyConnection, checks: list[Check], in_memory_max_rows: int | None = None
) -> list[CheckResult]:
    """Run `checks`: with Great Expectations on tables of up to `in_memory_max_rows`
    rows (all when None), as SQL on larger ones."""
    by_table: dict[str, list[Check]] = {}
    for check in checks:
        by_table.setdefault(check.table, []).append(check)
    large = set()
    if in_memory_max_rows is not None:
        large = {
            table
            for table in by_table
            if con.execute(f"SELECT count(*) FROM {table}").fetchone()[0] > in_memory_max_rows
        }
    in_memory = [c for c in checks if c.table not in large]
    results = sql_checks(con, [c for c in checks if c.table in large])
    return results + (_gx_checks(con, in_memory) if in_memory else [])


def _gx_checks(con: duckdb.DuckDBPyConnection, checks: list[Check]) -> list[CheckResult]:
    """Run `checks` with Great Expectations; each table is read once, with only the
    columns its checks name."""
    import great_expectations as gx  # heavy: imported only when the gate runs (or soon before)
    from great_expectations.data_context.types.base import ProgressBarsConfig

    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    source = context.data_sources.add_pandas("clientpulse")
    by_table: dict[str, list[Check]] = {}
    for check in checks:
        by_table.setdefault(check.table, []).append(check)
    results = []
    for table, table_checks in by_table.items():
        columns = sorted({c for check in table_checks for c in check.columns})
        frame = con.execute(
            f"SELECT {', '.join(f'{chr(34)}{c}{chr(34)}' for c in columns)} FROM {table}"
        ).df()
        batch = (
            source.add_dataframe_asset(table)
            .add_batch_definition_whole_dataframe("all")
            .get_batch(batch_parameters={"dataframe": frame})
        )
        suite = context.suites.add(gx.ExpectationSuite(name=table))
        for check in table_checks:
            suite.add_expectation(_expectation(gx, con, check))
        for item in batch.validate(suite).results:
            kwargs = item.expectation_config.kwargs
            results.append(
                CheckResult(
                    table=table,
                    expectation=item.expectation_config.type,
                    column=kwargs.get("column") or ",".join(kwargs.get("column_list", [])),
                    success=bool(item.success),
                    unexpected_count=int(item.result.get("unexpected_count") or 0),
                )
            )
    return results


def run_gate(
    con: duckdb.DuckDBPyConnection,
    run_id: str,
    checks: list[Check],
    in_memory_max_rows: int | None = None,
) -> list[CheckResult]:
    """Run the declared checks, store the results, and return them."""
    results = validate_checks(con, checks, in_memory_max_rows)
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
