"""Alerts to the ops Slack channel, sent with the Slack provider's `SlackNotifier`.

Two kinds: a task that failed for good (`on_failure_callback` in every DAG's default
args; it runs in the worker), and a digest DAG run still unfinished when its Deadline
Alert fires (an `AsyncCallback`; it runs in the triggerer). Airflow's own text (ids,
the exception message) is untrusted, so it is escaped for mrkdwn and the notifier's
`notify` is called directly: nothing in it is rendered as a Jinja template.

Imported by DAG files at parse time, so Airflow and the Slack SDK load only when an
alert is built or sent.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

MAX_ERROR_CHARS = 500


@dataclass(frozen=True)
class OpsChannel:
    connection_id: str
    channel: str

    def notifier(self, text: str) -> Any:
        from airflow.providers.slack.notifications.slack import SlackNotifier

        return SlackNotifier(
            slack_conn_id=self.connection_id,
            channel=self.channel,
            text=text,
            username="ClientPulse",
            unfurl_links=False,
            unfurl_media=False,
        )


def failure_text(context: Any) -> str:
    """One line naming the task, run and try, then the (shortened) error."""
    from connectors.slack import escape_mrkdwn

    ti = context["ti"]
    error = str(context.get("exception") or "no exception recorded")
    if len(error) > MAX_ERROR_CHARS:
        error = error[:MAX_ERROR_CHARS] + " …"
    task = escape_mrkdwn(f"{ti.dag_id}.{ti.task_id}")
    return (
        f":red_circle: ClientPulse task failed: *{task}*"
        f" (run {escape_mrkdwn(ti.run_id)}, try {ti.try_number})\n"
        f"> {escape_mrkdwn(error)}"
    )


class TaskFailureAlert:
    """`on_failure_callback`: tell ops which task failed (after its last retry) and why."""

    def __init__(self, ops: OpsChannel) -> None:
        self.ops = ops

    def __call__(self, context: Any) -> None:
        self.ops.notifier(failure_text(context)).notify(context)


def deadline_text(context: dict[str, Any] | None, interval_minutes: int) -> str:
    from connectors.slack import escape_mrkdwn

    run = (context or {}).get("dag_run") or {}
    dag_id = escape_mrkdwn(str(run.get("dag_id", "a digest DAG")))
    run_id = escape_mrkdwn(str(run.get("dag_run_id") or run.get("run_id") or "?"))
    return (
        f":alarm_clock: *{dag_id}* was not delivered within {interval_minutes} min of being "
        f"queued (run {run_id}). Check the run in Airflow; the outbox sends it at most once."
    )


async def digest_deadline_missed(
    connection_id: str, channel: str, interval_minutes: int, context: dict | None = None
) -> None:
    """The Deadline Alert's callback: runs in the triggerer when a digest run is late."""
    ops = OpsChannel(connection_id=connection_id, channel=channel)
    await ops.notifier(deadline_text(context, interval_minutes)).async_notify(context or {})


def digest_deadline(ops: OpsChannel, interval: timedelta) -> Any:
    """A Deadline Alert: the run must finish `interval` after it was queued."""
    from airflow.sdk import AsyncCallback, DeadlineAlert, DeadlineReference

    return DeadlineAlert(
        reference=DeadlineReference.DAGRUN_QUEUED_AT,
        interval=interval,
        callback=AsyncCallback(
            digest_deadline_missed,
            kwargs={
                "connection_id": ops.connection_id,
                "channel": ops.channel,
                "interval_minutes": int(interval.total_seconds() // 60),
            },
        ),
    )
