"""Build the models: every table in `staging`, `core`, `intermediate` and `marts` is one.

Layers only go down: a model reads its own layer and the layers below it (staging →
core → intermediate → marts); `discover` refuses one that reads a layer above, naming
both models.

A model is one of three kinds, all in `models/<layer>/`:
* SQL: `<name>.sql` becomes table `<layer>.<name>`; its dependencies are read from the
  SQL itself (references to other models), so adding one needs no registry. Declared
  `materialized: incremental` with `partition_by`, a build replaces only the partitions
  its SQL returns and keeps the others (history: one week per build); `full_refresh`
  starts it over;
* Python: `<name>.py` with `DEPENDS_ON` (the tables it reads) and
  `compute(con, as_of)` returning its rows, or a DuckDB relation selecting them when
  there are many (threads, calendars: clearer in Python);
* seed: rows handed in by the caller (the agency config as tables), declared with
  `materialized: seed` in the layer's `_models.yml`.
Python models and seeds create their table from the column types declared in the
catalog. The whole build runs in one transaction: readers of the writer's file never
see half a build, and a failed model leaves the previous build in place. The
catalog's descriptions are written into DuckDB as table and column comments.
"""

from __future__ import annotations

import importlib.util
import re
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from graphlib import CycleError, TopologicalSorter
from pathlib import Path
from types import ModuleType
from typing import Any

import duckdb

from transforms.catalog import LAYERS, MODELS_DIR, ModelDoc, load_catalog
from warehouse.db import transaction
from warehouse.load import replace_all

_REFERENCE = re.compile(rf"\b({'|'.join(LAYERS)})\.([a-z_][a-z0-9_]*)\b", re.IGNORECASE)
_COMMENT = re.compile(r"--[^\n]*")


class ModelError(RuntimeError):
    pass


@dataclass(frozen=True)
class Model:
    schema: str
    name: str
    path: Path | None
    kind: str  # sql | python | seed
    sql: str = ""
    depends_on: frozenset[str] = field(default_factory=frozenset)
    compute: Callable[..., Any] | None = field(default=None, compare=False)  # Python models

    @property
    def table(self) -> str:
        return f"{self.schema}.{self.name}"


def _load_module(path: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"clientpulse_model_{path.stem}", path)
    if spec is None or spec.loader is None:
        raise ModelError(f"{path}: cannot be imported as a Python model")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    if not callable(getattr(module, "compute", None)):
        raise ModelError(f"{path}: a Python model defines compute(con, as_of)")
    return module


def discover(
    models_dir: Path = MODELS_DIR, docs: Mapping[str, ModelDoc] | None = None
) -> list[Model]:
    """All models, in an order where each comes after the models it reads."""
    docs = load_catalog(models_dir) if docs is None else docs
    found: dict[str, Model] = {
        table: Model(doc.layer, doc.name, None, "seed")
        for table, doc in docs.items()
        if doc.materialized == "seed"
    }
    for layer in LAYERS:
        for path in sorted((models_dir / layer).glob("*.sql")):
            sql = path.read_text(encoding="utf-8")
            found[f"{layer}.{path.stem}"] = Model(layer, path.stem, path, "sql", sql)
        for path in sorted((models_dir / layer).glob("[!_]*.py")):
            module = _load_module(path)
            deps = frozenset(getattr(module, "DEPENDS_ON", ()))
            found[f"{layer}.{path.stem}"] = Model(
                layer, path.stem, path, "python", "", deps, module.compute
            )
    models = {}
    for table, model in found.items():
        refs = {
            f"{s.lower()}.{n.lower()}" for s, n in _REFERENCE.findall(_COMMENT.sub("", model.sql))
        }
        deps = (refs | model.depends_on) & found.keys() - {table}
        models[table] = replace(model, depends_on=deps)
    _check_direction(models.values())
    try:
        order = TopologicalSorter({t: m.depends_on for t, m in models.items()}).static_order()
        return [models[t] for t in order]
    except CycleError as exc:
        raise ModelError(f"models depend on each other in a cycle: {exc.args[1]}") from exc


