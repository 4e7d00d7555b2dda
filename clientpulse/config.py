"""The agency configuration: one YAML file, validated on load.

`CLIENTPULSE_CONFIG` names the file; without it the bundled demo config is used.
Relative paths in the file are resolved against the file's own folder, so a config
works the same from any working directory (Airflow workers included). Secrets never
live here: the config names Airflow Connections, and credentials come from those.
"""

from __future__ import annotations

import os
import re
from datetime import date, time
from pathlib import Path
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

# libyaml's safe loader parses ~6x faster; DAG files load the config at parse time.
_YamlLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEMO_CONFIG = PROJECT_ROOT / "config" / "demo.yaml"
CONFIG_ENV = "CLIENTPULSE_CONFIG"

Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
WEEKDAYS: tuple[str, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
Identifier = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_-]*$", max_length=64)]
Domain = Annotated[str, Field(pattern=r"^[a-z0-9.-]+\.[a-z0-9-]+$")]
Email = Annotated[str, Field(pattern=r"^[^@\s<>]+@[a-z0-9.-]+\.[a-z0-9-]+$")]


class ConfigError(ValueError):
    """The config file is invalid; the message names the file, the key and the problem."""


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _check_timezone(value: str | None) -> str | None:
    if value is None:
        return None
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"unknown time zone {value!r}") from exc
    return value


class BusinessHours(_Model):
    days: list[Weekday] = ["mon", "tue", "wed", "thu", "fri"]
    start: time = time(9, 0)
    end: time = time(18, 0)

    @model_validator(mode="after")
    def _start_before_end(self) -> BusinessHours:
        if self.start >= self.end:
            raise ValueError("start must be before end")
        return self


class Agency(_Model):
    name: str
    timezone: str
    holiday_country: Annotated[str, Field(pattern=r"^[A-Z]{2}$")]
    business_hours: BusinessHours = BusinessHours()
    internal_domains: list[Domain] = Field(min_length=1)
    days_off: list[date] = []

    _tz = field_validator("timezone")(_check_timezone)


class Warehouse(_Model):
    path: Path
    snapshot_path: Path


class AsanaSource(_Model):
    enabled: bool = True
    connection_id: str = "clientpulse_asana"
    workspace_gid: str
    requests_per_minute: float = Field(1500, gt=0)
    # Asana allows at most 50 concurrent GET requests per token.
    max_concurrent_requests: int = Field(50, ge=1, le=50)
    # How often the gid-only listing looks for deleted and moved tasks (and re-walks
    # subtasks, whose edits do not modify their parent).
    reconcile_every_hours: float = Field(24, gt=0)
    # Read each project's Events API stream between reconciliations: deletes and moves
    # are then seen at once; an expired sync token forces a reconciliation.
    use_events: bool = False


class MboxFile(_Model):
    path: Path
    mailbox: Email


class ImapMailbox(_Model):
    connection_id: str
    mailbox: Email
    folders: list[str] = ["INBOX"]


class MailboxSource(_Model):
    enabled: bool = True
    mbox: list[MboxFile] = []
    imap: list[ImapMailbox] = []


class CrmSource(_Model):
    enabled: bool = True
    kind: Literal["hubspot"] = "hubspot"
    connection_id: str = "clientpulse_hubspot"


class Sources(_Model):
    asana: AsanaSource | None = None
    mailboxes: MailboxSource | None = None
    crm: CrmSource | None = None

    def enabled(self, name: Literal["asana", "mailboxes", "crm"]) -> bool:
        source = getattr(self, name)
        return source is not None and source.enabled


class SlackDelivery(_Model):
    connection_id: str = "clientpulse_slack"
    leadership_channel: str
    ops_channel: str


class EmailDelivery(_Model):
    connection_id: str = "clientpulse_smtp"
    from_address: str


class Delivery(_Model):
    dry_run: bool = False
    dry_run_dir: Path
    slack: SlackDelivery
    email: EmailDelivery


class SlaTarget(_Model):
    first_reply_business_hours: float = Field(gt=0)


class SlaPolicies(_Model):
    default_tier: Identifier
    tiers: dict[Identifier, SlaTarget] = Field(min_length=1)
    prospect: SlaTarget

    @model_validator(mode="after")
    def _default_tier_exists(self) -> SlaPolicies:
        if self.default_tier not in self.tiers:
            raise ValueError(f"default_tier {self.default_tier!r} is not one of the tiers")
        return self


class AtRiskThresholds(_Model):
    overdue_tasks: int = Field(3, ge=1)
    contact_gap_cadence_multiple: float = Field(2.0, gt=0)
    first_reply_compliance_below: float = Field(0.8, ge=0, le=1)


class Signals(_Model):
    at_risk: AtRiskThresholds = AtRiskThresholds()


class ClientStatusFields(_Model):
    """Where the weekly client status finds its reasons, by Asana custom field or section
    name (matched exactly; the first field with a value wins)."""

    reason_fields: list[str] = ["Status reason", "Reason"]
    justification_fields: list[str] = ["Why needed", "Justification"]
    cancelled_sections: list[str] = ["Cancelled"]
    not_started_sections: list[str] = ["Backlog", "On hold"]


class AccountManager(_Model):
    id: Identifier
    name: str
    email: Email
    slack_user_id: str | None = None


