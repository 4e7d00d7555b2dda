"""The agency configuration: one YAML file, validated on load.

`CLIENTPULSE_CONFIG` names the file; without it the bundled demo config is used.
Relative paths in the file are resolved against the file's own folder, so a config
works the same from any working directory (Airflow workers included). Secrets never
live here: the config names Airflow Connections, and credentials come from those.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Hashable
from datetime import date, time
from pathlib import Path
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import (
    AfterValidator,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from clientpulse.paths import CONFIG_ENV as CONFIG_ENV
from clientpulse.paths import DEMO_CONFIG as DEMO_CONFIG
from clientpulse.paths import PROJECT_ROOT as PROJECT_ROOT
from clientpulse.paths import config_path
from clientpulse.risk_factors import FACTORS
from connectors.asana.settings import AsanaSource
from connectors.crm.settings import CrmSource
from connectors.mailboxes.settings import MailboxSource
from connectors.settings import Email, SettingsModel

_log = logging.getLogger(__name__)

# libyaml's safe loader parses ~6x faster; every task loads the config.
_FastLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _YamlLoader(_FastLoader):  # type: ignore[misc,valid-type]
    """Refuses a key given twice in one mapping (YAML would keep the last silently:
    `clients:` twice drops the first block of clients)."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict:
        first: dict[Hashable, int] = {}
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=True)
            if key_node.tag == "tag:yaml.org,2002:merge" or not isinstance(key, Hashable):
                continue
            line = key_node.start_mark.line + 1
            if key in first:
                raise yaml.constructor.ConstructorError(
                    None,
                    None,
                    f"duplicate key {key!r}: on line {first[key]} and again on line {line}",
                    key_node.start_mark,
                )
            first[key] = line
        return super().construct_mapping(node, deep)


Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
WEEKDAYS: tuple[str, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
Identifier = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_-]*$", max_length=64)]
Domain = Annotated[str, Field(pattern=r"^[a-z0-9.-]+\.[a-z0-9-]+$")]
CountryCode = Annotated[str, Field(pattern=r"^[A-Z]{2}$")]
CurrencyCode = Annotated[str, Field(pattern=r"^[A-Z]{3}$")]  # ISO 4217
# A person's or client's name as reports show it: longer is a paste accident, and every
# digest line, DM and email subject carrying it would be cut (connectors/slack.py).
NAME_MAX_CHARS = 120
Name = Annotated[str, Field(min_length=1, max_length=NAME_MAX_CHARS)]
# A Slack member id (U…/W…): anything else, e.g. "<!channel>", would not reach the manager.
SlackUserId = Annotated[str, Field(pattern=r"^[UW][A-Z0-9]{2,}$")]
# A channel by `#name` or id: an empty one would fail only when an alert is sent.
SlackChannel = Annotated[str, Field(pattern=r"^(#?[a-z0-9][a-z0-9._-]*|[CGD][A-Z0-9]{8,})$")]

# Public mail providers: an address there names a person, not a company, so it maps to
# a client only as a known contact address. `agency.freemail_domains` adds to the list.
FREEMAIL_DOMAINS: tuple[str, ...] = (
    "gmail.com", "googlemail.com", "outlook.com", "hotmail.com", "live.com", "msn.com",
    "yahoo.com", "icloud.com", "me.com", "aol.com", "gmx.com", "gmx.de", "proton.me",
    "protonmail.com", "zoho.com", "mail.ru", "inbox.ru", "list.ru", "bk.ru", "rambler.ru",
    "yandex.ru", "yandex.ua", "yandex.com", "yandex.by", "yandex.kz", "ya.ru",
    "ukr.net", "i.ua", "meta.ua", "email.ua", "bigmir.net",
)  # fmt: skip


class ConfigError(ValueError):
    """The config file is invalid; the message names the file, the key and the problem."""


def _check_timezone(value: str | None) -> str | None:
    if value is None:
        return None
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"unknown time zone {value!r}") from exc
    return value


class BusinessHours(SettingsModel):
    """Working days and hours: the SLA clock runs only inside them."""

    days: list[Weekday] = ["mon", "tue", "wed", "thu", "fri"]  # working days
    start: time = time(9, 0)  # local time the working day starts
    end: time = time(18, 0)  # local time the working day ends

    @model_validator(mode="after")
    def _start_before_end(self) -> BusinessHours:
        if self.start >= self.end:
            raise ValueError("start must be before end")
        return self


