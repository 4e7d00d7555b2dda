"""Account-manager alerts end to end below Airflow: the models build on hand-made rows,
`compose_alerts` queues through the real outbox, `deliver` posts to the fake Slack over
its wire protocol (conversations.open + chat.postMessage), and what arrived is read
back from its capture file.

Risk weeks are set by hand in marts.client_risk_alerts (built once by the real models,
then rewritten per scenario): the alert rules are what is tested here, the score in
test_risk_score.py."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
import yaml

from clientpulse.config import AgencyConfig, load_config
from clientpulse.pipeline.alerts import (
    FeedbackError,
    compose_alerts,
    record_feedback,
    record_feedback_conf,
)
from clientpulse.pipeline.build_signals import build_models
from clientpulse.pipeline.deliver import Senders, deliver
from connectors.slack import SlackPoster
from sandbox.fake_slack import create_app
from sandbox.http_server import serving
from tests.factories import FIXTURE, message
from warehouse.db import open_writer
from warehouse.load import upsert

TOKEN = "xoxb-alerts-test"
KINDS = ["account_manager_alerts", "account_manager_portfolio"]
W1 = date(2026, 11, 16)  # a Monday
DAY = timedelta(days=1)


def _at(day: date, hour: int = 9, minute: int = 30) -> datetime:
    """An instant on the agency's (Kyiv, UTC+2 in November) clock."""
    return datetime(day.year, day.month, day.day, hour - 2, minute, tzinfo=UTC)


@pytest.fixture
def slack(tmp_path: Path) -> Iterator[dict[str, Any]]:
    capture = tmp_path / "slack.jsonl"
    with serving(create_app(TOKEN, capture)) as server:
        yield {"url": f"{server.base_url}/api/", "capture": capture}


def _config(tmp_path: Path, slack_user_id: str | None = None, **alerts: Any) -> AgencyConfig:
    raw = yaml.safe_load(FIXTURE.read_text(encoding="utf-8"))
    raw["delivery"]["dry_run"] = False
    raw["alerts"] = alerts
    raw["account_managers"][0]["slack_user_id"] = slack_user_id
    for client in raw["clients"]:
        client["start_date"] = "2026-01-05"
    (tmp_path / "agency.yaml").write_text(yaml.safe_dump(raw, allow_unicode=True))
    return load_config(tmp_path / "agency.yaml")


def _run(
    config: AgencyConfig, slack: dict, as_of: datetime, *, portfolio: bool = False, **flags: bool
) -> list[dict]:
    """Compose and deliver one run; return the alert messages (or, `portfolio`, all the
    messages) Slack received in it."""
    before = _posted(slack)
    compose_alerts(config, as_of, f"test/{as_of.isoformat()}", **flags)
    senders = Senders(slack=lambda: SlackPoster.with_token(TOKEN, slack["url"]), smtp=None)
    deliver(config, senders, f"test/{as_of.isoformat()}", KINDS)
    received = _posted(slack)[len(before) :]
    return [m for m in received if portfolio or "your portfolio" not in m["text"]]


def _posted(slack: dict) -> list[dict]:
    if not slack["capture"].exists():
        return []
    return [json.loads(line) for line in slack["capture"].read_text().splitlines()]


def _texts(message: dict) -> str:
    parts = [message["text"]]
    for block in message["blocks"] or []:
        text = block.get("text")
        parts.append(text["text"] if isinstance(text, dict) else "")
        for element in block.get("elements", []):
            label = element.get("text", "")
            parts.append(label["text"] if isinstance(label, dict) else label)
    return "\n".join(parts)


def _build(config: AgencyConfig, as_of: datetime, messages: list[dict]) -> None:
    with open_writer(config.warehouse.path) as con:
        if messages:
            upsert(con, "raw.email_messages", messages, ["message_key"])
        build_models(con, config, as_of)


def _slips(count: int) -> str:
    return json.dumps({"key": "silent_slips", "count": count, "weeks": 8})