def _check_direction(models: Iterable[Model]) -> None:
    """Refuse a model that reads a layer above its own (layers only go down)."""
    rank = {layer: i for i, layer in enumerate(LAYERS)}
    upward = [
        f"{m.table} reads {dep}, a layer above it"
        for m in models
        for dep in sorted(m.depends_on)
        if rank[dep.split(".")[0]] > rank[m.schema]
    ]
    if upward:
        raise ModelError(f"layers only go down ({' → '.join(LAYERS)}): " + "; ".join(upward))


def _materialize(
    con: duckdb.DuckDBPyConnection, doc: ModelDoc, rows: Sequence | duckdb.DuckDBPyRelation
) -> None:
    """Create a seed's or Python model's table from its declared columns, then fill it
    (a relation is inserted inside DuckDB: its rows never become Python objects)."""
    columns = ", ".join(f'"{name}" {kind}' for name, kind in doc.declared_types())
    con.execute(f"CREATE OR REPLACE TABLE {doc.table} ({columns})")
    if isinstance(rows, duckdb.DuckDBPyRelation):
        con.execute(f"INSERT INTO {doc.table} BY NAME {rows.sql_query()}")
    else:
        replace_all(con, doc.table, rows)


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def describe(con: duckdb.DuckDBPyConnection, docs: Mapping[str, ModelDoc]) -> None:
    """Write the catalog's descriptions as DuckDB comments, so any SQL client shows them."""
    existing = {
        (f"{s}.{t}", c)
        for s, t, c in con.execute(
            "SELECT schema_name, table_name, column_name FROM duckdb_columns()"
        ).fetchall()
    }
    for doc in docs.values():
        con.execute(f"COMMENT ON TABLE {doc.table} IS {_quote(doc.description)}")
        for column in doc.columns:
            if (doc.table, column.name) not in existing:
                raise ModelError(
                    f"{doc.source}: {doc.table} documents column {column.name!r}, "
                    "which the model does not produce"
                )
            if column.description:
                con.execute(
                    f'COMMENT ON COLUMN {doc.table}."{column.name}" IS {_quote(column.description)}'
                )


def _set_variables(
    con: duckdb.DuckDBPyConnection, as_of: datetime, variables: Mapping[str, object]
) -> None:
    con.execute("SET VARIABLE as_of = ?::TIMESTAMPTZ", [as_of])
    for name, value in variables.items():
        if not re.fullmatch(r"[a-z_][a-z0-9_]*", name):
            raise ValueError(f"invalid variable name {name!r}")
        con.execute(f"SET VARIABLE {name} = ?", [value])


def _with_ancestors(models: list[Model], wanted: set[str]) -> list[Model]:
    """`models` (in build order) narrowed to `wanted` and everything they read."""
    by_table = {m.table: m for m in models}
    missing = wanted - by_table.keys()
    if missing:
        raise ModelError(f"no such models: {sorted(missing)}")
    needed: set[str] = set()
    stack = list(wanted)
    while stack:
        table = stack.pop()
        if table not in needed:
            needed.add(table)
            stack.extend(by_table[table].depends_on)
    return [m for m in models if m.table in needed]