class Agency(SettingsModel):
    """The agency itself: its calendar, and which mail domains are its own."""

    name: str  # the agency's name, as reports show it
    timezone: str  # IANA time zone: schedules and agency-local days
    holiday_country: CountryCode  # public holidays from the `holidays` library
    # the currency CRM amounts are in (ISO 4217): how alerts and digests write revenue
    currency: CurrencyCode = "EUR"
    business_hours: BusinessHours = BusinessHours()
    # the agency's own mail domains: mail from them is outbound
    internal_domains: list[Domain] = Field(min_length=1)
    vendor_domains: list[Domain] = []  # suppliers: their mail is neither inbound nor a reply
    # public mail providers besides the built-in FREEMAIL_DOMAINS (gmail.com, ukr.net,
    # mail.ru, …): an address there maps to a client only as a known contact
    freemail_domains: list[Domain] = []
    days_off: list[date] = []  # agency days off (dates on each SLA calendar)

    _tz = field_validator("timezone")(_check_timezone)


class Retention(SettingsModel):
    """How long warehouse_maintenance keeps operational rows, in days. Outbox keys are
    kept for good (they are what stops a rerun sending a digest twice): only the
    rendered payload of a delivered entry is dropped after `outbox_payload_days`."""

    runs_days: int = Field(90, ge=1)  # ops.runs and ops.quality_checks
    # a delivered outbox entry's payload is emptied after this (its key stays)
    outbox_payload_days: int = Field(180, ge=1)
    sent_log_days: int = Field(730, ge=1)  # ops.sent_log
    quarantine_days: int = Field(90, ge=1)  # since a record was last seen bad
    resend_log_days: int = Field(730, ge=1)  # ops.resend_log


class Warehouse(SettingsModel):
    """The DuckDB warehouse file, the analysts' snapshot, and the build's resources."""

    path: Path  # the DuckDB file the pipeline writes (one writer at a time)
    snapshot_path: Path  # the analysts' read-only copy, republished after each good build
    # DuckDB's budget for the writer: past memory_limit it spills to disk instead of
    # growing (the 500-client build peaks near 1.6 GB with 1500MB).
    memory_limit: str = Field("1500MB", pattern=r"^\d+(\.\d+)?\s*(KB|MB|GB|KiB|MiB|GiB)$")
    threads: int | None = Field(None, ge=1)  # DuckDB threads for the build; null: one per core
    # The quality gate validates tables up to this size with Great Expectations in
    # memory, larger ones as SQL inside DuckDB (warehouse/quality.py).
    gate_in_memory_max_rows: int = Field(100_000, ge=0)
    retention: Retention = Retention()


class Sources(SettingsModel):
    """Where data comes from; a source left out (or `enabled: false`) is skipped."""

    asana: AsanaSource | None = None
    mailboxes: MailboxSource | None = None
    crm: CrmSource | None = None

    def enabled(self, name: Literal["asana", "mailboxes", "crm"]) -> bool:
        source = getattr(self, name)
        return source is not None and source.enabled


class SlackDelivery(SettingsModel):
    """The Slack workspace the digest, the ops alerts and the DMs go to."""

    connection_id: str = "clientpulse_slack"  # Airflow Connection with the bot token
    leadership_channel: str  # where the Monday digest and its chart go
    ops_channel: str  # failed tasks, failed quality gates, late digests


class EmailDelivery(SettingsModel):
    """The SMTP relay the client emails go through."""

    connection_id: str = "clientpulse_smtp"  # Airflow Connection of the SMTP relay
    from_address: str  # the From of client emails, e.g. `Agency <reports@agency.com>`
    # A report recipient outside the client's email_domains and contact_addresses: a
    # warning, or (`refuse`) a config error. One at another client's domain is always
    # an error: it would mail one client's report to another.
    unknown_recipients: Literal["warn", "refuse"] = "warn"


class Delivery(SettingsModel):
    """How reports are sent: Slack, email, or files in dry-run."""

    dry_run: bool = False  # write digests and emails as files to dry_run_dir instead of sending
    dry_run_dir: Path  # where dry-run output goes
    # A delivery not sent this long after it was composed (a relay down for a week) is
    # held back and ops told: last week's report does not go out unasked with this week's.
    max_age_days: float = Field(3, gt=0)
    slack: SlackDelivery
    email: EmailDelivery


def _check_pattern(value: str) -> str:
    try:
        re.compile(value)
    except re.error as exc:
        raise ValueError(f"not a valid regular expression: {exc}") from exc
    return value


Pattern = Annotated[str, AfterValidator(_check_pattern)]


