"""The `sources.asana` section of the agency config."""

from __future__ import annotations

from pydantic import Field

from connectors.settings import SettingsModel


class AsanaSource(SettingsModel):
    """Asana tasks and projects, read incrementally over the REST API."""

    enabled: bool = True  # false: ingest_asana skips
    connection_id: str = "clientpulse_asana"  # Airflow Connection with the personal access token
    workspace_gid: str  # the Asana workspace to read
    # Asana's rate limit for the plan: 150 free, 1500 paid
    requests_per_minute: float = Field(1500, gt=0)
    # Asana allows at most 50 concurrent GET requests per token.
    max_concurrent_requests: int = Field(50, ge=1, le=50)
    # How often the gid-only listing looks for deleted and moved tasks (and re-walks
    # subtasks, whose edits do not modify their parent).
    reconcile_every_hours: float = Field(24, gt=0)
    # Read each project's Events API stream between reconciliations: deletes and moves
    # are then seen at once; an expired sync token forces a reconciliation.
    use_events: bool = False
