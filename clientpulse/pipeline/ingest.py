"""Each source's sync, called with its part of the agency config.

The sources (connectors/asana, connectors/crm, connectors/mailboxes) know their own
settings section and the warehouse, not the agency config as a whole; this is where
the DAGs, the backfill and the benchmarks hand them what they need from it.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from clientpulse.config import AgencyConfig
from connectors.asana import sync as asana
from connectors.asana.client import AsanaClient
from connectors.crm import csv_import, hubspot_sync
from connectors.crm.hubspot import HubSpotClient
from connectors.mailboxes import ingest as mailboxes
from connectors.mailboxes.gmail.auth import GmailConnection
from connectors.mailboxes.gmail.settings import GmailSource
from connectors.mailboxes.graph.auth import AppCredentials
from connectors.mailboxes.graph.settings import GraphAccount
from connectors.mailboxes.imap import ImapLogin
from connectors.mailboxes.settings import ImapMailbox


def tracked_projects(config: AgencyConfig) -> list[str]:
    """Every Asana project a configured client names."""
    return [gid for client in config.clients for gid in client.asana_projects]


def ingest_asana(
    config: AgencyConfig,
    client: AsanaClient,
    run_id: str,
    *,
    reconcile: bool | None = None,
    now: datetime | None = None,
) -> dict[str, Any]:
    """`connectors.asana.sync.ingest_asana` over the clients' projects."""
    return asana.ingest_asana(
        config.sources.asana,
        tracked_projects(config),
        config.warehouse.path,
        client,
        run_id,
        reconcile=reconcile,
        now=now,
    )


def crm_properties(config: AgencyConfig) -> dict[str, list[str]]:
    """The CRM properties fetched per type, the segmentation inputs' included."""
    wanted = config.signals.segmentation.crm_properties()
    return hubspot_sync.crm_properties(config.sources.crm, wanted)


def ingest_crm(config: AgencyConfig, client: HubSpotClient, run_id: str) -> dict[str, Any]:
    """`connectors.crm.hubspot_sync.ingest_crm` with the properties the config wants."""
    return hubspot_sync.ingest_crm(crm_properties(config), config.warehouse.path, client, run_id)


def ingest_crm_csv(config: AgencyConfig, run_id: str) -> dict[str, Any]:
    """`connectors.crm.csv_import.ingest_crm_csv` in the agency's time zone."""
    return csv_import.ingest_crm_csv(
        config.sources.crm,
        config.agency.timezone,
        config.warehouse.path,
        run_id,
        config.source_path,
    )


def ingest_mailboxes(
    config: AgencyConfig,
    run_id: str,
    imap_login: Callable[[ImapMailbox], ImapLogin] | None = None,
    graph_credentials: Callable[[GraphAccount], AppCredentials] | None = None,
    gmail_connection: Callable[[GmailSource], GmailConnection] | None = None,
) -> dict[str, Any]:
    """`connectors.mailboxes.ingest.ingest_mailboxes` over the configured mailboxes."""
    return mailboxes.ingest_mailboxes(
        config.sources.mailboxes,
        config.warehouse.path,
        run_id,
        imap_login,
        graph_credentials,
        gmail_connection,
    )
