"""The fake Asana API answers in the shapes of Asana's official OpenAPI spec.

Real responses from the served fake are validated against the response schemas of
the spec's operations (OpenAPI 3.0 turned into JSON Schema Draft 4, `nullable`
included). The spec leaves objects open, so the envelope keys (`data`, `next_page`,
`errors[].message`) are asserted as well, and every returned field must be one the
operation's `opt_fields` enum knows: a fake that invents fields or types fails here.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import requests
import yaml
from referencing import Registry
from referencing.jsonschema import DRAFT4

from connectors.asana.client import (
    EVENT_FIELDS,
    PROJECT_FIELDS,
    STORY_FIELDS,
    STUB_FIELDS,
    TASK_FIELDS,
)
from sandbox.fake_asana import EXPIRED_OFFSET_MESSAGE, AsanaFaults, AsanaState, create_app
from sandbox.http_server import serving
from tests.test_asana_connector import (
    SEO_GID,
    TOKEN,
    WEBSITE_GID,
    WORKSPACE_GID,
    make_asana_data,
)

SPEC_URI = "urn:asana-oas"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


def openapi_to_jsonschema(node: Any) -> Any:
    """OpenAPI 3.0 schema objects to JSON Schema Draft 4.

    `nullable: true` becomes a `"null"` type. Asana also marks references nullable
    through an `allOf` member (`allOf: [{$ref: UserCompact}, {nullable: true}]`), which
    real responses use for `assignee: null`; such a schema accepts null as well. Keys
    become strings: YAML reads status codes as integers, JSON pointers need strings.
    """
    if isinstance(node, list):
        return [openapi_to_jsonschema(item) for item in node]
    if not isinstance(node, dict):
        return node
    out = {
        str(key): (
            {name: openapi_to_jsonschema(schema) for name, schema in value.items()}
            if key == "properties"
            else openapi_to_jsonschema(value)
        )
        for key, value in node.items()
        if key != "nullable"
    }
    members = node.get("allOf", [])
    nullable = node.get("nullable") is True or any(
        isinstance(member, dict) and member.get("nullable") is True for member in members
    )
    if not nullable:
        return out
    if "type" in out and "allOf" not in out and "$ref" not in out:
        out["type"] = [out["type"], "null"]
        if "enum" in out:
            out["enum"] = [*out["enum"], None]
        return out
    return {"anyOf": [{"type": "null"}, out]}


def _pointer(*parts: str) -> str:
    return "#/" + "/".join(p.replace("~", "~0").replace("/", "~1") for p in parts)


class AsanaSpec:
    """Validators for the spec's response schemas, $refs resolved within the spec."""

    def __init__(self, spec: dict[str, Any]) -> None:
        self.spec = openapi_to_jsonschema(spec)
        resource = DRAFT4.create_resource(self.spec)
        self.registry = Registry().with_resource(SPEC_URI, resource)

    def validator(self, pointer: str) -> jsonschema.Draft4Validator:
        return jsonschema.Draft4Validator(
            {"$ref": SPEC_URI + pointer},
            registry=self.registry,
            format_checker=jsonschema.FormatChecker(),
        )

    def response(self, path: str, status: int) -> jsonschema.Draft4Validator:
        """The JSON schema of GET `path`'s `status` answer (following a response $ref)."""
        response = self.spec["paths"][path]["get"]["responses"][str(status)]
        location = ("paths", path, "get", "responses", str(status))
        if "$ref" in response:
            location = tuple(response["$ref"].removeprefix("#/").split("/"))
        return self.validator(_pointer(*location, "content", "application/json", "schema"))

    def component(self, kind: str, name: str) -> jsonschema.Draft4Validator:
        suffix = ("content", "application/json", "schema") if kind == "responses" else ()
        return self.validator(_pointer("components", kind, name, *suffix))

    def opt_fields(self, path: str) -> set[str]:
        parameters = self.spec["paths"][path]["get"]["parameters"]
        (opt_fields,) = (p for p in parameters if p.get("name") == "opt_fields")
        return set(opt_fields["schema"]["items"]["enum"])


