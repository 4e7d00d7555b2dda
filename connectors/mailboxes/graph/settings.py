"""The `sources.mailboxes.graph` entries: one per Microsoft 365 tenant (app registration)."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, StringConstraints

from connectors.settings import SettingsModel

MailboxAddress = Annotated[
    str, StringConstraints(strip_whitespace=True, to_lower=True, pattern=r"^[^@\s]+@[^@\s]+$")
]
DEFAULT_FOLDERS = ("inbox", "sentitems")


class GraphAccount(SettingsModel):
    """Mailboxes read through Microsoft Graph with one app registration.

    Tenant id, client id and the secret (or certificate) come from Airflow Connection
    `connection_id`. `folders` are well-known names (inbox, sentitems, archive, ...) or
    folder ids; Inbox and Sent Items are always read. `read_first_lines` needs the
    Mail.Read permission: closing replies are then read from `bodyPreview`.
    """

    # Airflow Connection: login = application (client) id, password = client secret,
    # extra.tenant_id (and extra.certificate_* instead of a secret)
    connection_id: str = "clientpulse_graph"
    mailboxes: list[MailboxAddress] = Field(min_length=1)  # users or shared mailboxes to read
    # folders besides Inbox and Sent Items: well-known names (archive, ...) or folder ids
    folders: list[str] = []
    # needs Mail.Read (not Mail.ReadBasic.All): closing replies read from bodyPreview
    read_first_lines: bool = False
    page_size: int = Field(500, ge=1, le=1000)  # Prefer: odata.maxpagesize
    # Exchange allows 4 concurrent requests per app and mailbox, and 10,000 per 10 minutes.
    max_concurrent_per_mailbox: int = Field(4, ge=1, le=4)
    requests_per_minute_per_mailbox: float = Field(1000, gt=0)  # the token bucket's rate
    parallel_mailboxes: int = Field(8, ge=1, le=64)  # mailboxes read side by side

    def all_folders(self) -> list[str]:
        """Inbox and Sent Items, then the configured folders, each once."""
        seen = dict.fromkeys([*DEFAULT_FOLDERS, *self.folders])
        return list(seen)
