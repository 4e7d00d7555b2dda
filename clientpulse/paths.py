"""Where things are: the project root and which agency config file is in force.

Kept apart from `clientpulse.config` (pydantic models) so DAG files can find the
config at parse time without paying for the models.
"""

from __future__ import annotations

import os
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEMO_CONFIG = PROJECT_ROOT / "config" / "demo.yaml"
CONFIG_ENV = "CLIENTPULSE_CONFIG"


def config_path() -> Path:
    """The file `CLIENTPULSE_CONFIG` names, else the bundled demo config."""
    return Path(os.environ.get(CONFIG_ENV) or DEMO_CONFIG).resolve()
