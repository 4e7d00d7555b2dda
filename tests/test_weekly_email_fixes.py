"""The weekly client status as a client reads it: names and sections in the client's
language, same-named tasks told apart by project, long lists that say how many more
there are, and a missing figure said in words."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from clientpulse.pipeline.build_signals import model_variables
from clientpulse.pipeline.config_seeds import config_seeds
from clientpulse.reports.client_status import MAX_ITEMS, compose_client_status
from tests.factories import AS_OF, load_small_world, small_config, task
from transforms.runner import build
from warehouse.db import open_writer
from warehouse.load import upsert


def _task(gid, project, name, *, section=None, **kwargs):
    row = task(gid, project, **kwargs)
    payload = json.loads(row["payload"])
    payload["name"] = name
    if section:
        payload["memberships"] = [{"project": {"gid": project}, "section": {"name": section}}]
    row["payload"] = json.dumps(payload)
    return row


@pytest.fixture
def config(tmp_path):
    config = small_config(tmp_path)
    # beta (uk) gets a second project; both projects hold a "Landing page" task
    raw = (tmp_path / "agency.yaml").read_text(encoding="utf-8")
    (tmp_path / "agency.yaml").write_text(
        raw.replace('asana_projects: ["200"]', 'asana_projects: ["200", "201"]'), encoding="utf-8"
    )
    from clientpulse.config import load_config

    config = load_config(tmp_path / "agency.yaml")
    with open_writer(config.warehouse.path) as con:
        load_small_world(con, config)
        projects = [
            {"gid": gid, "payload": json.dumps({"gid": gid, "name": name}), "extracted_at": AS_OF}
            for gid, name in (("200", "Сайт"), ("201", "Реклама <Google>"))
        ]
        upsert(con, "raw.asana_projects", projects, ["gid"])
        rows = [
            _task("L1", "200", "Landing page", due="2026-11-30"),
            _task("L2", "201", "Landing page", due="2026-12-01"),
            _task("B1", "200", "Банер", section="Backlog"),
        ]
        rows += [_task(f"M{i:02d}", "201", f"Пост {i:02d}", due="2026-12-20") for i in range(30)]
        upsert(con, "raw.asana_tasks", rows, ["gid"])
        build(con, AS_OF, model_variables(config), config_seeds(config))
    return config


def test_weekly_email_translates_labels_tells_projects_apart_and_counts_the_rest(config):
    with open_writer(config.warehouse.path) as con:
        beta = compose_client_status(con, config, config.client("beta"), AS_OF, "2026-W47")
    text, html = beta["text"], beta["html"]
    # a not-started task without a reason names its section in Ukrainian, not "Backlog"
    assert "Банер (у розділі «Черга»)" in text
    assert "Backlog" not in text + html
    # two tasks called "Landing page" in two projects are labelled; unique names are not
    assert "Landing page [Сайт] (термін 30 лист. 2026\u202fр.)" in text
    assert "Landing page [Реклама <Google>] (термін 1 груд. 2026\u202fр.)" in text
    assert "Landing page [Реклама &lt;Google&gt;]" in html
    assert "Банер [" not in text
    # carry_over holds 2 + 30 open tasks (+ beta's own from the small world): cut, and said
    carry = text.split("Переходить на наступний тиждень", 1)[1].split("\n\n", 1)[0]
    shown = [line for line in carry.splitlines() if line.startswith("- ")]
    assert len(shown) == MAX_ITEMS
    more = [line for line in carry.splitlines() if line.startswith("… і ще ")]
    assert len(more) == 1 and int(more[0].removeprefix("… і ще ")) > 0
    with open_writer(config.warehouse.path) as con:
        total = con.execute(
            "SELECT count(*) FROM marts.client_status_lists "
            "WHERE client_id = 'beta' AND list = 'carry_over'"
        ).fetchone()[0]
    assert int(more[0].removeprefix("… і ще ")) == total - MAX_ITEMS
    assert "… і ще" in html


def test_a_missing_figure_is_said_in_words(config):
    with open_writer(config.warehouse.path) as con:
        beta = compose_client_status(con, config, config.client("beta"), AS_OF, "2026-W47")
    # beta's one first reply is unanswered and late: no reply time exists
    assert "—" not in beta["text"] and " — " not in beta["html"]
    assert "відповідей ще не було, тож часу відповіді немає" in beta["text"]


def test_acme_gets_no_label_when_its_task_names_are_unique(config):
    with open_writer(config.warehouse.path) as con:
        acme = compose_client_status(
            con, config, config.client("acme"), AS_OF + timedelta(0), "2026-W47"
        )
    assert "[" not in acme["text"].split("Our replies")[0]
