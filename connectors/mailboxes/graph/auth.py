"""App-only tokens from the Microsoft identity platform (OAuth 2.0 client-credentials grant).

The app authenticates with a client secret or with a certificate (a JWT client assertion
signed with its private key, `x5t` = the certificate's SHA-1 thumbprint). Tokens are
cached until five minutes before they expire, and dropped at once when an API says one
was rejected. Secrets and tokens never reach logs, errors or reprs.
"""

from __future__ import annotations

import base64
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field

import jwt
import requests

from connectors.errors import ConnectorError
from connectors.mailboxes.tokens import token_answer

LOGIN_URL = "https://login.microsoftonline.com"
GRAPH_URL = "https://graph.microsoft.com/v1.0"
GRAPH_SCOPE = "https://graph.microsoft.com/.default"
EXCHANGE_IMAP_SCOPE = "https://outlook.office365.com/.default"
REFRESH_MARGIN = 300.0
ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"


class AuthError(ConnectorError):
    """The identity platform refused the app: the message says what the admin must fix."""


@dataclass(frozen=True)
class AppCredentials:
    """An app registration's identity: a secret, or a certificate's key and thumbprint."""

    tenant_id: str
    client_id: str
    client_secret: str | None = field(default=None, repr=False)
    private_key_pem: str | None = field(default=None, repr=False)
    certificate_thumbprint: str | None = None  # hex SHA-1 of the certificate
    login_url: str = LOGIN_URL
    graph_url: str = GRAPH_URL

    def __post_init__(self) -> None:
        if not self.tenant_id or not self.client_id:
            raise ValueError("Microsoft Graph credentials need a tenant id and a client id")
        if self.client_secret is None and self.private_key_pem is None:
            raise ValueError(
                f"app {self.client_id}: give a client secret or a certificate's private key"
            )

    @property
    def token_url(self) -> str:
        return f"{self.login_url.rstrip('/')}/{self.tenant_id}/oauth2/v2.0/token"

    def form(self, scope: str) -> dict[str, str]:
        """The token request's form fields for `scope`."""
        form = {"grant_type": "client_credentials", "client_id": self.client_id, "scope": scope}
        if self.client_secret is not None:
            form["client_secret"] = self.client_secret
            return form
        now = int(time.time())
        headers = {"x5t": _x5t(self.certificate_thumbprint)} if self.certificate_thumbprint else {}
        claims = {
            "aud": self.token_url,
            "iss": self.client_id,
            "sub": self.client_id,
            "jti": str(uuid.uuid4()),
            "nbf": now,
            "exp": now + 600,
        }
        form["client_assertion_type"] = ASSERTION_TYPE
        form["client_assertion"] = jwt.encode(
            claims, self.private_key_pem, algorithm="RS256", headers=headers
        )
        return form


def _x5t(thumbprint_hex: str) -> str:
    raw = bytes.fromhex(thumbprint_hex.replace(":", ""))
    return base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")


class TokenProvider:
    """Cached app-only access tokens for one resource scope (thread-safe)."""

    def __init__(
        self,
        credentials: AppCredentials,
        scope: str = GRAPH_SCOPE,
        *,
        session: requests.Session | None = None,
        clock: Callable[[], float] = time.monotonic,
        timeout: float = 30.0,
    ) -> None:
        self._credentials = credentials
        self._scope = scope
        self._session = session or requests.Session()
        self._clock = clock
        self._timeout = timeout
        self._token: str | None = None
        self._expires = 0.0
        self._lock = threading.Lock()
        self.issued = 0

    def __repr__(self) -> str:
        return f"TokenProvider(client_id={self._credentials.client_id!r}, scope={self._scope!r})"

    def access_token(self) -> str:
        with self._lock:
            if self._token is None or self._clock() >= self._expires - REFRESH_MARGIN:
                self._token, lifetime = self._request()
                self._expires = self._clock() + lifetime
                self.issued += 1
            return self._token

    def invalidate(self, rejected: str) -> None:
        """Forget `rejected` (an API said it expired); a newer token is kept."""
        with self._lock:
            if self._token == rejected:
                self._token = None

    def _request(self) -> tuple[str, float]:
        creds = self._credentials
        try:
            response = self._session.post(
                creds.token_url, data=creds.form(self._scope), timeout=self._timeout
            )
        except requests.RequestException as exc:
            raise AuthError(
                f"Microsoft identity platform unreachable for app {creds.client_id} "
                f"({type(exc).__name__})"
            ) from None
        body, granted = token_answer(response)
        if not granted:
            raise AuthError(_token_refusal(creds, response.status_code, body))
        return str(body["access_token"]), float(body.get("expires_in", 3599))


def _token_refusal(creds: AppCredentials, status: int, body: dict) -> str:
    """What went wrong and what the admin does about it (no secret in it)."""
    error = str(body.get("error", f"HTTP {status}"))
    description = str(body.get("error_description", "")).split("\r\n")[0][:300]
    action = {
        "invalid_client": "check the client secret (its value, not its id) or the "
        "certificate in the Airflow Connection, and that it has not expired",
        "unauthorized_client": "check the client id and that the app is registered in this tenant",
        "invalid_scope": "the scope must be a resource followed by /.default",
        "invalid_request": "check the tenant id",
    }.get(error, "see the error description")
    return (
        f"Microsoft identity platform refused app {creds.client_id} in tenant "
        f"{creds.tenant_id}: {error}: {description} ({action})"
    )


class ExchangeImapTokens:
    """App-only tokens for IMAP with XOAUTH2 against Exchange Online.

    `token(mailbox)` gives the bearer token for `AUTHENTICATE XOAUTH2` as `mailbox`
    (user=<mailbox>\\x01auth=Bearer <token>\\x01\\x01). The app's service principal must
    be registered in Exchange (New-ServicePrincipal) and given FullAccess to the
    mailbox (Add-MailboxPermission); the token is the same for every mailbox.
    """

    def __init__(self, credentials: AppCredentials, **kwargs) -> None:
        self._provider = TokenProvider(credentials, EXCHANGE_IMAP_SCOPE, **kwargs)

    def token(self, mailbox: str) -> str:
        return self._provider.access_token()
