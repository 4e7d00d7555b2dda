"""The `sources.mailboxes` section of the agency config."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field

from connectors.settings import Email, SettingsModel


class MboxFile(SettingsModel):
    path: Path
    mailbox: Email


class ImapMailbox(SettingsModel):
    """One IMAP mailbox; host, port and login come from Airflow Connection `connection_id`."""

    connection_id: str
    mailbox: Email
    folders: list[str] = Field(["INBOX"], min_length=1)
    # Gmail: read only the All Mail folder, labels from X-GM-LABELS (`folders` unused).
    all_mail: bool = False
    batch_size: int = Field(500, gt=0, le=10000)


class MailboxSource(SettingsModel):
    enabled: bool = True
    mbox: list[MboxFile] = []
    imap: list[ImapMailbox] = []
