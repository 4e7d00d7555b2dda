"""Build connector clients from Airflow Connections (secrets never leave them).

Connection conventions (JSON form in `AIRFLOW_CONN_<ID>` during development):
- Asana:   conn_type http,  host = API base URL (https://app.asana.com/api/1.0), password = PAT
- HubSpot: conn_type http,  host = API base URL (https://api.hubapi.com), password = app token
- Slack:   conn_type slack, password = bot token, extra.base_url optional (default Slack's)
- SMTP:    conn_type smtp,  host, port, login/password optional, extra.disable_tls for plain
- IMAP:    conn_type imap,  host, port (default 993, or 143 without TLS), login, password,
           extra.use_ssl (default true); one Connection per mailbox. OAuth instead of
           the password: extra.keyfile_dict (a Google service account's JSON key, with
           domain-wide delegation for https://mail.google.com/); XOAUTH2 / OAUTHBEARER
- Gmail:   conn_type google_cloud_platform, extra.keyfile_dict = the service account's
           JSON key (domain-wide delegation); or, for one mailbox outside Workspace,
           login = OAuth client ID, password = client secret, extra.refresh_token.
           extra.api_base_url / directory_base_url only for the sandbox's fake
- Graph:   conn_type generic, login = application (client) id, password = client secret,
           extra.tenant_id; or, instead of the secret, extra.private_key (PEM) and
           extra.certificate_thumbprint; extra.login_url / extra.graph_url only for a fake
"""

from __future__ import annotations

import json

from airflow.sdk import BaseHook

from clientpulse.config import AgencyConfig
from clientpulse.pipeline.deliver import Senders
from connectors.asana.client import AsanaClient
from connectors.crm.hubspot import HubSpotClient
from connectors.mailboxes.gmail.auth import (
    GOOGLE_TOKEN_URI,
    IMAP_SCOPE,
    GmailConnection,
    GoogleTokens,
    RefreshTokenGrant,
    ServiceAccountKey,
)
from connectors.mailboxes.gmail.settings import GmailSource
from connectors.mailboxes.graph.auth import GRAPH_URL, LOGIN_URL, AppCredentials
from connectors.mailboxes.graph.settings import GraphAccount
from connectors.mailboxes.imap import ImapLogin
from connectors.mailboxes.settings import ImapMailbox
from connectors.slack import SlackPoster, retry_handlers
from connectors.smtp import SmtpSender


def _required(conn, field: str):
    value = getattr(conn, field)
    if not value:
        raise ValueError(f"Airflow connection {conn.conn_id!r} has no {field}")
    return value


def asana_client(config: AgencyConfig) -> AsanaClient:
    source = config.sources.asana
    conn = BaseHook.get_connection(source.connection_id)
    return AsanaClient(
        _required(conn, "host"),
        _required(conn, "password"),
        requests_per_minute=source.requests_per_minute,
        max_concurrent=source.max_concurrent_requests,
    )


def hubspot_client(config: AgencyConfig) -> HubSpotClient:
    source = config.sources.crm
    conn = BaseHook.get_connection(source.connection_id)
    return HubSpotClient(
        _required(conn, "host"), _required(conn, "password"), burst_per_10s=source.burst_per_10s
    )


def slack_poster(config: AgencyConfig) -> SlackPoster:
    """The Slack provider's `SlackHook` reads the connection (token, `extra.base_url`),
    as the ops alerts' `SlackNotifier` does; our retry handlers ride along."""
    from airflow.providers.slack.hooks.slack import SlackHook

    hook = SlackHook(
        slack_conn_id=config.delivery.slack.connection_id, retry_handlers=retry_handlers()
    )
    return SlackPoster(hook.client)


def smtp_sender(config: AgencyConfig) -> SmtpSender:
    conn = BaseHook.get_connection(config.delivery.email.connection_id)
    extra = conn.extra_dejson or {}
    return SmtpSender(
        _required(conn, "host"),
        conn.port or 25,
        username=conn.login or None,
        password=conn.password or None,
        starttls=not extra.get("disable_tls", False),
    )


def imap_login(mailbox: ImapMailbox) -> ImapLogin:
    conn = BaseHook.get_connection(mailbox.connection_id)
    extra = conn.extra_dejson or {}
    use_ssl = bool(extra.get("use_ssl", True))
    host, port = _required(conn, "host"), conn.port or (993 if use_ssl else 143)
    if "keyfile_dict" in extra:
        key = ServiceAccountKey.from_json(_key_json(extra["keyfile_dict"]))
        tokens = GoogleTokens(mailbox.mailbox, key, scopes=(IMAP_SCOPE,))
        return ImapLogin(host, port, conn.login or mailbox.mailbox, use_ssl=use_ssl, tokens=tokens)
    return ImapLogin(
        host, port, _required(conn, "login"), _required(conn, "password"), use_ssl=use_ssl
    )


def gmail_connection(source: GmailSource) -> GmailConnection:
    conn = BaseHook.get_connection(source.connection_id)
    extra = conn.extra_dejson or {}
    credentials: ServiceAccountKey | RefreshTokenGrant
    if "keyfile_dict" in extra:
        credentials = ServiceAccountKey.from_json(_key_json(extra["keyfile_dict"]))
    elif "refresh_token" in extra:
        credentials = RefreshTokenGrant(
            _required(conn, "login"),
            _required(conn, "password"),
            str(extra["refresh_token"]),
            str(extra.get("token_uri", GOOGLE_TOKEN_URI)),
        )
    else:
        raise ValueError(
            f"Airflow connection {conn.conn_id!r} has neither extra.keyfile_dict (a service "
            "account key) nor extra.refresh_token"
        )
    defaults = GmailConnection(credentials)
    return GmailConnection(
        credentials,
        api_base_url=extra.get("api_base_url", defaults.api_base_url),
        directory_base_url=extra.get("directory_base_url", defaults.directory_base_url),
    )


def _key_json(value: str | dict) -> dict:
    """The Google provider stores `keyfile_dict` as a JSON object or as its text."""
    return json.loads(value) if isinstance(value, str) else value


def senders(config: AgencyConfig) -> Senders:
    """Slack and SMTP senders for delivery, each built only if something needs it."""
    return Senders(lambda: slack_poster(config), lambda: smtp_sender(config))


def graph_credentials(account: GraphAccount) -> AppCredentials:
    conn = BaseHook.get_connection(account.connection_id)
    extra = conn.extra_dejson or {}
    if not extra.get("tenant_id"):
        raise ValueError(f"Airflow connection {conn.conn_id!r} has no extra.tenant_id")
    return AppCredentials(
        extra["tenant_id"],
        _required(conn, "login"),
        client_secret=conn.password or None,
        private_key_pem=extra.get("private_key"),
        certificate_thumbprint=extra.get("certificate_thumbprint"),
        login_url=extra.get("login_url", LOGIN_URL),
        graph_url=extra.get("graph_url", GRAPH_URL),
    )
