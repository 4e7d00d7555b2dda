"""Block Kit for the actionable DMs: what a manager can click, and what a decision
leaves in its place.

Each actionable block carries its context in its `block_id` (compact JSON, < 255
characters): for an approval `{"k": "a", "d": dag, "r": run, "m": map index, "c": client,
"u": manager}`, for an alert `{"k": "r", "c": client, "u": manager}`. A decision replaces
that block with a context line under the same `block_id` (so the message shows the
answer and offers no button any more).
"""

from __future__ import annotations

import json
from typing import Any

from clientpulse.slack_listener.texts import text
from connectors.slack import escape_mrkdwn

APPROVE, REJECT, SEE_EMAIL = "approve", "reject", "see_email"
SNOOZE_WEEK, SNOOZE_UNTIL, NOT_A_RISK, CALLED = (
    "snooze_week",
    "snooze_until",
    "not_a_risk",
    "called",
)
FIRST_LINES = 280  # characters of the email's text shown in the DM
MAX_BLOCK_ID = 255


def context_id(**context: Any) -> str:
    """A block_id carrying `context`; raises when Slack would refuse its length."""
    block_id = json.dumps(context, separators=(",", ":"), ensure_ascii=False)
    if len(block_id) > MAX_BLOCK_ID:
        raise ValueError(f"block_id too long for Slack ({len(block_id)} chars): {block_id}")
    return block_id


def read_context(block_id: str) -> dict[str, Any] | None:
    """The context of an actionable block, or None for any other block."""
    try:
        context = json.loads(block_id)
    except (TypeError, ValueError):
        return None
    return context if isinstance(context, dict) and context.get("k") in ("a", "r") else None


def _button(
    language: str, key: str, action_id: str, style: str | None = None, url: str | None = None
) -> dict[str, Any]:
    button: dict[str, Any] = {
        "type": "button",
        "action_id": action_id,
        "text": {"type": "plain_text", "text": text(language, key)},
    }
    if style:
        button["style"] = style
    if url:
        button["url"] = url
    return button


def approval_dm(
    language: str, dag_id: str, run_id: str, drafts: list[dict[str, Any]]
) -> tuple[str, list[dict[str, Any]]]:
    """One DM listing a run's drafts for one manager: (fallback text, blocks). Each draft
    (`map_index`, `client_id`, `client_name`, `subject`, `language`, `text`, `manager_id`,
    `link`) gets Approve / Reject and a link to the whole email on Airflow's page."""
    header = text(language, "approvals_header", count=len(drafts))
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": header[:150]}},
        {
            "type": "context",
            "elements": [{"type": "mrkdwn", "text": text(language, "approvals_intro")}],
        },
    ]
    for draft in drafts:
        first = " ".join(draft["text"].split())
        first = first if len(first) <= FIRST_LINES else first[:FIRST_LINES].rstrip() + "…"
        line = text(
            language,
            "draft_line",
            client=escape_mrkdwn(draft["client_name"]),
            subject=escape_mrkdwn(draft["subject"]),
            email_language=text(language, f"language:{draft['language']}"),
        )
        blocks.append(
            {
                "type": "section",
                "text": {"type": "mrkdwn", "text": f"{line}\n>{escape_mrkdwn(first)}"},
            }
        )
        block_id = context_id(
            k="a",
            d=dag_id,
            r=run_id,
            m=draft["map_index"],
            c=draft["client_id"],
            u=draft["manager_id"],
        )
        blocks.append(
            {
                "type": "actions",
                "block_id": block_id,
                "elements": [
                    _button(language, "approve", APPROVE, "primary"),
                    _button(language, "reject", REJECT, "danger"),
                    _button(language, "see_email", SEE_EMAIL, url=draft["link"]),
                ],
            }
        )
    return header, blocks


def alert_actions(language: str, client_id: str, manager_id: str) -> dict[str, Any]:
    """The buttons under one alert: snooze a week, snooze until a date, not a risk, called."""
    return {
        "type": "actions",
        "block_id": context_id(k="r", c=client_id, u=manager_id),
        "elements": [
            _button(language, "alert_snooze_week", SNOOZE_WEEK),
            {
                "type": "datepicker",
                "action_id": SNOOZE_UNTIL,
                "placeholder": {"type": "plain_text", "text": text(language, "alert_snooze_until")},
            },
            _button(language, "alert_not_a_risk", NOT_A_RISK),
            _button(language, "alert_called", CALLED),
        ],
    }


def answered(blocks: list[dict[str, Any]], block_id: str, line: str) -> list[dict[str, Any]]:
    """`blocks` with the actionable block `block_id` replaced by the decision's line."""
    note = {"type": "context", "block_id": block_id, "elements": [{"type": "mrkdwn", "text": line}]}
    return [note if block.get("block_id") == block_id else block for block in blocks]


def reason_modal(
    language: str, callback_id: str, metadata: dict[str, Any], title: str, label: str, submit: str
) -> dict[str, Any]:
    """A modal asking for a reason; `metadata` comes back in the view_submission."""
    return {
        "type": "modal",
        "callback_id": callback_id,
        "private_metadata": json.dumps(metadata, separators=(",", ":"), ensure_ascii=False),
        "title": {"type": "plain_text", "text": text(language, title)[:24]},
        "submit": {"type": "plain_text", "text": text(language, submit)[:24]},
        "close": {"type": "plain_text", "text": text(language, "cancel")[:24]},
        "blocks": [
            {
                "type": "input",
                "block_id": "reason",
                "label": {"type": "plain_text", "text": text(language, label)},
                "element": {
                    "type": "plain_text_input",
                    "action_id": "text",
                    "multiline": True,
                    "max_length": 500,
                },
            }
        ],
    }
