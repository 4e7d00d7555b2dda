"""`make demo`'s account managers acting from Slack.

Every approval DM and alert DM the demo's runs post to the fake Slack is answered by a
click of its manager (tooling.slack_desk): the click travels through the fake's Socket
Mode to the Slack listener, which acts through Airflow's REST API as the manager's
Airflow user and updates the DM. Every client-email draft is approved but one monthly
report, rejected with a reason; after the alerts, one at-risk client is snoozed for a
week and another marked "not a risk" (account_manager_feedback runs). The trail — who
clicked what and when, what Airflow recorded, what the DM says now — goes into the
demo's summary and, click by click, into out/demo/slack/clicks.jsonl.
"""

from __future__ import annotations

import contextlib
import json
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from clientpulse.config import AgencyConfig
from clientpulse.slack_listener.actions import FEEDBACK_DAG, feedback_run_id
from clientpulse.slack_listener.blocks import (
    APPROVE,
    NOT_A_RISK,
    REJECT,
    SNOOZE_WEEK,
    read_context,
)
from tooling.airflow_api import AirflowApi
from tooling.local_airflow import LocalAirflow
from tooling.slack_desk import Answered, SlackDesk, actionable

# The monthly report a manager rejects in Slack, and why (she writes in Ukrainian).
DEMO_REJECTED = {"kvitka-flowers": "Цифри за листопад ще не звірені з бухгалтерією"}
REJECTED_DAG = "client_monthly_report"
NOT_A_RISK_REASON = "Quiet month by design: their campaign pauses until January, agreed on a call"
ACTION_NAMES = {
    APPROVE: "Approve",
    REJECT: "Reject",
    SNOOZE_WEEK: "Snooze 1 week",
    NOT_A_RISK: "Not a risk",
}


@dataclass
class DemoManagers:
    """The demo's managers at their Slack DMs; `seen` are the messages of earlier runs
    (never answered again)."""

    config: AgencyConfig
    desk: SlackDesk
    api: AirflowApi
    seen: set[str] = field(default_factory=set)
    answered: list[Answered] = field(default_factory=list)

    @classmethod
    def at_desk(cls, config: AgencyConfig, desk: SlackDesk, api: AirflowApi) -> DemoManagers:
        return cls(config, desk, api, {m["ts"] for m in desk.state()["messages"]})

    @contextlib.contextmanager
    def answering(self, airflow: LocalAirflow, dag_id: str) -> Iterator[Callable[[], None]]:
        """A LocalAirflow answerer: while `dag_id` runs, answer its drafts as they wait."""
        yield lambda: self.answer_drafts(dag_id)

    def _offered(self, kind: str) -> list[tuple[str, str, dict[str, Any]]]:
        return [a for a in actionable(self.desk.state(), kind) if a[0] not in self.seen]

    def answer_drafts(self, dag_id: str) -> None:
        """Answer each draft of `dag_id` offered in a DM whose approval Airflow waits for
        now (a click before that would only hear "not ready yet")."""
        drafts = [d for d in self._offered("a") if d[2]["d"] == dag_id]
        waiting = {
            (run_id, detail["task_instance"]["map_index"])
            for run_id in {context["r"] for _, _, context in drafts}
            for detail in self.api.hitl_details(dag_id, run_id)
            if detail["task_instance"]["state"] == "awaiting_input"
        }
        for ts, block_id, context in drafts:
            if (context["r"], context["m"]) not in waiting:
                continue
            user = str(self.config.manager(context["u"]).slack_user_id)
            reason = DEMO_REJECTED.get(context["c"]) if dag_id == REJECTED_DAG else None
            action = REJECT if reason else APPROVE
            self.answered.append(self.desk.answer(user, ts, block_id, action, reason))

    def answer_alerts(self) -> list[str]:
        """Snooze the first at-risk client of this run's alert DMs for a week and mark
        another client (another manager's, when there is one) "not a risk"; return the
        account_manager_feedback runs the listener asked Airflow for."""
        alerts = self._offered("r")
        if not alerts:
            return []
        first = alerts[0]
        others = [a for a in alerts if a[2]["c"] != first[2]["c"]]
        second = next((a for a in others if a[2]["u"] != first[2]["u"]), None) or (
            others[0] if others else None
        )
        runs = []
        for (ts, block_id, context), action, reason in (
            (first, SNOOZE_WEEK, None),
            *([(second, NOT_A_RISK, NOT_A_RISK_REASON)] if second else []),
        ):
            user = str(self.config.manager(context["u"]).slack_user_id)
            self.answered.append(self.desk.answer(user, ts, block_id, action, reason))
            runs.append(feedback_run_id(ts, context["c"]))
        return runs

    def trail(self) -> list[dict[str, Any]]:
        """Each click with what Airflow recorded for it (the HITL answer; the feedback
        run and its conf)."""
        details: dict[tuple[str, str], dict[int, dict[str, Any]]] = {}
        clicks = []
        for answer in self.answered:
            context = answer.context
            manager = self.config.manager(context["u"])
            click = {
                "at": answer.at.isoformat(timespec="seconds"),
                "manager": manager.name,
                "slack_user": answer.user,
                "action": ACTION_NAMES[answer.action],
                "client": context["c"],
                "ack_ms": answer.ack_ms,
                "reason": answer.reason,
                "dm_line": answer.line,
            }
            if context["k"] == "a":
                key = (context["d"], context["r"])
                if key not in details:
                    details[key] = {
                        d["task_instance"]["map_index"]: d for d in self.api.hitl_details(*key)
                    }
                detail = details[key][context["m"]]
                who = detail.get("responded_by_user") or {}
                click["airflow"] = {
                    "hitl": f"{context['d']}/{context['r']}/approve/{context['m']}",
                    "chosen_options": detail.get("chosen_options"),
                    "responded_by": who.get("name") or who.get("id"),
                    "responded_at": detail.get("responded_at"),
                    "params_input": detail.get("params_input"),
                }
            else:
                run = self.api.run(FEEDBACK_DAG, feedback_run_id(answer.ts, context["c"]))
                click["airflow"] = {
                    "dag_run": f"{FEEDBACK_DAG}/{run['dag_run_id']}",
                    "state": run["state"],
                    "triggered_by": run.get("triggering_user_name"),
                    "conf": run.get("conf"),
                }
            clicks.append(click)
        return clicks


