"""A real SMTP server (aiosmtpd) on 127.0.0.1 that keeps every message it receives.

Each message is saved byte for byte as `<NNNN>-<message-id>.eml` in `out_dir`; the
envelope (MAIL FROM, RCPT TO) and arrival time go to `index.jsonl` beside them.
Numbering continues after files already there, so a restarted server never
overwrites earlier mail. Recipients listed in `refuse` get a 550, as from a relay
that does not know the mailbox; with `login` set, clients must authenticate first
(AUTH PLAIN/LOGIN, allowed without TLS on loopback).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session

from connectors.mailboxes.headers import message_ids, parse_header_block, unfold
from sandbox.http_server import free_port

INDEX = "index.jsonl"


class SmtpCapture:
    """Serve SMTP on 127.0.0.1 from a background thread; `port` 0 picks a free one."""

    def __init__(
        self,
        out_dir: Path,
        port: int = 0,
        *,
        refuse: Iterable[str] = (),
        login: tuple[str, str] | None = None,
    ) -> None:
        self.out_dir = Path(out_dir)
        self._requested_port = port
        self._handler = _SaveHandler(self.out_dir, {a.lower() for a in refuse})
        self._login = login
        self._controller: Controller | None = None

    @property
    def port(self) -> int:
        if self._controller is None:
            raise RuntimeError("SMTP capture server is not running")
        return self._controller.port

    def start(self) -> None:
        self.out_dir.mkdir(parents=True, exist_ok=True)
        self._handler.count = _last_number(self.out_dir)
        port = self._requested_port or free_port()
        auth = {}
        if self._login is not None:
            auth = {
                "authenticator": _Authenticator(*self._login),
                "auth_required": True,
                "auth_require_tls": False,
            }
        self._controller = Controller(self._handler, hostname="127.0.0.1", port=port, **auth)
        self._controller.start()

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def __enter__(self) -> SmtpCapture:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


class _SaveHandler:
    """aiosmtpd hooks: refuse listed recipients, save accepted messages."""

    def __init__(self, out_dir: Path, refused: set[str]) -> None:
        self.out_dir = out_dir
        self.refused = refused
        self.count = 0

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list
    ) -> str:
        if address.lower() in self.refused:
            return f"550 5.1.1 <{address}>: recipient address rejected: mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        content = envelope.original_content or b""
        self.count += 1
        name = f"{self.count:04d}-{_file_stem(content)}.eml"
        (self.out_dir / name).write_bytes(content)
        entry = {
            "file": name,
            "mail_from": envelope.mail_from,
            "rcpt_tos": list(envelope.rcpt_tos),
            "received_at": datetime.now(UTC).isoformat(),
        }
        with (self.out_dir / INDEX).open("a", encoding="utf-8") as index:
            index.write(json.dumps(entry) + "\n")
        return "250 OK: message saved"


class _Authenticator:
    """Accepts exactly one user name and password."""

    def __init__(self, username: str, password: str) -> None:
        self._expected = (username.encode(), password.encode())

    def __call__(
        self, server: SMTP, session: Session, envelope: Envelope, mechanism: str, auth_data
    ) -> AuthResult:
        if not isinstance(auth_data, LoginPassword):
            return AuthResult(success=False, handled=False)
        given = (auth_data.login, auth_data.password)
        return AuthResult(success=given == self._expected, handled=False)


def _file_stem(content: bytes) -> str:
    """The message's Message-ID, made safe for a file name."""
    for name, value in parse_header_block(content):
        if name.lower() == b"message-id":
            ids = message_ids(unfold(value))
            if ids:
                return re.sub(r"[^A-Za-z0-9@._+-]+", "_", ids[0])[:120]
    return "no-message-id"


def _last_number(out_dir: Path) -> int:
    numbers = (re.match(r"(\d+)-", path.name) for path in out_dir.glob("*.eml"))
    return max((int(match[1]) for match in numbers if match), default=0)