@pytest.fixture(scope="module")
def asana_spec(specs_dir: Path) -> AsanaSpec:
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    with (specs_dir / "asana_oas.yaml").open(encoding="utf-8") as handle:
        return AsanaSpec(yaml.load(handle, Loader=loader))


@pytest.fixture(scope="module")
def fake() -> Iterator[tuple[str, AsanaFaults]]:
    """The served fake: (API base URL, its faults, which tests may switch on)."""
    faults = AsanaFaults()
    with serving(create_app(make_asana_data(n_tasks=5), TOKEN, faults=faults)) as server:
        yield f"{server.base_url}/api/1.0", faults


def get(
    base: str, path: str, headers: dict[str, str] | None = None, **params: Any
) -> requests.Response:
    """GET with the right token unless `headers` says otherwise."""
    headers = AUTH if headers is None else headers
    return requests.get(f"{base}{path}", params=params, headers=headers, timeout=10)


def check(validator: jsonschema.Draft4Validator, body: Any) -> None:
    errors = [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(body)]
    assert not errors, errors


def check_fields_known(records: list[dict[str, Any]], known: set[str]) -> None:
    top_level = {field.split(".")[0] for field in known} | {"gid", "resource_type"}
    for record in records:
        assert set(record) <= top_level, set(record) - top_level


def check_list(
    spec: AsanaSpec, spec_path: str, body: Any, base: str, item_schema: str | None
) -> None:
    """A 200 list answer: the operation's schema, envelope keys, item schema, known fields."""
    check(spec.response(spec_path, 200), body)
    assert set(body) == {"data", "next_page"}
    assert isinstance(body["data"], list) and body["data"]
    next_page = body["next_page"]
    if next_page is not None:
        assert set(next_page) == {"offset", "path", "uri"}
        assert all(isinstance(value, str) for value in next_page.values())
        assert next_page["uri"] == base + next_page["path"]
    if item_schema:
        for item in body["data"]:
            check(spec.component("schemas", item_schema), item)
    check_fields_known(body["data"], spec.opt_fields(spec_path))


def check_error(validator: jsonschema.Draft4Validator, body: Any) -> None:
    check(validator, body)
    assert body["errors"] and all(isinstance(e["message"], str) for e in body["errors"])


LIST_CASES = [
    ("/workspaces", "/workspaces", {}, None),
    ("/projects", "/projects", {"workspace": WORKSPACE_GID}, None),
    (
        "/projects",
        "/projects",
        {"workspace": WORKSPACE_GID, "opt_fields": ",".join(PROJECT_FIELDS)},
        "ProjectResponse",
    ),
    (f"/projects/{WEBSITE_GID}/sections", "/projects/{project_gid}/sections", {}, None),
    ("/tasks", "/tasks", {"project": WEBSITE_GID}, "TaskResponse"),
    (
        "/tasks",
        "/tasks",
        {"project": WEBSITE_GID, "opt_fields": ",".join(TASK_FIELDS)},
        "TaskResponse",
    ),
    (
        "/tasks",
        "/tasks",
        {"project": WEBSITE_GID, "opt_fields": ",".join(STUB_FIELDS)},
        "TaskResponse",
    ),
    (
        "/tasks/5000/subtasks",
        "/tasks/{task_gid}/subtasks",
        {"opt_fields": ",".join(TASK_FIELDS)},
        "TaskResponse",
    ),
    ("/tasks/5000/stories", "/tasks/{task_gid}/stories", {}, "StoryResponse"),
    (
        "/tasks/5000/stories",
        "/tasks/{task_gid}/stories",
        {"opt_fields": ",".join(STORY_FIELDS)},
        "StoryResponse",
    ),
]


@pytest.mark.parametrize(("path", "spec_path", "params", "item_schema"), LIST_CASES)
def test_list_pages_match_the_spec(asana_spec, fake, path, spec_path, params, item_schema):
    base, _ = fake
    response = get(base, path, limit=1, **params)

    assert response.status_code == 200
    check_list(asana_spec, spec_path, response.json(), base, item_schema)


