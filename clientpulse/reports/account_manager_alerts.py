"""Render an account manager's alert DM and weekly portfolio DM in Block Kit.

Every figure comes from the marts (marts.client_risk_alerts,
marts.client_sla_early_warnings, marts.manager_portfolio); this module picks
words from the playbook file and the evidence catalog (clientpulse/reports/evidence.py)
and formats numbers through Babel (clientpulse/reports/i18n.py). Every external string
(client and person names, deal names and addresses in the evidence, mail subjects and
senders, the playbook's own texts) is escaped for Slack mrkdwn.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import yaml

from clientpulse.reports import i18n
from clientpulse.reports.evidence import person, render_evidence
from clientpulse.slack_listener.blocks import alert_actions
from connectors.slack import escape_mrkdwn

RISK_REASONS = ("newly_at_risk", "risk_up", "still_at_risk")
ORDER = (
    "conflict",
    "newly_at_risk",
    "risk_up",
    "early_warning",
    "still_at_risk",
    "recovered",
    "greeting",
)
ARROWS = {"up": "↑", "down": "↓", "flat": "→"}
MAX_SECTION = 2900  # Slack refuses section text past 3000 characters
MAX_BLOCKS = 50  # Slack refuses a message with more blocks


@dataclass(frozen=True)
class Playbook:
    """Suggested actions by language and factor, and the DM's labels (an editable file),
    with the agency's currency (ISO 4217) that revenue evidence is written in."""

    actions: dict[str, dict[str, str]]
    labels: dict[str, dict[str, str]]
    currency: str = "EUR"

    @classmethod
    def load(cls, path: Path, currency: str = "EUR") -> Playbook:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        return cls(actions=data["actions"], labels=data["labels"], currency=currency)

    def action(self, language: str, factor: str | None) -> str:
        texts = self.actions.get(language) or self.actions["en"]
        return texts.get(factor or "", texts["default"])

    def factor(self, language: str, factor: str) -> str:
        names = self.labels.get(language) or self.labels["en"]
        return names.get(f"factor_{factor}", factor.replace("_", " "))

    def label(self, language: str, label: str, **values: Any) -> str:
        texts = self.labels.get(language) or self.labels["en"]
        return texts.get(label, self.labels["en"][label]).format(**values)

    def plural(self, language: str, label: str, count: int, **values: Any) -> str:
        """A label with a form per CLDR plural category (uk and ru have one, few, many),
        the form chosen by Babel for `count`."""
        forms = (self.labels.get(language) or {}).get(label) or self.labels["en"][label]
        language = language if label in (self.labels.get(language) or {}) else "en"
        return i18n.plural(language, forms, count).format(**values)

    def band(self, language: str, band: str | None) -> str:
        """The score's band in words; a dash when the client has none (lost, no data)."""
        return "—" if band is None else self.label(language, f"band_{band}")

    def evidence(self, language: str, evidence: str | None) -> str:
        """A factor's evidence (JSON from the models) in words, escaped for mrkdwn."""
        return escape_mrkdwn(render_evidence(evidence, language, self.currency))


@dataclass(frozen=True)
class Alert:
    """One alert for one manager: its key parts and the mart row it is about."""

    manager_id: str
    client_id: str
    reason: str  # RISK_REASONS | recovered | early_warning | conflict | greeting
    subject: str  # the episode, week, wait, thread or occasion it is about: part of the key
    row: dict[str, Any] = field(compare=False)
    reminder: bool = False

    @property
    def key(self) -> str:
        return f"{self.manager_id}|{self.client_id}|{self.reason}|{self.subject}"

    @property
    def rank(self) -> tuple[int, float]:
        return ORDER.index(self.reason), -(self.row.get("score") or 0)


def _when(value: datetime | None, language: str, playbook: Playbook) -> str:
    """A local instant in the playbook's format for the language (strftime)."""
    return value.strftime(playbook.label(language, "time_format")) if value is not None else "—"


def _percent(value: float | None, language: str) -> str:
    return "—" if value is None else i18n.percent(value, language)


def _factor_lines(row: dict[str, Any], language: str, playbook: Playbook) -> list[str]:
    """Each moved factor: its evidence then and now, and its sub-score before → after."""
    lines = []
    for moved in row.get("moved_factors") or []:
        now = playbook.evidence(language, moved["evidence_after"])
        before, score_before = moved.get("evidence_before"), moved.get("score_before")
        was = (
            playbook.label(language, "then", evidence=playbook.evidence(language, before)) + " · "
            if before is not None
            else ""
        )
        scores = f"{i18n.decimal(score_before, language)} → " if score_before is not None else ""
        name = escape_mrkdwn(playbook.factor(language, moved["factor"]))
        lines.append(
            f"• *{name}*: {was}{playbook.label(language, 'now', evidence=now)} "
            f"({playbook.label(language, 'risk')} {scores}"
            f"{i18n.decimal(moved['score_after'], language)})"
        )
    return lines


