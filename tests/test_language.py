"""Every text a reader gets, in every language, is in that language: the alert DM, the
portfolio DM, the approval DM, the digest's at-risk lines and the client emails,
rendered in en, uk and ru from the small agency built as of three Mondays, plus one
evidence of every kind the models return (every factor, every band).

The leadership digest and its chart are checked in each language too.

A uk/ru text fails on a Latin word that is not a name (client, person, task, project,
deal names, addresses and URLs from the data), on a raw code (`at_risk`, a factor key),
on a count written `24.0`, or on a number without its unit."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml

from clientpulse.config import DEFAULT_RISK_FACTORS, AgencyConfig, load_config
from clientpulse.pipeline.build_signals import model_variables
from clientpulse.pipeline.config_seeds import config_seeds
from clientpulse.reports.account_manager_alerts import (
    Alert,
    Playbook,
    alert_message,
    portfolio_message,
)
from clientpulse.reports.client_status import compose_client_status
from clientpulse.reports.evidence import FIELDS, LISTS, SENTENCES, UNITS
from clientpulse.reports.i18n import LANGUAGES
from clientpulse.reports.leadership_digest import compose_digest
from clientpulse.reports.monthly_report import compose_monthly_report
from clientpulse.risk_factors import FACTORS
from clientpulse.slack_listener.blocks import approval_dm
from tests.factories import AS_OF, FIXTURE, hypothesis, load_small_world, task
from tests.language_check import problems, slack_text
from transforms.catalog import MODELS_DIR
from transforms.runner import build
from warehouse.db import open_writer
from warehouse.load import upsert

BANDS = ("healthy", "watch", "at_risk", None)
QUOTED = "Hello, here is where your work stands."  # an English email the approval DM quotes
SEPTEMBER, OCTOBER = (datetime(2026, m, 10, 9, tzinfo=UTC) for m in (9, 10))
# every client's monthly report holds a hypothesis of every state (the field's values
# as a team writes them), with English names: names pass, the words around them must not
HYPOTHESES = [
    hypothesis(f"h{project}{i}", project, status, name=f"Hypothesis {i}", **dates)
    for project in ("100", "200")
    for i, (status, dates) in enumerate(
        [
            ("Confirmed", {"created": SEPTEMBER, "completed_at": OCTOBER}),
            ("Refuted", {"created": SEPTEMBER, "completed_at": OCTOBER}),
            (None, {"created": SEPTEMBER, "completed_at": OCTOBER, "section": "Hypotheses"}),
            ("Testing", {"created": OCTOBER}),
        ]
    )
]
# the hypotheses part, in each language, as the emails must show it
HYPOTHESIS_WORDS = {
    "en": ["Hypotheses · October 2026", "(set 10 September 2026, confirmed", "being tested"],
    "uk": [
        "Гіпотези · жовтень 2026",
        "(поставлена 10 вересня 2026, підтвердилася",
        "перевіряється",
    ],
    "ru": ["Гипотезы · октябрь 2026", "(поставлена 10 сентября 2026, подтвердилась", "проверяется"],
}


def _every_evidence() -> dict[str, str]:
    """One evidence of every key the catalog knows, with figures that need plurals."""
    figures: dict[str, Any] = {
        "count": 4,
        "day": "2026-11-13",
        "money": 3500.0,
        "month": "2026-10-01",
        "signed": -5,
        "stage": "storm",
        "text": "Site <relaunch>",
    }
    evidence = {}
    for key in SENTENCES["en"]:
        if key.startswith("stage:") or key in ("deal", "no_data", "manager_away"):
            continue
        if key in ("renewal_lost", "contact_left"):
            continue
        values: dict[str, Any] = {"key": key}
        for name, kind in FIELDS.get(key, {}).items():
            values[name] = figures.get(kind, 21 if name != "per_week" else 3.7)
        if key == "contact_fall":
            values["away_weeks"] = 2
        evidence[key] = json.dumps(values)
    for key, (name, item) in LISTS.items():
        one = {n: figures.get(k, 5) for n, k in FIELDS[item].items()}
        if item == "contact_left":
            one["address"] = "old.boss@acme.test"
        evidence[key] = json.dumps({"key": key, name: [one, {**one, "name": None, "deal_id": 7}]})
    return evidence


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The small agency, started in January, built as of three Mondays; what it renders
    from, and the names its texts may hold."""
    folder: Path = tmp_path_factory.mktemp("language")
    raw = yaml.safe_load(FIXTURE.read_text(encoding="utf-8"))
    for client in raw["clients"]:
        client["start_date"] = "2026-01-05"
    (folder / "agency.yaml").write_text(yaml.safe_dump(raw, allow_unicode=True))
    config = load_config(folder / "agency.yaml")
    with open_writer(config.warehouse.path) as con:
        late = [task(f"x{i}", "100", due=f"2026-11-0{i + 1}") for i in range(4)]
        upsert(con, "raw.asana_tasks", late + HYPOTHESES, ["gid"])
        load_small_world(con, config)
        for back in (2, 1, 0):
            build(con, AS_OF - timedelta(weeks=back), model_variables(config), config_seeds(config))
        names = {
            value
            for row in con.execute(
                "SELECT client_name, NULL FROM staging.cfg_clients UNION ALL "
                "SELECT task_name, project_name FROM marts.client_status_lists UNION ALL "
                "SELECT task_name, NULL FROM staging.asana_tasks"
            ).fetchall()
            for value in row
            if value
        }
        factors = con.execute(
            "SELECT factor, area, evidence FROM intermediate.client_risk_factors"
        ).fetchall()
        keys = {json.loads(e)["key"] for _, _, e in factors}
    names |= {m.name for m in config.account_managers}
    names |= {config.agency.name, config.agency.timezone, QUOTED}
    return {"config": config, "names": names, "keys": keys, "factors": factors}