def test_next_page_links_walk_the_whole_list_and_end_with_null(asana_spec, fake):
    base, _ = fake
    body = get(base, "/tasks", project=WEBSITE_GID, limit=2).json()
    gids = [task["gid"] for task in body["data"]]
    while body["next_page"] is not None:
        body = requests.get(body["next_page"]["uri"], headers=AUTH, timeout=10).json()
        check_list(asana_spec, "/tasks", body, base, "TaskCompact")
        gids += [task["gid"] for task in body["data"]]

    assert gids == [str(5000 + i) for i in range(5)]


@pytest.mark.parametrize(
    ("path", "spec_path", "params", "item_schema"),
    [
        ("/tasks/5000", "/tasks/{task_gid}", {}, "TaskResponse"),
        ("/tasks/8001", "/tasks/{task_gid}", {"opt_fields": ",".join(TASK_FIELDS)}, "TaskResponse"),
        ("/users/me", "/users/{user_gid}", {}, "UserResponse"),
    ],
)
def test_single_resources_match_the_spec(asana_spec, fake, path, spec_path, params, item_schema):
    base, _ = fake
    response = get(base, path, **params)

    assert response.status_code == 200
    body = response.json()
    check(asana_spec.response(spec_path, 200), body)
    assert set(body) == {"data"}
    check(asana_spec.component("schemas", item_schema), body["data"])
    check_fields_known([body["data"]], asana_spec.opt_fields(spec_path))


EXPIRED = {"project": WEBSITE_GID, "limit": 2, "offset": "eyJvZmZzZXRfaWQiOiA5OTl9"}
WRONG_TOKEN = {"Authorization": "Bearer wrong"}


@pytest.mark.parametrize(
    ("path", "spec_path", "params", "headers", "status", "message"),
    [
        ("/tasks", "/tasks", {"project": WEBSITE_GID, "limit": 101}, None, 400, "limit: Must be"),
        ("/tasks", "/tasks", EXPIRED, None, 400, EXPIRED_OFFSET_MESSAGE),
        ("/tasks", "/tasks", {}, None, 400, "Must specify exactly one of project"),
        ("/workspaces", "/workspaces", {}, {}, 401, "Not Authorized"),
        ("/workspaces", "/workspaces", {}, WRONG_TOKEN, 401, "Not Authorized"),
        ("/tasks/424242", "/tasks/{task_gid}", {}, None, 404, "task: Unknown object: 424242"),
        ("/projects/42/sections", "/projects/{project_gid}/sections", {}, None, 404, "project: "),
    ],
)
def test_error_bodies_match_the_spec(
    asana_spec, fake, path, spec_path, params, headers, status, message
):
    base, _ = fake
    response = get(base, path, headers=headers, **params)

    assert response.status_code == status
    check_error(asana_spec.response(spec_path, status), response.json())
    assert response.json()["errors"][0]["message"].startswith(message)


def test_rate_limited_answer_matches_the_spec(asana_spec, fake):
    base, faults = fake
    faults.fail_next_429, faults.retry_after_seconds = 1, 12
    response = get(base, "/workspaces")

    assert response.status_code == 429
    assert response.headers["Retry-After"] == "12"
    check_error(asana_spec.component("responses", "TooManyRequests"), response.json())


def test_server_error_answer_matches_the_spec(asana_spec, fake):
    base, faults = fake
    faults.fail_next_5xx = 1
    response = get(base, "/tasks/5000/stories")

    assert response.status_code == 500
    body = response.json()
    check_error(asana_spec.response("/tasks/{task_gid}/stories", 500), body)
    assert body["errors"][0]["phrase"]


def _set(path: tuple[Any, ...], value: Any) -> Callable[[dict[str, Any]], None]:
    def mutate(body: dict[str, Any]) -> None:
        node = body
        for key in path[:-1]:
            node = node[key]
        node[path[-1]] = value

    return mutate


