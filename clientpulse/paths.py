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
    """The file `CLIENTPULSE_CONFIG` names, else (unset) the bundled demo config. Set
    but empty is an error: a deployment that lost its value must not run on the demo."""
    value = os.environ.get(CONFIG_ENV)
    if value is not None and not value.strip():
        raise ValueError(
            f"{CONFIG_ENV} is set but empty: set it to the agency config file "
            "(unset it to run on the bundled demo config)"
        )
    return Path(value or DEMO_CONFIG).resolve()
