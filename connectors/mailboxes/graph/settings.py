"""The `sources.mailboxes.graph` entries: one per Microsoft 365 tenant (app registration)."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

MailboxAddress = Annotated[
    str, StringConstraints(strip_whitespace=True, to_lower=True, pattern=r"^[^@\s]+@[^@\s]+$")
]
DEFAULT_FOLDERS = ("inbox", "sentitems")


class GraphAccount(BaseModel):
    """Mailboxes read through Microsoft Graph with one app registration.

    Tenant id, client id and the secret (or certificate) come from Airflow Connection
    `connection_id`. `folders` are well-known names (inbox, sentitems, archive, ...) or
    folder ids; Inbox and Sent Items are always read. `read_first_lines` needs the
    Mail.Read permission: closing replies are then read from `bodyPreview`.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    connection_id: str = "clientpulse_graph"
    mailboxes: list[MailboxAddress] = Field(min_length=1)
    folders: list[str] = []
    read_first_lines: bool = False
    page_size: int = Field(500, ge=1, le=1000)  # Prefer: odata.maxpagesize
    # Exchange allows 4 concurrent requests per app and mailbox, and 10,000 per 10 minutes.
    max_concurrent_per_mailbox: int = Field(4, ge=1, le=4)
    requests_per_minute_per_mailbox: float = Field(1000, gt=0)
    parallel_mailboxes: int = Field(8, ge=1, le=64)

    def all_folders(self) -> list[str]:
        """Inbox and Sent Items, then the configured folders, each once."""
        seen = dict.fromkeys([*DEFAULT_FOLDERS, *self.folders])
        return list(seen)