class SlaTarget(SettingsModel):
    """Reply targets in business hours on the client's calendar."""

    # the first reply to a client's mail is due within this
    first_reply_business_hours: float = Field(gt=0)
    next_reply_business_hours: float | None = Field(None, gt=0)  # default: the first-reply one

    def minutes(self) -> dict[str, float]:
        """Target per metric, in business minutes."""
        first = self.first_reply_business_hours
        return {
            "first_reply": first * 60,
            "next_reply": (self.next_reply_business_hours or first) * 60,
        }


# A closing message needs no reply: its whole subject, after Re:/Fwd: prefixes, is thanks
# or an acknowledgement (headers only, so the body cannot be read; see docs/sources.md).
CLOSING_SUBJECT = (
    r"(?i)\s*(many |big )?(thanks|thank you|thx|ty|got it|received|noted|ok|okay|great|perfect)"
    r"( you| so much| a lot)?[\s!.,)]*|\s*(спасибо|спасибі|дякую|благодарю|получили|отримали"
    r"|принято|прийнято|ок)[\s!.,)]*"
)


class SlaPolicies(SettingsModel):
    """Reply targets (the SLA) by tier, for prospects, and what needs no reply."""

    default_tier: Identifier  # the tier of a client that names none
    # targets per service tier, by tier name
    tiers: dict[Identifier, SlaTarget] = Field(min_length=1)
    prospect: SlaTarget  # for clients whose lifecycle stage (core.dim_client) is prospect
    segment_gap_days: float = Field(7, gt=0)  # a conversation silent this long starts anew
    # a client reply whose whole subject matches needs no reply
    closing_subject: Pattern = CLOSING_SUBJECT

    @model_validator(mode="after")
    def _default_tier_exists(self) -> SlaPolicies:
        if self.default_tier not in self.tiers:
            raise ValueError(f"default_tier {self.default_tier!r} is not one of the tiers")
        return self


class AtRiskThresholds(SettingsModel):
    """The older three-threshold at-risk rule (marts.client_health), kept beside the score for the
    backtest."""

    overdue_tasks: int = Field(3, ge=1)  # this many open overdue tasks: at risk
    # no contact for this many cadences: at risk
    contact_gap_cadence_multiple: float = Field(2.0, gt=0)
    # first-reply compliance below this share: at risk
    first_reply_compliance_below: float = Field(0.8, ge=0, le=1)
    window_days: int = Field(28, ge=1)  # the window of client_health's reply figures


class Lifecycle(SettingsModel):
    """docs/domain.md §5: honeymoon after the first won deal, storm until a repeat order."""

    honeymoon_days: int = Field(90, ge=1)  # days after the first won deal closed
    support_after_days: int = Field(365, ge=1)  # days after the first won deal

    @model_validator(mode="after")
    def _honeymoon_first(self) -> Lifecycle:
        if self.honeymoon_days >= self.support_after_days:
            raise ValueError("honeymoon_days must be less than support_after_days")
        return self


class RelationshipFacts(SettingsModel):
    """How CRM activity reads as relationship depth (docs/domain.md §4, §6)."""

    active_contact_days: int = Field(90, ge=1)  # a contact with activity this recent is active
    # meeting locations that make an on-site visit
    on_site_location: Pattern = r"(?i)on-site|onsite|client office|у клієнта|у клиента"
    executive_title: Pattern = (  # job titles of senior contacts
        r"(?i)\b(ceo|cmo|coo|cfo|founder|owner|president|director|head of|chief|vp)\b"
        r"|директор|керівник|руководитель|власник|владелец"
    )
    manager_title: Pattern = r"(?i)manager|lead|менеджер"  # job titles of manager-level contacts
    greeting_horizon_days: int = Field(14, ge=1, le=60)  # how far ahead dates worth a greeting show


