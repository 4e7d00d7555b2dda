"""Shared fixtures."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest

PROJECT_ROOT = Path(__file__).resolve().parent.parent

# Airflow reads its settings at import: give the test session its own home, pointed at
# this project's DAGs and plugins, before anything imports airflow.
os.environ.setdefault("AIRFLOW_HOME", tempfile.mkdtemp(prefix="clientpulse-airflow-"))
os.environ["AIRFLOW__CORE__DAGS_FOLDER"] = str(PROJECT_ROOT / "dags")
os.environ["AIRFLOW__CORE__PLUGINS_FOLDER"] = str(PROJECT_ROOT / "plugins")
os.environ["AIRFLOW__CORE__LOAD_EXAMPLES"] = "False"
os.environ["GX_ANALYTICS_ENABLED"] = "false"
SPECS_DIR = PROJECT_ROOT.parent / "shared" / "specs"


@pytest.fixture(scope="session")
def specs_dir() -> Path:
    """The official API specs beside the checkout; contract tests skip (saying why) without them."""
    if not SPECS_DIR.is_dir():
        pytest.skip(
            f"official API specs not found at {SPECS_DIR} (../shared/specs beside the clone)"
        )
    return SPECS_DIR


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Without the compiled mail scanner (no compiler at install, or CLIENTPULSE_PURE_MAIL=1)
    the tests that compare it with the pure-Python path have nothing to compare; every other
    mail test runs on the pure path. tests/test_mail_build.py fails if a compiler works here
    and the scanner was not built, so this cannot hide a broken install."""
    from connectors.mailboxes import native

    if native.scanner is not None:
        return
    skip = pytest.mark.skip(reason="the compiled mail scanner is not built (pure-Python path)")
    for item in items:
        if "compiled_mail" in item.keywords:
            item.add_marker(skip)
