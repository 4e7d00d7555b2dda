"""The fake Microsoft Graph answers in the shapes of Graph's reference pages.

The examples and JSON representations of the official pages (`specs_dir`/msgraph) are parsed
from the
markdown and compared with what the served fake returns: the delta page envelope
(`value`, `@odata.nextLink` with a `$skiptoken`, then `@odata.deltaLink`), the message
resource's properties, `$select` (list messages' and get message's examples), the
recipient / emailAddress / internetMessageHeader / mailFolder shapes, and the
permissions (Mail.ReadBasic.All: no body, bodyPreview or uniqueBody). The identity
platform's client-credentials grant takes only a `/.default` scope.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
import requests

from sandbox.fake_graph import MESSAGE_PROPERTIES, READ, READ_BASIC
from tests.graph_world import CLIENT_ID, SECRET, TENANT, graph_tenant, mail

BOX = "anna@agency.test"
THREADING_AND_BODY = (
    *("subject", "body", "bodyPreview", "uniqueBody", "internetMessageId"),
    *("conversationId", "conversationIndex", "internetMessageHeaders"),
)


def _blocks(page: Path, fence: str) -> list[str]:
    return re.findall(rf"```{fence}\n(.*?)```", page.read_text(encoding="utf-8"), re.S)


def _json_after_status(block: str) -> dict[str, Any]:
    return json.loads(block.split("\n\n", 1)[1])


@pytest.fixture(scope="module")
def pages(specs_dir: Path) -> Path:
    return specs_dir / "msgraph"


@pytest.fixture(scope="module")
def served():
    messages = [mail(f"m{i}", "ceo@acme.test", BOX, 30 - i) for i in range(5)]
    messages.append(mail("r1", BOX, "ceo@acme.test", 1, irt="m1", subject="Re: Question"))
    with graph_tenant({BOX: messages}, permissions=(READ,)) as tenant:
        token = _token(tenant.base_url)
        yield tenant, {"Authorization": f"Bearer {token}"}


def _token(base_url: str, scope: str = "https://graph.microsoft.com/.default") -> str:
    form = {"grant_type": "client_credentials", "client_id": CLIENT_ID}
    form |= {"client_secret": SECRET, "scope": scope}
    answer = requests.post(f"{base_url}/{TENANT}/oauth2/v2.0/token", data=form, timeout=10)
    return answer.json()["access_token"]


def _delta(tenant, headers, folder="inbox", query="", page_size=2):
    url = f"{tenant.base_url}/v1.0/users/{BOX}/mailFolders/{folder}/messages/delta{query}"
    prefer = {"Prefer": f"odata.maxpagesize={page_size}"}
    return requests.get(url, headers=headers | prefer, timeout=10)


def test_a_delta_page_has_the_reference_envelope_and_pages_to_a_delta_link(pages, served):
    tenant, headers = served
    example = _json_after_status(
        next(b for b in _blocks(pages / "message-delta.md", "http") if "200 OK" in b)
    )
    first = _delta(tenant, headers)
    body = first.json()
    assert first.headers["Preference-Applied"] == "odata.maxpagesize=2"
    assert set(example) <= set(body) | {"@odata.context"}
    assert "$skiptoken=" in example["@odata.nextLink"] and "$skiptoken=" in body["@odata.nextLink"]
    assert len(body["value"]) == 2
    # The example's message fields are message properties the fake returns as such.
    for name, value in example["value"][0].items():
        assert name in body["value"][0], name
        assert isinstance(body["value"][0][name], type(value)), name
    seen = [m["id"] for m in body["value"]]
    link = body["@odata.nextLink"]
    while link:
        body = requests.get(link, headers=headers | {"Prefer": "odata.maxpagesize=2"}, timeout=10)
        body = body.json()
        seen += [m["id"] for m in body["value"]]
        link = body.get("@odata.nextLink")
    assert "$deltatoken=" in body["@odata.deltaLink"] and len(seen) == len(set(seen)) == 5


def test_the_message_resource_has_the_reference_properties(pages, served):
    tenant, headers = served
    (representation,) = _blocks(pages / "message.md", "json")
    spec = set(json.loads(representation))
    got = _delta(tenant, headers, page_size=1).json()["value"][0]
    # The old reference page predates conversationIndex, flag and internetMessageHeaders;
    # uniqueBody "is not provided by default" (it says so).
    newer = {"@odata.type", "@odata.etag", "conversationIndex", "flag"}
    assert spec - {"uniqueBody"} <= set(got) <= spec | newer
    assert set(got) - {"@odata.type", "@odata.etag"} <= MESSAGE_PROPERTIES
    (recipient,) = _blocks(pages / "recipient.md", "json")
    (address,) = _blocks(pages / "emailaddress.md", "json")
    assert set(got["from"]) == set(json.loads(recipient))
    assert set(got["from"]["emailAddress"]) == set(json.loads(address))
    assert got["body"]["contentType"] in ("text", "html")


def test_select_returns_the_id_and_the_named_properties_only(pages, served):
    tenant, headers = served
    page = pages / "user-list-messages.md"
    (request,) = [b for b in _blocks(page, "msgraph-interactive") if "$select=" in b]
    (response,) = [b for b in _blocks(page, "http") if "200 OK" in b]
    select = re.search(r"\$select=([\w,]+)", request)[1]
    example = _json_after_status(response)["value"][0]
    got = _delta(tenant, headers, query=f"?$select={select}").json()["value"][0]
    assert set(example) <= set(got) <= set(example) | {"@odata.type"}


def test_internet_message_headers_come_on_select_and_only_for_received_mail(pages, served):
    tenant, headers = served
    responses = [
        _json_after_status(b)
        for b in _blocks(pages / "message-get.md", "http")
        if "200 OK" in b and "internetMessageHeaders" in b
    ]
    (example,) = responses
    (header_shape,) = _blocks(pages / "internetmessageheader.md", "json")
    inbox = _delta(tenant, headers, query="?$select=internetMessageHeaders").json()["value"][0]
    assert set(example) - {"@odata.context"} <= set(inbox)
    assert all(set(h) == set(json.loads(header_shape)) for h in inbox["internetMessageHeaders"])
    assert {"In-Reply-To", "Message-ID", "Date"} & {
        h["name"] for h in inbox["internetMessageHeaders"]
    }
    assert "internetMessageHeaders" not in _delta(tenant, headers).json()["value"][0]
    sent = _delta(tenant, headers, "sentitems", "?$select=internetMessageHeaders").json()
    assert [set(m) for m in sent["value"]] == [{"@odata.type", "@odata.etag", "id"}]


def test_a_mail_folder_has_the_reference_shape_under_its_well_known_name(pages, served):
    tenant, headers = served
    (representation,) = _blocks(pages / "mailfolder.md", "json")
    names = re.search(r"well-known names[^:]*: ([^.]+)\.", (pages / "mailfolder.md").read_text())
    for name in names[1].replace(" ", "").split(","):
        url = f"{tenant.base_url}/v1.0/users/{BOX}/mailFolders/{name.lower()}"
        folder = requests.get(url, headers=headers, timeout=10).json()
        assert set(folder) - {"@odata.context"} == set(json.loads(representation)), name
    inbox = requests.get(f"{tenant.base_url}/v1.0/users/{BOX}/mailFolders/Inbox", headers=headers)
    assert inbox.json()["totalItemCount"] == 5


@pytest.mark.parametrize(
    ("permission", "has_body"), [(READ_BASIC, False), (READ, True)], ids=["basic", "read"]
)
def test_mail_read_basic_returns_no_body_and_both_return_the_threading_fields(permission, has_body):
    messages = [mail("m1", "ceo@acme.test", BOX, 3, body="Thanks, got it!")]
    with graph_tenant({BOX: messages}, permissions=(permission,)) as tenant:
        headers = {"Authorization": f"Bearer {_token(tenant.base_url)}"}
        select = "?$select=" + ",".join(THREADING_AND_BODY)
        got = _delta(tenant, headers, query=select).json()["value"][0]
    assert {"internetMessageId", "conversationId", "conversationIndex"} <= set(got)
    assert "internetMessageHeaders" in got
    assert (
        {"body", "bodyPreview", "uniqueBody"} <= set(got)
        if has_body
        else not ({"body", "bodyPreview", "uniqueBody"} & set(got))
    )
    if has_body:
        assert got["bodyPreview"].startswith("Thanks, got it!")


def test_errors_have_the_graph_error_body_and_the_token_endpoint_wants_a_default_scope(served):
    tenant, headers = served
    unknown = requests.get(
        f"{tenant.base_url}/v1.0/users/nobody@agency.test/mailFolders/inbox/messages/delta",
        headers=headers,
        timeout=10,
    )
    assert unknown.status_code == 404 and set(unknown.json()["error"]) == {"code", "message"}
    bad_field = _delta(tenant, headers, query="?$select=nonsense")
    assert bad_field.status_code == 400 and "nonsense" in bad_field.json()["error"]["message"]
    tenant.tenant.expire_sync_state(BOX)
    link = _delta(tenant, headers).json()["@odata.nextLink"]
    tenant.tenant.expire_sync_state(BOX)
    gone = requests.get(link, headers=headers, timeout=10)
    assert gone.status_code == 410 and gone.json()["error"]["code"] == "syncStateNotFound"
    form = {"grant_type": "client_credentials", "client_id": CLIENT_ID, "client_secret": SECRET}
    url = f"{tenant.base_url}/{TENANT}/oauth2/v2.0/token"
    refused = requests.post(url, data=form | {"scope": "Mail.Read"}, timeout=10)
    assert refused.status_code == 400 and refused.json()["error"] == "invalid_scope"
    issued = requests.post(url, data=form | {"scope": "https://graph.microsoft.com/.default"})
    assert {"token_type", "expires_in", "access_token"} <= set(issued.json())
    imap = _token(tenant.base_url, "https://outlook.office365.com/.default")
    wrong_audience = _delta(tenant, {"Authorization": f"Bearer {imap}"})
    assert wrong_audience.status_code == 401
