"""Outgoing email over SMTP: build a status message, send it through a relay.

Messages carry the Message-ID the caller chose, so a re-sent message is recognisable
(by the outbox, and by mail clients that collapse duplicates). Errors name the relay
and the recipients, never the password.
"""

from __future__ import annotations

import hashlib
import re
import smtplib
import ssl
from datetime import UTC, datetime
from email.header import Header
from email.message import EmailMessage
from email.utils import format_datetime, getaddresses

from connectors.errors import ConnectorError, DeliveryUncertain

_LINE_BREAKS = re.compile(r"\s*[\r\n]+\s*")


class SmtpError(ConnectorError):
    """The relay could not be reached, refused the login, or refused the message."""


class SmtpRecipientsRefused(SmtpError):
    """The relay refused every recipient; `refused` maps each to (code, reply)."""

    def __init__(self, message: str, refused: dict[str, tuple[int, str]]) -> None:
        super().__init__(message)
        self.refused = refused


class SmtpOutcomeUnknown(SmtpError, DeliveryUncertain):
    """The connection broke after the message data went out, before the relay's reply."""


class _TrackedSMTP(smtplib.SMTP):
    """Knows whether the DATA command has started: an error before it means the relay
    cannot have accepted the message; an error after it, before the reply, means it may have."""

    data_started = False

    def data(self, msg: bytes | str) -> tuple[int, bytes]:
        self.data_started = True
        return super().data(msg)


class SmtpSender:
    """Sends messages through one SMTP relay; a new connection per message."""

    def __init__(
        self,
        host: str,
        port: int,
        *,
        username: str | None = None,
        password: str | None = None,
        starttls: bool = False,
        timeout: float = 30,
    ) -> None:
        self.host = host
        self.port = port
        self.username = username
        self._password = password
        self.starttls = starttls
        self.timeout = timeout

    def __repr__(self) -> str:
        return f"SmtpSender({self.host!r}, {self.port}, username={self.username!r})"

    def send(self, message: EmailMessage) -> dict[str, tuple[int, str]]:
        """Deliver `message` to its To, Cc and Bcc recipients (Bcc is not transmitted).

        Returns the recipients the relay refused while it accepted the others: the
        message has left, so the caller must not send it again. Raises when nobody
        accepted it: `SmtpOutcomeUnknown` when the connection broke after the message
        data went out (it may have been accepted), another `SmtpError` otherwise.
        """
        recipients = _recipients(message)
        where = f"SMTP {self.host}:{self.port}"
        what = f"message {message['Message-ID']} to {', '.join(recipients) or '(nobody)'}"
        smtp = None
        try:
            smtp = _TrackedSMTP(self.host, self.port, timeout=self.timeout)
            with smtp:
                if self.starttls:
                    smtp.starttls(context=ssl.create_default_context())
                if self.username:
                    smtp.login(self.username, self._password or "")
                refused = smtp.send_message(message)
        except smtplib.SMTPRecipientsRefused as exc:
            raise SmtpRecipientsRefused(
                f"{where} refused every recipient of {what}: {_replies(exc.recipients)}",
                _decoded(exc.recipients),
            ) from exc
        except smtplib.SMTPAuthenticationError as exc:
            # Not chained: some servers echo the AUTH exchange in their reply.
            raise SmtpError(
                f"{where} rejected the login of {self.username!r} for {what}: "
                f"{exc.smtp_code} {_text(exc.smtp_error)}"
            ) from None
        except smtplib.SMTPResponseException as exc:
            raise SmtpError(
                f"{where} refused {what}: {exc.smtp_code} {_text(exc.smtp_error)}"
            ) from exc
        except OSError as exc:  # smtplib.SMTPException is an OSError
            if smtp is not None and smtp.data_started:
                raise SmtpOutcomeUnknown(
                    f"{where} dropped the connection after the data of {what} went out, "
                    f"before replying ({exc}): check the relay's log for this Message-ID "
                    "before sending it again"
                ) from exc
            raise SmtpError(f"{where} could not send {what}: {exc}") from exc
        return _decoded(refused)


def _recipients(message: EmailMessage) -> list[str]:
    fields = [str(v) for name in ("To", "Cc", "Bcc") for v in message.get_all(name, [])]
    return [address for _, address in getaddresses(fields) if address]


def _text(reply: bytes | str) -> str:
    return reply.decode("utf-8", "replace") if isinstance(reply, bytes) else reply


def _decoded(refused: dict[str, tuple[int, bytes]]) -> dict[str, tuple[int, str]]:
    return {address: (code, _text(reply)) for address, (code, reply) in refused.items()}


def _replies(refused: dict[str, tuple[int, bytes]]) -> str:
    return "; ".join(f"{a} ({code} {reply})" for a, (code, reply) in _decoded(refused).items())


def build_message(
    *,
    from_addr: str,
    to: list[str],
    subject: str,
    text: str,
    html: str,
    message_id: str,
    headers: dict[str, str] | None = None,
) -> EmailMessage:
    """A UTF-8 multipart/alternative message (plain text, then HTML).

    `message_id` is used as given (angle brackets added when missing); `headers` adds
    or replaces fields, e.g. In-Reply-To or Auto-Submitted. Line breaks in header values
    (a client name from the config, say) become spaces: they can neither break the
    message nor add a header. Given the same Date, the same arguments build the same bytes.
    """
    if not to:
        raise ValueError("a message needs at least one recipient")
    message = EmailMessage()
    message["From"] = _one_line(from_addr)
    message["To"] = _one_line(", ".join(to))
    _set_subject(message, _one_line(subject))
    message["Date"] = format_datetime(datetime.now(UTC))
    message["Message-ID"] = message_id if message_id.startswith("<") else f"<{message_id}>"
    for name, value in (headers or {}).items():
        del message[name]
        message[name] = _one_line(value)
    message.set_content(text, subtype="plain", charset="utf-8", cte=_transfer_encoding(text))
    message.add_alternative(html, subtype="html", charset="utf-8", cte=_transfer_encoding(html))
    # Derived from the Message-ID, so a re-built message is byte-identical; "=_" cannot
    # occur in quoted-printable or base64 parts.
    message.set_boundary("=_" + hashlib.sha256(message["Message-ID"].encode()).hexdigest()[:32])
    return message


def _set_subject(message: EmailMessage, subject: str) -> None:
    """Set a Subject that arrives exactly as written.

    Python 3.11's header folder drops the space where it folds between two RFC 2047
    encoded words: "Зоряне Небо Івент: звіт за місяць" arrives as "…звітза місяць".
    The legacy `Header` encoder splits inside the words, spaces included, and the
    result is stored pre-folded (`set_raw`), lines under 78 characters, so it is sent
    as encoded.
    """
    if subject.isascii():
        message["Subject"] = subject
    else:
        message.set_raw("Subject", Header(subject, "utf-8", header_name="Subject").encode())


def _one_line(value: str) -> str:
    return _LINE_BREAKS.sub(" ", value).strip()


def _transfer_encoding(text: str) -> str:
    """7-bit safe either way: quoted-printable reads better when most of it is ASCII."""
    ascii_share = sum(char.isascii() for char in text) / max(len(text), 1)
    return "quoted-printable" if ascii_share > 0.8 else "base64"