def _merge_partitions(con: duckdb.DuckDBPyConnection, doc: ModelDoc, body: str) -> None:
    """Replace the partitions the model's SQL returns; create the table on first build."""
    schema, name = doc.table.split(".")
    exists = con.execute(
        "SELECT count(*) FROM duckdb_tables() WHERE schema_name = ? AND table_name = ?",
        [schema, name],
    ).fetchone()[0]
    if not exists:
        con.execute(f"CREATE TABLE {doc.table} AS\n{body}")
        return
    con.execute(f"CREATE OR REPLACE TEMP TABLE _increment AS\n{body}")
    old, new = (
        [
            r[0]
            for r in con.execute(
                "SELECT column_name FROM duckdb_columns() WHERE schema_name = ? "
                "AND table_name = ? ORDER BY column_index",
                [s, t],
            ).fetchall()
        ]
        for s, t in ((schema, name), ("main", "_increment"))
    )
    if old != new:
        raise ModelError(
            f"{doc.table}: its columns changed ({old} → {new}); rebuild it with full_refresh"
        )
    keys = ", ".join(f'"{c}"' for c in doc.partition_by)
    match = " AND ".join(f'{doc.table}."{c}" = k."{c}"' for c in doc.partition_by)
    con.execute(
        f"DELETE FROM {doc.table} USING (SELECT DISTINCT {keys} FROM _increment) AS k WHERE {match}"
    )
    con.execute(f"INSERT INTO {doc.table} SELECT * FROM _increment")
    con.execute("DROP TABLE _increment")


def _run(
    con: duckdb.DuckDBPyConnection,
    model: Model,
    docs: Mapping[str, ModelDoc],
    seeds: Mapping[str, Sequence[dict]],
    as_of: datetime,
    full_refresh: bool,
) -> None:
    if model.kind == "sql":
        body = model.sql.strip().rstrip(";")
        doc = docs.get(model.table)
        if doc is not None and doc.materialized == "incremental" and not full_refresh:
            _merge_partitions(con, doc, body)
        else:
            con.execute(f"CREATE OR REPLACE TABLE {model.table} AS\n{body}")
        return
    if model.table not in docs:
        raise ModelError(f"{model.path}: a Python model needs its columns in _models.yml")
    if model.kind == "seed":
        if model.table not in seeds:
            raise ModelError(f"seed {model.table} was not given any rows")
        rows = seeds[model.table]
    else:
        rows = model.compute(con, as_of)  # type: ignore[misc]
    _materialize(con, docs[model.table], rows)


def build(
    con: duckdb.DuckDBPyConnection,
    as_of: datetime,
    variables: Mapping[str, object] | None = None,
    seeds: Mapping[str, Sequence[dict]] | None = None,
    models_dir: Path = MODELS_DIR,
    full_refresh: bool = False,
    select: Sequence[str] | None = None,
    timings: dict[str, float] | None = None,
) -> list[str]:
    """(Re)build every model as of `as_of`; `seeds` gives each seed table's rows;
    `select` narrows the build to those models and what they read (a backfill of one
    history model needs no reports' marts); `timings`, when given, receives each
    model's seconds.

    SQL reads `getvariable('as_of')` and any of `variables` (thresholds, windows, the
    agency time zone) the same way, so models hold no configuration of their own.
    """
    if as_of.tzinfo is None:
        raise ValueError("as_of must be timezone-aware")
    docs = load_catalog(models_dir)
    every = discover(models_dir, docs)
    models = every if select is None else _with_ancestors(every, set(select))
    seeds = seeds or {}
    unknown = set(seeds) - {m.table for m in every if m.kind == "seed"}
    if unknown:
        raise ModelError(f"rows given for tables that are not seeds: {sorted(unknown)}")
    _set_variables(con, as_of, variables or {})
    with transaction(con):
        for layer in LAYERS:
            con.execute(f"CREATE SCHEMA IF NOT EXISTS {layer}")
        for model in models:
            started = time.perf_counter()
            try:
                _run(con, model, docs, seeds, as_of, full_refresh)
            except (duckdb.Error, ValueError, KeyError) as exc:
                where = model.path or model.table
                raise ModelError(f"{where}: model {model.table} failed: {exc}") from exc
            if timings is not None:
                timings[model.table] = round(time.perf_counter() - started, 2)
        describe(con, {t: d for t, d in docs.items() if t in {m.table for m in models}})
    return [m.table for m in models]
