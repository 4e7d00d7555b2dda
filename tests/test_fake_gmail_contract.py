"""The fake Gmail API answers as the official discovery document says Gmail does.

Every path the connector calls is a method of the discovery document (same path
template, same HTTP method); every query parameter it sends is one of that method's,
with `repeated` and `enum` respected; every field of every served response is a
property of the method's response schema (recursively through `$ref`s), with the
schema's JSON type (int64 values travel as strings). The batch path and the scopes are
the document's too. Google's error body is not in discovery documents: its shape is
asserted as Google documents it (code, message, errors[].reason, status).
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
import requests

from connectors.mailboxes.gmail.auth import METADATA_SCOPE, READONLY_SCOPE, GoogleTokens
from connectors.mailboxes.gmail.client import API_PATH, BATCH_PATH, GmailClient
from connectors.mailboxes.gmail.reader import HISTORY_TYPES, METADATA_HEADERS
from sandbox.gmail_serving import served_gmail
from tests.test_gmail_sync import ANNA, mail

TYPES = {"string": str, "integer": int, "boolean": bool, "array": list, "object": dict}


@pytest.fixture(scope="module")
def discovery(specs_dir: Path) -> dict[str, Any]:
    return json.loads((specs_dir / "gmail_v1_discovery.json").read_text())


def method(discovery: dict, dotted: str) -> dict[str, Any]:
    node: dict[str, Any] = discovery
    *resources, name = dotted.split(".")
    for resource in resources:
        node = node["resources"][resource]
    return node["methods"][name]


def conforms(discovery: dict, value: Any, schema: dict, where: str) -> list[str]:
    """Where `value` departs from `schema` (a discovery schema), as readable paths."""
    if "$ref" in schema:
        return conforms(discovery, value, discovery["schemas"][schema["$ref"]], where)
    kind = schema.get("type")
    if (
        kind is None
        or not isinstance(value, TYPES[kind])
        or isinstance(value, bool) != (kind == "boolean")
    ):
        return [f"{where}: {type(value).__name__} where the schema says {kind}"]
    if kind == "string" and schema.get("format") in ("int64", "uint64") and not value.isdigit():
        return [f"{where}: {value!r} is not a {schema['format']} string"]
    if kind == "array":
        return [
            problem
            for n, item in enumerate(value)
            for problem in conforms(discovery, item, schema["items"], f"{where}[{n}]")
        ]
    if kind == "object":
        properties = schema.get("properties", {})
        problems = [f"{where}.{k}: not in the schema" for k in value if k not in properties]
        return problems + [
            problem
            for k, v in value.items()
            if k in properties
            for problem in conforms(discovery, v, properties[k], f"{where}.{k}")
        ]
    return []


def test_paths_parameters_batch_path_and_scopes_are_the_documents(discovery) -> None:
    assert discovery["batchPath"] == BATCH_PATH.lstrip("/")
    scopes = discovery["auth"]["oauth2"]["scopes"]
    assert {METADATA_SCOPE, READONLY_SCOPE} <= set(scopes)
    assert "not the email body" in scopes[METADATA_SCOPE]["description"]
    calls = {
        "users.getProfile": ("/profile", {}),
        "users.messages.list": ("/messages", {"maxResults": "1", "pageToken": "x"}),
        "users.messages.get": ("/messages/{id}", {"format": "metadata", "metadataHeaders": "x"}),
        "users.history.list": (
            "/history",
            {"startHistoryId": "1", "maxResults": "1", "pageToken": "x", "historyTypes": "x"},
        ),
    }
    for name, (path, params) in calls.items():
        documented = method(discovery, name)
        template = documented["path"].replace("{userId}", "me")
        assert "/" + template == API_PATH + path, name
        assert documented["httpMethod"] == "GET"
        for param in params:
            assert param in documented["parameters"], (name, param)
    get = method(discovery, "users.messages.get")["parameters"]
    assert get["metadataHeaders"]["repeated"] and {"metadata", "raw"} <= set(get["format"]["enum"])
    history = method(discovery, "users.history.list")["parameters"]["historyTypes"]
    assert history["repeated"] and set(HISTORY_TYPES) == set(history["enum"])


def test_every_served_response_has_only_documented_fields_of_documented_types(
    discovery,
) -> None:
    with served_gmail() as served:
        box = served.state.mailbox(ANNA)
        first = box.add(mail(1, ANNA))
        second = box.add(mail(2, ANNA, reply_to=1))
        box.add(mail(3, ANNA))
        box.relabel(first.id, add=["STARRED"], remove=["INBOX"])
        box.delete(second.id)
        client = GmailClient(GoogleTokens(ANNA, served.key, scopes=(READONLY_SCOPE,)))
        client.base_url = served.server.base_url
        metadata = [("format", "metadata")] + [("metadataHeaders", h) for h in METADATA_HEADERS]
        answers = {
            "users.getProfile": client.call("getProfile", "/profile"),
            "users.messages.list": client.call("messages.list", "/messages", [("maxResults", "1")]),
            "users.messages.get": client.call("messages.get", f"/messages/{first.id}", metadata),
            "users.history.list": client.call(
                "history.list", "/history", [("startHistoryId", "1000"), ("maxResults", "500")]
            ),
        }
        raw = client.get_messages([first.id], [("format", "raw")])[first.id]
    for name, body in answers.items():
        schema = {"$ref": method(discovery, name)["response"]["$ref"]}
        assert conforms(discovery, body, schema, name) == []
    assert conforms(discovery, raw, {"$ref": "Message"}, "raw") == []
    history = answers["users.history.list"]["history"]
    kinds = {k for record in history for k in record if k not in ("id", "messages")}
    assert kinds == {"messagesAdded", "labelsAdded", "labelsRemoved", "messagesDeleted"}
    assert answers["users.messages.list"]["nextPageToken"]
    names = {h["name"].lower() for h in answers["users.messages.get"]["payload"]["headers"]}
    assert names <= set(METADATA_HEADERS) and {"from", "message-id", "date"} <= names


def test_errors_have_googles_shape_and_the_metadata_scope_its_limits() -> None:
    with served_gmail() as served:
        served.state.mailbox(ANNA).add(mail(1, ANNA))
        token = GoogleTokens(ANNA, served.key).token()
        base = served.server.base_url + API_PATH
        auth = {"Authorization": f"Bearer {token}"}
        answers = {
            "bad token": requests.get(base + "/profile", headers={"Authorization": "Bearer x"}),
            "no such message": requests.get(
                base + "/messages/abc", {"format": "metadata"}, headers=auth
            ),
            "q with metadata": requests.get(base + "/messages", {"q": "after:1"}, headers=auth),
            "raw with metadata": requests.get(
                base + "/messages/abc", {"format": "raw"}, headers=auth
            ),
            "old history": requests.get(base + "/history", {"startHistoryId": "5"}, headers=auth),
        }
    statuses = {name: answer.status_code for name, answer in answers.items()}
    assert statuses == {
        "bad token": 401,
        "no such message": 404,
        "q with metadata": 403,
        "raw with metadata": 403,
        "old history": 404,
    }
    for answer in answers.values():
        error = answer.json()["error"]
        assert set(error) == {"code", "message", "errors", "status"}
        assert error["code"] == answer.status_code and re.fullmatch(r"[A-Z_]+", error["status"])
        assert set(error["errors"][0]) == {"message", "domain", "reason"}