MOVED = [
    {
        "factor": "silent_slips",
        "area": "delivery",
        "score_before": 30.0,
        "score_after": 100.0,
        "evidence_before": _slips(1),
        "evidence_after": _slips(3),
        "contribution_change": 12.5,
    },
    {  # an address in the evidence is external text
        "factor": "key_contact_left",
        "area": "relationship",
        "score_before": 0.0,
        "score_after": 100.0,
        "evidence_before": json.dumps({"key": "no_contact_left"}),
        "evidence_after": json.dumps(
            {
                "key": "contacts_left",
                "contacts": [{"address": "<Site>&co@acme.test", "bounced_on": "2026-11-13"}],
            }
        ),
        "contribution_change": 10.0,
    },
]


def _week(config: AgencyConfig, week: date, *rows: tuple[str, str, bool, str | None]) -> None:
    """Make `week` the newest risk week with these (client, change, at_risk, since) rows."""
    with open_writer(config.warehouse.path) as con:
        con.execute("DELETE FROM marts.client_risk_alerts")
        con.execute(
            "INSERT INTO marts.client_risk_weekly (client_id, week_start, status, at_risk) "
            "VALUES ('acme', ?, 'active', false)",
            [week],
        )
        for client, change, at_risk, since in rows:
            name = {"acme": "Acme <!channel>", "beta": "Бета Груп"}[client]
            con.execute(
                """INSERT INTO marts.client_risk_alerts VALUES
                   (?, ?, 'anna', ?, 'active', 41.5, ?, ?, 12.0, ?, ?, ?, ?, 'silent_slips',
                    ?, 'up')""",
                [
                    client,
                    name,
                    week,
                    "at_risk" if at_risk else "healthy",
                    at_risk,
                    change,
                    since,
                    week - 7 * DAY,
                    MOVED,
                    _slips(3),
                ],
            )


@pytest.fixture
def built(tmp_path: Path) -> Path:
    """The small agency's models built once (real schema), as of the Monday."""
    config = _config(tmp_path)
    _build(config, _at(W1), [])
    return tmp_path


def test_newly_at_risk_names_the_factors_and_the_action_once(built, slack):
    config = _config(built)
    _week(config, W1, ("acme", "newly_at_risk", True, W1))

    first = _run(config, slack, _at(W1))
    assert len(first) == 1
    text = _texts(first[0])
    assert "Newly at risk" in text and "score 41.5 (at risk)" in text
    # before → after with the evidence, and the playbook's action for silent slips
    assert "then 1 silent slip in the last 8 weeks" in text
    assert "now 3 silent slips in the last 8 weeks" in text and "30 → 100" in text
    assert "now &lt;Site&gt;&amp;co@acme.test left (mail bounced 13 Nov 2026)" in text
    assert "give the new dates before they ask" in text
    # a rerun of the run, a retry later that day and the next day send nothing again
    assert _run(config, slack, _at(W1)) == []
    assert _run(config, slack, _at(W1 + DAY)) == []


def test_a_manager_without_a_slack_id_gets_it_in_the_channel_with_their_name(built, slack):
    config = _config(built)
    _week(config, W1, ("acme", "newly_at_risk", True, W1))
    [posted] = _run(config, slack, _at(W1))
    assert posted["channel_name"] == "account-managers"
    assert "For Anna &lt;Lead&gt;" in _texts(posted)


def test_a_manager_with_a_slack_id_gets_a_direct_message(built, slack):
    config = _config(built, slack_user_id="U0ANNA0001")
    _week(config, W1, ("acme", "newly_at_risk", True, W1))
    [posted] = _run(config, slack, _at(W1))
    assert posted["channel_id"].startswith("D") and posted["channel_name"] == "dm-U0ANNA0001"
    assert "Anna" not in _texts(posted)  # their own DM: no name needed
    # answerable in place: the four buttons under the alert, its client in the block id
    [actions] = [b for b in posted["blocks"] if b["type"] == "actions"]
    assert json.loads(actions["block_id"]) == {"k": "r", "c": "acme", "u": "anna"}
    assert [e["action_id"] for e in actions["elements"]] == [
        "snooze_week",
        "snooze_until",
        "not_a_risk",
        "called",
    ]
    assert "Snooze 1 week" in _texts(posted)