def _risk_text(alert: Alert, language: str, playbook: Playbook) -> str:
    row = alert.row
    title = playbook.label(language, alert.reason)
    if alert.reason == "still_at_risk" and not alert.reminder:  # first word on this episode
        since = i18n.day(row["at_risk_since"], language)
        title = playbook.label(language, "at_risk_since", since=since)
    band = playbook.band(language, row["band"])
    score = playbook.label(language, "score", score=i18n.decimal(row["score"], language), band=band)
    change = row.get("score_change_1w")
    moved = (
        ", " + playbook.label(language, "week_change", change=i18n.signed(change, language))
        if change is not None
        else ""
    )
    head = f"*{escape_mrkdwn(row['client_name'])}* — {title}: {score}{moved}"
    if alert.reason == "recovered":
        return f"{head}\n{escape_mrkdwn(playbook.label(language, 'recovered_text'))}"
    factors = row.get("moved_factors") or []
    top = factors[0]["factor"] if factors else row.get("main_factor")
    action = escape_mrkdwn(playbook.action(language, top))
    lines = [
        head,
        *_factor_lines(row, language, playbook),
        f"_{playbook.label(language, 'action')}_: {action}",
    ]
    return "\n".join(lines)


def _warning_text(alert: Alert, language: str, playbook: Playbook) -> str:
    row = alert.row
    wrote = playbook.label(
        language,
        "wrote",
        who=escape_mrkdwn(row["from_addr"] or "?"),
        when=_when(row["inbound_at_local"], language, playbook),
        subject=escape_mrkdwn(row["subject"] or ""),
    )
    breaches = playbook.label(
        language,
        "breaches",
        share=_percent(row["share_of_target"], language),
        target=i18n.decimal(row["target_hours"], language),
        when=_when(row["breach_at_local"], language, playbook),
    )
    title = playbook.label(language, "early_warning")
    action = escape_mrkdwn(playbook.action(language, "unanswered_past_target"))
    return (
        f"*{escape_mrkdwn(row['client_name'])}* — {title}\n{wrote}\n{breaches}\n"
        f"_{playbook.label(language, 'action')}_: {action}"
    )


def _conflict_text(alert: Alert, language: str, playbook: Playbook) -> str:
    """An open conflict (intermediate.client_conflicts): the thread, who was copied, the
    client's messages since it started, and the §8 steps."""
    row = alert.row
    client = escape_mrkdwn(row["client_name"])
    since = i18n.day(row["started_on"], language)
    thread = playbook.label(
        language, "conflict_thread", subject=escape_mrkdwn(row["subject"] or "")
    )
    messages = playbook.plural(
        language, "conflict_messages", row["client_messages"], n=row["client_messages"]
    )
    lines = [
        f"*{client}* — {playbook.label(language, 'conflict')}",
        f"{thread}, {playbook.label(language, 'conflict_since', since=since)}; {messages}",
    ]
    if row["copied_people"]:
        copied = ", ".join(escape_mrkdwn(person(who)) for who in row["copied_people"])
        lines.append(playbook.label(language, "conflict_copied", who=copied))
    move = playbook.label(language, "conflict_move", client=client)
    steps = escape_mrkdwn(playbook.action(language, "conflict_thread"))
    lines.append(f"_{playbook.label(language, 'action')}_: {move} {steps}")
    return "\n".join(lines)


def _greeting_text(alert: Alert, language: str, playbook: Playbook) -> str:
    """A date worth a greeting (marts.client_upcoming_dates): the contact and the occasion
    (a birthday without the age), when, and how to greet."""
    row = alert.row
    occasion = row["occasion"]
    if occasion == "birthday":
        what = playbook.label(language, "greeting_birthday", who=escape_mrkdwn(row["who"] or "?"))
    elif occasion == "public holiday":
        name = row.get(f"holiday_name_{language}") or row["holiday_name_en"]
        what = playbook.label(language, "greeting_holiday", name=escape_mrkdwn(name))
    else:
        what = playbook.plural(language, "greeting_years", row["years"], n=row["years"])
    days = row["days_until"]
    when = (
        playbook.label(language, "greeting_today")
        if days == 0
        else playbook.plural(language, "greeting_in_days", days, n=days)
    )
    day = i18n.day(row["occurs_on"], language)
    action = escape_mrkdwn(playbook.action(language, "greeting"))
    return (
        f"*{escape_mrkdwn(row['client_name'])}* — {playbook.label(language, 'greeting')}: "
        f"{what}, {day} ({when})\n_{playbook.label(language, 'action')}_: {action}"
    )


RENDERERS = {"early_warning": _warning_text, "conflict": _conflict_text, "greeting": _greeting_text}


