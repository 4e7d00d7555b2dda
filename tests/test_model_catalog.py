"""The model layer: every table the build creates is a documented model, its
descriptions reach DuckDB as comments, and the data dictionary matches the catalog."""

from __future__ import annotations

import textwrap
from datetime import UTC, datetime

import duckdb
import pytest

from tests.factories import load_small_world, small_config
from transforms.catalog import LAYERS, CatalogError, catalog, load_catalog
from transforms.docs import DICTIONARY, render
from transforms.runner import ModelError, build, discover
from warehouse.db import open_writer
from warehouse.migrate import migrate

BUILT_LAYERS = LAYERS


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    config = small_config(tmp_path_factory.mktemp("catalog"))
    with open_writer(config.warehouse.path) as con:
        load_small_world(con, config)
        yield con


def test_every_table_the_build_creates_is_a_documented_model(built):
    tables = {
        f"{schema}.{name}"
        for schema, name in built.execute(
            "SELECT schema_name, table_name FROM duckdb_tables() WHERE schema_name IN ?",
            [list(BUILT_LAYERS)],
        ).fetchall()
    }
    assert tables == set(catalog())


def test_migrations_declare_no_model_tables(tmp_path):
    con = duckdb.connect(str(tmp_path / "empty.duckdb"))
    migrate(con)
    left = con.execute(
        "SELECT schema_name || '.' || table_name FROM duckdb_tables() WHERE schema_name IN ?",
        [list(BUILT_LAYERS)],
    ).fetchall()
    assert left == []


def test_every_model_and_every_mart_column_is_described_in_duckdb(built):
    undocumented_tables = built.execute(
        "SELECT schema_name || '.' || table_name FROM duckdb_tables() "
        "WHERE schema_name IN ? AND coalesce(comment, '') = ''",
        [list(BUILT_LAYERS)],
    ).fetchall()
    assert undocumented_tables == []
    undocumented_columns = built.execute(
        "SELECT table_name || '.' || column_name FROM duckdb_columns() "
        "WHERE schema_name = 'marts' AND coalesce(comment, '') = ''"
    ).fetchall()
    assert undocumented_columns == []
    comment = built.execute(
        "SELECT comment FROM duckdb_columns() WHERE schema_name = 'marts' "
        "AND table_name = 'client_health' AND column_name = 'first_reply_compliance'"
    ).fetchone()[0]
    assert comment == catalog()["marts.client_health"].column("first_reply_compliance").description


def test_every_column_of_every_model_is_in_the_catalog(built):
    for table, doc in catalog().items():
        schema, name = table.split(".")
        columns = [
            r[0]
            for r in built.execute(
                "SELECT column_name FROM duckdb_columns() WHERE schema_name = ? AND table_name = ?"
                " ORDER BY column_index",
                [schema, name],
            ).fetchall()
        ]
        assert columns == [c.name for c in doc.columns], table


def test_the_data_dictionary_is_generated_from_the_catalog():
    assert DICTIONARY.read_text(encoding="utf-8") == render(load_catalog()), (
        "docs/data_dictionary.md is stale: run `python -m transforms.docs`"
    )


def _write(path, text):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text), encoding="utf-8")


def test_seeds_python_and_sql_models_build_in_order_with_declared_types(tmp_path):
    _write(
        tmp_path / "staging" / "_models.yml",
        """
        models:
          - name: cfg_things
            materialized: seed
            description: Things from the config.
            columns:
              - {name: thing_id, type: VARCHAR, description: The thing.}
              - {name: weight, type: DOUBLE, description: Its weight.}
        """,
    )
    _write(
        tmp_path / "intermediate" / "doubled.py",
        """
        DEPENDS_ON = ("staging.cfg_things",)

        def compute(con, as_of):
            rows = con.execute("SELECT thing_id, weight FROM staging.cfg_things").fetchall()
            return [{"thing_id": t, "weight": 2 * w} for t, w in rows]
        """,
    )
    _write(
        tmp_path / "intermediate" / "_models.yml",
        """
        models:
          - name: doubled
            materialized: python
            description: Each thing's weight, doubled.
            columns:
              - {name: thing_id, type: VARCHAR, description: The thing.}
              - {name: weight, type: "DECIMAL(9,1)", description: Twice its weight.}
        """,
    )
    _write(
        tmp_path / "marts" / "total.sql", "SELECT sum(weight) AS total FROM intermediate.doubled"
    )
    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    for schema in BUILT_LAYERS:
        con.execute(f"CREATE SCHEMA {schema}")
    seeds = {
        "staging.cfg_things": [{"thing_id": "a", "weight": 1.5}, {"thing_id": "b", "weight": 2}]
    }
    as_of = datetime(2026, 11, 16, tzinfo=UTC)
    built = build(con, as_of, seeds=seeds, models_dir=tmp_path)
    assert built == ["staging.cfg_things", "intermediate.doubled", "marts.total"]
    assert con.execute("SELECT total FROM marts.total").fetchone()[0] == 7
    assert con.execute(
        "SELECT data_type, comment FROM duckdb_columns() WHERE table_name = 'doubled' "
        "AND column_name = 'weight'"
    ).fetchone() == ("DECIMAL(9,1)", "Twice its weight.")
    with pytest.raises(ModelError, match="not given any rows"):
        build(con, as_of, models_dir=tmp_path)
    with pytest.raises(ModelError, match="not seeds"):
        build(con, as_of, seeds={**seeds, "staging.other": []}, models_dir=tmp_path)