def test_every_external_string_is_escaped(built, slack):
    config = _config(built)
    _week(config, W1, ("acme", "newly_at_risk", True, W1))
    messages = _run(config, slack, _at(W1))
    for text in map(_texts, messages):
        for raw in ("<!channel>", "<Lead>", "<Site>", "& co"):
            assert raw not in text
        assert "Acme &lt;!channel&gt;" in text


def test_still_at_risk_waits_for_the_cooldown_and_is_marked_a_reminder(built, slack):
    config = _config(built, cooldown_days=8)
    _week(config, W1, ("acme", "newly_at_risk", True, W1))
    assert len(_run(config, slack, _at(W1))) == 1
    _week(config, W1 + 7 * DAY, ("acme", "still_at_risk", True, W1))
    assert _run(config, slack, _at(W1 + 7 * DAY)) == []  # 7 days < 8
    [reminder] = _run(config, slack, _at(W1 + 8 * DAY))
    assert "Still at risk (reminder)" in _texts(reminder)
    assert _run(config, slack, _at(W1 + 9 * DAY)) == []  # the next one after 8 more days


def test_recovered_follows_up_once_and_only_after_an_alert(built, slack):
    config = _config(built)
    _week(config, W1, ("acme", "newly_at_risk", True, W1))
    _run(config, slack, _at(W1))
    week2 = W1 + 7 * DAY
    _week(config, week2, ("acme", "recovered", False, None), ("beta", "recovered", False, None))
    [posted] = _run(config, slack, _at(week2))
    text = _texts(posted)
    assert "Recovered" in text and "Acme" in text
    assert "Бета" not in text  # never told beta was at risk: nothing to follow up
    assert _run(config, slack, _at(week2 + DAY)) == []


def test_snooze_until_a_date_then_alerts_again(built, slack):
    config = _config(built)
    _week(config, W1, ("acme", "newly_at_risk", True, W1))
    record_feedback(
        config, "snooze", "acme", "CEO on holiday", "anna", date(2026, 11, 20), today=W1
    )
    assert _run(config, slack, _at(W1)) == []
    assert _run(config, slack, _at(date(2026, 11, 20))) == []  # the last snoozed day
    [posted] = _run(config, slack, _at(date(2026, 11, 21)))
    assert "Acme" in _texts(posted)
    with open_writer(config.warehouse.path) as con:
        stored = con.execute(
            "SELECT action, until_on, reason, recorded_by FROM ops.alert_feedback"
        ).fetchall()
    assert stored == [("snooze", date(2026, 11, 20), "CEO on holiday", "anna")]


def test_not_a_risk_mutes_the_episode_but_not_the_next_one(built, slack):
    config = _config(built)
    _week(config, W1, ("acme", "newly_at_risk", True, W1))
    record_feedback(config, "not_a_risk", "acme", "seasonal lull, agreed", "anna")
    assert _run(config, slack, _at(W1)) == []
    _week(config, W1 + 7 * DAY, ("acme", "still_at_risk", True, W1))
    assert _run(config, slack, _at(W1 + 7 * DAY)) == []
    later = W1 + 21 * DAY  # recovered in between; a new episode starts
    _week(config, later, ("acme", "newly_at_risk", True, later))
    assert len(_run(config, slack, _at(later))) == 1
    with pytest.raises(FeedbackError, match="unknown client"):
        record_feedback(config, "not_a_risk", "nobody", "x", "anna")


def test_the_cap_shows_n_alerts_and_counts_the_rest(built, slack):
    config = _config(built, max_per_message=1)
    _week(config, W1, ("acme", "newly_at_risk", True, W1), ("beta", "risk_up", False, None))
    [posted] = _run(config, slack, _at(W1))
    text = _texts(posted)
    assert "Acme" in text and "Бета" not in text
    assert "…and 1 more: see your weekly portfolio view." in text
    [next_day] = _run(config, slack, _at(W1 + DAY))  # the held one comes next run
    assert "Бета" in _texts(next_day)


