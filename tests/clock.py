"""A clock for tests of pacing and rate limits: time moves only when someone sleeps."""

from __future__ import annotations


class FakeClock:
    """Callable as a monotonic clock; `sleep` records the wait and advances time."""

    def __init__(self, start: float = 0.0) -> None:
        self.now = start
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds
