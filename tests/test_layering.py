"""Imports run one way: production code never reaches up into the orchestration package
or out into the tooling and the sandbox; within a source's package only the modules that
load the warehouse touch it (its API client and parsers stay usable on their own)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

# package -> top-level packages it must not import
FORBIDDEN = {
    "connectors": {"clientpulse", "tooling", "sandbox", "transforms"},
    "warehouse": {"clientpulse", "tooling", "sandbox", "transforms"},
    "transforms": {"clientpulse", "tooling", "sandbox"},
    "clientpulse": {"tooling", "sandbox"},
    "dags": {"tooling", "sandbox"},
    "plugins": {"tooling", "sandbox"},
}


def _imported_packages(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module.split(".")[0])
    return found


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_no_import_runs_against_the_layering(package):
    wrong = {
        str(path.relative_to(ROOT)): sorted(_imported_packages(path) & FORBIDDEN[package])
        for path in (ROOT / package).rglob("*.py")
    }
    assert {file: names for file, names in wrong.items() if names} == {}


# connectors/<source>/ modules that write raw rows and cursors; the rest never import warehouse.
WAREHOUSE_LOADERS = {"sync.py", "cursors.py", "hubspot_sync.py", "csv_import.py", "ingest.py"}


def test_only_a_sources_loaders_touch_the_warehouse():
    clients = [
        path for path in (ROOT / "connectors").rglob("*.py") if path.name not in WAREHOUSE_LOADERS
    ]
    wrong = [
        str(path.relative_to(ROOT)) for path in clients if "warehouse" in _imported_packages(path)
    ]
    assert wrong == []
    assert len(clients) > 10  # the clients and parsers of the three sources are all seen
