"""The monthly PDCA client report: figures from the monthly marts, formatted for the
client's language with Babel, every label translated, one client's data only."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime

import pytest

from clientpulse.pipeline.build_signals import model_variables
from clientpulse.pipeline.config_seeds import config_seeds
from clientpulse.reports.monthly_report import compose_monthly_report, monthly_texts
from tests.factories import AS_OF, hypothesis, load_small_world, small_config, task
from transforms.runner import build
from warehouse.db import open_writer
from warehouse.load import upsert

HOSTILE = '<b>Банер</b> & "Co"'
# Keys whose value is only placeholders and punctuation, the same in every language.
LANGUAGE_NEUTRAL = {"task_in_project"}


def _named(gid, name, **kwargs):
    row = task(gid, "200", **kwargs)
    payload = json.loads(row["payload"])
    payload["name"] = name
    row["payload"] = json.dumps(payload)
    return row


@pytest.fixture
def config(tmp_path):
    config = small_config(tmp_path)
    october = datetime(2026, 10, 1, 8, tzinfo=UTC)
    with open_writer(config.warehouse.path) as con:
        load_small_world(con, config)
        rows = [
            # beta (uk) completed two tasks in October: one on time, one late
            _named("o1", "Аудит сайту", due="2026-10-10", completed=True, created=october),
            _named("o2", HOSTILE, due="2026-10-05", completed=True, created=october.replace(day=8)),
        ]
        upsert(con, "raw.asana_tasks", rows, ["gid"])
        build(con, AS_OF, model_variables(config), config_seeds(config))
    return config


def test_every_label_is_translated():
    english = monthly_texts("en")
    for language in ("uk", "ru"):
        strings = monthly_texts(language)
        assert strings.keys() == english.keys(), language
        for key, value in strings.items():
            if key in LANGUAGE_NEUTRAL:
                continue
            assert value != english[key], f"{language}.{key} is the English text"
            words = re.sub(r"\{[a-z_]+\}", "", value)
            assert re.search(r"[а-яіїєґё]", words, re.I), f"{language}.{key}: {value!r}"
            assert not re.search(r"\b[a-z]{3,}\b", words, re.I), f"{language}.{key}: {value!r}"


def test_monthly_report_in_ukrainian_selects_and_formats_the_marts(config):
    with open_writer(config.warehouse.path) as con:
        beta = compose_monthly_report(con, config, config.client("beta"), AS_OF)
        acme = compose_monthly_report(con, config, config.client("acme"), AS_OF)
    text, html = beta["text"], beta["html"]
    assert beta["subject"] == "Бета Груп: звіт за місяць, листопад 2026"
    assert beta["to"] == ["director@beta.test"]
    # Plan: November, dates in Ukrainian (Babel)
    assert "План · листопад 2026: що має бути готово" in text
    assert "Task t5 (термін 20 листопада 2026)" in text
    # Do: October, on time or not
    assert "Виконано · жовтень 2026" in text
    assert "Аудит сайту (зроблено 2 жовтня 2026, вчасно)" in text
    assert f"{HOSTILE} (зроблено 9 жовтня 2026, із запізненням (термін 5 жовтня 2026))" in text
    # Check: weak spots named, a missing figure said in words
    assert "Завершено задач: 2, вчасно 1, із запізненням 1" in text
    assert "Де ми не дотягнули:\n- задач завершено із запізненням: 1\n" in text
    assert "термінів пропущено, не попередивши вас: 1" in text
    assert "Перші відповіді на ваші листи: цього місяця нічого вимірювати" in text
    # Hypotheses: none this month, said in words
    assert "Гіпотези · жовтень 2026: що ми перевіряли і що з’ясували\n" in text
    assert "Минулого місяця жодної гіпотези не перевіряли і не закрили." in text
    # Act: new tasks with the reason, or that it is missing
    assert "- Аудит сайту: нова задача, термін 10 жовтня 2026 — причину ще не вказано" in text
    # escaped in HTML, one client's data only
    assert HOSTILE not in html and "&lt;b&gt;Банер&lt;/b&gt; &amp; &#34;Co&#34;" in html
    assert "Task t1" not in text + html and "Аудит" not in acme["text"] + acme["html"]
    # no English label in a Ukrainian email
    for key, value in monthly_texts("en").items():
        for word in re.findall(r"[A-Za-z]{4,}", re.sub(r"\{[a-z_]+\}", "", value)):
            assert word not in re.sub(r"Task t\d|Test Agency|Anna <Lead>", "", text), (key, word)


def test_russian_numbers_are_formatted_for_the_language(config):
    with open_writer(config.warehouse.path) as con:
        con.execute(
            "UPDATE marts.client_monthly_check SET first_reply_decided = 3, "
            "first_reply_achieved = 2, first_reply_compliance = 2 / 3, "
            "first_reply_median_hours = 8.5 WHERE client_id = 'beta'"
        )
        beta = compose_monthly_report(
            con, config, config.client("beta").model_copy(update={"language": "ru"}), AS_OF
        )
    assert "Первые ответы на ваши письма: вовремя 67\xa0% (2 из 3), медиана 8,5 ч" in beta["text"]
    assert "Первые ответы на ваши письма: вовремя лишь 67\xa0%" in beta["text"]


SCRIPT = "<script>alert(1)</script> Розсилка"
# beta's (uk): one of each state; acme's (h5) never in beta's report. Created and
# completed at noon in Kyiv on (month, day) of 2026.
HYPOTHESIS_TASKS = [  # gid, project, status, name, created, completed, section
    ("h1", "200", "Confirmed", "Відео на лендингу", (9, 1), (10, 10), None),
    ("h2", "200", "Rejected", SCRIPT, (9, 15), (10, 20), None),
    ("h3", "200", "Testing", "Знижка 10%", (10, 5), None, None),
    ("h4", "200", None, "Банер у сторіс", (10, 1), (10, 25), "Hypotheses"),
    ("h5", "100", "Confirmed", "Acme pricing page", (9, 1), (10, 12), None),
]


def _noon(month_day: tuple[int, int] | None) -> datetime | None:
    return datetime(2026, *month_day, 9, tzinfo=UTC) if month_day else None


HYPOTHESES = [
    hypothesis(gid, where, state, name=name, created=_noon(c), completed_at=_noon(d), section=s)
    for gid, where, state, name, c, d, s in HYPOTHESIS_TASKS
]


@pytest.fixture
def with_hypotheses(config):
    with open_writer(config.warehouse.path) as con:
        upsert(con, "raw.asana_tasks", HYPOTHESES, ["gid"])
        build(con, AS_OF, model_variables(config), config_seeds(config))
    return config


def _part(text: str, title: str, next_title: str) -> str:
    return text[text.index(title) : text.index(next_title)]


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        (
            "uk",
            "Гіпотези · жовтень 2026: що ми перевіряли і що з’ясували\n"
            "- Відео на лендингу (поставлена 1 вересня 2026, підтвердилася 10 жовтня 2026)\n"
            f"- {SCRIPT} (поставлена 15 вересня 2026, не підтвердилася 20 жовтня 2026)\n"
            "- Банер у сторіс (поставлена 1 жовтня 2026, перевірку завершено 25 жовтня 2026, "
            "висновок ще не записано)\n"
            "- Знижка 10% (поставлена 5 жовтня 2026, перевіряється)\n",
        ),
        (
            "ru",
            "Гипотезы · октябрь 2026: что мы проверяли и что узнали\n"
            "- Відео на лендингу (поставлена 1 сентября 2026, подтвердилась 10 октября 2026)\n"
            f"- {SCRIPT} (поставлена 15 сентября 2026, не подтвердилась 20 октября 2026)\n"
            "- Банер у сторіс (поставлена 1 октября 2026, проверка завершена 25 октября 2026, "
            "вывод ещё не записан)\n"
            "- Знижка 10% (поставлена 5 октября 2026, проверяется)\n",
        ),
        (
            "en",
            "Hypotheses · October 2026: what we tested and learned\n"
            "- Відео на лендингу (set 1 September 2026, confirmed 10 October 2026)\n"
            f"- {SCRIPT} (set 15 September 2026, refuted 20 October 2026)\n"
            "- Банер у сторіс (set 1 October 2026, testing finished 25 October 2026, "
            "result not recorded yet)\n"
            "- Знижка 10% (set 5 October 2026, being tested)\n",
        ),
    ],
)
def test_hypotheses_are_the_fourth_part_in_the_clients_language(
    with_hypotheses, language, expected
):
    config = with_hypotheses
    beta = config.client("beta").model_copy(update={"language": language})
    with open_writer(config.warehouse.path) as con:
        email = compose_monthly_report(con, config, beta, AS_OF)
    text, html = email["text"], email["html"]
    t = monthly_texts(language)
    # after Check's weak spots, before Act
    check, act = t["check"].split(" · ")[0], t["act"].split(" · ")[0]
    assert text.index(check) < text.index(expected) < text.index(act + " · ")
    assert _part(text, expected.split("\n")[0], act + " · ") == expected + "\n"
    # the task name escaped in HTML, never raw
    assert "<script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt; Розсилка" in html
    # beta's only
    assert "Acme pricing page" not in text + html


def test_a_client_sees_only_their_own_hypotheses(with_hypotheses):
    config = with_hypotheses
    with open_writer(config.warehouse.path) as con:
        acme = compose_monthly_report(con, config, config.client("acme"), AS_OF)
    part = _part(acme["text"], "Hypotheses · ", "Act · ")
    assert part == (
        "Hypotheses · October 2026: what we tested and learned\n"
        "- Acme pricing page (set 1 September 2026, confirmed 12 October 2026)\n\n"
    )
    for name in ("Відео", "Розсилка", "Знижка", "Банер у сторіс"):
        assert name not in acme["text"] + acme["html"]