def _alert_texts(config: AgencyConfig, playbook: Playbook, language: str) -> list[str]:
    """The alert DM (every factor moved, each with an evidence of every kind) and the
    portfolio DM (a client in every band), built from the warehouse's own rows."""
    manager = config.account_managers[0].model_copy(update={"language": language})
    with open_writer(config.warehouse.path) as con:
        cursor = con.execute(
            "SELECT * FROM marts.client_risk_alerts WHERE week_start = "
            "(SELECT max(week_start) FROM marts.client_risk_alerts) ORDER BY client_id"
        )
        columns = [d[0] for d in cursor.description]
        rows = [dict(zip(columns, r, strict=True)) for r in cursor.fetchall()]
        cursor = con.execute("SELECT * FROM marts.manager_portfolio")
        columns = [d[0] for d in cursor.description]
        figures = dict(zip(columns, cursor.fetchone(), strict=True))
        warehouse = [
            e
            for (e,) in con.execute(
                "SELECT evidence FROM intermediate.client_risk_factors"
            ).fetchall()
        ]
    samples = [*_every_evidence().values(), *warehouse]
    factors = list(DEFAULT_RISK_FACTORS)
    moved = [
        {
            "factor": factors[i % len(factors)],
            "area": "contact",
            "score_before": 20.0,
            "score_after": 60.5,
            "evidence_before": samples[(i + 1) % len(samples)],
            "evidence_after": evidence,
            "contribution_change": 1.0,
        }
        for i, evidence in enumerate(samples)
    ]
    texts = []
    reasons = ("newly_at_risk", "still_at_risk", "risk_up", "recovered")
    for i in range(0, len(moved), 3):  # a DM shows up to three moved factors per client
        row = {**rows[0], "moved_factors": moved[i : i + 3], "band": "at_risk"}
        row.update(score_change_1w=4.0, at_risk_since=row["week_start"])
        alert = Alert(manager.id, row["client_id"], reasons[i // 3 % 4], "w", row)
        texts.append(alert_message(manager, [alert], 3, playbook, named=True))
    portfolio = [
        {**rows[i % len(rows)], "band": band, "main_factor": factors[i], "score": 30.5 + i}
        for i, band in enumerate(BANDS)
    ]
    texts.append(alert_message(manager, _conflict_and_greetings(rows[0]), 0, playbook, named=True))
    for count in (1, 4, 5, 21):
        texts.append(
            portfolio_message(
                manager,
                portfolio,
                {**figures, "active_clients": count},
                playbook,
                named=True,
                playbook_rows={r["client_id"]: _receivables_and_nps(count) for r in rows},
            )
        )
    return [slack_text(m) for m in texts]


def _receivables_and_nps(days: int) -> dict[str, list[dict[str, Any]]]:
    """A client's overdue invoices in two currencies, `days` the oldest, and its NPS with a
    change and a recent detractor."""
    overdue = [
        {"currency": c, "overdue_amount": 3500.0, "oldest_overdue_days": days}
        for c in ("EUR", "UAH")
    ]
    nps = {"nps": -20, "nps_change": -40, "recent_detractor_score": 3}
    nps.update(recent_detractor_contact="cfo@acme.test", recent_detractor_on=AS_OF.date())
    return {"overdue": overdue, "nps": [nps]}


def _conflict_and_greetings(client: dict[str, Any]) -> list[Alert]:
    """A conflict alert and a reminder for every occasion, with counts that need plurals
    (1, 4, 5 and 21 client messages, years and days ahead)."""
    base = {"client_name": client["client_name"], "occurs_on": client["week_start"]}
    holiday = {"holiday_name_en": "Unity Day", "holiday_name_uk": "День єднання"}
    holiday["holiday_name_ru"] = "День единения"
    rows = []
    for n in (0, 1, 4, 5, 21):
        rows.append(
            Alert(
                "anna",
                "acme",
                "conflict",
                f"t{n}",
                {
                    **base,
                    "subject": "Site <relaunch>",
                    "started_on": client["week_start"],
                    "client_messages": n,
                    "seniors_copied": ["old.boss@acme.test"] if n else [],
                    "copied_people": [
                        {"address": "old.boss@acme.test", "name": "Olga", "title": "CEO"}
                    ]
                    if n
                    else [],
                },
            )
        )
        for occasion in ("birthday", "first deal anniversary", "public holiday"):
            row = {**base, **holiday, "occasion": occasion, "who": "Olga", "years": n}
            rows.append(Alert("anna", "acme", "greeting", occasion, {**row, "days_until": n}))
    return rows


def _emails(config: AgencyConfig, language: str) -> list[str]:
    texts = []
    with open_writer(config.warehouse.path) as con:
        for client in config.clients:
            client = client.model_copy(update={"language": language})
            for email in (
                compose_client_status(con, config, client, AS_OF, "2026-W47"),
                compose_monthly_report(con, config, client, AS_OF),
            ):
                texts.append(f"{email['subject']}\n{email['text']}")
    return texts


def _approval(language: str) -> str:
    draft = {
        "map_index": 0,
        "client_id": "acme",
        "client_name": "Acme <!channel>",
        "subject": f"Acme <!channel>: {QUOTED}",
        "language": "en",
        "text": QUOTED,
        "manager_id": "anna",
        "link": "https://airflow.agency.test/dags/x",
    }
    header, blocks = approval_dm(language, "client_status", "run-1", [draft])
    return slack_text({"text": header, "blocks": blocks})


def test_the_models_factors_are_the_registrys_with_its_evidence_keys(world):
    declared = {f.name: f for f in FACTORS}
    assert {(f, a) for f, a, _ in world["factors"]} == {(f.name, f.area) for f in FACTORS}
    for factor, _, evidence in world["factors"]:
        assert json.loads(evidence)["key"] in declared[factor].evidence, factor
    keys = {k for f in FACTORS for k in f.evidence}
    assert keys <= set(SENTENCES["en"]) | set(LISTS)  # every key has its words


def test_every_language_has_every_sentence_and_unit():
    assert set(SENTENCES["en"]) == set(SENTENCES["uk"]) == set(SENTENCES["ru"])
    assert set(UNITS["en"]) == set(UNITS["uk"]) == set(UNITS["ru"])
    used = {kind for fields in FIELDS.values() for kind in fields.values()}
    kinds = {"count", "day", "money", "month", "signed", "stage", "text", "people"}
    assert used - kinds == set(UNITS["en"])


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_text_is_in_the_readers_language(world, language):
    config: AgencyConfig = world["config"]
    assert world["keys"] <= set(SENTENCES[language])  # every key the warehouse returned
    playbook = Playbook.load(config.alerts.playbook, "EUR")
    texts = _alert_texts(config, playbook, language) + _emails(config, language)
    texts.append(_approval(language))
    found = {
        text[:80]: wrong
        for text in texts
        if (wrong := problems(text, language, world["names"] | {"Site <relaunch>", "Olga", "CEO"}))
    }
    assert found == {}
    joined = "\n".join(texts)
    if language != "en":
        # revenue with its currency, as the language writes it
        assert re.search(r"3\s500,00\s(євро|€)", joined)
    # plural forms: 1, 4, 5 and 21 clients
    forms = {
        "en": ["1 client,", "4 clients", "21 clients"],
        "uk": ["1 клієнт,", "4 клієнти", "5 клієнтів", "21 клієнт,"],
        "ru": ["1 клиент,", "4 клиента", "5 клиентов", "21 клиент,"],
    }
    for form in forms[language]:
        assert form in joined
    for words in HYPOTHESIS_WORDS[language]:
        assert joined.count(words) == len(config.clients), words


AT_RISK_HEADING = {
    "en": "*At-risk clients*",
    "uk": "*Клієнти під ризиком*",
    "ru": "*Клиенты под риском*",
}


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_digest_and_its_chart_are_in_the_digests_language(world, language):
    """Every word of the digest (headings, footer, the chart's alt text and figures) in
    leadership_digest.language; factors and actions named in words, not codes."""
    config: AgencyConfig = world["config"]
    settings = config.leadership_digest.model_copy(update={"language": language})
    with open_writer(config.warehouse.path) as con:
        # every client at risk this week (the last tests on this world: they change it)
        con.execute("UPDATE marts.client_risk_weekly SET at_risk = true")
        sql = (MODELS_DIR / "marts" / "client_risk_actions.sql").read_text(encoding="utf-8")
        con.execute(f"CREATE OR REPLACE TABLE marts.client_risk_actions AS\n{sql}")
        digest = compose_digest(con, AS_OF, config.agency.timezone, "2026-W47", settings)
    chart = digest["chart"]
    text = "\n".join(
        [slack_text(digest), chart["title"], chart["alt_text"], chart["text_fallback"]]
    )
    assert problems(text, language, world["names"]) == []
    assert AT_RISK_HEADING[language] in text and "→ _" in text
    header = {"en": "weekly digest", "uk": "Щотижневий огляд", "ru": "Еженедельный обзор"}
    assert header[language] in digest["blocks"][0]["text"]["text"]


@pytest.mark.parametrize(
    ("text", "language", "problem"),
    [
        ("було two-way exchanges 3.7 → 3.3 a week", "uk", "latin two"),
        ("было 24.0 of 25 tasks done on time", "ru", "count 24.0"),
        ("бал 44 (at_risk)", "uk", "raw code at_risk"),
        ("0,5 на тиждень; домовлений ритм — 1", "uk", "number without unit '1'"),
        ("2 silent_slips in the last 8 weeks", "en", "raw code silent_slips"),
    ],
)
def test_the_checks_catch_the_demos_old_texts(text, language, problem):
    assert any(p.startswith(problem) for p in problems(text, language, set()))