class ConflictSignals(SettingsModel):
    """When written exchange with a client turns into a conflict (docs/domain.md §5, §8),
    read from mail headers: a thread is in conflict once `min_signals` of these meet within
    48 hours — heat (a burst of client mail against the client's own rhythm, or quick
    back-and-forth replies: counted once, since any brisk thread has both), a senior person
    newly copied, complaint words in the subject."""

    # client messages in one thread within 48 hours that count as a burst, at the least …
    burst_min_messages: int = Field(3, ge=2)
    # … and as a multiple of the client's usual (its median thread's peak over 180 days)
    burst_over_usual: float = Field(2.0, ge=1.0)
    ping_pong_minutes: int = Field(120, ge=1)  # a reply from the other side this fast is quick
    ping_pong_replies: int = Field(4, ge=2)  # quick replies within 48 hours that are ping-pong
    # agency addresses (directors, owners) whose appearance in a client thread escalates it;
    # client executives (signals.relationship.executive_title) count without listing
    directors: list[str] = []
    complaint_subject: Pattern = (  # subject words of a complaint (en, uk, ru)
        r"(?i)\b(complain\w*|unacceptable|disappointed|escalat\w*|refund|still not)\b"
        r"|скарг\w*|претензі\w*|неприйнятн\w*|розчарован\w*"
        r"|жалоб\w*|претензи\w*|неприемлем\w*|разочарован\w*"
    )
    min_signals: int = Field(2, ge=1, le=3)  # of heat, senior copied, complaint words
    # a conflict ends with a call or meeting held after it starts, or after this many calm
    # days since the client's last message in the thread, once that message was answered
    calm_days: int = Field(7, ge=1)
    # a conflict open this long is a critical risk factor (risk factor open_conflict)
    critical_after_days: int = Field(3, ge=0)


SegmentMetric = Literal[
    "revenue_ttm",
    "revenue_growth_yoy",
    "average_deal_ttm",
    "won_deals",
    "tenure_months",
    "active_contacts",
    "senior_contacts",
    "meetings_90d",
    "on_site_months_90d",
    "share_of_wallet",
]
InputName = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$", max_length=64)]


class SegmentInput(SettingsModel):
    """One scored input: a computed `metric`, a CRM company `crm_property`, or neither
    (then only per-client `segment_inputs` values in the config feed it). The value
    scores 0 at `zero_at` and 100 at `full_at`, linearly and clipped; `zero_at` above
    `full_at` scores lower-is-better inputs. A client's config value fills in where
    the CRM has none."""

    weight: float = Field(1.0, gt=0)  # its weight on the axis
    metric: SegmentMetric | None = None  # a value computed from the CRM marts
    crm_property: str | None = None  # a numeric company property in the CRM
    zero_at: float = 0.0  # the value that scores 0
    full_at: float  # the value that scores 100

    @model_validator(mode="after")
    def _one_source(self) -> SegmentInput:
        if self.metric is not None and self.crm_property is not None:
            raise ValueError("give metric or crm_property, not both")
        if self.zero_at == self.full_at:
            raise ValueError("zero_at and full_at must differ")
        return self


class SegmentAxis(SettingsModel):
    """One axis: its inputs' weighted score (0-100) falls in the top band at `high_at`
    (high attractiveness / excellent relationship), the middle one at `medium_at`."""

    # score from which the axis is high (excellent relationship)
    high_at: float = Field(67.0, ge=0, le=100)
    medium_at: float = Field(34.0, ge=0, le=100)  # score from which the axis is medium
    inputs: dict[InputName, SegmentInput]  # the scored inputs, by a name you choose

    @model_validator(mode="after")
    def _ordered(self) -> SegmentAxis:
        if self.medium_at >= self.high_at:
            raise ValueError("medium_at must be below high_at")
        return self


DEFAULT_ATTRACTIVENESS = SegmentAxis(
    inputs={
        "revenue_ttm": SegmentInput(weight=2, metric="revenue_ttm", full_at=50_000),
        "revenue_growth": SegmentInput(metric="revenue_growth_yoy", zero_at=-0.5, full_at=0.5),
    }
)
DEFAULT_RELATIONSHIP = SegmentAxis(
    inputs={
        "active_contacts": SegmentInput(metric="active_contacts", full_at=4),
        "senior_contacts": SegmentInput(metric="senior_contacts", full_at=2),
        "repeat_orders": SegmentInput(metric="won_deals", zero_at=1, full_at=5),
        "on_site_visits": SegmentInput(metric="on_site_months_90d", full_at=3),
    }
)


class Segmentation(SettingsModel):
    """docs/domain.md §6: attractiveness × relationship depth → one of six strategies."""

    attractiveness: SegmentAxis = DEFAULT_ATTRACTIVENESS
    relationship: SegmentAxis = DEFAULT_RELATIONSHIP

    @model_validator(mode="after")
    def _names_unique(self) -> Segmentation:
        both = set(self.attractiveness.inputs) & set(self.relationship.inputs)
        if both:
            raise ValueError(f"input names used on both axes: {sorted(both)}")
        return self

    def all_inputs(self) -> dict[str, tuple[str, SegmentInput]]:
        """Input name → (axis, input)."""
        return {
            **{n: ("attractiveness", i) for n, i in self.attractiveness.inputs.items()},
            **{n: ("relationship", i) for n, i in self.relationship.inputs.items()},
        }

    def crm_properties(self) -> list[str]:
        """Company properties the inputs read (the CRM sync must fetch them)."""
        return [i.crm_property for _, i in self.all_inputs().values() if i.crm_property]