def alert_message(
    manager: Any, alerts: list[Alert], more: int, playbook: Playbook, named: bool
) -> dict[str, Any]:
    """One DM (or, `named`, a channel post naming the manager) with the shown alerts."""
    language = manager.language
    blocks: list[dict[str, Any]] = [
        {
            "type": "header",
            "text": {"type": "plain_text", "text": playbook.label(language, "header")},
        }
    ]
    if named:
        who = playbook.label(language, "for_manager", name=escape_mrkdwn(manager.name))
        blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": who}]})
    for alert in alerts:
        render = RENDERERS.get(alert.reason, _risk_text)
        text = render(alert, language, playbook)
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": text[:MAX_SECTION]}})
        # a DM's risk alerts can be answered in place (clientpulse.slack_listener)
        if not named and alert.reason in RISK_REASONS and len(blocks) < MAX_BLOCKS - 2:
            blocks.append(alert_actions(language, alert.client_id, manager.id))
    if more:
        note = escape_mrkdwn(playbook.label(language, "more", n=more))
        blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": note}]})
    names = ", ".join(dict.fromkeys(escape_mrkdwn(a.row["client_name"]) for a in alerts))
    prefix = f"{escape_mrkdwn(manager.name)}: " if named else ""
    text = f"{prefix}{playbook.label(language, 'header')}: {names}"
    if more:
        text += f" (+{more})"
    return {"text": text, "blocks": blocks}


def _playbook_lines(
    rows: dict[str, list[dict[str, Any]]], language: str, playbook: Playbook
) -> list[str]:
    """A client's overdue receivables (each currency) and NPS with its change and a recent
    detractor, as indented lines of the portfolio DM."""
    lines = []
    for row in rows.get("overdue", []):
        amount = i18n.money(row["overdue_amount"], row["currency"], language)
        days = row["oldest_overdue_days"]
        lines.append(
            "    ◦ "
            + playbook.plural(language, "portfolio_overdue", days, amount=amount, days=days)
        )
    for row in rows.get("nps", []):
        if row["nps"] is None:
            continue
        text = playbook.label(language, "portfolio_nps", nps=i18n.signed(row["nps"], language))
        if row["nps_change"] is not None:
            change = i18n.signed(row["nps_change"], language)
            text += " " + playbook.label(language, "portfolio_nps_change", change=change)
        if row["recent_detractor_score"] is not None:
            text += "; " + playbook.label(
                language,
                "portfolio_detractor",
                who=escape_mrkdwn(row["recent_detractor_contact"] or "?"),
                score=row["recent_detractor_score"],
                day=i18n.day(row["recent_detractor_on"], language),
            )
        lines.append(f"    ◦ {text}")
    return lines


def portfolio_message(
    manager: Any,
    clients: list[dict[str, Any]],
    figures: dict[str, Any],
    playbook: Playbook,
    named: bool,
    playbook_rows: dict[str, dict[str, list[dict[str, Any]]]] | None = None,
) -> dict[str, Any]:
    """The weekly portfolio DM: every client (score, arrow, band, the main factor; below
    it, where there is any, its overdue invoices and its NPS, `playbook_rows`) and
    the manager's first replies and tasks on time last week against the agency's
    (marts.manager_portfolio, the figures the leadership digest shows)."""
    language = manager.language
    title = playbook.label(language, "portfolio_header")
    summary = playbook.plural(
        language,
        "clients",
        figures["active_clients"],
        active=figures["active_clients"],
        at_risk=figures["at_risk_clients"],
    )
    sla = playbook.label(
        language,
        "sla",
        mine=_percent(figures["first_reply_compliance"], language),
        agency=_percent(figures["agency_first_reply_compliance"], language),
        mine_tasks=_percent(figures["on_time_rate"], language),
        agency_tasks=_percent(figures["agency_on_time_rate"], language),
    )
    lines = []
    for row in clients:
        main = playbook.evidence(language, row["main_factor_evidence"]) or (
            escape_mrkdwn(playbook.factor(language, row["main_factor"]))
            if row["main_factor"]
            else "—"
        )
        band = playbook.band(language, row["band"])
        score = (
            band
            if row["score"] is None
            else playbook.label(
                language, "score", score=i18n.decimal(row["score"], language), band=band
            )
        )
        lines.append(
            f"{ARROWS[row['trend']]} *{escape_mrkdwn(row['client_name'])}* {score} · {main}"
        )
        lines += _playbook_lines(
            (playbook_rows or {}).get(row["client_id"], {}), language, playbook
        )
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": title}},
    ]
    if named:
        who = playbook.label(language, "for_manager", name=escape_mrkdwn(manager.name))
        blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": who}]})
    blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": f"{summary}\n{sla}"}})
    chunk: list[str] = []
    for line in lines:  # several sections when a large portfolio passes Slack's limit
        if sum(len(x) + 1 for x in chunk) + len(line) > MAX_SECTION:
            blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": "\n".join(chunk)}})
            chunk = []
        chunk.append(line)
    if chunk:
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": "\n".join(chunk)}})
    prefix = f"{escape_mrkdwn(manager.name)}: " if named else ""
    return {"text": f"{prefix}{title}: {summary}", "blocks": blocks}
