"""Acting from Slack: clicks travel through the fake Slack's Socket Mode to the listener,
which acts through a real Airflow api-server (approvals answered with PATCH …/hitlDetails
on a DAG run parked by `airflow dags test`; alert feedback as account_manager_feedback
runs) and shows the answer in the message.

Wrong user, double click, stale message, Airflow down, a reject with a reason, a snooze
the next alert run honours, and the manager's language in every text.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
import yaml
from slack_sdk import WebClient

from clientpulse.config import AgencyConfig, load_config
from clientpulse.paths import PROJECT_ROOT
from clientpulse.reports.i18n import STRINGS
from clientpulse.slack_listener import blocks as kit
from clientpulse.slack_listener.actions import Listener
from clientpulse.slack_listener.airflow import AirflowActions
from clientpulse.slack_listener.service import Settings, connect
from sandbox.fake_slack import create_app
from sandbox.http_server import free_port, serving
from tests.airflow_server import AirflowServer, airflow_server, stop_group
from tests.factories import FIXTURE

BOT, APP = "xoxb-listener-test", "xapp-1-A0CLIENTP1-listener-test"
ANNA, STRANGER, BOSS = "U0ANNA0001", "U0STRANGER", "U0BOSS0001"
pytestmark = pytest.mark.airflow  # an api-server and `airflow dags test` per module

TINY = "approvals_tiny"
TINY_DAG = """
from airflow.sdk import dag

from clientpulse.orchestration import dag_settings
from clientpulse_approval import ClientEmailApproval


def _offer(client):
    return {
        "subject": f"Approve client_monthly_report for {client}: report",
        "body": "To: ceo@" + client + ".test\\n\\nHello!",
        "offer": {"key": "k-" + client, "client_id": client, "manager_id": "anna",
                  "airflow_user": "anna", "auto_after_hours": None, "slack_user_id": None},
    }


@dag(schedule=None, **dag_settings("test"))
def approvals_tiny():
    ClientEmailApproval.partial(task_id="approve").expand_kwargs(
        [_offer(c) for c in ("acme", "beta", "gamma", "delta")]
    )


approvals_tiny()
"""


@pytest.fixture(scope="module")
def airflow(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AirflowServer]:
    root = tmp_path_factory.mktemp("airflow-api")
    files = {
        f"{TINY}.py": TINY_DAG,
        "account_manager_feedback.py": PROJECT_ROOT / "dags" / "account_manager_feedback.py",
    }
    users = {"admin": "admin", "anna": "user", "boss": "admin"}
    with airflow_server(root, files, users) as server:
        yield server


def _admin(airflow: AirflowServer) -> requests.Session:
    session = requests.Session()
    token = session.post(
        f"{airflow.url}/auth/token",
        json={"username": "admin", "password": airflow.passwords["admin"]},
        timeout=10,
    ).json()["access_token"]
    session.headers["Authorization"] = f"Bearer {token}"
    return session


@pytest.fixture(scope="module")
def parked(airflow: AirflowServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A run of the tiny DAG whose four approvals wait for an answer; its run id."""
    log = tmp_path_factory.mktemp("dags-test") / "dags-test.log"
    process = airflow.background("dags", "test", TINY, log=log)
    admin = _admin(airflow)
    try:
        deadline = time.monotonic() + 600
        while True:
            assert process.poll() is None, log.read_text()[-3000:]
            runs = admin.get(f"{airflow.url}/api/v2/dags/{TINY}/dagRuns", timeout=10).json()
            run_id = (runs.get("dag_runs") or [{}])[0].get("dag_run_id")
            details = []
            if run_id:
                path = f"{airflow.url}/api/v2/dags/{TINY}/dagRuns/{run_id}/hitlDetails"
                details = admin.get(path, timeout=10).json().get("hitl_details", [])
            if len(details) == 4:
                break
            assert time.monotonic() < deadline, f"approvals not parked: {log.read_text()[-3000:]}"
            time.sleep(2)
        yield run_id
    finally:
        stop_group(process)


def _config(tmp_path: Path, language: str = "en") -> AgencyConfig:
    raw = yaml.safe_load(FIXTURE.read_text(encoding="utf-8"))
    raw["account_managers"][0].update(slack_user_id=ANNA, airflow_user="anna", language=language)
    (tmp_path / "agency.yaml").write_text(yaml.safe_dump(raw, allow_unicode=True))
    return load_config(tmp_path / "agency.yaml")