class RiskFactor(SettingsModel):
    """A factor's weight in the score and, optionally, the sub-score (0–100) at which it
    puts the client at risk by itself."""

    weight: float = Field(ge=0)  # its weight in the weighted mean; 0 counts only when critical
    # sub-score at which the factor alone puts the client at risk
    critical_at: float | None = Field(None, ge=0, le=100)


# Each factor's default weight and critical sub-score, from its one declaration in
# clientpulse/risk_factors.py (which says why they are what they are).
DEFAULT_RISK_FACTORS: dict[str, RiskFactor] = {
    f.name: RiskFactor(weight=f.weight)
    if f.critical_at is None
    else RiskFactor(weight=f.weight, critical_at=f.critical_at)
    for f in FACTORS
}


class RiskScore(SettingsModel):
    """The churn-risk score (marts.client_risk_weekly): factors, windows, bands, lost rule."""

    # weight and critical_at by factor name; give only the ones you change (each factor is
    # described under intermediate.client_risk_factors in the data dictionary)
    factors: dict[str, RiskFactor] = DEFAULT_RISK_FACTORS
    reply_window_days: int = Field(28, ge=1)  # window of the reply-compliance factors
    min_measurements: int = Field(4, ge=1)  # decided waits before a compliance counts
    delivery_weeks: int = Field(8, ge=1)  # window of the delivery factors
    # six weeks: a fortnight's holiday on either side no longer reads as a fall in contact
    contact_recent_weeks: int = Field(6, ge=1)  # weeks of recent two-way contact
    # the client's usual rate: the weeks before the recent ones, or the part of them the
    # mail on record covers once it covers `contact_baseline_min_weeks`; half a year, so
    # a fade of two or three months does not pull the baseline down with it
    contact_baseline_weeks: int = Field(26, ge=1)  # weeks of the client's usual rate
    # mail coverage needed before the baseline counts
    contact_baseline_min_weeks: int = Field(12, ge=1)
    # a fall in contact is judged against the client's own weekly counts
    # (intermediate.client_contact_fall): exchanges expected over the quiet run before it
    # can count at all (the minimum evidence), and the fall's z (signed root deviance over
    # the client's dispersion) at which contact_vs_baseline starts to score and reaches 100
    contact_fall_min_expected: float = Field(3, gt=0)
    contact_fall_z_from: float = Field(1.5, ge=0)
    contact_fall_z_full: float = Field(4, gt=0)
    # a lost deal is the client's renewal (intermediate.client_lost_renewals) when a deal it
    # won before came within this share of its amount: the same fee again
    renewal_amount_tolerance: float = Field(0.01, ge=0, le=1)
    # band edges from the demo's replay: at 22 a slow fade is flagged a month ahead, with
    # about one false-alarm week per healthy client a year
    watch_at: float = Field(15, ge=0, le=100)  # score (0-100) from which a client is on watch
    at_risk_at: float = Field(22, ge=0, le=100)  # score (0-100) from which a client is at risk
    # the alarm budget: flagged weeks per retained client per year. Each week's at-risk
    # threshold is calibrated on the agency's own history before it
    # (intermediate.client_risk_calibrated) so that the clients still with the agency
    # were flagged no more often; `at_risk_at` holds until the history has
    # `calibration_min_weeks` weeks
    false_alarm_budget: float = Field(2, gt=0, lt=52)
    calibration_min_weeks: int = Field(26, ge=1)
    lost_after_days: int = Field(60, ge=1)  # no deal, task activity or exchange this long
    # sooner once the client's last deal was lost (the renewal declined) and none is open:
    # no task activity or exchange this long after it and the relationship is over
    lost_after_lost_deal_days: int = Field(14, ge=1)
    lost_recently_days: int = Field(90, ge=1)  # the digest's "lost lately" window

    @field_validator("factors", mode="before")
    @classmethod
    def _over_defaults(cls, given: dict) -> dict:
        """A config names only the factors it changes; the rest keep their defaults."""
        return {**DEFAULT_RISK_FACTORS, **(given or {})}

    @model_validator(mode="after")
    def _known_factors(self) -> RiskScore:
        unknown = sorted(set(self.factors) - set(DEFAULT_RISK_FACTORS))
        if unknown:
            raise ValueError(
                f"unknown risk factors {unknown}; known: {sorted(DEFAULT_RISK_FACTORS)}"
            )
        if self.watch_at > self.at_risk_at:
            raise ValueError("watch_at must not be above at_risk_at")
        if self.contact_fall_z_from >= self.contact_fall_z_full:
            raise ValueError("contact_fall_z_from must be below contact_fall_z_full")
        if self.contact_baseline_min_weeks > self.contact_baseline_weeks:
            raise ValueError("contact_baseline_min_weeks must not be above contact_baseline_weeks")
        if not any(f.weight > 0 for f in self.factors.values()):
            raise ValueError(
                "factors: every weight is 0; the score is a weighted mean of the factors, "
                "so at least one factor needs a weight above 0"
            )
        return self