def test_a_backfilled_past_week_never_alerts(built, slack):
    config = _config(built)
    _week(config, W1, ("acme", "newly_at_risk", True, W1))
    assert _run(config, slack, _at(W1 - 7 * DAY)) == []  # a week older than the newest
    assert _run(config, slack, _at(W1), backfill=True) == []  # an Airflow backfill run
    assert len(_run(config, slack, _at(W1))) == 1


def test_early_warning_at_75_percent_across_a_weekend_once_per_wait(tmp_path, slack):
    config = _config(tmp_path)
    # Friday 13 Nov, 15:00 Kyiv; target 24 business hours, 9-18 Mon-Fri: 75% = 18 h is
    # Fri 3 h + Mon 9 h + Tue 6 h → Tue 15:00; the target: Tue 3 h more + Wed 3 h → Wed 12:00
    wrote = message(
        "w1",
        "ceo@acme.test",
        ["anna@agency.test"],
        _at(date(2026, 11, 13), 15, 0),
        subject="Invoice <urgent> & *now*",
    )
    tuesday = date(2026, 11, 17)
    _build(config, _at(tuesday, 14, 30), [wrote])
    assert _run(config, slack, _at(tuesday, 14, 30), early_warnings_only=True) == []

    _build(config, _at(tuesday, 15, 30), [])
    with open_writer(config.warehouse.path) as con:
        warn_at, breach_at, due = con.execute(
            "SELECT warn_at, breach_at, due_for_warning FROM marts.client_sla_early_warnings"
        ).fetchone()
    assert warn_at == _at(tuesday, 15, 0) and breach_at == _at(date(2026, 11, 18), 12, 0)
    assert due
    [posted] = _run(config, slack, _at(tuesday, 15, 30), early_warnings_only=True)
    text = _texts(posted)
    assert "ceo@acme.test wrote on Fri 13 Nov 15:00" in text
    assert "Invoice &lt;urgent&gt; &amp; *now*" in text
    assert "breaches Wed 18 Nov 12:00" in text

    _build(config, _at(tuesday, 17, 0), [])
    assert _run(config, slack, _at(tuesday, 17, 0), early_warnings_only=True) == []


def test_the_portfolio_view_lists_every_client_with_the_managers_figures(built, slack):
    config = _config(built)
    _week(config, W1, ("acme", "newly_at_risk", True, W1), ("beta", "none", False, None))
    messages = _run(config, slack, _at(W1), portfolio=True)
    [portfolio] = [m for m in messages if "portfolio" in m["text"]]
    text = _texts(portfolio)
    assert (
        "↑ *Acme &lt;!channel&gt;* score 41.5 (at risk) · 3 silent slips in the last 8 weeks"
        in (text)
    )
    assert "Бета Груп" in text and "Last week: first replies on time" in text and "(agency" in text
    assert _run(config, slack, _at(W1 + DAY), portfolio=True) == []  # weekly: once


def test_the_playbook_names_and_acts_on_every_risk_factor_in_every_language() -> None:
    from clientpulse.config import DEFAULT_RISK_FACTORS, PROJECT_ROOT
    from clientpulse.reports.account_manager_alerts import Playbook

    playbook = Playbook.load(PROJECT_ROOT / "config" / "playbook.yaml")
    for language in ("en", "uk", "ru"):
        for factor in DEFAULT_RISK_FACTORS:
            assert factor in playbook.actions[language], (language, factor)
            assert f"factor_{factor}" in playbook.labels[language], (language, factor)
    assert playbook.factor("uk", "contact_vs_baseline") == "контакт проти звичного ритму"


