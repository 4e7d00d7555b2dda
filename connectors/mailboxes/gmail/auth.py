"""Google access tokens for one mailbox: a service account's signed JWT assertion with
`sub` = the mailbox (domain-wide delegation), or a user's refresh token.

The request and answer are Google's OAuth 2.0 token endpoint's: a form POST of
`grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer` and the RS256-signed
`assertion`, or of `grant_type=refresh_token`; the answer carries `access_token` and
`expires_in`. A token is reused until a minute before it expires.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import jwt
import requests

from connectors.errors import ConnectorError
from connectors.mailboxes.tokens import GrantRefused, token_answer

JWT_BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer"
GOOGLE_TOKEN_URI = "https://oauth2.googleapis.com/token"  # noqa: S105 (a URL)
SCOPE_PREFIX = "https://www.googleapis.com/auth/"
METADATA_SCOPE = SCOPE_PREFIX + "gmail.metadata"
READONLY_SCOPE = SCOPE_PREFIX + "gmail.readonly"
DIRECTORY_SCOPE = SCOPE_PREFIX + "admin.directory.user.readonly"
IMAP_SCOPE = "https://mail.google.com/"  # what Gmail's IMAP asks of a bearer token
ASSERTION_LIFETIME = 3600
EARLY_RENEWAL = 60.0

_HINTS = {
    "unauthorized_client": (
        "check in the Google Admin console (Security > API controls > Domain-wide "
        "delegation) that the service account's client ID is listed with exactly the "
        "scopes {scopes}"
    ),
    "invalid_grant": (
        "check that the user exists, is not suspended, and (for a refresh token) has not "
        "revoked ClientPulse's access; for a service account, that its key is still valid"
    ),
    "invalid_client": "check the OAuth client ID and secret in the Airflow Connection",
}


@dataclass(frozen=True)
class ServiceAccountKey:
    """The fields of a service account's JSON key that signing needs (never logged)."""

    client_email: str
    private_key: str = field(repr=False)
    private_key_id: str = ""
    token_uri: str = GOOGLE_TOKEN_URI

    @classmethod
    def from_json(cls, info: Mapping[str, Any]) -> ServiceAccountKey:
        missing = [k for k in ("client_email", "private_key") if not info.get(k)]
        if missing or info.get("type", "service_account") != "service_account":
            raise ConnectorError(
                f"service account key: not a service account's JSON key (missing {missing})"
            )
        return cls(
            str(info["client_email"]),
            str(info["private_key"]),
            str(info.get("private_key_id", "")),
            str(info.get("token_uri") or GOOGLE_TOKEN_URI),
        )


@dataclass(frozen=True)
class RefreshTokenGrant:
    """A user's OAuth client and refresh token (a mailbox outside Workspace)."""

    client_id: str
    client_secret: str = field(repr=False)
    refresh_token: str = field(repr=False)
    token_uri: str = GOOGLE_TOKEN_URI


@dataclass
class GoogleTokens:
    """Access tokens for `mailbox` from a service account (acting as `subject`,
    by default the mailbox) or a refresh token."""

    mailbox: str
    credentials: ServiceAccountKey | RefreshTokenGrant = field(repr=False)
    scopes: tuple[str, ...] = (METADATA_SCOPE,)
    subject: str | None = None
    session: requests.Session = field(default_factory=requests.Session, repr=False)
    clock: Callable[[], float] = time.time
    timeout: float = 30.0
    grants: int = 0
    _token: str | None = field(default=None, repr=False)
    _expires_at: float = 0.0

    def token(self, *, refresh: bool = False) -> str:
        if refresh or self._token is None or self.clock() >= self._expires_at - EARLY_RENEWAL:
            self._token, lifetime = self._grant()
            self._expires_at = self.clock() + lifetime
        return self._token

    def _grant(self) -> tuple[str, float]:
        credentials = self.credentials
        if isinstance(credentials, ServiceAccountKey):
            form = {"grant_type": JWT_BEARER, "assertion": self._assertion(credentials)}
        else:
            form = {
                "grant_type": "refresh_token",
                "client_id": credentials.client_id,
                "client_secret": credentials.client_secret,
                "refresh_token": credentials.refresh_token,
            }
        self.grants += 1
        try:
            response = self.session.post(credentials.token_uri, data=form, timeout=self.timeout)
        except requests.RequestException as exc:
            raise ConnectorError(
                f"mailbox {self.mailbox}: token endpoint unreachable ({type(exc).__name__})"
            ) from None
        body, granted = token_answer(response)
        if not granted:
            error = str(body.get("error") or f"HTTP {response.status_code}")
            hint = _HINTS.get(error, "check the credentials in the Airflow Connection")
            detail = str(body.get("error_description", ""))[:200]
            raise GrantRefused(
                self.mailbox,
                f"{error} ({detail})" if detail else error,
                hint.format(scopes=" ".join(self.scopes)),
            )
        return str(body["access_token"]), float(body.get("expires_in", 3600))

    def _assertion(self, key: ServiceAccountKey) -> str:
        now = int(self.clock())
        claims = {
            "iss": key.client_email,
            "scope": " ".join(self.scopes),
            "aud": key.token_uri,
            "iat": now,
            "exp": now + ASSERTION_LIFETIME,
            "sub": self.subject or self.mailbox,
        }
        headers = {"kid": key.private_key_id} if key.private_key_id else None
        return jwt.encode(claims, key.private_key, algorithm="RS256", headers=headers)


@dataclass(frozen=True)
class GmailConnection:
    """What the Airflow Connection holds for one `sources.mailboxes.gmail` entry."""

    credentials: ServiceAccountKey | RefreshTokenGrant = field(repr=False)
    api_base_url: str = "https://gmail.googleapis.com"
    directory_base_url: str = "https://admin.googleapis.com"