class Desk:
    """The fake Slack with the listener connected: post a DM, click, read what changed."""

    def __init__(self, base: str, app: Any) -> None:
        self.base = base
        self.app = app
        self.web = WebClient(token=BOT, base_url=f"{base}/api/")

    def post(self, text: str, blocks: list[dict]) -> tuple[str, str]:
        posted = self.web.chat_postMessage(channel=ANNA, text=text, blocks=blocks)
        return posted["channel"], posted["ts"]

    def click(self, user: str, where: tuple[str, str], action_id: str, block_id: str, **extra):
        body = {"user": user, "channel": where[0], "ts": where[1], "action_id": action_id}
        body.update(block_id=block_id, **extra)
        answer = requests.post(f"{self.base}/_sandbox/click", json=body, timeout=10).json()
        assert answer["acked"] is True and answer["ack_ms"] < 3000, answer
        return answer

    def submit(self, user: str, reason: str) -> dict:
        view = self.wait(lambda s: s["views"])[-1]
        values = {"reason": {"text": reason}}
        body = {"user": user, "view_id": view["id"], "values": values}
        return requests.post(f"{self.base}/_sandbox/submit", json=body, timeout=10).json()

    def state(self) -> dict[str, Any]:
        return requests.get(f"{self.base}/_sandbox/state", timeout=10).json()

    def wait(self, pick: Callable[[dict], Any], timeout: float = 20) -> Any:
        deadline = time.monotonic() + timeout
        while not (found := pick(self.state())):
            assert time.monotonic() < deadline, f"timed out; state: {self.state()}"
            time.sleep(0.1)
        return found

    def message(self, where: tuple[str, str]) -> dict[str, Any]:
        return next(m for m in self.state()["messages"] if m["ts"] == where[1])

    def ephemerals(self, after: int = 0) -> list[str]:
        return [e["text"] for e in self.state()["ephemerals"][after:]]


@pytest.fixture
def desk_for(tmp_path: Path) -> Iterator[Callable[..., Desk]]:
    """Start the fake Slack and a listener for a config and an Airflow URL."""
    started = []

    def start(config: AgencyConfig, airflow_url: str, passwords: dict[str, str]) -> Desk:
        app = create_app(BOT, tmp_path / "slack.jsonl", app_token=APP)
        server = serving(app)
        running = server.__enter__()
        base = running.base_url
        passwords_file = tmp_path / "passwords.json"
        passwords_file.write_text(json.dumps(passwords), encoding="utf-8")
        settings = Settings.from_env(
            {
                "SLACK_APP_TOKEN": APP,
                "SLACK_BOT_TOKEN": BOT,
                "SLACK_API_URL": f"{base}/api/",
                "AIRFLOW_API_URL": airflow_url,
                "CLIENTPULSE_AIRFLOW_PASSWORDS_FILE": str(passwords_file),
                "CLIENTPULSE_SLACK_ADMINS": f"{BOSS}=boss",
            }
        )
        listener = Listener(
            config,
            AirflowActions(settings.airflow_url, settings.passwords),
            WebClient(token=BOT, base_url=f"{base}/api/"),
            settings.admins,
        )
        client = connect(listener, settings)
        started.append((server, client))
        desk = Desk(base, app)
        desk.wait(lambda s: s["connections"])
        return desk

    yield start
    for server, client in started:
        client.close()
        server.__exit__(None, None, None)


def _approval_dm(desk: Desk, run_id: str, language: str = "en") -> tuple[tuple[str, str], list]:
    drafts = [
        {
            "map_index": index,
            "client_id": client,
            "client_name": client.title() + " <!channel>",
            "subject": f"{client}: report",
            "language": "uk" if client == "beta" else "en",
            "text": "Hello!\n\nHere is your *report* & more.",
            "manager_id": "anna",
            "link": f"http://airflow/required?map_index={index}",
        }
        for index, client in enumerate(("acme", "beta", "gamma", "delta"))
    ]
    text, blocks = kit.approval_dm(language, TINY, run_id, drafts)
    return desk.post(text, blocks), [b["block_id"] for b in blocks if b["type"] == "actions"]


def _hitl(airflow: AirflowServer, run_id: str, index: int) -> dict[str, Any]:
    path = f"/api/v2/dags/{TINY}/dagRuns/{run_id}/taskInstances/approve/{index}/hitlDetails"
    return _admin(airflow).get(f"{airflow.url}{path}", timeout=10).json()


def _answer(detail: dict[str, Any]) -> dict[str, Any]:
    """The answer part of a HITL detail (its task instance moves on once answered)."""
    return {k: v for k, v in detail.items() if k != "task_instance"}