def test_a_snooze_and_a_call_from_slack_are_honoured_by_the_next_runs(built, slack):
    """The confs the Slack listener triggers account_manager_feedback with (see
    tests/test_slack_listener.py), recorded as the DAG's task records them."""
    config = _config(built)
    _week(config, W1, ("acme", "newly_at_risk", True, W1), ("beta", "newly_at_risk", True, W1))
    snooze = {"action": "snooze", "client": "acme", "reason": "snoozed in Slack", "by": "anna"}
    record_feedback_conf(config, {**snooze, "until": (W1 + 7 * DAY).isoformat()}, today=W1)
    [posted] = _run(config, slack, _at(W1))
    assert "Acme" not in _texts(posted) and "Бета" in _texts(posted)
    # beta still at risk a week later: no reminder, the manager called them two days ago
    called = {"action": "called", "client": "beta", "reason": "called the client", "by": "anna"}
    record_feedback_conf(config, {**called, "until": (W1 + 5 * DAY).isoformat()})
    week2 = W1 + 7 * DAY
    _week(config, week2, ("acme", "still_at_risk", True, W1), ("beta", "still_at_risk", True, W1))
    assert _run(config, slack, _at(week2)) == []  # acme snoozed through week2's Monday
    # once the cooldown after the call has passed, beta's reminder comes again
    [posted] = _run(config, slack, _at(W1 + 12 * DAY))
    assert "Бета" in _texts(posted) and "Acme" in _texts(posted)


def test_the_dm_words_bands_and_plurals_in_the_managers_language() -> None:
    from clientpulse.config import PROJECT_ROOT
    from clientpulse.reports.account_manager_alerts import Playbook

    playbook = Playbook.load(PROJECT_ROOT / "config" / "playbook.yaml")
    clients = {
        (language, n): playbook.plural(language, "clients", n, active=n, at_risk=0).split(",")[0]
        for language in ("en", "uk", "ru")
        for n in (1, 2, 5, 21)
    }
    assert [clients["uk", n] for n in (1, 2, 5, 21)] == [
        "1 клієнт",
        "2 клієнти",
        "5 клієнтів",
        "21 клієнт",
    ]
    assert [clients["ru", n] for n in (1, 2, 5, 21)] == [
        "1 клиент",
        "2 клиента",
        "5 клиентов",
        "21 клиент",
    ]
    assert [clients["en", n] for n in (1, 2)] == ["1 client", "2 clients"]
    assert playbook.band("ru", "at_risk") == "под риском"
    assert playbook.band("uk", "healthy") == "стабільний"
    assert playbook.band("en", None) == "—"


def _conflict(config: AgencyConfig, thread: str, client: str = "acme", *, is_open=True) -> None:
    """An open (or ended) conflict thread in intermediate.client_conflicts."""
    with open_writer(config.warehouse.path) as con:
        con.execute(
            "INSERT INTO intermediate.client_conflicts (client_id, conversation_id, subject, "
            "started_at, signals, seniors_copied, copied_people, client_messages, "
            "agency_messages, last_message_at, is_open, open_days) VALUES (?, ?, "
            "'Invoice <wrong> & late', TIMESTAMPTZ '2026-11-13 23:30:00+00', "
            "['complaint_words', 'ping_pong'], ['ceo@acme.test', 'x_y@acme.test'], "
            "[{'address': 'ceo@acme.test', 'name': 'Olga <Boss>', 'title': 'CEO & founder'}, "
            "{'address': 'x_y@acme.test', 'name': NULL, 'title': NULL}], 5, 4, "
            "TIMESTAMPTZ '2026-11-14 10:00:00+00', ?, 2)",
            [client, thread, is_open],
        )


