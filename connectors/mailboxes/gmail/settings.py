"""The `sources.mailboxes.gmail` entries of the agency config (credentials excluded:
they live only in the Airflow Connection `connection_id`)."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, model_validator

Address = Annotated[str, Field(pattern=r"^[^@\s<>]+@[a-z0-9.-]+\.[a-z0-9-]+$")]


class GmailSource(BaseModel):
    """Mailboxes read through the Gmail API with one set of Google credentials.

    Either `mailboxes` lists them, or `all_users` reads every active user of `domain`
    (Admin SDK Directory `users.list`, acting as `admin_email`) but those in `exclude`.
    A refresh-token Connection reads exactly one mailbox.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    connection_id: str = "clientpulse_gmail"
    mailboxes: list[Address] = []
    all_users: bool = False
    domain: str | None = None
    admin_email: Address | None = None
    exclude: list[Address] = []
    # gmail.readonly instead of gmail.metadata: closers are read from the first lines.
    read_first_lines: bool = False
    window_days: int = Field(400, ge=1)
    # Gmail allows 250 quota units a second per user; a margin keeps clear of 429s.
    units_per_second: float = Field(240.0, gt=0, le=250)
    # Mailboxes read at once: each has its own quota, so a first sync of the team takes
    # as long as its largest mailbox.
    parallel_mailboxes: int = Field(10, ge=1, le=50)

    @model_validator(mode="after")
    def _mailboxes_or_directory(self) -> GmailSource:
        if self.all_users and (self.domain is None or self.admin_email is None):
            raise ValueError("all_users: needs domain and admin_email (who may list users)")
        if not self.all_users and not self.mailboxes:
            raise ValueError("mailboxes: list at least one, or set all_users with domain")
        return self
