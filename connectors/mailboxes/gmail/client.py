"""Gmail API calls for one mailbox, paced by Gmail's per-user quota units.

Every call spends its method's quota units from a token bucket per mailbox before it
is sent (a batch spends its requests' units), so a first sync of many mailboxes stays
under Gmail's 250 units a second per user instead of meeting 429s. 429 and 403
`rateLimitExceeded` / `userRateLimitExceeded` wait `Retry-After`; 5xx, timeouts and
truncated bodies back off exponentially; 401 asks for a new token once. A batch
(`multipart/mixed`, Gmail's batch endpoint) retries only its parts that failed.
"""

from __future__ import annotations

import json
import logging
import re
import secrets
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

import requests

from connectors.errors import ApiError, ConnectorError, RetriesExhausted
from connectors.http import RETRYABLE_STATUS, ApiStats, RetryPolicy, TokenBucket
from connectors.mailboxes.tokens import TokenProvider

log = logging.getLogger(__name__)

GMAIL_BASE_URL = "https://gmail.googleapis.com"
API_PATH = "/gmail/v1/users/me"
BATCH_PATH = "/batch/gmail/v1"
# Gmail's quota units per method (developers.google.com/gmail/api/reference/quota).
UNITS = {"getProfile": 1, "messages.list": 5, "messages.get": 5, "history.list": 2}
UNITS_PER_SECOND = 250.0
BATCH_SIZE = 50  # Gmail advises at most 50 requests a batch
RATE_REASONS = frozenset({"rateLimitExceeded", "userRateLimitExceeded"})


class NotFound(ConnectorError):
    """404: a message deleted meanwhile, or a `startHistoryId` too old to be kept."""


