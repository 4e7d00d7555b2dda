"""Tell ops in Slack which expectations a build's quality gate failed.

One alert per failing build run, through the outbox (kind `quality_alert`, period = the
run id), so a rerun of the same run never posts it twice; the digests stay held back
by compose's gate check meanwhile.
"""

from __future__ import annotations

from typing import Any

import duckdb

from clientpulse.config import AgencyConfig
from connectors.slack import escape_mrkdwn
from warehouse.outbox import Delivery, enqueue

QUALITY_ALERT = "quality_alert"


def alert_message(failures: list[str], run_id: str) -> dict[str, Any]:
    """Block Kit: the failed expectations, escaped, and what was held back."""
    lines = "\n".join(f"• {escape_mrkdwn(f)}" for f in failures)
    text = (
        f":warning: ClientPulse quality gate failed in build {escape_mrkdwn(run_id)}; "
        "digests are held back until a build passes."
    )
    return {
        "text": f"{text} Failed: " + "; ".join(escape_mrkdwn(f) for f in failures),
        "blocks": [
            {"type": "section", "text": {"type": "mrkdwn", "text": text}},
            {
                "type": "section",
                "text": {"type": "mrkdwn", "text": "*Failed expectations*\n" + lines},
            },
        ],
    }


def enqueue_quality_alert(
    con: duckdb.DuckDBPyConnection, config: AgencyConfig, run_id: str, failures: list[str]
) -> bool:
    """Queue the alert for this run unless it is already queued or sent."""
    channel = config.delivery.slack.ops_channel
    payload = {**alert_message(failures, run_id), "channel": channel}
    return enqueue(con, Delivery(QUALITY_ALERT, "slack", channel, run_id, payload))
