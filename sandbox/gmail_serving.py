"""The Gmail API fake served on a free port, with a service account the domain delegated
to (tests, benchmarks and the demo)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cache

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from connectors.mailboxes.gmail.auth import GmailConnection, ServiceAccountKey
from sandbox.fake_gmail import DIRECTORY, IMAP_SCOPE, METADATA, READONLY, GmailState, create_app
from sandbox.fake_google_token import ServiceAccount
from sandbox.http_server import RunningServer, serving

CLIENT_EMAIL = "clientpulse@agency-mail.iam.gserviceaccount.com"
CLIENT_ID = "104857600000000000001"


@dataclass
class ServedGmail:
    state: GmailState
    server: RunningServer
    key: ServiceAccountKey

    @property
    def connection(self) -> GmailConnection:
        base = self.server.base_url
        return GmailConnection(self.key, api_base_url=base, directory_base_url=base)


def new_key() -> tuple[str, bytes]:
    """A fresh RSA key: (private PEM text, public PEM bytes)."""
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = private.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    public = private.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return pem, public


@cache
def service_account_pem() -> tuple[str, bytes]:
    """One RSA key per process (generating one takes a while): (private, public) PEM."""
    return new_key()


@contextmanager
def served_gmail(state: GmailState | None = None) -> Iterator[ServedGmail]:
    """The fake on a free port; the service account may read with gmail.metadata,
    gmail.readonly, over IMAP (https://mail.google.com/) and list the domain's users."""
    state = state or GmailState()
    pem, public = service_account_pem()
    state.authority.add_service_account(
        ServiceAccount(CLIENT_EMAIL, CLIENT_ID, public), {METADATA, READONLY, DIRECTORY, IMAP_SCOPE}
    )
    with serving(create_app(state)) as server:
        state.authority.token_uri = f"{server.base_url}/token"
        key = ServiceAccountKey(CLIENT_EMAIL, pem, "k1", state.authority.token_uri)
        yield ServedGmail(state, server, key)
