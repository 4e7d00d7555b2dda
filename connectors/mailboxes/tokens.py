"""Where mail connectors get OAuth access tokens: one interface for every provider.

The Gmail API, IMAP with XOAUTH2 / OAUTHBEARER and (beside it) Microsoft Graph all take a
bearer token for one mailbox from a `TokenProvider`; how the token is obtained (a
Google service account with domain-wide delegation, a user's refresh token, an Exchange
Online app) is the provider's business. Tokens are secrets: never logged, never in
errors.
"""

from __future__ import annotations

from typing import Any, Protocol

import requests

from connectors.errors import ConnectorError


def token_answer(response: requests.Response) -> tuple[dict[str, Any], bool]:
    """A token endpoint's JSON body ({} when it sent none) and whether it granted a token."""
    try:
        body = response.json()
    except ValueError:
        body = {}
    return body, response.status_code == 200 and "access_token" in body


class TokenProvider(Protocol):
    """Access tokens for one mailbox."""

    mailbox: str

    def token(self, *, refresh: bool = False) -> str:
        """A live access token; `refresh` asks for a new one (the last was refused)."""
        ...


class GrantRefused(ConnectorError):
    """The token endpoint refused to issue a token for a mailbox: an admin must act."""

    def __init__(self, mailbox: str, error: str, hint: str) -> None:
        self.mailbox = mailbox
        self.error = error
        super().__init__(f"mailbox {mailbox}: the token endpoint answered {error}; {hint}")
