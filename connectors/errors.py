"""Errors raised by connectors; messages never contain credentials."""


class ConnectorError(Exception):
    """A source could not be read; the message names the system, request and reason."""


class ApiError(ConnectorError):
    """The API answered with an error status that retrying will not fix."""

    def __init__(self, system: str, method: str, path: str, status: int, detail: str) -> None:
        self.system = system
        self.status = status
        self.path = path
        super().__init__(f"{system} {method} {path} failed with HTTP {status}: {detail}")


class RetriesExhausted(ConnectorError):
    """Transient failures (429, 5xx, timeouts, truncated bodies) outlasted the retry budget."""


class DeliveryUncertain(ConnectorError):
    """A send broke off after the receiver may have accepted it: it must not be sent
    again blindly (someone checks whether it arrived)."""