class Signals(SettingsModel):
    """How the signals are computed: the risk score, the lifecycle, relationship depth, segments."""

    at_risk: AtRiskThresholds = AtRiskThresholds()
    risk: RiskScore = RiskScore()
    lifecycle: Lifecycle = Lifecycle()
    relationship: RelationshipFacts = RelationshipFacts()
    segmentation: Segmentation = Segmentation()
    conflict: ConflictSignals = ConflictSignals()


class ClientStatusFields(SettingsModel):
    """Where the weekly client status finds its reasons, by Asana custom field or section
    name (matched exactly; the first field with a value wins)."""

    # custom fields saying why a task is cancelled or not started
    reason_fields: list[str] = ["Status reason", "Reason"]
    # custom fields saying why a new task is needed
    justification_fields: list[str] = ["Why needed", "Justification"]
    cancelled_sections: list[str] = ["Cancelled"]  # sections whose tasks are cancelled
    not_started_sections: list[str] = ["Backlog", "On hold"]  # sections whose tasks are not started
    # Hypotheses, the fourth part of the monthly report (docs/domain.md §3): tasks with a value
    # in this custom field, or in one of these sections …
    hypothesis_field: str = "Hypothesis status"
    hypothesis_sections: list[str] = ["Hypotheses"]
    # … and the field's values (any case) that mean the hypothesis held or did not; any other
    # value, or none, means it is still being tested
    hypothesis_confirmed: list[str] = ["Confirmed", "Підтверджена", "Подтверждена"]
    hypothesis_refuted: list[str] = ["Refuted", "Rejected", "Спростована", "Опровергнута"]


class LeadershipDigest(SettingsModel):
    """What the Monday digest lists by name; the rest are counts (readable in a minute at
    any portfolio size)."""

    at_risk_listed: int = Field(5, ge=0, le=10)  # top at-risk clients by score
    movers_listed: int = Field(3, ge=0, le=5)  # per direction: rose, fell
    managers_listed: int = Field(8, ge=1, le=25)  # most clients at risk first
    strategy_changes_listed: int = Field(3, ge=0, le=20)  # clients whose strategy changed, named
    chart_weeks: int = Field(12, ge=2, le=52)  # weeks of history in the chart
    chart: bool = True  # upload the chart with the digest
    language: Literal["en", "uk", "ru"] = "en"  # of its headings, figures, dates and chart


class AccountManager(SettingsModel):
    """An account manager: their clients' alerts and approvals go to them."""

    id: Identifier  # how clients[].account_manager names them
    name: Name  # as reports show it
    email: Email  # their work address
    slack_user_id: SlackUserId | None = None  # else alerts go to alerts.fallback_channel, named
    language: Literal["en", "uk", "ru"] = "en"  # of the alerts and the playbook
    # The manager's Airflow user: their clients' approvals are assigned to it, and only
    # it may answer them (unset: the Airflow user named like the manager's id; an
    # approval is never open to any user).
    airflow_user: str | None = Field(None, min_length=1)

    @property
    def approver(self) -> str:
        """The Airflow user that alone may answer this manager's clients' approvals."""
        return self.airflow_user or self.id


_LOCAL_TIME = r"^([01][0-9]|2[0-3]):[0-5][0-9]$"


class Alerts(SettingsModel):
    """Account-manager alerts (DAG account_manager_alerts): when, what counts, how many."""

    daily_at: str = Field("09:30", pattern=_LOCAL_TIME)  # agency-local, on working days
    risk_up_step: float = Field(10, gt=0)  # score points up in a week: "risk up sharply"
    trend_points: float = Field(2, ge=0)  # portfolio arrow: a weekly change past this
    cooldown_days: int = Field(7, ge=1)  # a still-at-risk reminder at most this often
    early_warning_share: float = Field(0.75, gt=0, lt=1)  # of the SLA target, business time
    max_per_message: int = Field(8, ge=1)  # alerts in one DM; the rest: "and N more"
    # days ahead a greeting reminder comes (once per occasion); at most
    # signals.relationship.greeting_horizon_days (a reminder beyond it would never come)
    greeting_reminder_days: int = Field(3, ge=0, le=60)
    fallback_channel: SlackChannel = "#account-managers"  # for a manager without slack_user_id
    playbook: Path = PROJECT_ROOT / "config" / "playbook.yaml"  # suggested actions, en/uk/ru
    # the day each manager gets their portfolio view
    portfolio_weekday: Literal["mon", "tue", "wed", "thu", "fri"] = "mon"


