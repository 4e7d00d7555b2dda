"""The Gmail API fake served for a test, with a service account the domain delegated to."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

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


_KEY = new_key()  # one RSA key per test session: generating one takes a while


@contextmanager
def served_gmail(state: GmailState | None = None) -> Iterator[ServedGmail]:
    """The fake on a free port; the service account may read with gmail.metadata,
    gmail.readonly, over IMAP (https://mail.google.com/) and list the domain's users."""
    state = state or GmailState()
    pem, public = _KEY
    state.authority.add_service_account(
        ServiceAccount(CLIENT_EMAIL, CLIENT_ID, public), {METADATA, READONLY, DIRECTORY, IMAP_SCOPE}
    )
    with serving(create_app(state)) as server:
        state.authority.token_uri = f"{server.base_url}/token"
        key = ServiceAccountKey(CLIENT_EMAIL, pem, "k1", state.authority.token_uri)
        yield ServedGmail(state, server, key)


def ingest_in_child(config_path: str, key_file: str, base_url: str) -> None:
    """`python -m tests.gmail_fake CONFIG KEY BASE_URL`: one mailbox ingest, as a task
    process would run it (the test kills it mid-batch)."""
    import json

    from clientpulse.config import load_config
    from clientpulse.pipeline.mail.ingest import ingest_mailboxes

    key = ServiceAccountKey.from_json(json.loads(Path(key_file).read_text()))
    connection = GmailConnection(key, api_base_url=base_url, directory_base_url=base_url)
    ingest_mailboxes(load_config(config_path), "child", gmail_connection=lambda _: connection)


if __name__ == "__main__":
    ingest_in_child(*sys.argv[1:4])