class Client(_Model):
    id: Identifier
    name: str
    email_domains: list[Domain] = []
    contact_addresses: list[Email] = []
    asana_projects: list[str] = []
    crm_company_id: str | None = None
    account_manager: Identifier
    report_recipients: list[Email] = []
    language: Literal["en", "uk", "ru"] = "en"
    tier: Identifier | None = None
    stage: Literal["prospect", "customer"] = "customer"
    contact_cadence_days: int = Field(7, ge=1)
    timezone: str | None = None

    _tz = field_validator("timezone")(_check_timezone)


class AgencyConfig(_Model):
    """The whole validated config. `source_path` is the file it came from."""

    agency: Agency
    warehouse: Warehouse
    sources: Sources
    delivery: Delivery
    sla_policies: SlaPolicies
    signals: Signals = Signals()
    client_status: ClientStatusFields = ClientStatusFields()
    account_managers: list[AccountManager] = Field(min_length=1)
    clients: list[Client] = Field(min_length=1)
    source_path: Path | None = None

    @model_validator(mode="after")
    def _cross_references(self) -> AgencyConfig:
        managers = {m.id for m in self.account_managers}
        _unique("account_managers", [m.id for m in self.account_managers])
        _unique("clients", [c.id for c in self.clients])
        _unique("clients[].email_domains", [d for c in self.clients for d in c.email_domains])
        _unique("clients[].asana_projects", [p for c in self.clients for p in c.asana_projects])
        internal = set(self.agency.internal_domains)
        for index, client in enumerate(self.clients):
            where = f"clients[{index}] ({client.id})"
            if client.account_manager not in managers:
                raise ValueError(
                    f"{where}.account_manager: {client.account_manager!r} is not an account manager"
                )
            if client.tier is not None and client.tier not in self.sla_policies.tiers:
                raise ValueError(f"{where}.tier: {client.tier!r} is not a tier in sla_policies")
            clash = internal.intersection(client.email_domains)
            if clash:
                raise ValueError(f"{where}.email_domains: {sorted(clash)} is an internal domain")
        return self

    def client(self, client_id: str) -> Client:
        for client in self.clients:
            if client.id == client_id:
                return client
        raise KeyError(client_id)

    def manager(self, manager_id: str) -> AccountManager:
        return next(m for m in self.account_managers if m.id == manager_id)

    def first_reply_target_minutes(self, client: Client) -> float:
        """Target in business minutes: the prospect policy, else the client's tier."""
        if client.stage == "prospect":
            return self.sla_policies.prospect.first_reply_business_hours * 60
        tier = client.tier or self.sla_policies.default_tier
        return self.sla_policies.tiers[tier].first_reply_business_hours * 60


def _unique(key: str, values: list[str]) -> None:
    seen: set[str] = set()
    for value in values:
        if value in seen:
            raise ValueError(f"{key}: {value!r} appears more than once")
        seen.add(value)


_PATH_FIELDS = re.compile(r"(^|\.)(path|snapshot_path|dry_run_dir)$")


def _resolve_paths(node: object, base: Path, key: str = "") -> object:
    if isinstance(node, dict):
        return {k: _resolve_paths(v, base, f"{key}.{k}" if key else k) for k, v in node.items()}
    if isinstance(node, list):
        return [_resolve_paths(v, base, key) for v in node]
    if isinstance(node, str) and _PATH_FIELDS.search(key):
        path = Path(os.path.expanduser(node))
        return str(path if path.is_absolute() else (base / path).resolve())
    return node


def config_path() -> Path:
    """The file `CLIENTPULSE_CONFIG` names, else the bundled demo config."""
    return Path(os.environ.get(CONFIG_ENV) or DEMO_CONFIG).resolve()


def load_config(path: Path | str | None = None) -> AgencyConfig:
    """Read and validate a config file; raise ConfigError naming file, key and problem."""
    path = Path(path).resolve() if path is not None else config_path()
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read config file: {exc.strerror}") from exc
    try:
        raw = yaml.load(text, Loader=_YamlLoader)  # noqa: S506 - a safe loader, C if available
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML: {exc}") from exc
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: the top level must be a mapping of keys")
    raw = _resolve_paths(raw, path.parent)
    try:
        return AgencyConfig.model_validate({**raw, "source_path": path})
    except ValidationError as exc:
        raise ConfigError(_describe(path, exc, raw)) from None


def _describe(path: Path, exc: ValidationError, raw: dict) -> str:
    lines = [f"{path}: {exc.error_count()} problem(s) in the config"]
    for error in exc.errors():
        key = _dotted(error["loc"], raw)
        message = error["msg"].removeprefix("Value error, ")
        if error["type"] == "extra_forbidden":
            message = "unknown key (check the spelling)"
        lines.append(f"  {key or '(top level)'}: {message}")
    return "\n".join(lines)


def _dotted(loc: tuple, raw: dict) -> str:
    """Render a pydantic error location as `clients[3].tier`, with the client id when known."""
    parts: list[str] = []
    node: object = raw
    for item in loc:
        if isinstance(item, int):
            label = f"[{item}]"
            if isinstance(node, list) and item < len(node) and isinstance(node[item], dict):
                ident = node[item].get("id")
                label = f"[{item}]" + (f" ({ident})" if ident else "")
            parts.append(label)
            node = node[item] if isinstance(node, list) and item < len(node) else None
        else:
            parts.append(f".{item}" if parts else str(item))
            node = node.get(item) if isinstance(node, dict) else None
    return "".join(parts)
