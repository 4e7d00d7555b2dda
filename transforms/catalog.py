"""The model catalog: what each model is, its columns and the checks on them.

Each layer folder (`models/staging`, `models/core`, `models/intermediate`, `models/marts`) holds a
`_models.yml` beside its models, in the shape analysts know from dbt:

    models:
      - name: client_health
        description: One row per client ...
        tests: [{unique_combination: [client_id, metric]}]     # table-level checks
        columns:
          - name: client_id
            type: VARCHAR          # required for seeds and Python models (they create
            description: ...       # their table from these declarations)
            tests: [not_null, unique, {accepted_values: [a, b]},
                    {range: {min: 0, max: 1}}, {relationships: staging.cfg_clients.client_id}]

The runner writes the descriptions into DuckDB (`COMMENT ON`), the quality gate runs
the declared checks, and the data dictionary is generated from the same files.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from warehouse.quality import Check

MODELS_DIR = Path(__file__).resolve().parent / "models"
# Build layers, lowest first: a model reads only its own layer and those below it.
LAYERS = ("staging", "core", "intermediate", "marts")
CATALOG_FILE = "_models.yml"
_COLUMN_TESTS = ("not_null", "unique", "accepted_values", "range", "relationships")
_TABLE_TESTS = ("unique_combination",)
_MATERIALIZATIONS = ("sql", "python", "seed", "incremental")


class CatalogError(ValueError):
    """A `_models.yml` that does not say what the runner, gate or docs need."""


@dataclass(frozen=True)
class ColumnDoc:
    name: str
    description: str
    type: str | None = None
    tests: tuple[Any, ...] = ()


@dataclass(frozen=True)
class ModelDoc:
    layer: str
    name: str
    description: str
    materialized: str = "sql"
    columns: tuple[ColumnDoc, ...] = ()
    tests: tuple[Any, ...] = ()
    partition_by: tuple[str, ...] = ()  # incremental: a build replaces these partitions only
    source: Path = field(default=Path(), compare=False)

    @property
    def table(self) -> str:
        return f"{self.layer}.{self.name}"

    def column(self, name: str) -> ColumnDoc:
        for column in self.columns:
            if column.name == name:
                return column
        raise KeyError(f"{self.table} documents no column {name!r}")

    def declared_types(self) -> list[tuple[str, str]]:
        """(column, SQL type) for a seed or Python model, in declared order."""
        missing = [c.name for c in self.columns if not c.type]
        if missing or not self.columns:
            raise CatalogError(
                f"{self.source}: {self.table} is a {self.materialized} model, so every column "
                f"needs a type; missing for {missing or 'all (no columns declared)'}"
            )
        return [(c.name, str(c.type)) for c in self.columns]


def _test_name(test: Any) -> str:
    if isinstance(test, str):
        return test
    if isinstance(test, dict) and len(test) == 1:
        return next(iter(test))
    raise CatalogError(f"a test is a name or a one-key mapping, not {test!r}")


def _parse_model(layer: str, path: Path, entry: dict) -> ModelDoc:
    where = f"{path}: models[{entry.get('name', '?')}]"
    if not entry.get("name") or not str(entry.get("description") or "").strip():
        raise CatalogError(f"{where}: every model needs a name and a description")
    materialized = entry.get("materialized", "sql")
    if materialized not in _MATERIALIZATIONS:
        raise CatalogError(f"{where}.materialized: one of {_MATERIALIZATIONS}")
    columns = []
    for col in entry.get("columns") or []:
        for test in col.get("tests") or []:
            if _test_name(test) not in _COLUMN_TESTS:
                raise CatalogError(f"{where}.columns[{col.get('name')}]: unknown test {test!r}")
        columns.append(
            ColumnDoc(
                name=col["name"],
                description=str(col.get("description") or "").strip(),
                type=col.get("type"),
                tests=tuple(col.get("tests") or ()),
            )
        )
    for test in entry.get("tests") or []:
        if _test_name(test) not in _TABLE_TESTS:
            raise CatalogError(f"{where}.tests: unknown table test {test!r}")
    partition_by = tuple(entry.get("partition_by") or ())
    if (materialized == "incremental") != bool(partition_by):
        raise CatalogError(f"{where}: partition_by is required for, and only for, incremental")
    names = [c.name for c in columns]
    if len(names) != len(set(names)):
        raise CatalogError(f"{where}.columns: a column is listed twice")
    return ModelDoc(
        layer=layer,
        name=entry["name"],
        description=" ".join(str(entry["description"]).split()),
        materialized=materialized,
        columns=tuple(columns),
        tests=tuple(entry.get("tests") or ()),
        partition_by=partition_by,
        source=path,
    )


def load_catalog(models_dir: Path = MODELS_DIR) -> dict[str, ModelDoc]:
    """Every documented model, keyed by `layer.name`."""
    docs: dict[str, ModelDoc] = {}
    for layer in LAYERS:
        path = models_dir / layer / CATALOG_FILE
        if not path.exists():
            continue
        content = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        for entry in content.get("models") or []:
            doc = _parse_model(layer, path, entry)
            if doc.table in docs:
                raise CatalogError(f"{path}: {doc.table} is documented twice")
            docs[doc.table] = doc
    return docs


@cache
def catalog() -> dict[str, ModelDoc]:
    """The project's catalog, read once per process."""
    return load_catalog()


def checks(docs: dict[str, ModelDoc]) -> list[Check]:
    """The quality gate's checks, as the catalog declares them."""
    found = []
    for doc in docs.values():
        for column in doc.columns:
            for test in column.tests:
                name = _test_name(test)
                argument = test[name] if isinstance(test, dict) else None
                found.append(Check(doc.table, name, (column.name,), argument))
        for test in doc.tests:
            name = _test_name(test)
            found.append(Check(doc.table, name, tuple(test[name]), None))
    return found


def accepted_values(table: str, column: str) -> list[str]:
    """The values a column's `accepted_values` check allows, in declared order."""
    for test in catalog()[table].column(column).tests:
        if isinstance(test, dict) and "accepted_values" in test:
            return list(test["accepted_values"])
    raise CatalogError(f"{table}.{column} declares no accepted_values")