def test_an_open_conflict_alerts_at_once_and_once_per_thread(built, slack):
    config = _config(built)
    _week(config, W1)
    _conflict(config, "t-1")
    _conflict(config, "t-ended", is_open=False)
    # the asset-triggered run after a mail ingest already carries it
    [posted] = _run(config, slack, _at(W1, 10, 5), early_warnings_only=True)
    text = _texts(posted)
    assert "*Acme &lt;!channel&gt;* — Open conflict in writing" in text
    # started 23:30 UTC on the 13th: the 14th in Kyiv
    assert "Thread “Invoice &lt;wrong&gt; &amp; late”, since 14 Nov 2026" in text
    assert "5 messages from the client" in text
    # the CRM's name and title, escaped; an address nobody knows as it is
    assert "Copied: Olga &lt;Boss&gt; (CEO &amp; founder), x_y@acme.test" in text
    assert "Written ping-pong with Acme &lt;!channel&gt;: move it to a call." in text
    assert "find the facts behind the emotion" in text
    assert text.count("Open conflict") == 1  # the ended thread is not alerted
    # the daily run, the next day's run: nothing again for this thread
    assert _run(config, slack, _at(W1)) == []
    assert _run(config, slack, _at(W1 + DAY)) == []
    _conflict(config, "t-2")  # a second quarrel in another thread is a new alert
    [again] = _run(config, slack, _at(W1 + DAY, 11), early_warnings_only=True)
    assert _texts(again).count("Open conflict") == 1


def _dates(config: AgencyConfig, today: date, *rows: tuple) -> None:
    """marts.client_upcoming_dates as of `today`: (client, occasion, who, on, years, holiday)."""
    with open_writer(config.warehouse.path) as con:
        con.execute("DELETE FROM marts.client_upcoming_dates")
        for client, occasion, who, on, years, holiday in rows:
            con.execute(
                "INSERT INTO marts.client_upcoming_dates (client_id, occasion, who, occurs_on, "
                "days_until, years, holiday_name_en, holiday_name_uk, holiday_name_ru) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [client, occasion, who, on, (on - today).days, years, *(holiday or (None,) * 3)],
            )


GREETINGS = (
    ("acme", "birthday", "Olga <CEO>", W1 + 2 * DAY, 41, None),
    ("beta", "first deal anniversary", "Бета Груп", W1 + 3 * DAY, 3, None),
    ("beta", "public holiday", None, W1 + 5 * DAY, None, ("Unity Day", "День єднання", None)),
)


def test_a_greeting_reminder_comes_days_ahead_once_per_occasion(built, slack):
    config = _config(built)
    _week(config, W1)
    _dates(config, W1, *GREETINGS)
    [posted] = _run(config, slack, _at(W1))
    text = _texts(posted)
    # tactful: the birthday without the age
    assert (
        "*Acme &lt;!channel&gt;* — A date worth a greeting: Olga &lt;CEO&gt;'s birthday, " in text
    )
    assert "18 Nov 2026 (in 2 days)" in text and "41" not in text
    assert "3 years of working together, 19 Nov 2026 (in 3 days)" in text
    assert "Unity Day" not in text  # 5 days ahead: past the 3 reminder days
    assert "a call or a short note of your own" in text
    # an early-warning run carries no greeting; the next morning only the holiday is new
    assert _run(config, slack, _at(W1, 11), early_warnings_only=True) == []
    _dates(config, W1 + 2 * DAY, *GREETINGS)
    [later] = _run(config, slack, _at(W1 + 2 * DAY))
    assert _texts(later).count("A date worth a greeting") == 1
    assert "Unity Day (public holiday in the client's country), 21 Nov 2026 (in 3 days)" in (
        _texts(later)
    )
    assert _run(config, slack, _at(W1 + 3 * DAY)) == []


