"""Shared fixtures."""

from __future__ import annotations

from pathlib import Path

import pytest

PROJECT_ROOT = Path(__file__).resolve().parent.parent
SPECS_DIR = PROJECT_ROOT.parent / "shared" / "specs"


@pytest.fixture(scope="session")
def specs_dir() -> Path:
    """The official API specs beside the checkout; contract tests skip (saying why) without them."""
    if not SPECS_DIR.is_dir():
        pytest.skip(
            f"official API specs not found at {SPECS_DIR} (../shared/specs beside the clone)"
        )
    return SPECS_DIR
