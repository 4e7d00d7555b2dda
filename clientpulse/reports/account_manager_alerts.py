"""Render an account manager's alert DM and weekly portfolio DM in Block Kit.

Every figure comes from the marts (marts.client_risk_alerts,
marts.client_sla_early_warnings, marts.manager_portfolio); this module picks
words from the playbook file and formats. Every external string (client and person
names, evidence naming projects and tasks, mail subjects and senders, the playbook's
own texts) is escaped for Slack mrkdwn.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import yaml
from babel import Locale

from clientpulse.slack_listener.blocks import alert_actions
from connectors.slack import escape_mrkdwn

RISK_REASONS = ("newly_at_risk", "risk_up", "still_at_risk")
ORDER = ("newly_at_risk", "risk_up", "early_warning", "still_at_risk", "recovered")
ARROWS = {"up": "↑", "down": "↓", "flat": "→"}
MAX_SECTION = 2900  # Slack refuses section text past 3000 characters
MAX_BLOCKS = 50  # Slack refuses a message with more blocks


@dataclass(frozen=True)
class Playbook:
    """Suggested actions by language and factor, and the DM's labels (an editable file)."""

    actions: dict[str, dict[str, str]]
    labels: dict[str, dict[str, str]]

    @classmethod
    def load(cls, path: Path) -> Playbook:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        return cls(actions=data["actions"], labels=data["labels"])

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
        category = Locale.parse(language).plural_form(count)
        return forms.get(category, forms["other"]).format(**values)

    def band(self, language: str, band: str | None) -> str:
        """The score's band in words; a dash when the client has none (lost, no data)."""
        return "—" if band is None else self.label(language, f"band_{band}")


@dataclass(frozen=True)
class Alert:
    """One alert for one manager: its key parts and the mart row it is about."""

    manager_id: str
    client_id: str
    reason: str  # newly_at_risk | risk_up | still_at_risk | recovered | early_warning
    subject: str  # the episode, week or wait it is about: part of the key
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


def _percent(value: float | None) -> str:
    return "—" if value is None else f"{value:.0%}"


def _factor_lines(row: dict[str, Any], language: str, playbook: Playbook) -> list[str]:
    """Each moved factor: its evidence then and now, and its sub-score before → after."""
    lines = []
    for moved in row.get("moved_factors") or []:
        now = escape_mrkdwn(moved["evidence_after"] or "")
        before, score_before = moved.get("evidence_before"), moved.get("score_before")
        was = (
            playbook.label(language, "then", evidence=escape_mrkdwn(before)) + " · "
            if before is not None
            else ""
        )
        scores = f"{score_before:g} → " if score_before is not None else ""
        name = escape_mrkdwn(playbook.factor(language, moved["factor"]))
        lines.append(
            f"• *{name}*: {was}{playbook.label(language, 'now', evidence=now)} "
            f"({playbook.label(language, 'risk')} {scores}{moved['score_after']:g})"
        )
    return lines


def _risk_text(alert: Alert, language: str, playbook: Playbook) -> str:
    row = alert.row
    title = playbook.label(language, alert.reason)
    if alert.reason == "still_at_risk" and not alert.reminder:  # first word on this episode
        title = playbook.label(language, "at_risk_since", since=row["at_risk_since"])
    band = playbook.band(language, row["band"])
    score = playbook.label(language, "score", score=f"{row['score']:g}", band=band)
    change = row.get("score_change_1w")
    moved = (
        ", " + playbook.label(language, "week_change", change=f"{change:+g}")
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
        share=_percent(row["share_of_target"]),
        target=f"{row['target_hours']:g}",
        when=_when(row["breach_at_local"], language, playbook),
    )
    title = playbook.label(language, "early_warning")
    action = escape_mrkdwn(playbook.action(language, "unanswered_past_target"))
    return (
        f"*{escape_mrkdwn(row['client_name'])}* — {title}\n{wrote}\n{breaches}\n"
        f"_{playbook.label(language, 'action')}_: {action}"
    )


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
        render = _warning_text if alert.reason == "early_warning" else _risk_text
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


def portfolio_message(
    manager: Any,
    clients: list[dict[str, Any]],
    figures: dict[str, Any],
    playbook: Playbook,
    named: bool,
) -> dict[str, Any]:
    """The weekly portfolio DM: every client (score, arrow, band, the main factor) and
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
        mine=_percent(figures["first_reply_compliance"]),
        agency=_percent(figures["agency_first_reply_compliance"]),
        mine_tasks=_percent(figures["on_time_rate"]),
        agency_tasks=_percent(figures["agency_on_time_rate"]),
    )
    lines = []
    for row in clients:
        main = row["main_factor_evidence"] or row["main_factor"] or "—"
        score = "—" if row["score"] is None else f"{row['score']:g}"
        lines.append(
            f"{ARROWS[row['trend']]} *{escape_mrkdwn(row['client_name'])}* {score} "
            f"({playbook.band(language, row['band'])}) · {escape_mrkdwn(main)}"
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