@pytest.mark.parametrize(
    "drift",
    [
        pytest.param(_set(("data", 0, "due_on"), 20260320), id="date-as-number"),
        pytest.param(_set(("data", 0, "completed"), "yes"), id="boolean-as-string"),
        pytest.param(_set(("data", 0, "assignee"), "Ana Lopez"), id="reference-as-name"),
        pytest.param(_set(("data", 0, "memberships", 0, "section", "gid"), 4001), id="gid-as-int"),
        pytest.param(_set(("data", 0, "resource_subtype"), "task"), id="unknown-subtype"),
        pytest.param(_set(("data", 0, "completed_at"), "yesterday"), id="bad-date-time"),
        pytest.param(_set(("data", 0, "priority"), "high"), id="invented-field"),
        pytest.param(_set(("next_page",), "eyJvZmZzZXQiOiAxfQ"), id="next-page-as-token"),
        pytest.param(_set(("next_page", "offset"), 17), id="offset-as-int"),
        pytest.param(lambda body: body["next_page"].pop("uri"), id="next-page-without-uri"),
        pytest.param(lambda body: body.pop("next_page"), id="no-next-page-key"),
        pytest.param(lambda body: body.update(data=body["data"][0]), id="data-not-a-list"),
    ],
)
def test_a_drifted_fake_would_fail_the_contract(asana_spec, fake, drift):
    base, _ = fake
    params = {"project": WEBSITE_GID, "limit": 2, "opt_fields": ",".join(TASK_FIELDS)}
    body = get(base, "/tasks", **params).json()
    check_list(asana_spec, "/tasks", body, base, "TaskResponse")

    drift(body)
    with pytest.raises(AssertionError):
        check_list(asana_spec, "/tasks", body, base, "TaskResponse")


def test_events_answers_match_the_spec(asana_spec, fake):
    """No token: 412 with a fresh one; with it: the events since, `sync`, `has_more`."""
    base, _ = fake
    params = {"resource": SEO_GID, "opt_fields": ",".join(EVENT_FIELDS)}
    first = get(base, "/events", **params)
    assert first.status_code == 412
    check_error(asana_spec.response("/events", 412), first.json())
    token = first.json()["sync"]
    assert isinstance(token, str) and token

    empty = get(base, "/events", sync=token, **params)
    assert empty.status_code == 200
    check(asana_spec.response("/events", 200), empty.json())
    assert empty.json()["data"] == [] and empty.json()["has_more"] is False
    assert get(base, "/events", sync="not-a-token", **params).status_code == 412


def test_events_carry_changes_in_the_spec_shape(asana_spec):
    state = AsanaState(make_asana_data(n_tasks=5))
    with serving(create_app(state, TOKEN)) as server:
        base = f"{server.base_url}/api/1.0"
        params = {"resource": SEO_GID, "opt_fields": ",".join(EVENT_FIELDS)}
        token = get(base, "/events", **params).json()["sync"]
        state.update_task("6000", name="Renamed")
        state.move_task("5001", SEO_GID)
        state.delete_task("6001")
        body = get(base, "/events", sync=token, **params).json()

    check(asana_spec.response("/events", 200), body)
    for event in body["data"]:
        check(asana_spec.component("schemas", "EventResponse"), event)
    check_fields_known(body["data"], asana_spec.opt_fields("/events"))
    assert [(e["action"], e["resource"]["gid"]) for e in body["data"]] == [
        ("changed", "6000"),
        ("added", "5001"),
        ("deleted", "6001"),
    ]
    assert body["data"][1]["parent"] == {"gid": SEO_GID, "resource_type": "project"}


def test_the_connector_asks_only_for_fields_the_spec_knows(asana_spec):
    assert set(TASK_FIELDS) <= asana_spec.opt_fields("/tasks")
    assert set(TASK_FIELDS) <= asana_spec.opt_fields("/tasks/{task_gid}/subtasks")
    assert set(STORY_FIELDS) <= asana_spec.opt_fields("/tasks/{task_gid}/stories")
    assert set(PROJECT_FIELDS) <= asana_spec.opt_fields("/projects")
    assert set(STUB_FIELDS) <= asana_spec.opt_fields("/tasks")
    assert set(EVENT_FIELDS) <= asana_spec.opt_fields("/events")


def test_without_limit_the_whole_list_comes_without_next_page(fake):
    base, _ = fake
    body = get(base, "/tasks", project=SEO_GID).json()

    assert "next_page" not in body
    assert [task["gid"] for task in body["data"]] == ["6000", "6001"]
