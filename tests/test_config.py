"""The agency config: the demo file validates; bad files fail naming file, key and problem."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from clientpulse.config import (
    CONFIG_ENV,
    DEMO_CONFIG,
    PROJECT_ROOT,
    ConfigError,
    config_path,
    load_config,
)


@pytest.fixture
def demo_raw() -> dict:
    return yaml.safe_load(DEMO_CONFIG.read_text(encoding="utf-8"))


def write(tmp_path: Path, raw: dict) -> Path:
    path = tmp_path / "agency.yaml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    return path


def test_demo_config_is_valid_and_large_enough():
    config = load_config(DEMO_CONFIG)
    assert len(config.clients) >= 30
    assert config.warehouse.path.is_absolute()
    assert config.warehouse.path.is_relative_to(PROJECT_ROOT / "out" / "demo")


def test_environment_variable_selects_the_file(tmp_path, demo_raw, monkeypatch):
    demo_raw["agency"]["name"] = "Other Agency"
    path = write(tmp_path, demo_raw)
    monkeypatch.setenv(CONFIG_ENV, str(path))
    assert config_path() == path.resolve()
    assert load_config().agency.name == "Other Agency"
    monkeypatch.delenv(CONFIG_ENV)
    assert config_path() == DEMO_CONFIG.resolve()


def test_relative_paths_resolve_against_the_config_folder(tmp_path, demo_raw):
    demo_raw["warehouse"]["path"] = "data/w.duckdb"
    config = load_config(write(tmp_path, demo_raw))
    assert config.warehouse.path == (tmp_path / "data" / "w.duckdb").resolve()


@pytest.mark.parametrize(
    ("mutate", "expected"),
    [
        (
            lambda r: r["agency"].update(timezone="Mars/Olympus"),
            "agency.timezone: unknown time zone",
        ),
        (lambda r: r["clients"][2].update(account_manager="nobody"), "is not an account manager"),
        (lambda r: r["clients"][0].update(tier="platinum"), "is not a tier in sla_policies"),
        (lambda r: r["agency"].update(colour="blue"), "agency.colour: unknown key"),
        (lambda r: r["clients"][1].pop("name"), "clients[1]"),
        (lambda r: r["clients"][3].update(language="de"), "clients[3]"),
        (
            lambda r: r["clients"][4].update(email_domains=r["clients"][5]["email_domains"]),
            "appears more than once",
        ),
        (lambda r: r["sla_policies"].update(default_tier="gold"), "default_tier 'gold'"),
        (
            lambda r: r["clients"][0].update(segment_inputs={"charisma": 3}),
            "segment_inputs: ['charisma'] not an input of signals.segmentation",
        ),
        (
            lambda r: r["signals"]["relationship"].update(manager_title="(unclosed"),
            "signals.relationship.manager_title: not a valid regular expression",
        ),
        (
            lambda r: r["signals"]["segmentation"]["relationship"].update(medium_at=80),
            "signals.segmentation.relationship: medium_at must be below high_at",
        ),
        (
            lambda r: r["signals"]["segmentation"]["attractiveness"]["inputs"]["potential"].update(
                metric="won_deals"
            ),
            "potential: give metric or crm_property, not both",
        ),
        (
            lambda r: r.setdefault("alerts", {}).update(greeting_reminder_days=15),
            "alerts.greeting_reminder_days: 15 is beyond "
            "signals.relationship.greeting_horizon_days (14)",
        ),
        (
            lambda r: r["sources"]["crm"].update(csv_dir="exports"),
            "sources.crm: csv_dir: only used when kind is 'csv'",
        ),
    ],
)
def test_errors_name_the_file_the_key_and_the_problem(tmp_path, demo_raw, mutate, expected):
    mutate(demo_raw)
    path = write(tmp_path, demo_raw)
    with pytest.raises(ConfigError) as error:
        load_config(path)
    message = str(error.value)
    assert str(path) in message
    assert expected in message


def test_client_errors_show_the_client_id(tmp_path, demo_raw):
    demo_raw["clients"][3]["language"] = "de"
    with pytest.raises(ConfigError, match=rf"clients\[3\] \({demo_raw['clients'][3]['id']}\)"):
        load_config(write(tmp_path, demo_raw))


def test_unreadable_and_malformed_files(tmp_path):
    with pytest.raises(ConfigError, match="cannot read config file"):
        load_config(tmp_path / "missing.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("agency: [unclosed", encoding="utf-8")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_config(bad)
    bad.write_text("- just a list", encoding="utf-8")
    with pytest.raises(ConfigError, match="top level must be a mapping"):
        load_config(bad)


def test_sources_can_be_switched_off(tmp_path, demo_raw):
    demo_raw["sources"]["crm"]["enabled"] = False
    del demo_raw["sources"]["asana"]
    config = load_config(write(tmp_path, demo_raw))
    assert not config.sources.enabled("crm")
    assert not config.sources.enabled("asana")
    assert config.sources.enabled("mailboxes")


def test_sla_targets_come_from_tier_prospect_policy_and_client_override(tmp_path):
    raw = yaml.safe_load(DEMO_CONFIG.read_text(encoding="utf-8"))
    raw["sla_policies"]["tiers"]["premium"]["next_reply_business_hours"] = 4
    premium = next(c for c in raw["clients"] if c.get("tier") == "premium")
    standard = next(c for c in raw["clients"] if c.get("tier", "standard") == "standard")
    standard["sla"] = {"first_reply_business_hours": 2}
    config = load_config(write(tmp_path, raw))
    # premium: 8 h first reply, 4 h next reply; prospect policy 3 h for both metrics
    assert config.sla_targets(config.client(premium["id"])) == {
        "first_reply": (480.0, 180.0),
        "next_reply": (240.0, 180.0),
    }
    # a client's own target overrides tier and prospect alike; next reply defaults to first
    assert config.sla_targets(config.client(standard["id"])) == {
        "first_reply": (120.0, 120.0),
        "next_reply": (120.0, 120.0),
    }


def test_freemail_and_vendor_domains_are_checked(tmp_path):
    raw = yaml.safe_load(DEMO_CONFIG.read_text(encoding="utf-8"))
    raw["clients"][0]["email_domains"] = ["ukr.net"]
    with pytest.raises(ConfigError, match=r"clients\[0\].*ukr.net.*freemail"):
        load_config(write(tmp_path, raw))
    raw = yaml.safe_load(DEMO_CONFIG.read_text(encoding="utf-8"))
    raw["agency"]["freemail_domains"] = ["post.example"]
    raw["agency"]["vendor_domains"] = ["northwind.test"]
    with pytest.raises(ConfigError, match=r"vendor_domains.*northwind\.test"):
        load_config(write(tmp_path, raw))
    raw["agency"]["vendor_domains"] = ["printshop.test"]
    config = load_config(write(tmp_path, raw))
    assert {"post.example", "gmail.com", "ukr.net"} <= set(config.freemail_domains())


def test_a_greeting_reminder_as_far_ahead_as_the_horizon_loads(tmp_path, demo_raw):
    # the horizon includes its last day (client_upcoming_dates: days ahead <= horizon)
    demo_raw["alerts"]["greeting_reminder_days"] = 14
    config = load_config(write(tmp_path, demo_raw))
    assert config.alerts.greeting_reminder_days == config.signals.relationship.greeting_horizon_days
