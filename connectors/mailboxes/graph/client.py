"""Microsoft Graph mail calls for one mailbox: delta pages, with throttling honoured.

Built on `connectors.http.JsonApiClient` (Retry-After on 429 and 503, backoff on other
5xx, a token bucket): one client per mailbox, so each mailbox has its own request budget
and at most `max_concurrent` (Exchange allows 4) requests in flight. A 401 for an expired
token fetches a new one and repeats the request once. Errors that retrying cannot fix
name the mailbox and what the admin must do.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, urlsplit

import msgspec
import requests

from connectors.errors import ApiError, ConnectorError
from connectors.http import ApiStats, JsonApiClient, TokenBucket

from .auth import GRAPH_URL, TokenProvider


class MailboxUnavailable(ConnectorError):
    """One mailbox cannot be read (consent, access policy, no such mailbox); the others can."""


class SyncStateExpired(ConnectorError):
    """Graph no longer knows the delta or skip token (410 Gone): the folder must resync."""


@dataclass(frozen=True)
class DeltaPage:
    messages: list[dict[str, Any]]
    next_link: str | None  # relative to the Graph base URL
    delta_link: str | None


def _error(response: requests.Response) -> tuple[str, str]:
    try:
        error = response.json().get("error") or {}
    except (ValueError, AttributeError):
        error = {}
    return str(error.get("code", "")), str(error.get("message", ""))[:300]


def unavailable(mailbox: str, status: int, code: str, message: str) -> MailboxUnavailable | None:
    """The per-mailbox refusals, with the admin's action; None for other errors."""
    if status == 403 and "AccessPolicy" in message:
        action = (
            "an application access policy leaves it out: add the mailbox to the policy's "
            "mail-enabled security group (Test-ApplicationAccessPolicy shows the verdict)"
        )
    elif status == 403:
        action = (
            "access denied: grant admin consent for Mail.ReadBasic.All (or Mail.Read) "
            "to the app in Microsoft Entra ID, or restore the access that was revoked"
        )
    elif status == 404:
        action = (
            "no such mailbox: check the address, that the user has an Exchange Online "
            "licence, or that the shared mailbox exists"
        )
    else:
        return None
    return MailboxUnavailable(f"mailbox {mailbox}: {action} (Graph {status} {code}: {message})")


@dataclass
class GraphMailClient:
    """Delta reads of one mailbox's folders."""

    mailbox: str
    tokens: TokenProvider
    base_url: str = GRAPH_URL
    page_size: int = 500
    max_concurrent: int = 4
    requests_per_minute: float = 1000.0
    stats: ApiStats = field(default_factory=ApiStats)
    sleep: Any = None

    def __post_init__(self) -> None:
        session = requests.Session()
        session.headers["Prefer"] = f"odata.maxpagesize={self.page_size}"
        extra = {"sleep": self.sleep} if self.sleep is not None else {}
        self._api = JsonApiClient(
            "Microsoft Graph",
            self.base_url,
            token="",
            bucket=TokenBucket(self.requests_per_minute, capacity=self.max_concurrent),
            session=session,
            stats=self.stats,
            max_concurrent=self.max_concurrent,
            decode=msgspec.json.decode,  # a page of 500 messages in a third of json's time
            **extra,
        )

    def first_page(self, folder: str, select: list[str]) -> DeltaPage:
        path = (
            f"users/{quote(self.mailbox)}/mailFolders/{quote(folder, safe='')}/messages/delta"
            f"?$select={','.join(select)}"
        )
        return self.page(path)

    def page(self, link: str) -> DeltaPage:
        """One delta page from a first path, or a stored next or delta link."""
        body = self._get(self.relative(link))
        return DeltaPage(
            list(body.get("value", [])),
            self.relative(body.get("@odata.nextLink")),
            self.relative(body.get("@odata.deltaLink")),
        )

    def relative(self, link: str | None) -> str | None:
        """A link without the scheme and host, so a cursor outlives a moved base URL."""
        if link is None:
            return None
        base_path = urlsplit(self.base_url).path.rstrip("/")
        parts = urlsplit(link)
        path = parts.path if parts.scheme else link.split("?", 1)[0]
        query = parts.query if parts.scheme else [*link.split("?", 1), ""][1]
        path = path.removeprefix(base_path).lstrip("/") if parts.scheme else path
        return f"{path}?{query}" if query else path

    def _get(self, path: str) -> dict[str, Any]:
        for attempt in (1, 2):
            token = self.tokens.access_token()
            self._api.token = token
            try:
                status, body = self._api.request(
                    "GET", path, error_detail=_detail, passthrough_status=frozenset({401, 410})
                )
            except ApiError as exc:
                raise self._refusal(exc) from None
            if status == 410:
                raise SyncStateExpired(f"mailbox {self.mailbox}: {body}")
            if status == 401:
                code = (body.get("error") or {}).get("code", "")
                self.tokens.invalidate(token)
                if attempt == 2:
                    raise ConnectorError(
                        f"mailbox {self.mailbox}: Graph refused a fresh token (401 {code})"
                    )
                continue
            return body
        raise AssertionError("unreachable")

    def _refusal(self, exc: ApiError) -> ConnectorError:
        code, _, message = str(exc).partition(": ")[2].partition(" | ")
        refusal = unavailable(self.mailbox, exc.status, code, message)
        return refusal if refusal is not None else exc


def _detail(response: requests.Response) -> str:
    code, message = _error(response)
    return f"{code} | {message}"