@dataclass
class GmailClient:
    """Authenticated, quota-paced calls against one mailbox (`userId` = me)."""

    tokens: TokenProvider
    base_url: str = GMAIL_BASE_URL
    units_per_second: float = UNITS_PER_SECOND
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    timeout: float = 60.0
    session: requests.Session = field(default_factory=requests.Session)
    sleep: Callable[[float], None] = time.sleep
    stats: ApiStats = field(default_factory=ApiStats)
    bucket: TokenBucket | None = None

    def __post_init__(self) -> None:
        self.base_url = self.base_url.rstrip("/")
        if self.bucket is None:
            self.bucket = TokenBucket(self.units_per_second * 60, capacity=self.units_per_second)
        self.mailbox = self.tokens.mailbox
        # A batch spends its requests' units at once: no more than the bucket holds.
        self.batch_size = max(
            1, min(BATCH_SIZE, int(self.bucket.capacity // UNITS["messages.get"]))
        )

    def call(self, method: str, path: str, params: Iterable[tuple[str, str]] = ()) -> Any:
        """One GET under /gmail/v1/users/me (`method` names it for the quota)."""
        query = list(params)
        refreshed = False
        for attempt in range(1, self.retry.max_attempts + 1):
            self.bucket.acquire(UNITS[method])
            status, body, headers = self._send("GET", API_PATH + path, query)
            if status == 200 and body is not None:
                return body
            if status == 401 and not refreshed:  # expired or revoked: one new token
                refreshed = True
                self.tokens.token(refresh=True)
                continue
            self._fail_or_wait(method, status, body, headers, attempt)
        raise RetriesExhausted(f"Gmail {method} ({self.mailbox}): gave up after retries")

    def get_messages(
        self, ids: Sequence[str], params: Iterable[tuple[str, str]]
    ) -> dict[str, Any | None]:
        """messages.get for each id through the batch endpoint; None for one deleted."""
        query = list(params)
        found: dict[str, Any | None] = {}
        pending = list(ids)
        refreshed = False
        for attempt in range(1, self.retry.max_attempts + 1):
            waits: list[float] = [0.0]
            unauthorized = False
            for start in range(0, len(pending), self.batch_size):
                chunk = pending[start : start + self.batch_size]
                self.bucket.acquire(UNITS["messages.get"] * len(chunk))
                for message_id, (status, body, headers) in zip(
                    chunk, self._batch(chunk, query), strict=True
                ):
                    if status == 200 and body is not None:
                        found[message_id] = body
                    elif status == 404:
                        found[message_id] = None
                    elif status == 401 and not refreshed:
                        unauthorized = True
                    else:
                        waits.append(self._wait_for(status, body, headers, attempt, "messages.get"))
            if unauthorized:  # expired or revoked: one new token
                refreshed = True
                self.tokens.token(refresh=True)
            pending = [i for i in pending if i not in found]
            if not pending:
                return found
            if attempt < self.retry.max_attempts:
                self.stats.bump("retries")
                wait = max(waits)
                log.warning(
                    "Gmail batch messages.get (%s): %d of %d failed; retry in %.2fs",
                    self.mailbox,
                    len(pending),
                    len(ids),
                    wait,
                )
                self.sleep(wait)
        raise RetriesExhausted(
            f"Gmail messages.get ({self.mailbox}): {len(pending)} messages still failing "
            f"after {self.retry.max_attempts} attempts"
        )

    # --- HTTP ------------------------------------------------------------------------

    def _headers(self) -> dict[str, str]:
        return {"Authorization": "Bearer " + self.tokens.token()}

    def _send(
        self, verb: str, path: str, query: list[tuple[str, str]]
    ) -> tuple[int, Any, Mapping[str, str]]:
        self.stats.bump("requests")
        try:
            response = self.session.request(
                verb,
                self.base_url + path,
                params=query,
                headers=self._headers(),
                timeout=self.timeout,
            )
        except (requests.Timeout, requests.ConnectionError) as exc:
            return 0, {"reason": type(exc).__name__}, {}
        try:
            return response.status_code, response.json(), response.headers
        except ValueError:
            return (response.status_code if response.status_code != 200 else 0), None, {}

    def _batch(
        self, ids: Sequence[str], query: list[tuple[str, str]]
    ) -> list[tuple[int, Any, Mapping[str, str]]]:
        boundary = "batch_" + secrets.token_hex(12)
        suffix = "?" + urlencode(query) if query else ""
        parts = [
            f"--{boundary}\r\nContent-Type: application/http\r\nContent-ID: <item-{n}>\r\n\r\n"
            f"GET {API_PATH}/messages/{message_id}{suffix}\r\n\r\n"
            for n, message_id in enumerate(ids)
        ]
        body = ("".join(parts) + f"--{boundary}--\r\n").encode()
        self.stats.bump("requests")
        headers = {**self._headers(), "Content-Type": f"multipart/mixed; boundary={boundary}"}
        failed = (0, None, {})
        try:
            response = self.session.post(
                self.base_url + BATCH_PATH, data=body, headers=headers, timeout=self.timeout
            )
        except (requests.Timeout, requests.ConnectionError):
            return [failed] * len(ids)
        if response.status_code != 200:
            try:
                answer = response.json()
            except ValueError:
                answer = None
            return [(response.status_code, answer, response.headers)] * len(ids)
        answers = _batch_answers(response)
        # Parts answer in any order, named by Content-ID; a missing one is tried again.
        return [answers.get(f"response-item-{n}", failed) for n in range(len(ids))]

    def _fail_or_wait(
        self, method: str, status: int, body: Any, headers: Mapping[str, str], attempt: int
    ) -> None:
        wait = self._wait_for(status, body, headers, attempt, method)
        if attempt < self.retry.max_attempts:
            self.stats.bump("retries")
            log.warning(
                "Gmail %s (%s): HTTP %s; retry %d in %.2fs", method, self.mailbox, status,
                attempt, wait,
            )  # fmt: skip
            self.sleep(wait)

    def _wait_for(
        self, status: int, body: Any, headers: Mapping[str, str], attempt: int, method: str
    ) -> float:
        """How long to wait before retrying, or raise when retrying will not help."""
        if status == 404:
            raise NotFound(f"Gmail {method} ({self.mailbox}): HTTP 404 {_message(body)}")
        if status == 429 or (status == 403 and _reason(body) in RATE_REASONS):
            self.stats.bump("rate_limited")
            try:
                seconds = float(headers.get("Retry-After", ""))
            except ValueError:
                seconds = self.retry.backoff(attempt)
            return min(max(seconds, 0.0), self.retry.max_retry_after)
        if status == 0 or status in RETRYABLE_STATUS:
            return self.retry.backoff(attempt)
        raise ApiError("Gmail", "GET", f"{method} ({self.mailbox})", status, _message(body))


def _reason(body: Any) -> str | None:
    try:
        return body["error"]["errors"][0]["reason"]
    except (KeyError, IndexError, TypeError):
        return None


def _message(body: Any) -> str:
    try:
        return str(body["error"]["message"])[:300]
    except (KeyError, TypeError):
        return json.dumps(body)[:300] if body is not None else "(no body)"


_STATUS_LINE = re.compile(rb"^HTTP/1\.[01] (\d{3})")
_CONTENT_ID = re.compile(rb"(?im)^Content-ID:\s*<([^>]*)>")


def _batch_answers(response: requests.Response) -> dict[str, tuple[int, Any, Mapping[str, str]]]:
    """The inner responses of a multipart/mixed batch answer, by Content-ID."""
    found = re.search(r'boundary="?([^";]+)"?', response.headers.get("Content-Type", ""))
    if found is None:
        return {}
    answers: dict[str, tuple[int, Any, Mapping[str, str]]] = {}
    for chunk in response.content.split(b"--" + found[1].encode())[1:]:
        if chunk.startswith(b"--"):
            break
        part_head, _, inner = chunk.lstrip(b"\r\n").partition(b"\r\n\r\n")
        content_id = _CONTENT_ID.search(part_head)
        head, _, payload = inner.partition(b"\r\n\r\n")
        status = _STATUS_LINE.match(head)
        headers = {}
        for line in head.decode("latin-1").split("\r\n")[1:]:
            name, _, value = line.partition(":")
            headers[name.strip()] = value.strip()
        try:
            body = json.loads(payload) if payload.strip() else None
        except ValueError:
            body = None
        if content_id:
            answers[content_id[1].decode()] = (int(status[1]) if status else 0, body, headers)
    return answers