def _line(message: dict, block_id: str) -> str:
    block = next(b for b in message["blocks"] if b.get("block_id") == block_id)
    return block["elements"][0]["text"] if block["type"] == "context" else ""


@pytest.mark.timeout(1800)  # the module's Airflow starts in its setup: minutes on a busy machine
def test_approvals_from_slack_through_airflow(airflow, parked, desk_for, tmp_path):
    desk = desk_for(_config(tmp_path), airflow.url, airflow.passwords)
    where, ids = _approval_dm(desk, parked)

    # someone else clicks: an ephemeral "not yours", Airflow's request still open
    desk.click(STRANGER, where, kit.APPROVE, ids[0])
    assert desk.wait(lambda s: s["ephemerals"])[0]["user"] == STRANGER
    assert desk.ephemerals() == [
        "This is not yours: only Anna &lt;Lead&gt; (or an admin) can answer it."
    ]
    assert _hitl(airflow, parked, 0)["response_received"] is False

    # the manager approves: Airflow records her, the DM shows who and when
    first = desk.click(ANNA, where, kit.APPROVE, ids[0])
    desk.wait(lambda s: _line(next(m for m in s["messages"] if m["ts"] == where[1]), ids[0]))
    detail = _hitl(airflow, parked, 0)
    assert detail["chosen_options"] == ["Approve"]
    assert detail["responded_by_user"] == {"id": "anna", "name": "anna"}
    assert detail["params_input"] == {"via": "slack"}  # the trail's `via`
    assert _line(desk.message(where), ids[0]).startswith("✅ Approved by anna at ")

    # a double click (the same interaction again): "already decided", nothing changes
    requests.post(
        f"{desk.base}/_sandbox/replay", json={"envelope_id": first["envelope_id"]}, timeout=10
    )
    said = desk.wait(lambda s: s["ephemerals"][1:])[0]["text"]
    assert said.startswith("Already decided by anna at ") and "nothing changed" in said
    assert _hitl(airflow, parked, 0)["responded_at"] == detail["responded_at"]

    # reject with a reason: a modal, then Airflow keeps the reason with the answer
    desk.click(ANNA, where, kit.REJECT, ids[1])
    modal = desk.wait(lambda s: s["views"])[-1]
    assert modal["title"]["text"] == "Reject the email"
    empty = desk.submit(ANNA, "  ")
    assert empty["ack"]["payload"]["response_action"] == "errors"  # stays open, asks why
    assert _hitl(airflow, parked, 1)["response_received"] is False
    desk.submit(ANNA, "Figures for <October> are wrong & need a fix")
    desk.wait(lambda s: _line(next(m for m in s["messages"] if m["ts"] == where[1]), ids[1]))
    detail = _hitl(airflow, parked, 1)
    assert detail["chosen_options"] == ["Reject"]
    assert detail["params_input"] == {
        "via": "slack",
        "reason": "Figures for <October> are wrong & need a fix",
    }
    line = _line(desk.message(where), ids[1])
    assert line.startswith("❌ Rejected by anna at ")
    assert line.endswith("Figures for &lt;October&gt; are wrong &amp; need a fix")

    # a stale message: answered on Airflow's own page meanwhile; the click changes nothing
    # and the DM now shows that answer
    anna = AirflowActions(airflow.url, airflow.passwords)
    anna.answer_approval("anna", TINY, parked, 2, "Approve")
    before = _answer(_hitl(airflow, parked, 2))
    desk.click(ANNA, where, kit.APPROVE, ids[2])
    desk.wait(lambda s: len(s["ephemerals"]) >= 3)
    assert desk.ephemerals()[-1].startswith("Already decided by anna at ")
    assert _line(desk.message(where), ids[2]).startswith("✅ Approved by anna at ")
    assert _answer(_hitl(airflow, parked, 2)) == before

    # an admin may act: Airflow still enforces the assigned user and refuses, said so
    desk.click(BOSS, where, kit.APPROVE, ids[3])
    desk.wait(lambda s: len(s["ephemerals"]) >= 4)
    assert desk.ephemerals()[-1] == "Airflow refused this action for you; nothing changed."
    assert _hitl(airflow, parked, 3)["response_received"] is False
    # the buttons of an unanswered draft stay
    assert _line(desk.message(where), ids[3]) == ""


