"""The fake Slack answers with the response schemas of Slack's published Web API spec."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import requests

from connectors.slack import SlackPoster, SlackPostError
from sandbox.fake_slack import create_app
from sandbox.http_server import serving

TOKEN = "xoxb-contract-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


def _normalise(node: Any) -> Any:
    """Slack's generator writes "one of these" as `items: [...]` on non-array schemas;
    JSON Schema would ignore it there, so turn it into the `anyOf` it means."""
    if isinstance(node, list):
        return [_normalise(item) for item in node]
    if not isinstance(node, dict):
        return node
    out = {key: _normalise(value) for key, value in node.items()}
    if isinstance(out.get("items"), list) and out.get("type") != "array":
        out["anyOf"] = out.pop("items")
    return out


@pytest.fixture(scope="module")
def spec(specs_dir: Path) -> dict[str, Any]:
    return json.loads((specs_dir / "slack_web_openapi_v2.json").read_text(encoding="utf-8"))


def response_validator(
    spec: dict[str, Any], method: str, verb: str, status: str
) -> jsonschema.Draft4Validator:
    """Validator for one documented response, with `#/definitions/...` refs resolvable."""
    schema = spec["paths"][f"/{method}"][verb]["responses"][status]["schema"]
    root = {**_normalise(schema), "definitions": _normalise(spec["definitions"])}
    return jsonschema.Draft4Validator(root)


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    capture = tmp_path_factory.mktemp("slack") / "capture.jsonl"
    with serving(create_app(TOKEN, capture)) as server:
        yield f"{server.base_url}/api"


def call(api: str, method: str, *, token: str | None = TOKEN, **kwargs: Any) -> dict[str, Any]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    response = requests.post(f"{api}/{method}", headers=headers, timeout=5, **kwargs)
    assert response.status_code == 200
    return response.json()


def test_auth_test_success_and_errors_match_the_spec(spec: dict, api: str) -> None:
    ok = call(api, "auth.test")
    response_validator(spec, "auth.test", "get", "200").validate(ok)

    errors = response_validator(spec, "auth.test", "get", "default")
    for token, code in [("xoxb-wrong", "invalid_auth"), (None, "not_authed")]:
        answer = call(api, "auth.test", token=token)
        assert answer == {"ok": False, "error": code}
        errors.validate(answer)


def test_chat_post_message_success_matches_the_spec(spec: dict, api: str) -> None:
    blocks = [{"type": "section", "text": {"type": "mrkdwn", "text": "*Digest*"}}]
    as_json = call(
        api, "chat.postMessage", json={"channel": "#leadership", "text": "Digest", "blocks": blocks}
    )
    as_form = call(
        api,
        "chat.postMessage",
        data={"channel": "leadership", "text": "Digest", "blocks": json.dumps(blocks)},
    )

    validator = response_validator(spec, "chat.postMessage", "post", "200")
    for answer in (as_json, as_form):
        validator.validate(answer)
        assert answer["message"]["blocks"] == blocks


def test_chat_post_message_error_matches_the_spec(spec: dict, api: str) -> None:
    answer = call(api, "chat.postMessage", json={"channel": "#nowhere", "text": "hi"})
    assert answer == {"ok": False, "error": "channel_not_found"}
    response_validator(spec, "chat.postMessage", "post", "default").validate(answer)


def test_conversations_list_pages_match_the_spec(spec: dict, api: str) -> None:
    validator = response_validator(spec, "conversations.list", "get", "200")
    first = call(api, "conversations.list", data={"limit": 2})
    second = call(
        api,
        "conversations.list",
        data={"limit": 2, "cursor": first["response_metadata"]["next_cursor"]},
    )

    for page in (first, second):
        validator.validate(page)
    names = [c["name"] for c in first["channels"] + second["channels"]]
    assert names == ["leadership", "clientpulse-ops", "account-managers"]
    assert second["response_metadata"]["next_cursor"] == ""


def test_the_contract_check_rejects_drift(spec: dict, api: str) -> None:
    """Each deliberately broken copy of a real answer must fail validation."""
    posted = call(api, "chat.postMessage", json={"channel": "#leadership", "text": "drift"})
    listed = call(api, "conversations.list")
    post_ok = response_validator(spec, "chat.postMessage", "post", "200")
    list_ok = response_validator(spec, "conversations.list", "get", "200")

    def broken(answer: dict, change: Any) -> dict:
        copied = copy.deepcopy(answer)
        change(copied)
        return copied

    drifted_posts = [
        broken(posted, lambda a: a.update(ts="1700000000")),  # ts without microseconds
        broken(posted, lambda a: a.pop("message")),
        broken(posted, lambda a: a.update(channel="leadership")),  # a name, not an id
        broken(posted, lambda a: a["message"].update(app_id="A1")),  # not in the spec
    ]
    drifted_lists = [
        broken(listed, lambda a: a["channels"][0].pop("is_private")),
        broken(listed, lambda a: a["channels"][0].update(created="yesterday")),
        broken(listed, lambda a: a.update(response_metadata={})),
    ]
    for answer in drifted_posts:
        assert not post_ok.is_valid(answer)
    for answer in drifted_lists:
        assert not list_ok.is_valid(answer)
    assert post_ok.is_valid(posted) and list_ok.is_valid(listed)


# The 2021 spec predates the v2 file upload; these follow Slack's method reference
# (files.getUploadURLExternal, files.completeUploadExternal) and @slack/web-api's typed
# responses: the fields ClientPulse and slack-sdk's files_upload_v2 read.
UPLOAD_URL_OK = {
    "type": "object",
    "required": ["ok", "upload_url", "file_id"],
    "properties": {
        "ok": {"enum": [True]},
        "upload_url": {"type": "string", "pattern": "^https?://"},
        "file_id": {"type": "string", "pattern": "^F[A-Z0-9]{8,}$"},
    },
    "additionalProperties": False,
}
COMPLETE_OK = {
    "type": "object",
    "required": ["ok", "files"],
    "properties": {
        "ok": {"enum": [True]},
        "files": {
            "type": "array",
            "minItems": 1,
            "items": {
                "type": "object",
                "required": ["id", "title", "name", "mimetype", "size", "channels"],
                "properties": {
                    "id": {"type": "string", "pattern": "^F[A-Z0-9]{8,}$"},
                    "title": {"type": "string"},
                    "name": {"type": "string"},
                    "size": {"type": "integer"},
                    "channels": {"type": "array", "items": {"type": "string"}},
                },
            },
        },
    },
    "additionalProperties": False,
}
API_ERROR = {
    "type": "object",
    "required": ["ok", "error"],
    "properties": {"ok": {"enum": [False]}, "error": {"type": "string"}},
}
PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4


def _upload_url(api: str, length: int = len(PNG)) -> dict[str, Any]:
    return call(api, "files.getUploadURLExternal", data={"filename": "c.png", "length": length})


def _leadership_id(api: str) -> str:
    listed = call(api, "conversations.list")["channels"]
    return next(c["id"] for c in listed if c["name"] == "leadership")


def test_v2_file_upload_steps_match_slacks_method_reference(api: str) -> None:
    step1 = _upload_url(api)
    jsonschema.Draft4Validator(UPLOAD_URL_OK).validate(step1)
    step2 = requests.post(step1["upload_url"], data=PNG, timeout=5)
    assert step2.status_code == 200 and step2.text == f"OK - {len(PNG)}"
    step3 = call(
        api,
        "files.completeUploadExternal",
        data={
            "files": json.dumps([{"id": step1["file_id"], "title": "Chart"}]),
            "channel_id": _leadership_id(api),
            "initial_comment": "numbers",
        },
    )
    jsonschema.Draft4Validator(COMPLETE_OK).validate(step3)
    assert step3["files"][0]["id"] == step1["file_id"]
    assert step3["files"][0]["title"] == "Chart" and step3["files"][0]["size"] == len(PNG)


def test_v2_file_upload_errors(api: str) -> None:
    errors = jsonschema.Draft4Validator(API_ERROR)
    channel = _leadership_id(api)

    def complete(files: Any, channel_id: str = channel) -> dict[str, Any]:
        data = {"files": files if isinstance(files, str) else json.dumps(files)}
        return call(api, "files.completeUploadExternal", data={**data, "channel_id": channel_id})

    answers = {
        "no length": call(api, "files.getUploadURLExternal", data={"filename": "c.png"}),
        "zero length": _upload_url(api, 0),
        "no filename": call(api, "files.getUploadURLExternal", data={"length": 3}),
        "bad token": call(
            api, "files.getUploadURLExternal", token="xoxb-wrong", data={"filename": "c.png"}
        ),
        "files not json": complete("[{"),
        "no files": complete([]),
        "unknown file": complete([{"id": "F0CP999999"}]),
    }
    pending = _upload_url(api)  # announced, bytes never sent
    answers["bytes never uploaded"] = complete([{"id": pending["file_id"]}])
    uploaded = _upload_url(api)
    requests.post(uploaded["upload_url"], data=PNG, timeout=5)
    answers["channel by name"] = complete([{"id": uploaded["file_id"]}], "leadership")
    assert complete([{"id": uploaded["file_id"]}])["ok"]
    answers["completed twice"] = complete([{"id": uploaded["file_id"]}])
    expected = {
        "no length": "invalid_arguments",
        "zero length": "invalid_arguments",
        "no filename": "invalid_arguments",
        "bad token": "invalid_auth",
        "files not json": "invalid_arguments",
        "no files": "invalid_arguments",
        "unknown file": "file_not_found",
        "bytes never uploaded": "file_not_found",
        "channel by name": "channel_not_found",
        "completed twice": "file_not_found",
    }
    assert {case: answer.get("error") for case, answer in answers.items()} == expected
    for answer in answers.values():
        errors.validate(answer)
    short = _upload_url(api)
    refused = requests.post(short["upload_url"], data=PNG[:10], timeout=5)
    assert refused.status_code == 400  # the bytes must be the length announced
    assert requests.post(f"{api[:-4]}/upload/v1/F0CP999999", data=PNG, timeout=5).status_code == 404


def test_slack_sdk_files_upload_v2_shares_the_file_into_the_channel(
    tmp_path: Path,
) -> None:
    """The connector's upload (slack-sdk's files_upload_v2 and a channel looked up by
    name) against the fake: one message in the channel holding the file, bytes intact."""
    capture = tmp_path / "capture.jsonl"
    with serving(create_app(TOKEN, capture)) as server:
        poster = SlackPoster.with_token(TOKEN, f"{server.base_url}/api/")
        uploaded = poster.upload(
            "#leadership",
            PNG,
            filename="chart.png",
            title="Chart",
            alt_text="A line chart",
            initial_comment="at risk: 1, 2, 3",
        )
        with pytest.raises(SlackPostError, match="channel_not_found"):
            poster.upload(
                "#nowhere", PNG, filename="c.png", title="t", alt_text="a", initial_comment="c"
            )
    (line,) = [json.loads(x) for x in capture.read_text(encoding="utf-8").splitlines()]
    assert line["channel_name"] == "leadership" and line["channel_id"] == uploaded.channel_id
    assert line["text"] == "at risk: 1, 2, 3"
    (shared,) = line["files"]
    assert (shared["id"], shared["name"], shared["alt_txt"]) == (
        uploaded.file_id,
        "chart.png",
        "A line chart",
    )
    assert Path(shared["path"]).read_bytes() == PNG


def test_conversations_open_and_a_dm_post_match_the_spec(spec: dict, api: str) -> None:
    opened = call(api, "conversations.open", data={"users": "U08NWC0JC1"})
    again = call(api, "conversations.open", json={"users": "U08NWC0JC1"})
    validator = response_validator(spec, "conversations.open", "post", "200")
    for answer in (opened, again):
        validator.validate(answer)
    dm = opened["channel"]["id"]
    assert dm.startswith("D") and again["channel"]["id"] == dm
    assert "already_open" not in opened and again["already_open"] is True

    posted = call(api, "chat.postMessage", json={"channel": dm, "text": "Your clients"})
    response_validator(spec, "chat.postMessage", "post", "200").validate(posted)
    assert posted["channel"] == dm

    errors = response_validator(spec, "conversations.open", "post", "default")
    for arguments, code in [
        ({}, "users_list_not_supplied"),
        ({"users": "not-a-user"}, "user_not_found"),
        ({"users": "U1AAA,U2BBB"}, "method_not_supported_for_channel_type"),
    ]:
        answer = call(api, "conversations.open", data=arguments)
        assert answer == {"ok": False, "error": code}
        errors.validate(answer)
    assert not validator.is_valid({"ok": True, "channel": {"id": dm}, "user": "U08NWC0JC1"})