def test_conflict_and_greeting_in_ukrainian_and_russian() -> None:
    from clientpulse.config import PROJECT_ROOT
    from clientpulse.reports.account_manager_alerts import Alert, Playbook, alert_message

    playbook = Playbook.load(PROJECT_ROOT / "config" / "playbook.yaml")
    conflict = {
        "client_name": "Бета Груп",
        "subject": "Рахунок <знову>",
        "started_on": date(2026, 11, 14),
        "client_messages": 5,
        "seniors_copied": ["ceo@beta.test"],
        "copied_people": [{"address": "ceo@beta.test", "name": "Ольга", "title": "CEO"}],
    }
    base = {"client_name": "Бета Груп", "years": None, "holiday_name_en": None}
    birthday = {**base, "occasion": "birthday", "who": "Ольга", "occurs_on": W1, "days_until": 0}
    holiday = {
        **base,
        "occasion": "public holiday",
        "who": None,
        "occurs_on": W1 + 2 * DAY,
        "days_until": 2,
        "holiday_name_en": "Unity Day",
        "holiday_name_uk": "День єднання",
        "holiday_name_ru": None,
    }
    years = {**base, "occasion": "first deal anniversary", "who": "Бета Груп", "years": 21}
    years.update(occurs_on=W1 + 3 * DAY, days_until=3)
    alerts = [
        Alert("anna", "beta", "conflict", "t", conflict),
        Alert("anna", "beta", "greeting", "b", birthday),
        Alert("anna", "beta", "greeting", "h", holiday),
        Alert("anna", "beta", "greeting", "y", years),
    ]

    def text(language: str) -> str:
        manager = SimpleNamespace(name="Анна", language=language)
        message = alert_message(manager, alerts, 0, playbook, named=False)
        sections = (b["text"]["text"] for b in message["blocks"] if b["type"] == "section")
        return "\n".join(sections).replace("\u202f", " ")  # Babel's narrow space in dates

    expected = {
        "uk": [
            "*Бета Груп* — Відкритий конфлікт у листуванні",
            "Ланцюжок «Рахунок &lt;знову&gt;», з 14 лист. 2026 р.; 5 листів від клієнта",
            "У копії: Ольга (CEO)",
            "Письмовий пінг-понг з Бета Груп: переведіть його в дзвінок.",
            "Привід привітати: Ольга святкує день народження, 16 лист. 2026 р. (сьогодні)",
            "День єднання (державне свято в країні клієнта), 18 лист. 2026 р. (через 2 дні)",
            "21 рік співпраці, 19 лист. 2026 р. (через 3 дні)",
        ],
        "ru": [
            "Цепочка «Рахунок &lt;знову&gt;», с 14 нояб. 2026 г.; 5 писем от клиента",
            "Письменный пинг-понг с Бета Груп: переведите его в звонок.",
            "Повод поздравить: Ольга празднует день рождения, 16 нояб. 2026 г. (сегодня)",
            # no Russian name for the holiday: the English one, never an empty line
            "Unity Day (государственный праздник в стране клиента)",
            "21 год сотрудничества, 19 нояб. 2026 г. (через 3 дня)",
        ],
    }
    for language, lines in expected.items():
        rendered = text(language)
        assert [line for line in lines if line not in rendered] == []


def test_the_portfolio_view_shows_overdue_invoices_and_nps_where_there_are_any(built, slack):
    config = _config(built)
    _week(config, W1, ("acme", "newly_at_risk", True, W1), ("beta", "none", False, None))
    with open_writer(config.warehouse.path) as con:
        con.execute(
            "INSERT INTO core.client_receivables (client_id, currency, open_invoices, "
            "open_amount, overdue_invoices, overdue_amount, oldest_overdue_days) VALUES "
            "('acme', 'USD', 3, 4500, 2, 3000.5, 47), ('acme', 'EUR', 1, 900, 0, 0, NULL)"
        )
        con.execute(
            "INSERT INTO intermediate.client_nps (client_id, answers, nps, nps_change, "
            "recent_detractor_score, recent_detractor_at, recent_detractor_contact) VALUES "
            "('acme', 5, -20, -40, 3, TIMESTAMPTZ '2026-11-10 09:00:00+00', 'cfo@acme.test'), "
            "('beta', 2, 50, NULL, NULL, NULL, NULL)"
        )
    [portfolio] = _run(config, slack, _at(W1), portfolio=True)[-1:]
    lines = _texts(portfolio).splitlines()
    acme = lines.index(next(x for x in lines if x.startswith("↑ *Acme")))
    # under the client: overdue in its own currency (none in EUR), then NPS, the change
    # over 6 months and the recent detractor
    assert lines[acme + 1 : acme + 3] == [
        "    ◦ overdue US$3,000.50, the oldest 47 days past due",
        "    ◦ NPS: −20 (−40 in 6 months); detractor: cfo@acme.test scored 3 of 10 on 10 Nov 2026",
    ]
    assert "    ◦ NPS: +50" in lines  # beta: no earlier score, no detractor
