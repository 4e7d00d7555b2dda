"""Build the SQL models: `models/<schema>/<name>.sql` becomes table `<schema>.<name>`.

Dependencies are read from the SQL itself (references to `staging.x` / `marts.y`
that are models), so adding a model needs no registry. The whole build runs in
one transaction: readers of the writer's file never see half a build, and a
failed model leaves the previous build in place.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from graphlib import CycleError, TopologicalSorter
from pathlib import Path

import duckdb

from warehouse.db import transaction

MODELS_DIR = Path(__file__).resolve().parent / "models"
BUILT_SCHEMAS = ("staging", "marts")
_REFERENCE = re.compile(r"\b(staging|marts)\.([a-z_][a-z0-9_]*)\b", re.IGNORECASE)
_COMMENT = re.compile(r"--[^\n]*")


class ModelError(RuntimeError):
    pass


@dataclass(frozen=True)
class Model:
    schema: str
    name: str
    path: Path
    sql: str
    depends_on: frozenset[str] = field(default_factory=frozenset)

    @property
    def table(self) -> str:
        return f"{self.schema}.{self.name}"


def discover(models_dir: Path = MODELS_DIR) -> list[Model]:
    """All models, in an order where each comes after the models it reads."""
    found: dict[str, tuple[Path, str]] = {}
    for schema in BUILT_SCHEMAS:
        for path in sorted((models_dir / schema).glob("*.sql")):
            found[f"{schema}.{path.stem}"] = (path, path.read_text(encoding="utf-8"))
    models = {}
    for table, (path, sql) in found.items():
        refs = {f"{s.lower()}.{n.lower()}" for s, n in _REFERENCE.findall(_COMMENT.sub("", sql))}
        schema, name = table.split(".")
        models[table] = Model(schema, name, path, sql, frozenset(refs & found.keys() - {table}))
    try:
        order = TopologicalSorter({t: m.depends_on for t, m in models.items()}).static_order()
        return [models[t] for t in order]
    except CycleError as exc:
        raise ModelError(f"models depend on each other in a cycle: {exc.args[1]}") from exc


def build(
    con: duckdb.DuckDBPyConnection,
    as_of: datetime,
    variables: Mapping[str, object] | None = None,
    models_dir: Path = MODELS_DIR,
) -> list[str]:
    """(Re)build every model as of `as_of`.

    SQL reads `getvariable('as_of')` and any of `variables` (thresholds, the agency
    time zone) the same way, so models hold no configuration of their own.
    """
    if as_of.tzinfo is None:
        raise ValueError("as_of must be timezone-aware")
    built = []
    con.execute("SET VARIABLE as_of = ?::TIMESTAMPTZ", [as_of])
    for name, value in (variables or {}).items():
        if not re.fullmatch(r"[a-z_][a-z0-9_]*", name):
            raise ValueError(f"invalid variable name {name!r}")
        con.execute(f"SET VARIABLE {name} = ?", [value])
    with transaction(con):
        for model in discover(models_dir):
            body = model.sql.strip().rstrip(";")
            try:
                con.execute(f"CREATE OR REPLACE TABLE {model.table} AS\n{body}")
            except duckdb.Error as exc:
                raise ModelError(f"{model.path}: model {model.table} failed: {exc}") from exc
            built.append(model.table)
    return built