def test_a_catalog_that_documents_a_column_the_model_lacks_is_refused(tmp_path):
    _write(tmp_path / "marts" / "one.sql", "SELECT 1 AS a")
    _write(
        tmp_path / "marts" / "_models.yml",
        """
        models:
          - name: one
            description: One row.
            columns:
              - {name: b, description: Not there.}
        """,
    )
    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    con.execute("CREATE SCHEMA marts")
    with pytest.raises(ModelError, match="documents column 'b'"):
        build(con, datetime(2026, 11, 16, tzinfo=UTC), models_dir=tmp_path)


def test_a_python_model_without_column_types_names_the_file(tmp_path):
    _write(
        tmp_path / "staging" / "_models.yml",
        """
        models:
          - name: cfg_x
            materialized: seed
            description: X.
            columns:
              - {name: x, description: No type.}
        """,
    )
    with pytest.raises(CatalogError, match=r"_models.yml: staging.cfg_x .* missing for \['x'\]"):
        load_catalog(tmp_path)["staging.cfg_x"].declared_types()


def test_unknown_checks_are_refused(tmp_path):
    _write(
        tmp_path / "marts" / "_models.yml",
        """
        models:
          - name: one
            description: One row.
            columns:
              - {name: a, description: A., tests: [positive]}
        """,
    )
    with pytest.raises(CatalogError, match="unknown test 'positive'"):
        load_catalog(tmp_path)


def test_an_incremental_model_replaces_its_partitions_and_keeps_the_others(tmp_path):
    _write(
        tmp_path / "marts" / "weekly.sql",
        "SELECT CAST(date_trunc('week', getvariable('as_of')) AS DATE) AS week_start, "
        "getvariable('level') AS level",
    )
    _write(
        tmp_path / "marts" / "_models.yml",
        """
        models:
          - name: weekly
            materialized: incremental
            partition_by: [week_start]
            description: One row per week.
            columns:
              - {name: week_start, description: The week.}
              - {name: level, description: Its level.}
        """,
    )
    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    con.execute("CREATE SCHEMA marts")

    def build_week(day: int, level: int, **options) -> list[tuple]:
        as_of = datetime(2026, 11, day, 12, tzinfo=UTC)
        build(con, as_of, {"level": level}, models_dir=tmp_path, **options)
        return con.execute("SELECT day(week_start), level FROM marts.weekly ORDER BY 1").fetchall()

    assert build_week(9, 1) == [(9, 1)]
    assert build_week(16, 2) == [(9, 1), (16, 2)]
    assert build_week(17, 3) == [(9, 1), (16, 3)]  # the same week, rebuilt: replaced
    assert build_week(17, 3) == [(9, 1), (16, 3)]  # and rebuilding it again changes nothing
    assert build_week(17, 4, full_refresh=True) == [(16, 4)]


def test_an_incremental_model_needs_its_partition_key(tmp_path):
    _write(
        tmp_path / "marts" / "_models.yml",
        """
        models:
          - name: weekly
            materialized: incremental
            description: No key.
        """,
    )
    with pytest.raises(CatalogError, match="partition_by is required"):
        load_catalog(tmp_path)


def test_a_model_that_reads_a_layer_above_its_own_is_refused_naming_both(tmp_path):
    _write(tmp_path / "core" / "base.sql", "SELECT 1 AS n")
    _write(tmp_path / "marts" / "shown.sql", "SELECT n FROM core.base")
    _write(tmp_path / "intermediate" / "sneaky.sql", "SELECT n FROM marts.shown")
    with pytest.raises(ModelError) as refused:
        discover(tmp_path, docs={})
    assert "intermediate.sneaky reads marts.shown, a layer above it" in str(refused.value)
    (tmp_path / "intermediate" / "sneaky.sql").write_text("SELECT n FROM core.base")
    assert next(m.table for m in discover(tmp_path, docs={})) == "core.base"


def test_no_project_model_reads_a_layer_above_its_own():
    rank = {layer: i for i, layer in enumerate(LAYERS)}
    for model in discover():
        for parent in model.depends_on:
            assert rank[parent.split(".")[0]] <= rank[model.schema], (model.table, parent)
