"""The demo's Slack desk reads the fake Slack's messages as the listener writes them:
which drafts and alerts still offer buttons, and how many approval DMs a run posted."""

from __future__ import annotations

from clientpulse.slack_listener import blocks as kit
from tooling.demo_slack import approval_dm_counts, trail_lines
from tooling.slack_desk import actionable, decision_line, draft_block


def _draft(index: int, client: str, manager: str) -> dict:
    return {
        "map_index": index,
        "client_id": client,
        "client_name": client.title(),
        "subject": f"{client}: status",
        "language": "en",
        "text": "Hello",
        "manager_id": manager,
        "link": f"http://airflow/required?map_index={index}",
    }


def _messages() -> list[dict]:
    weekly = "client_weekly_status"
    _, anna = kit.approval_dm("en", weekly, "run-1", [_draft(0, "acme", "anna")])
    _, taras = kit.approval_dm(
        "uk", weekly, "run-1", [_draft(1, "beta", "taras"), _draft(2, "gamma", "taras")]
    )
    alert = [{"type": "section", "text": {"type": "mrkdwn", "text": "*Acme*"}}]
    alert.append(kit.alert_actions("en", "acme", "anna"))
    # anna answered her draft: the listener replaced its buttons by a line
    block_id = next(b["block_id"] for b in anna if b["type"] == "actions")
    anna = kit.answered(anna, block_id, "✅ Approved by anna")
    return [
        {"ts": "1.1", "channel_name": "dm-UANNA", "blocks": anna, "edited": {"ts": "1.5"}},
        {"ts": "1.2", "channel_name": "dm-UTARAS", "blocks": taras},
        {"ts": "1.3", "channel_name": "dm-UANNA", "blocks": alert},
        {"ts": "1.4", "channel_name": "leadership", "blocks": alert[:1]},
    ]


def test_only_blocks_still_offering_buttons_are_offered_by_kind():
    state = {"messages": _messages()}
    drafts = actionable(state, "a")
    assert [(ts, c["c"], c["m"]) for ts, _, c in drafts] == [
        ("1.2", "beta", 1),
        ("1.2", "gamma", 2),
    ]
    assert [(ts, c["c"], c["u"]) for ts, _, c in actionable(state, "r")] == [
        ("1.3", "acme", "anna")
    ]
    # the answered draft is still found by run and client, with its decision line
    ts, block_id = draft_block(state, "run-1", "acme")
    assert decision_line(state, ts, block_id) == "✅ Approved by anna"
    assert decision_line(state, *draft_block(state, "run-1", "beta")) == ""


def test_approval_dms_are_counted_per_dag_with_the_managers_they_went_to():
    assert approval_dm_counts(_messages()) == {"client_weekly_status": (2, 2)}


def test_the_trail_shows_counts_the_first_approval_and_every_other_answer_in_full(tmp_path):
    def click(action: str, client: str, airflow: dict) -> dict:
        return {
            "at": "2026-12-07T10:00:00+00:00",
            "manager": "Anna",
            "slack_user": "UANNA",
            "action": action,
            "client": client,
            "ack_ms": 3,
            "reason": "why" if action != "Approve" else None,
            "dm_line": f"{action} line",
            "airflow": airflow,
        }

    hitl = {"hitl": "client_weekly_status/run-1/approve/0", "params_input": {"via": "slack"}}
    run = {"dag_run": "account_manager_feedback/slack__1.3__acme", "state": "success"}
    clicks = [
        click("Approve", "acme", hitl),
        click("Approve", "beta", hitl),
        click("Reject", "gamma", hitl),
        click("Not a risk", "acme", run),
    ]
    text = "\n".join(trail_lines(clicks, tmp_path / "clicks.jsonl"))
    assert "Approve on client_weekly_status: 2 clicks" in text
    assert "Not a risk on account_manager_feedback: 1 click\n" in text
    assert text.count("clicked Approve") == 1 and "clicked Reject on gamma (reason: why)" in text
    assert '"via": "slack"' in text and '"state": "success"' in text