def approval_dm_counts(messages: list[dict[str, Any]]) -> dict[str, tuple[int, int]]:
    """DAG id → (approval DMs, managers they went to) among `messages`."""
    dms: Counter[str] = Counter()
    managers: dict[str, set[str]] = {}
    for message in messages:
        contexts = [read_context(str(b.get("block_id", ""))) for b in message.get("blocks") or []]
        drafts = [c for c in contexts if c and c["k"] == "a"]
        if drafts:
            dms[drafts[0]["d"]] += 1
            managers.setdefault(drafts[0]["d"], set()).add(message["channel_name"])
    return {dag_id: (n, len(managers[dag_id])) for dag_id, n in sorted(dms.items())}


def trail_lines(clicks: list[dict[str, Any]], path: Path) -> list[str]:
    """The summary's part: counts per action, then the first approval, every rejection
    and every alert answer in full."""
    counts = Counter(
        (c["action"], (c["airflow"].get("hitl") or c["airflow"]["dag_run"]).split("/")[0])
        for c in clicks
    )
    lines = [
        "  acting from Slack (click → fake Slack Socket Mode → Slack listener → Airflow REST API):",
        *(
            f"    {action} on {dag}: {n} click{'' if n == 1 else 's'}"
            for (action, dag), n in sorted(counts.items())
        ),
        f"    every click with what Airflow recorded: {path}",
    ]
    shown = [c for c in clicks if c["action"] == "Approve"][:1]
    shown += [c for c in clicks if c["action"] != "Approve"]
    for click in shown:
        reason = f" (reason: {click['reason']})" if click["reason"] else ""
        lines += [
            f"    {click['at']} {click['manager']} ({click['slack_user']}) clicked "
            f"{click['action']} on {click['client']}{reason}; acked in {click['ack_ms']} ms",
            f"      Airflow recorded: {json.dumps(click['airflow'], ensure_ascii=False)}",
            f"      the DM now says: {click['dm_line']}",
        ]
    return lines
