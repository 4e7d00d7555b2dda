"""What every source's settings share: a frozen model that refuses unknown keys, and the
field types the sources' config sections use. `clientpulse.config` builds on these."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

Email = Annotated[str, Field(pattern=r"^[^@\s<>]+@[a-z0-9.-]+\.[a-z0-9-]+$")]


class SettingsModel(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
