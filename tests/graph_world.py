"""A Microsoft 365 tenant served by the Graph fake, and an agency config reading it."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from email.utils import format_datetime
from pathlib import Path

import yaml

from clientpulse.config import AgencyConfig, load_config
from connectors.mailboxes.graph.auth import AppCredentials
from sandbox.fake_graph import READ, READ_BASIC, GraphFaults, GraphTenant, create_app
from sandbox.http_server import serving
from tests.factories import AS_OF, FIXTURE

TENANT = "8f0c1f3e-5c1b-4e53-9a43-7b9f4f2a0001"
CLIENT_ID = "3b2b9b4c-0d6e-4f1a-8f59-3a1f0c2d0002"
SECRET = "Zq8~fake-secret-value-0003"


def mail(
    key: str,
    sender: str,
    to: str,
    hours_ago: float,
    *,
    subject: str = "Question",
    irt: str | None = None,
    body: str = "Could you have a look?",
    extra: str = "",
) -> bytes:
    """One RFC 5322 message sent `hours_ago` before AS_OF."""
    from datetime import timedelta

    sent = AS_OF - timedelta(hours=hours_ago)
    lines = [
        f"Received: from mx.example.test; {format_datetime(sent)}",
        f"From: {sender}",
        f"To: {to}",
        f"Subject: {subject}",
        f"Date: {format_datetime(sent)}",
        f"Message-ID: <{key}@mail.test>",
    ]
    if irt:
        lines += [f"In-Reply-To: <{irt}@mail.test>", f"References: <{irt}@mail.test>"]
    if extra:
        lines.append(extra)
    lines += ["Content-Type: text/plain; charset=utf-8", "", body, ""]
    return "\r\n".join(lines).encode()


def graph_config(folder: Path, mailboxes: list[str], **account) -> AgencyConfig:
    raw = yaml.safe_load(FIXTURE.read_text(encoding="utf-8"))
    raw["sources"]["mailboxes"] = {
        "mbox": [],
        "graph": [{"mailboxes": mailboxes, "page_size": 3, **account}],
    }
    path = folder / "agency.yaml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    return load_config(path)


@dataclass
class Tenant:
    tenant: GraphTenant
    faults: GraphFaults
    app: object
    base_url: str

    def credentials(self, _account=None) -> AppCredentials:
        return AppCredentials(
            TENANT,
            CLIENT_ID,
            client_secret=SECRET,
            login_url=self.base_url,
            graph_url=f"{self.base_url}/v1.0",
        )


@contextmanager
def graph_tenant(
    mailboxes: dict[str, list[bytes]],
    *,
    permissions: tuple[str, ...] = (READ_BASIC,),
    extra_folders: tuple[str, ...] = (),
    faults: GraphFaults | None = None,
) -> Iterator[Tenant]:
    tenant = GraphTenant(TENANT)
    tenant.register_app(CLIENT_ID, secret=SECRET, permissions=permissions)
    for address, messages in mailboxes.items():
        tenant.add_mailbox(address, extra_folders)
        for raw in messages:
            tenant.add(address, raw)
    faults = faults or GraphFaults()
    app = create_app(tenant, faults=faults)
    with serving(app) as server:
        yield Tenant(tenant, faults, app, server.base_url)


__all__ = ["READ", "READ_BASIC", "Tenant", "graph_config", "graph_tenant", "mail"]
