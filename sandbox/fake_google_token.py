"""A local Google OAuth 2.0 token endpoint: service-account JWT bearer grants and
refresh-token grants, as google-auth's service-account and user credentials use them.

A JWT bearer request (`grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer`,
`assertion=<JWT>`) is checked the way Google checks it: RS256 signature against the
registered service account's public key, `iss` the account's e-mail, `aud` the token
URI, `exp` at most an hour after `iat`, every `scope` granted to the account's client
ID in the domain-wide delegation list, and `sub` an active user of the domain. Answers
are Google's: `{"access_token", "expires_in", "token_type": "Bearer"}`, or
`{"error": "invalid_grant" | "unauthorized_client" | ..., "error_description"}`.
"""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import jwt

JWT_BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer"
TOKEN_LIFETIME = 3599
UNAUTHORIZED_CLIENT = (
    "Client is unauthorized to retrieve access tokens using this method, or client not "
    "authorized for any of the scopes requested."
)


@dataclass(frozen=True)
class AccessToken:
    """What an issued access token lets its bearer do."""

    user: str
    scopes: frozenset[str]
    expires_at: float


@dataclass
class ServiceAccount:
    client_email: str
    client_id: str
    public_key_pem: bytes


@dataclass
class GoogleAuthority:
    """Accounts, delegation grants, refresh tokens and the access tokens issued.

    `delegations` maps a service account's client ID to the scopes an admin granted it
    domain-wide; `active_users` is who may be impersonated (`sub`); `refresh_tokens` maps
    a refresh token to (user, scopes). Tests revoke by editing these.
    """

    token_uri: str = "http://127.0.0.1/token"  # noqa: S105 (a URL)
    accounts: dict[str, ServiceAccount] = field(default_factory=dict)
    delegations: dict[str, set[str]] = field(default_factory=dict)
    active_users: set[str] = field(default_factory=set)
    refresh_tokens: dict[str, tuple[str, frozenset[str]]] = field(default_factory=dict)
    oauth_clients: dict[str, str] = field(default_factory=dict)  # client_id -> secret
    lifetime: int = TOKEN_LIFETIME
    clock: Callable[[], float] = time.time
    issued: dict[str, AccessToken] = field(default_factory=dict)
    grants: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def add_service_account(self, account: ServiceAccount, scopes: set[str]) -> None:
        self.accounts[account.client_email] = account
        self.delegations[account.client_id] = set(scopes)

    def bearer(self, header: str | None) -> AccessToken | None:
        """The live token an `Authorization: Bearer` header carries, if any."""
        if not header or not header.startswith("Bearer "):
            return None
        token = self.issued.get(header[len("Bearer ") :])
        if token is None or token.expires_at <= self.clock():
            return None
        return token

    def expire_all(self) -> None:
        """Every access token issued so far stops working (as after an hour)."""
        with self._lock:
            self.issued.clear()

    def token(self, form: dict[str, str]) -> tuple[int, dict[str, Any]]:
        """Answer one token request (its form fields): (HTTP status, JSON body)."""
        grant = form.get("grant_type")
        if grant == JWT_BEARER:
            answer = self._jwt_grant(form.get("assertion", ""))
        elif grant == "refresh_token":
            answer = self._refresh_grant(form)
        else:
            answer = _error(400, "unsupported_grant_type", f"Invalid grant_type: {grant}")
        if isinstance(answer, AccessToken):
            value = "ya29." + secrets.token_urlsafe(32)
            with self._lock:
                self.issued[value] = answer
                self.grants += 1
            body = {"access_token": value, "expires_in": self.lifetime, "token_type": "Bearer"}
            return 200, body
        return answer

    def introspect(self, token: str, scope: str) -> dict[str, Any]:
        """RFC 7662 introspection: active only while live and granted `scope` (what a
        mail server's OAuth check asks; Google's IMAP wants https://mail.google.com/)."""
        found = self.issued.get(token)
        if found is None or found.expires_at <= self.clock() or scope not in found.scopes:
            return {"active": False}
        return {
            "active": True,
            "email": found.user,
            "scope": " ".join(sorted(found.scopes)),
            "exp": int(found.expires_at),
        }

    def _jwt_grant(self, assertion: str) -> AccessToken | tuple[int, dict[str, Any]]:
        try:
            unverified = jwt.decode(assertion, options={"verify_signature": False})
        except jwt.PyJWTError:
            return _error(400, "invalid_grant", "Invalid JWT: malformed assertion")
        account = self.accounts.get(str(unverified.get("iss")))
        if account is None:
            return _error(400, "invalid_grant", "Invalid JWT Signature.")
        try:
            claims = jwt.decode(
                assertion,
                account.public_key_pem,
                algorithms=["RS256"],
                audience=self.token_uri,
                options={"require": ["iss", "aud", "exp", "iat", "scope"]},
            )
        except jwt.ExpiredSignatureError:
            return _error(400, "invalid_grant", "Invalid JWT: Token must be a short-lived token")
        except jwt.PyJWTError:
            return _error(400, "invalid_grant", "Invalid JWT Signature.")
        if claims["exp"] - claims["iat"] > 3600:
            return _error(400, "invalid_grant", "Invalid JWT: Token must be a short-lived token")
        scopes = frozenset(str(claims["scope"]).split())
        subject = claims.get("sub")
        if subject is None:  # the service account itself: no Gmail without delegation
            return AccessToken(account.client_email, scopes, self.clock() + self.lifetime)
        if not scopes or not scopes <= self.delegations.get(account.client_id, set()):
            return _error(401, "unauthorized_client", UNAUTHORIZED_CLIENT)
        if subject not in self.active_users:
            return _error(400, "invalid_grant", "Invalid email or User ID")
        return AccessToken(subject, scopes, self.clock() + self.lifetime)

    def _refresh_grant(self, form: dict[str, str]) -> AccessToken | tuple[int, dict[str, Any]]:
        client_id = form.get("client_id", "")
        if self.oauth_clients.get(client_id) != form.get("client_secret"):
            return _error(401, "invalid_client", "The OAuth client was not found.")
        stored = self.refresh_tokens.get(form.get("refresh_token", ""))
        if stored is None:
            return _error(400, "invalid_grant", "Token has been expired or revoked.")
        user, scopes = stored
        return AccessToken(user, scopes, self.clock() + self.lifetime)


def _error(status: int, code: str, description: str) -> tuple[int, dict[str, Any]]:
    return status, {"error": code, "error_description": description}