class AutoAfterHours(SettingsModel):
    """Approval policy: the manager is asked; unanswered after N hours, the draft is
    approved by the policy (recorded as such)."""

    # hours the manager has before the policy approves
    auto_after_hours: int = Field(ge=1, le=24 * 14)


# How a client's emails are approved before sending: `required` (the manager decides,
# however long it takes), `{auto_after_hours: N}`, or `auto` (sent without asking; the
# trail says so).
ApprovalPolicy = Literal["required", "auto"] | AutoAfterHours


def policy_name(policy: ApprovalPolicy) -> str:
    """`required`, `auto`, or `auto_after_hours:N` (as stored in ops.approvals)."""
    if isinstance(policy, AutoAfterHours):
        return f"auto_after_hours:{policy.auto_after_hours}"
    return policy


class Client(SettingsModel):
    """A client of the agency: how its mail, tasks and CRM records are recognised, its SLA and its
    reports."""

    id: Identifier  # stable id: keys every row and delivery of the client
    name: Name  # as reports show it
    email_domains: list[Domain] = []  # mail domains that are this client's
    contact_addresses: list[Email] = []  # freemail addresses known to be the client's
    asana_projects: list[str] = []  # gids of the client's Asana projects
    crm_company_id: str | None = None  # the client's company in the CRM
    account_manager: Identifier  # an account_managers[].id
    report_recipients: list[Email] = []  # who gets the client's emails
    language: Literal["en", "uk", "ru"] = "en"  # of the client's emails
    tier: Identifier | None = None  # an sla_policies tier; else the default tier
    # without CRM data: prospect gets the prospect SLA
    stage: Literal["prospect", "customer"] = "customer"
    contact_cadence_days: int = Field(7, ge=1)  # the agreed contact rhythm, in days
    timezone: str | None = None  # else the agency's
    business_hours: BusinessHours | None = None  # else the agency's
    holiday_country: CountryCode | None = None  # else the agency's
    sla: SlaTarget | None = None  # overrides the tier and prospect targets
    # The yearly marketing budget (share of wallet) where the CRM does not hold it.
    annual_marketing_budget: float | None = Field(None, gt=0)
    segment_inputs: dict[str, float] = {}  # segmentation input values the CRM does not hold
    start_date: date | None = None  # else the first won deal, else the first exchange
    end_date: date | None = None  # the relationship ended: the client is lost from then
    # how the client's emails are approved: `required` (its account manager decides, however
    # long it takes), `{auto_after_hours: N}` (approved by the policy if unanswered after N
    # hours) or `auto` (sent without asking); the trail records which
    approval: ApprovalPolicy = "required"

    _tz = field_validator("timezone")(_check_timezone)