@pytest.mark.timeout(120)
def test_airflow_down_is_not_recorded_and_keeps_the_buttons(desk_for, tmp_path):
    down = f"http://127.0.0.1:{free_port()}"
    desk = desk_for(_config(tmp_path), down, {"anna": "x"})
    where, ids = _approval_dm(desk, "manual__2026-12-07T00:00:00+00:00")
    desk.click(ANNA, where, kit.APPROVE, ids[0])
    desk.wait(lambda s: s["ephemerals"])
    assert desk.ephemerals() == [
        "Not recorded: Airflow did not answer. Please try again in a minute."
    ]
    assert _line(desk.message(where), ids[0]) == ""  # nothing half-done


@pytest.mark.timeout(1800)
def test_alert_answers_become_feedback_runs_once(airflow, desk_for, tmp_path):
    desk = desk_for(_config(tmp_path, language="uk"), airflow.url, airflow.passwords)
    blocks = [
        {"type": "section", "text": {"type": "mrkdwn", "text": "*Acme* at risk"}},
        kit.alert_actions("uk", "acme", "anna"),
        {"type": "section", "text": {"type": "mrkdwn", "text": "*Beta* at risk"}},
        kit.alert_actions("uk", "beta", "anna"),
    ]
    where = desk.post("alerts", blocks)
    acme, beta = blocks[1]["block_id"], blocks[3]["block_id"]
    # every button of the DM in the manager's language
    assert [e.get("text", e.get("placeholder"))["text"] for e in blocks[1]["elements"]] == [
        "Відкласти на тиждень",
        "Відкласти до…",
        "Не ризик",
        "Я їм подзвонив(ла)",
    ]

    picked = desk.click(ANNA, where, kit.SNOOZE_UNTIL, acme, selected_date="2026-12-21")
    desk.wait(lambda s: _line(next(m for m in s["messages"] if m["ts"] == where[1]), acme))
    run_id = f"slack__{where[1]}__acme"
    run = (
        _admin(airflow)
        .get(f"{airflow.url}/api/v2/dags/account_manager_feedback/dagRuns/{run_id}", timeout=10)
        .json()
    )
    assert run["conf"] == {
        "action": "snooze",
        "client": "acme",
        "reason": "snoozed in Slack",
        "by": "anna",
        "until": "2026-12-21",
    }
    assert _line(desk.message(where), acme).startswith("💤 Відкладено до 21 грудня 2026\u202fр.: ")
    # the same click again: still one run, "already decided" in Ukrainian
    requests.post(
        f"{desk.base}/_sandbox/replay", json={"envelope_id": picked["envelope_id"]}, timeout=10
    )
    said = desk.wait(lambda s: s["ephemerals"])[0]["text"]
    assert said.startswith("Уже вирішено: Anna &lt;Lead&gt;, ")
    runs = (
        _admin(airflow)
        .get(f"{airflow.url}/api/v2/dags/account_manager_feedback/dagRuns", timeout=10)
        .json()
    )
    assert [r["dag_run_id"] for r in runs["dag_runs"]] == [run_id]

    # not a risk: a modal in Ukrainian, the reason goes into the run's conf
    desk.click(ANNA, where, kit.NOT_A_RISK, beta)
    modal = desk.wait(lambda s: s["views"])[-1]
    assert (modal["title"]["text"], modal["blocks"][0]["label"]["text"]) == (
        "Не ризик",
        "Чому цей клієнт не під ризиком?",
    )
    desk.submit(ANNA, "сезонне затишшя")
    desk.wait(lambda s: _line(next(m for m in s["messages"] if m["ts"] == where[1]), beta))
    assert "«не ризик»" in _line(desk.message(where), beta)
    conf = (
        _admin(airflow)
        .get(
            f"{airflow.url}/api/v2/dags/account_manager_feedback/dagRuns/slack__{where[1]}__beta",
            timeout=10,
        )
        .json()["conf"]
    )
    assert (conf["action"], conf["reason"], conf["until"]) == (
        "not_a_risk",
        "сезонне затишшя",
        None,
    )


def test_every_language_has_every_text_with_the_same_placeholders() -> None:
    import string

    def fields(template: str) -> set[str]:
        return {name for _, name, _, _ in string.Formatter().parse(template) if name}

    texts = {
        language: {k: v for k, v in strings.items() if k.startswith("slack_")}
        for language, strings in STRINGS.items()
    }
    english = texts["en"]
    for language, catalog in texts.items():
        assert catalog.keys() == english.keys(), language
        for key, template in catalog.items():
            assert fields(template) == fields(english[key]), (language, key)
            if language != "en" and not key.startswith("slack_draft_line"):
                assert template != english[key], (language, key)
