"""The `sources.mailboxes` section of the agency config."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field

from connectors.mailboxes.gmail.settings import GmailSource
from connectors.mailboxes.graph.settings import GraphAccount
from connectors.settings import Email, SettingsModel


class MboxFile(SettingsModel):
    """One mbox file (a Google Takeout export, or any mboxrd file)."""

    path: Path  # the mbox file (relative: to the config's folder)
    mailbox: Email  # whose mailbox it is, as raw.email_sightings.mailbox


class ImapMailbox(SettingsModel):
    """One IMAP mailbox; host, port and login come from Airflow Connection `connection_id`."""

    connection_id: str  # Airflow Connection with host, port, login and password
    mailbox: Email  # the mailbox's address, as raw.email_sightings.mailbox
    folders: list[str] = Field(["INBOX"], min_length=1)  # folders to read, by their IMAP names
    # Gmail: read only the All Mail folder, labels from X-GM-LABELS (`folders` unused).
    all_mail: bool = False
    batch_size: int = Field(500, gt=0, le=10000)  # UIDs per UID FETCH and per committed batch


class MailboxSource(SettingsModel):
    """Mailbox headers, from mbox files and IMAP mailboxes (never bodies)."""

    enabled: bool = True  # false: ingest_mailboxes skips
    mbox: list[MboxFile] = []  # mbox files to read; each is read from where the last run stopped
    imap: list[ImapMailbox] = []  # IMAP mailboxes to read; each folder from its last UID
    # Microsoft 365 mailboxes read through Microsoft Graph (connectors/mailboxes/graph)
    graph: list[GraphAccount] = []
    # Google Workspace (or single Gmail) mailboxes read through the Gmail API
    # (connectors/mailboxes/gmail)
    gmail: list[GmailSource] = []
