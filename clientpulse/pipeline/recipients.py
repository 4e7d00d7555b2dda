"""Who a queued delivery goes to, decided when it is sent from the config as it is then.

A payload is rendered once and may wait days in the outbox (approval, a Slack outage);
meanwhile a wrong `slack_user_id` is fixed, or a manager or report recipient changes.
So a DM goes to the user the config names now, and a client email only to the
addresses the client still has (never one the config no longer names; no new one
either: the manager approved the list it showed). What was used goes to the sent log.
"""

from __future__ import annotations

from dataclasses import replace

from clientpulse.config import AgencyConfig
from warehouse.outbox import OutboxItem


class RecipientGone(RuntimeError):
    """Nobody the current config names is left to send a queued delivery to."""


def resolve(config: AgencyConfig, item: OutboxItem) -> OutboxItem:
    """`item` with its payload addressed from the current config."""
    if item.channel == "slack" and item.payload.get("user"):
        return replace(item, payload={**item.payload, "user": _dm_user(config, item)})
    if item.channel == "email" and item.client_id:
        return replace(item, payload={**item.payload, "to": _email_to(config, item)})
    return item


def _dm_user(config: AgencyConfig, item: OutboxItem) -> str:
    manager = next((m for m in config.account_managers if m.id == item.recipient), None)
    if manager is None:
        raise RecipientGone(
            f"{item.key}: account manager {item.recipient} is no longer in the config; "
            "the DM is not sent to anyone else"
        )
    if not manager.slack_user_id:
        raise RecipientGone(
            f"{item.key}: {manager.id} has no slack_user_id in the config any more; the "
            "DM is not sent to anyone else (re-send it to render it for the fallback channel)"
        )
    return manager.slack_user_id


def _email_to(config: AgencyConfig, item: OutboxItem) -> list[str]:
    client = next((c for c in config.clients if c.id == item.client_id), None)
    named = {a.lower() for a in client.report_recipients} if client else set()
    to = [a for a in item.payload["to"] if a.lower() in named]
    if not to:
        raise RecipientGone(
            f"{item.key}: none of its recipients ({', '.join(item.payload['to'])}) is a "
            f"report recipient of {item.client_id} in the config any more; not sent"
        )
    return to