class AgencyConfig(SettingsModel):
    """The whole validated config. `source_path` is the file it came from."""

    agency: Agency
    warehouse: Warehouse
    sources: Sources
    delivery: Delivery
    sla_policies: SlaPolicies
    signals: Signals = Signals()
    client_status: ClientStatusFields = ClientStatusFields()
    leadership_digest: LeadershipDigest = LeadershipDigest()
    alerts: Alerts = Alerts()
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
        self._check_crm_companies()
        internal = set(self.agency.internal_domains)
        inputs = self.signals.segmentation.all_inputs()
        for index, client in enumerate(self.clients):
            where = f"clients[{index}] ({client.id})"
            if client.account_manager not in managers:
                raise ValueError(
                    f"{where}.account_manager: {client.account_manager!r} is not an account manager"
                )
            if client.tier is not None and client.tier not in self.sla_policies.tiers:
                raise ValueError(f"{where}.tier: {client.tier!r} is not a tier in sla_policies")
            unknown = set(client.segment_inputs) - set(inputs)
            if unknown:
                raise ValueError(
                    f"{where}.segment_inputs: {sorted(unknown)} not an input of "
                    "signals.segmentation"
                )
            clash = internal.intersection(client.email_domains)
            if clash:
                raise ValueError(f"{where}.email_domains: {sorted(clash)} is an internal domain")
            freemail = set(self.freemail_domains()).intersection(client.email_domains)
            if freemail:
                raise ValueError(
                    f"{where}.email_domains: {sorted(freemail)} is a freemail domain; "
                    "list the client's addresses there under contact_addresses"
                )
        self._check_recipients()
        self._check_greeting_reminder()
        vendor_clash = set(self.agency.vendor_domains) & (
            internal | {d for c in self.clients for d in c.email_domains}
        )
        if vendor_clash:
            raise ValueError(
                f"agency.vendor_domains: {sorted(vendor_clash)} is also an internal or a "
                "client domain"
            )
        return self

    def _check_crm_companies(self) -> None:
        """One CRM company is one client: two would share its deals and contacts, and the
        quality gate would hold every digest back."""
        first: dict[str, int] = {}
        for index, client in enumerate(self.clients):
            company = client.crm_company_id
            if company is None:
                continue
            if company in first:
                other = self.clients[first[company]]
                raise ValueError(
                    f"clients[{index}] ({client.id}).crm_company_id: {company!r} is also "
                    f"clients[{first[company]}] ({other.id})'s; one CRM company can be "
                    "only one client"
                )
            first[company] = index

    def _check_greeting_reminder(self) -> None:
        """A reminder comes from the dates the greeting horizon shows: one further ahead
        than the horizon would never come."""
        ahead = self.alerts.greeting_reminder_days
        horizon = self.signals.relationship.greeting_horizon_days
        if ahead > horizon:
            raise ValueError(
                f"alerts.greeting_reminder_days: {ahead} is beyond "
                f"signals.relationship.greeting_horizon_days ({horizon}); a reminder that "
                "far ahead would never come"
            )

    def _check_recipients(self) -> None:
        owner = {d: c.id for c in self.clients for d in c.email_domains}
        owner |= {a: c.id for c in self.clients for a in c.contact_addresses}
        for index, client in enumerate(self.clients):
            where = f"clients[{index}] ({client.id}).report_recipients"
            for address in client.report_recipients:
                other = owner.get(address, owner.get(address.rpartition("@")[2]))
                if other == client.id:
                    continue
                if other is not None:
                    raise ValueError(
                        f"{where}: {address} belongs to client {other!r}; this client's "
                        "report would go to another client"
                    )
                problem = (
                    f"{where}: {address} is outside the client's email_domains and "
                    "contact_addresses"
                )
                if self.delivery.email.unknown_recipients == "refuse":
                    raise ValueError(problem)
                _log.warning("%s: %s", self.source_path or "config", problem)

    def freemail_domains(self) -> list[str]:
        """The built-in freemail providers plus `agency.freemail_domains`."""
        return sorted(set(FREEMAIL_DOMAINS) | set(self.agency.freemail_domains))

    def client(self, client_id: str) -> Client:
        for client in self.clients:
            if client.id == client_id:
                return client
        raise KeyError(client_id)

    def manager(self, manager_id: str) -> AccountManager:
        return next(m for m in self.account_managers if m.id == manager_id)

    def sla_targets(self, client: Client) -> dict[str, tuple[float, float]]:
        """Metric → (customer, prospect) target in business minutes. A client's own `sla`
        overrides both; otherwise its tier (or the default tier) and the prospect policy.
        Which one applies is decided from the lifecycle stage when the marts are built."""
        policies = self.sla_policies
        if client.sla is not None:
            own = client.sla.minutes()
            return {metric: (minutes, minutes) for metric, minutes in own.items()}
        tier = policies.tiers[client.tier or policies.default_tier].minutes()
        prospect = policies.prospect.minutes()
        return {metric: (tier[metric], prospect[metric]) for metric in tier}


def _unique(key: str, values: list[str]) -> None:
    seen: set[str] = set()
    for value in values:
        if value in seen:
            raise ValueError(f"{key}: {value!r} appears more than once")
        seen.add(value)


_PATH_FIELDS = re.compile(r"(^|\.)(path|snapshot_path|dry_run_dir|csv_dir|playbook)$")


def _resolve_paths(node: object, base: Path, key: str = "") -> object:
    if isinstance(node, dict):
        return {k: _resolve_paths(v, base, f"{key}.{k}" if key else k) for k, v in node.items()}
    if isinstance(node, list):
        return [_resolve_paths(v, base, key) for v in node]
    if isinstance(node, str) and _PATH_FIELDS.search(key):
        path = Path(os.path.expanduser(node))
        return str(path if path.is_absolute() else (base / path).resolve())
    return node


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
