"""The fake Slack's Socket Mode and interactive methods: what slack-sdk's own Socket Mode
client sees (hello, envelopes, acks, reconnect after `disconnect`), and the Web API
answers checked against Slack's published spec."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from slack_sdk.socket_mode.builtin import SocketModeClient
from slack_sdk.socket_mode.request import SocketModeRequest
from slack_sdk.socket_mode.response import SocketModeResponse
from slack_sdk.web import WebClient

from sandbox.fake_slack import create_app
from sandbox.http_server import serving
from tests.test_fake_slack_contract import response_validator, spec  # noqa: F401 (fixture)

BOT = "xoxb-socket-test"
APP = "xapp-1-A0CLIENTP1-socket-test"
MANAGER = "U0ANNA0001"
BUTTONS = [
    {"type": "section", "block_id": "head", "text": {"type": "mrkdwn", "text": "Draft"}},
    {
        "type": "actions",
        "block_id": "draft-1",
        "elements": [
            {
                "type": "button",
                "action_id": "approve",
                "text": {"type": "plain_text", "text": "Approve"},
                "value": '{"k": "approve"}',
            },
            {"type": "datepicker", "action_id": "snooze_until", "initial_date": "2026-12-14"},
        ],
    },
]


@pytest.fixture
def slack(tmp_path: Path) -> Iterator[tuple[str, Any]]:
    app = create_app(BOT, tmp_path / "slack.jsonl", app_token=APP)
    with serving(app) as server:
        yield server.base_url, app


class Recorder:
    """A Socket Mode app that acks every envelope and keeps the payloads."""

    def __init__(self, base_url: str) -> None:
        self.payloads: list[dict[str, Any]] = []
        self.client = SocketModeClient(
            app_token=APP,
            web_client=WebClient(token=BOT, base_url=f"{base_url}/api/"),
            auto_reconnect_enabled=True,
            ping_interval=1,
        )
        self.client.socket_mode_request_listeners.append(self.on_request)
        self.seen = threading.Event()

    def on_request(self, client: SocketModeClient, request: SocketModeRequest) -> None:
        # kept before the ack: once the fake has the ack, the test reads the payload
        self.payloads.append(request.payload)
        self.seen.set()
        client.send_socket_mode_response(SocketModeResponse(envelope_id=request.envelope_id))


def _wait(condition, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def test_socket_mode_click_is_delivered_acked_and_survives_a_disconnect(slack) -> None:
    base, app = slack
    posted = WebClient(token=BOT, base_url=f"{base}/api/").chat_postMessage(
        channel=MANAGER, text="Draft", blocks=BUTTONS
    )
    recorder = Recorder(base)
    recorder.client.connect()
    try:
        _wait(lambda: app.state.interactivity.sockets)
        click = {"user": MANAGER, "channel": posted["channel"], "ts": posted["ts"]}
        answer = requests.post(
            f"{base}/_sandbox/click", json={**click, "action_id": "approve"}, timeout=10
        ).json()
        assert answer["acked"] is True and answer["ack_ms"] < 3000
        payload = recorder.payloads[-1]
        assert payload["type"] == "block_actions" and payload["user"]["id"] == MANAGER
        assert payload["container"] == {
            "type": "message",
            "message_ts": posted["ts"],
            "channel_id": posted["channel"],
            "is_ephemeral": False,
        }
        action = payload["actions"][0]
        assert (action["action_id"], action["block_id"], action["value"]) == (
            "approve",
            "draft-1",
            '{"k": "approve"}',
        )
        assert payload["message"]["blocks"] == BUTTONS and payload["trigger_id"]

        # Slack asks the app to reconnect; the client opens a new connection by itself
        requests.post(f"{base}/_sandbox/disconnect", timeout=10)
        _wait(lambda: app.state.interactivity.connections_opened == 2, timeout=20)
        _wait(lambda: app.state.interactivity.sockets)
        picked = requests.post(
            f"{base}/_sandbox/click",
            json={**click, "action_id": "snooze_until", "selected_date": "2026-12-21"},
            timeout=10,
        ).json()
        assert picked["acked"] is True
        action = recorder.payloads[-1]["actions"][0]
        assert (action["type"], action["selected_date"]) == ("datepicker", "2026-12-21")
    finally:
        recorder.client.close()


def test_connections_open_wants_the_app_level_token(slack) -> None:
    base, _ = slack

    def open_with(token: str) -> dict[str, Any]:
        headers = {"Authorization": f"Bearer {token}"}
        return requests.post(f"{base}/api/apps.connections.open", headers=headers, timeout=5).json()

    assert open_with(BOT) == {"ok": False, "error": "not_allowed_token_type"}
    assert open_with("xapp-wrong") == {"ok": False, "error": "invalid_auth"}
    assert open_with(APP)["url"].startswith(f"ws://{base.removeprefix('http://')}/link/?ticket=")


def test_update_ephemeral_and_modal_match_the_spec(spec, slack) -> None:  # noqa: F811
    base, app = slack
    web = WebClient(token=BOT, base_url=f"{base}/api/")
    posted = web.chat_postMessage(channel=MANAGER, text="Draft", blocks=BUTTONS)
    # (blocks emptied: the 2021 spec types a message's `blocks` as an object, not the
    # array Slack sends)
    updated = web.chat_update(
        channel=posted["channel"], ts=posted["ts"], text="Approved", blocks=[]
    )
    response_validator(spec, "chat.update", "post", "200").validate(updated.data)
    state = requests.get(f"{base}/_sandbox/state", timeout=5).json()
    assert [(m["text"], m["blocks"]) for m in state["messages"]] == [("Approved", [])]

    ephemeral = web.chat_postEphemeral(channel=posted["channel"], user=MANAGER, text="Not yours")
    response_validator(spec, "chat.postEphemeral", "post", "200").validate(ephemeral.data)

    trigger = app.state.interactivity.trigger_for(MANAGER)
    modal = {
        "type": "modal",
        "callback_id": "reject",
        "title": {"type": "plain_text", "text": "Reject"},
        "submit": {"type": "plain_text", "text": "Reject"},
        "private_metadata": "k",
        "blocks": [
            {
                "type": "input",
                "block_id": "reason",
                "label": {"type": "plain_text", "text": "Why?"},
                "element": {"type": "plain_text_input", "action_id": "text"},
            }
        ],
    }
    opened = web.views_open(trigger_id=trigger, view=modal)
    response_validator(spec, "views.open", "get", "200").validate(opened.data)
    again = requests.post(
        f"{base}/api/views.open",
        headers={"Authorization": f"Bearer {BOT}"},
        data={"trigger_id": trigger, "view": json.dumps(modal)},
        timeout=5,
    ).json()
    assert again == {"ok": False, "error": "invalid_trigger_id"}
    # a submit with nobody connected is refused, the modal stays open
    refused = requests.post(
        f"{base}/_sandbox/submit",
        json={"view_id": opened["view"]["id"], "values": {"reason": {"text": "late"}}},
        timeout=5,
    )
    assert refused.status_code == 409
