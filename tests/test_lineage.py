"""Lineage on demand (`make lineage MODEL=...`): a model's upstream models, raw tables and
config keys, and what reads it, for every mart."""

from __future__ import annotations

import pytest

from tests.factories import small_config
from tooling.lineage import lineage, main, render, variable_keys
from transforms.runner import discover


def test_the_risk_history_mart_names_its_sources_keys_and_readers(capsys):
    assert main(["marts.client_risk_weekly"]) == 0
    found = lineage("marts.client_risk_weekly")
    assert set(found.parents) == {
        "intermediate.client_risk_calibrated",
        "intermediate.client_risk_history",
    }
    for upstream in ("intermediate.reply_compliance", "core.fct_email_sla", "staging.cfg_clients"):
        assert upstream in found.upstream
    assert {"raw.email_messages", "raw.asana_tasks", "raw.crm_objects"} <= set(found.raw_tables)
    assert ("risk_reply_window_days", "signals.risk.reply_window_days") in found.config_keys
    assert ("risk_false_alarm_budget", "signals.risk.false_alarm_budget") in found.config_keys
    assert {"marts.manager_portfolio", "marts.client_risk_alerts"} <= set(found.downstream)
    assert "clientpulse/reports/leadership_digest.py" in found.code
    printed = capsys.readouterr().out
    assert "risk_reply_window_days ← signals.risk.reply_window_days" in printed
    assert "read by models:" in printed and "marts.manager_portfolio" in printed


def test_every_mart_has_a_lineage_down_to_raw_tables():
    models = discover()
    for model in (m for m in models if m.schema == "marts"):
        found = lineage(model.table, models)
        assert found.raw_tables, model.table
        assert set(found.parents) <= set(found.upstream)
        assert render(found, models).startswith(model.table)


def test_every_sql_variable_names_a_key_the_config_has(tmp_path):
    config = small_config(tmp_path)
    for variable, key in variable_keys().items():
        value = config
        for part in key.split("."):
            if value is None:  # an optional section the fixture leaves out
                break
            assert hasattr(value, part), (variable, key)
            value = getattr(value, part)


def test_an_unknown_model_is_a_usage_error(capsys):
    assert main(["marts.no_such_thing"]) == 2
    assert "no model 'marts.no_such_thing'" in capsys.readouterr().err
    with pytest.raises(ValueError, match="no model"):
        lineage("core.nothing")
