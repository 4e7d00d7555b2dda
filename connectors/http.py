"""A JSON-over-HTTP client that paces requests and retries what is worth retrying.

Shared by the SaaS connectors (Asana, HubSpot, Microsoft Graph): 429 waits exactly
`Retry-After` (as does a 5xx that sends one), other 5xx, timeouts and truncated bodies
back off exponentially, and a token bucket keeps the client under the provider's
per-token budget before it ever sees a 429.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import requests

from connectors.errors import ApiError, ConnectorError, RetriesExhausted

log = logging.getLogger(__name__)

RETRYABLE_STATUS = frozenset({500, 502, 503, 504})


class TokenBucket:
    """At most `rate_per_minute` acquisitions per minute, with bursts up to `capacity`."""

    def __init__(
        self,
        rate_per_minute: float,
        capacity: float | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if rate_per_minute <= 0:
            raise ValueError("rate_per_minute must be positive")
        self.rate_per_second = rate_per_minute / 60.0
        self.capacity = capacity if capacity is not None else max(1.0, rate_per_minute / 60.0)
        self._tokens = self.capacity
        self._clock = clock
        self._sleep = sleep
        self._updated = clock()
        self._lock = threading.Lock()

    def acquire(self, cost: float = 1.0) -> None:
        """Take `cost` tokens (at most `capacity`), waiting until they are there."""
        if cost > self.capacity:
            raise ValueError(f"cost {cost} exceeds the bucket's capacity {self.capacity}")
        with self._lock:
            while True:
                now = self._clock()
                self._tokens = min(
                    self.capacity, self._tokens + (now - self._updated) * self.rate_per_second
                )
                self._updated = now
                # The tolerance and the floor keep float rounding (a clock at epoch
                # seconds moves in steps of ~1e-7) from turning the wait into a spin.
                if self._tokens >= cost - 1e-6:
                    self._tokens = max(0.0, self._tokens - cost)
                    return
                self._sleep(max((cost - self._tokens) / self.rate_per_second, 1e-3))


@dataclass
class RetryPolicy:
    max_attempts: int = 6
    backoff_base: float = 0.5
    backoff_max: float = 30.0
    max_retry_after: float = 120.0

    def backoff(self, attempt: int) -> float:
        return min(self.backoff_max, self.backoff_base * (2 ** (attempt - 1)))


@dataclass
class ApiStats:
    """Counts for benchmarks and run logs (safe to bump from several threads)."""

    requests: int = 0
    retries: int = 0
    rate_limited: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def bump(self, name: str) -> None:
        with self._lock:
            setattr(self, name, getattr(self, name) + 1)


@dataclass
class JsonApiClient:
    """Authenticated JSON requests against one base URL.

    `system` names the provider in errors and logs; the token is only ever put in
    the Authorization header. `fatal_response`, when set, sees every response first and
    may return an error to raise at once instead of retrying (e.g. a daily-quota 429).
    `max_concurrent` caps the requests in flight at once when threads share the client
    (Asana allows 50 concurrent GETs per token).
    """

    system: str
    base_url: str
    token: str = field(repr=False)
    bucket: TokenBucket | None = None
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    timeout: float = 30.0
    session: requests.Session = field(default_factory=requests.Session)
    sleep: Callable[[float], None] = time.sleep
    stats: ApiStats = field(default_factory=ApiStats)
    fatal_response: Callable[[requests.Response], ConnectorError | None] | None = None
    max_concurrent: int | None = None
    # A faster JSON decoder of the body's bytes (Graph's pages of 500 messages); None:
    # requests' own. It raises a ValueError for a body that is not JSON.
    decode: Callable[[bytes], Any] | None = None

    def __post_init__(self) -> None:
        self.base_url = self.base_url.rstrip("/")
        self._in_flight = threading.BoundedSemaphore(self.max_concurrent or 1_000_000)
        if self.max_concurrent:
            adapter = requests.adapters.HTTPAdapter(pool_maxsize=self.max_concurrent)
            self.session.mount("http://", adapter)
            self.session.mount("https://", adapter)

    def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json_body: Any = None,
        error_detail: Callable[[requests.Response], str] | None = None,
        passthrough_status: frozenset[int] = frozenset(),
    ) -> tuple[int, Any]:
        """Send one logical request, retrying transient failures; return (status, JSON).

        Statuses in `passthrough_status` are returned to the caller instead of raised
        (e.g. Asana's 412 for an expired sync token, 400 for an expired offset).
        """
        url = f"{self.base_url}/{path.lstrip('/')}"
        headers = {"Authorization": f"Bearer {self.token}", "Accept": "application/json"}
        for attempt in range(1, self.retry.max_attempts + 1):
            if self.bucket is not None:
                self.bucket.acquire()
            self.stats.bump("requests")
            wait: float | None = None
            reason = ""
            try:
                with self._in_flight:
                    response = self.session.request(
                        method,
                        url,
                        params=params,
                        json=json_body,
                        headers=headers,
                        timeout=self.timeout,
                    )
            except (requests.Timeout, requests.ConnectionError) as exc:
                reason = type(exc).__name__
                wait = self.retry.backoff(attempt)
            else:
                if self.fatal_response is not None and (fatal := self.fatal_response(response)):
                    raise fatal
                if response.status_code == 429:
                    self.stats.bump("rate_limited")
                    reason = "HTTP 429"
                    wait = _retry_after(response, self.retry)
                elif response.status_code in RETRYABLE_STATUS:
                    reason = f"HTTP {response.status_code}"
                    # A 503 may say when to come back (Microsoft Graph does)
                    wait = (
                        _retry_after(response, self.retry)
                        if "Retry-After" in response.headers
                        else self.retry.backoff(attempt)
                    )
                elif response.status_code >= 400 and response.status_code not in passthrough_status:
                    detail = (error_detail or _default_detail)(response)
                    raise ApiError(self.system, method, path, response.status_code, detail)
                else:
                    try:
                        if self.decode is not None:
                            return response.status_code, self.decode(response.content)
                        return response.status_code, response.json()
                    except (ValueError, requests.exceptions.JSONDecodeError):
                        reason = "truncated or invalid JSON body"
                        wait = self.retry.backoff(attempt)
            if attempt == self.retry.max_attempts:
                break
            self.stats.bump("retries")
            log.warning(
                "%s %s %s: %s; retry %d in %.2fs", self.system, method, path, reason, attempt, wait
            )
            self.sleep(wait)
        raise RetriesExhausted(
            f"{self.system} {method} {path}: gave up after {self.retry.max_attempts} attempts "
            f"(last: {reason})"
        )


def _retry_after(response: requests.Response, policy: RetryPolicy) -> float:
    raw = response.headers.get("Retry-After", "")
    try:
        seconds = float(raw)
    except ValueError:
        return policy.backoff_max
    return min(max(seconds, 0.0), policy.max_retry_after)


def _default_detail(response: requests.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.text[:200]
    return json.dumps(body)[:500]
