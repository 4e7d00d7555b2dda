"""What a click does: check who clicked, act through Airflow's REST API as their Airflow
user, then show the answer in the message (chat.update) or tell the clicker why not
(chat.postEphemeral).

- Approve / Reject (a reason modal first) answer the approval's HITL request; Airflow
  answers 409 once it was answered, so a second click, a stale message or a click after
  an answer in Airflow's own page shows "already decided by … at …" and changes nothing.
- Snooze 1 week / Snooze until … / Not a risk (a reason modal first) / I called them
  trigger `account_manager_feedback` with a run id derived from the message and client
  (`slack__{message ts}__{client}`): one decision per alert, however often it is clicked
  and even if the listener died between Airflow's answer and the message update.
- Airflow down: "not recorded, try again" and the message keeps its buttons.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from slack_sdk import WebClient

from clientpulse.config import AccountManager, AgencyConfig
from clientpulse.slack_listener import blocks as kit
from clientpulse.slack_listener.airflow import (
    AirflowActions,
    AirflowDown,
    Conflict,
    NotOpen,
    Refused,
)
from clientpulse.slack_listener.texts import day, text, when
from connectors.slack import escape_mrkdwn

FEEDBACK_DAG = "account_manager_feedback"
REJECT_MODAL, NOT_A_RISK_MODAL = "reject", "not_a_risk"
SNOOZE_DAYS = 7
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Click:
    """Who clicked what, where: the message (`channel`, `ts`) and its actionable block."""

    user: str
    channel: str
    ts: str
    block_id: str
    context: dict[str, Any]
    manager: AccountManager
    actor: str | None  # the Airflow user acting for the clicker; None: not theirs
    language: str


@dataclass
class Listener:
    """The listener's logic; `admins` maps an admin's Slack user id to their Airflow user."""

    config: AgencyConfig
    airflow: AirflowActions
    slack: WebClient
    admins: Mapping[str, str]

    def acknowledgement(self, payload: dict[str, Any]) -> dict[str, Any] | None:
        """The ack's payload, decided locally at once: a modal without a reason stays
        open with an error under its field."""
        if payload.get("type") != "view_submission" or _reason(payload).strip():
            return None
        metadata = _metadata(payload)
        click = self._click(
            payload["user"]["id"], metadata.get("ch"), metadata.get("ts"), metadata.get("b")
        )
        language = click.language if click else "en"
        return {
            "response_action": "errors",
            "errors": {"reason": text(language, "reason_required")},
        }

    def act(self, payload: dict[str, Any]) -> str:
        """Do what the interaction asks; return what happened (for the log and the tests)."""
        if payload.get("type") == "block_actions":
            action = payload["actions"][0]
            container = payload.get("container") or {}
            click = self._click(
                payload["user"]["id"],
                container.get("channel_id"),
                container.get("message_ts"),
                action.get("block_id"),
            )
            if click is None or action["action_id"] == kit.SEE_EMAIL:
                return "ignored"
            outcome = self._on_action(click, action, payload)
        elif payload.get("type") == "view_submission":
            metadata = _metadata(payload)
            click = self._click(
                payload["user"]["id"], metadata.get("ch"), metadata.get("ts"), metadata.get("b")
            )
            if click is None:
                return "ignored"
            outcome = self._on_reason(
                click, payload["view"]["callback_id"], _reason(payload).strip()
            )
        else:
            return "ignored"
        log.info("%s by %s on %s: %s", payload["type"], click.user, click.context, outcome)
        return outcome

    # who clicked

    def _click(self, user: str, channel: Any, ts: Any, block_id: Any) -> Click | None:
        context = kit.read_context(str(block_id or ""))
        manager = next(
            (m for m in self.config.account_managers if context and m.id == context["u"]), None
        )
        if context is None or manager is None or not channel or not ts:
            return None
        clicker = next((m for m in self.config.account_managers if m.slack_user_id == user), None)
        actor = manager.approver if user == manager.slack_user_id else self.admins.get(user)
        language = (clicker or manager).language
        return Click(user, str(channel), str(ts), str(block_id), context, manager, actor, language)

    def _who(self, click: Click) -> str:
        return click.manager.name if click.user == click.manager.slack_user_id else str(click.actor)

    # what was clicked

    def _on_action(self, click: Click, action: dict[str, Any], payload: dict[str, Any]) -> str:
        if click.actor is None:
            return self._tell(click, "not_yours", manager=click.manager.name)
        action_id = action["action_id"]
        if click.context["k"] == "a" and action_id == kit.APPROVE:
            return self._answer_approval(click, "Approve", None)
        if click.context["k"] == "a" and action_id == kit.REJECT:
            return self._modal(
                click,
                payload["trigger_id"],
                REJECT_MODAL,
                "reject_title",
                "reject_label",
                "reject_submit",
            )
        if click.context["k"] == "r" and action_id == kit.NOT_A_RISK:
            return self._modal(
                click,
                payload["trigger_id"],
                NOT_A_RISK_MODAL,
                "not_a_risk_title",
                "not_a_risk_label",
                "not_a_risk_submit",
            )
        if click.context["k"] == "r" and action_id == kit.SNOOZE_WEEK:
            until = self._today() + timedelta(days=SNOOZE_DAYS)
            return self._feedback(click, "snooze", "snoozed in Slack", until)
        if (
            click.context["k"] == "r"
            and action_id == kit.SNOOZE_UNTIL
            and action.get("selected_date")
        ):
            until = date.fromisoformat(action["selected_date"])
            return self._feedback(click, "snooze", "snoozed in Slack", until)
        if click.context["k"] == "r" and action_id == kit.CALLED:
            return self._feedback(click, "called", "called the client", self._today())
        return "ignored"

    def _on_reason(self, click: Click, callback_id: str, reason: str) -> str:
        if click.actor is None:
            return self._tell(click, "not_yours", manager=click.manager.name)
        if callback_id == REJECT_MODAL and click.context["k"] == "a":
            return self._answer_approval(click, "Reject", reason)
        if callback_id == NOT_A_RISK_MODAL and click.context["k"] == "r":
            return self._feedback(click, "not_a_risk", reason, None)
        return "ignored"

    # acting through Airflow

    def _answer_approval(self, click: Click, option: str, reason: str | None) -> str:
        ctx = click.context
        where = (str(ctx["d"]), str(ctx["r"]), int(ctx["m"]))
        # `via` tells the trail the answer came from Slack (Airflow records who answered)
        params = {"via": "slack", **({"reason": reason} if reason else {})}
        try:
            try:
                detail = self.airflow.answer_approval(str(click.actor), *where, option, params)
                outcome = "approved" if option == "Approve" else "rejected"
            except Conflict:
                detail = self.airflow.approval(str(click.actor), *where)
                outcome = "already_decided"
        except AirflowDown:
            return self._tell(click, "not_recorded")
        except NotOpen:
            return self._tell(click, "not_ready")
        except Refused:
            return self._tell(click, "refused")
        # PATCH answers `responded_by`, GET `responded_by_user`
        responder = detail.get("responded_by_user") or detail.get("responded_by") or {}
        who = responder.get("name") or responder.get("id") or "?"
        at = _instant(detail.get("responded_at"))
        chosen = detail.get("chosen_options") or []
        line = self._approval_line(
            click.language, chosen, who, at, (detail.get("params_input") or {}).get("reason")
        )
        self._show(click, line)
        if outcome == "already_decided":
            self._tell(click, "already_decided", who=who, when=when(click.language, at, self._tz()))
        return outcome

    def _approval_line(
        self, language: str, chosen: list[str], who: str, at: datetime, reason: str | None
    ) -> str:
        moment = when(language, at, self._tz())
        if chosen == ["Approve"]:
            return text(language, "approved_by", who=escape_mrkdwn(who), when=moment)
        return text(
            language,
            "rejected_by",
            who=escape_mrkdwn(who),
            when=moment,
            reason=escape_mrkdwn(reason or "—"),
        )

    def _feedback(self, click: Click, action: str, reason: str, until: date | None) -> str:
        client = str(click.context["c"])
        run_id = feedback_run_id(click.ts, client)
        by = click.manager.id if click.user == click.manager.slack_user_id else str(click.actor)
        conf = {
            "action": action,
            "client": client,
            "reason": reason,
            "by": by,
            "until": until.isoformat() if until else None,
        }
        try:
            try:
                run = self.airflow.trigger(str(click.actor), FEEDBACK_DAG, run_id, conf)
                outcome = action
            except Conflict:
                run = self.airflow.run(str(click.actor), FEEDBACK_DAG, run_id)
                outcome = "already_decided"
        except AirflowDown:
            return self._tell(click, "not_recorded")
        except (NotOpen, Refused):
            return self._tell(click, "refused")
        recorded = run.get("conf") or conf
        who = self._person(str(recorded.get("by")))
        at = _instant(run.get("queued_at") or run.get("run_after"))
        self._show(click, self._feedback_line(click.language, recorded, who, at))
        if outcome == "already_decided":
            self._tell(click, "already_decided", who=who, when=when(click.language, at, self._tz()))
        return outcome

    def _feedback_line(self, language: str, conf: dict[str, Any], who: str, at: datetime) -> str:
        moment = when(language, at, self._tz())
        values = {"who": escape_mrkdwn(who), "when": moment}
        if conf.get("action") == "snooze":
            return text(
                language,
                "snoozed_by",
                until=day(language, date.fromisoformat(conf["until"])),
                **values,
            )
        if conf.get("action") == "not_a_risk":
            return text(
                language, "not_a_risk_by", reason=escape_mrkdwn(str(conf.get("reason"))), **values
            )
        return text(language, "called_by", **values)

    def _person(self, by: str) -> str:
        return next((m.name for m in self.config.account_managers if m.id == by), by)

    # talking to Slack

    def _modal(
        self, click: Click, trigger_id: str, callback_id: str, title: str, label: str, submit: str
    ) -> str:
        metadata = {"b": click.block_id, "ch": click.channel, "ts": click.ts}
        view = kit.reason_modal(click.language, callback_id, metadata, title, label, submit)
        self.slack.views_open(trigger_id=trigger_id, view=view)
        return "modal"

    def _tell(self, click: Click, key: str, **values: Any) -> str:
        """An ephemeral note to the clicker only (values escaped); return `key`."""
        escaped = {name: escape_mrkdwn(str(value)) for name, value in values.items()}
        note = text(click.language, key, **escaped)
        self.slack.chat_postEphemeral(channel=click.channel, user=click.user, text=note)
        return key

    def _message(self, click: Click) -> dict[str, Any]:
        """The message as it is now (a modal's submission does not carry it)."""
        history = self.slack.conversations_history(
            channel=click.channel, latest=click.ts, inclusive=True, limit=1
        )
        found = [m for m in history.get("messages", []) if m.get("ts") == click.ts]
        return found[0] if found else {}

    def _show(self, click: Click, line: str) -> None:
        """Replace the clicked block by the decision's line, in place (in the message as
        it is now: the click's copy may predate another answer's update)."""
        message = self._message(click)
        if not message.get("blocks"):
            return
        updated = kit.answered(message["blocks"], click.block_id, line)
        self.slack.chat_update(
            channel=click.channel, ts=click.ts, text=message.get("text") or line, blocks=updated
        )

    def _tz(self) -> str:
        return self.config.agency.timezone

    def _today(self) -> date:
        return datetime.now(ZoneInfo(self._tz())).date()


def feedback_run_id(message_ts: str, client_id: str) -> str:
    """The account_manager_feedback run of an answer to one client's alert in one
    message: its idempotency key (one decision per alert)."""
    return f"slack__{message_ts}__{client_id}"


def _metadata(payload: dict[str, Any]) -> dict[str, Any]:
    try:
        metadata = json.loads(payload["view"].get("private_metadata") or "{}")
    except ValueError:
        return {}
    return metadata if isinstance(metadata, dict) else {}


def _reason(payload: dict[str, Any]) -> str:
    values = payload["view"].get("state", {}).get("values", {})
    return str(((values.get("reason") or {}).get("text") or {}).get("value") or "")


def _instant(value: Any) -> datetime:
    if isinstance(value, str):
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    return datetime.now(UTC)
