"""Drift guard: docker-compose.yml must deploy what `make smoke` proves.

The services, their commands and settings are described once in tooling.topology
(the smoke runner starts exactly those); the compose file is parsed and compared with
that description, and every file or folder it references must exist. The last tests
break a copy of the compose file on purpose and show the guard notices.
"""

from __future__ import annotations

import copy
import shlex
from pathlib import Path
from typing import Any

import pytest
import yaml

from clientpulse.paths import PROJECT_ROOT
from tooling.local_airflow import PREPARE_STEPS
from tooling.slack_desk import listener_environment
from tooling.smoke import SMOKE_TUNING, native_environment
from tooling.topology import (
    ADMIN_USER,
    BACKING_SERVICES,
    COMPOSE_FILE,
    ENV_FILE,
    HOST_SETTINGS,
    INIT_PASSWORDS,
    INIT_SERVICE,
    LISTENER,
    LISTENER_COMMAND,
    LISTENER_HEALTH_PORT,
    LISTENER_SETTINGS,
    NATIVE_PORTS,
    SECRET_SETTINGS,
    SECRETS_EXAMPLE,
    SERVICES,
    NativeHosts,
    read_env_file,
)

SHARED_ENV = "deploy/airflow.env"


def load_compose(path: Path = COMPOSE_FILE) -> dict[str, Any]:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def env_files(service: dict[str, Any]) -> list[str]:
    return [entry if isinstance(entry, str) else entry["path"] for entry in service["env_file"]]


def drift(compose: dict[str, Any], root: Path = PROJECT_ROOT) -> list[str]:
    """Every way `compose` differs from the topology `make smoke` starts (empty: none)."""
    problems = []
    services = compose.get("services") or {}
    airflow = {s.name: s for s in SERVICES}
    expected = set(airflow) | {INIT_SERVICE, LISTENER, *BACKING_SERVICES}
    if expected - set(services):
        problems.append(f"services: missing {sorted(expected - set(services))}")
    if set(services) - expected:
        problems.append(f"services: not started by make smoke {sorted(set(services) - expected)}")
    for name, service in airflow.items():
        spec = services.get(name)
        if spec is None:
            continue
        if tuple(spec.get("command") or ()) != service.command:
            problems.append(f"{name}: command {spec.get('command')} != {list(service.command)}")
        problems += _environment_drift(name, spec)
    init = services.get(INIT_SERVICE)
    if init is not None:
        script = "\n".join(init.get("command") or [])
        for step in PREPARE_STEPS:
            if shlex.join(("airflow", *step)) not in script:
                problems.append(f"{INIT_SERVICE}: does not run `airflow {' '.join(step)}`")
        if shlex.join(INIT_PASSWORDS) not in script:
            problems.append(f"{INIT_SERVICE}: does not write the users' passwords")
        problems += _environment_drift(INIT_SERVICE, init, extra={"AIRFLOW_ADMIN_PASSWORD"})
    listener = services.get(LISTENER)
    if listener is not None:
        problems += _listener_drift(listener)
    problems += _missing_references(compose, root)
    return problems


def _listener_drift(spec: dict[str, Any]) -> list[str]:
    """The Slack listener: its command, settings, health check and restart policy."""
    problems = []
    if tuple(spec.get("command") or ()) != LISTENER_COMMAND:
        problems.append(f"{LISTENER}: command {spec.get('command')} != {list(LISTENER_COMMAND)}")
    if (spec.get("environment") or {}) != LISTENER_SETTINGS:
        problems.append(f"{LISTENER}: environment differs from topology.LISTENER_SETTINGS")
    health = " ".join((spec.get("healthcheck") or {}).get("test") or [])
    if f":{LISTENER_HEALTH_PORT}/health" not in health:
        problems.append(f"{LISTENER}: no health check on /health")
    if spec.get("restart") != "always":
        problems.append(f"{LISTENER}: restart is not always")
    return problems


def _environment_drift(name: str, spec: dict[str, Any], extra: set[str] = frozenset()) -> list[str]:
    problems = []
    if "env_file" not in spec or SHARED_ENV not in env_files(spec):
        problems.append(f"{name}: does not read {SHARED_ENV}")
    shared = read_env_file(ENV_FILE)
    environment = spec.get("environment") or {}
    expected = set(HOST_SETTINGS) | set(SECRET_SETTINGS) | extra
    if set(environment) != expected:
        problems.append(
            f"{name}: environment has {sorted(set(environment) - expected)} beyond the host "
            f"settings and secrets, lacks {sorted(expected - set(environment))}"
        )
    overridden = sorted(set(environment) & set(shared))
    if overridden:
        problems.append(f"{name}: environment overrides {SHARED_ENV} for {overridden}")
    for setting, variable in SECRET_SETTINGS.items():
        if variable not in str(environment.get(setting, "")):
            problems.append(f"{name}: {setting} does not come from .env's {variable}")
    return problems


def _missing_references(compose: dict[str, Any], root: Path) -> list[str]:
    problems = []
    for name, service in (compose.get("services") or {}).items():
        build = service.get("build")
        if build is not None:
            context = root / (build if isinstance(build, str) else build.get("context", "."))
            dockerfile = "Dockerfile" if isinstance(build, str) else build.get("dockerfile")
            if not (context / (dockerfile or "Dockerfile")).is_file():
                problems.append(f"{name}: no Dockerfile in {context}")
        for entry in env_files(service) if "env_file" in service else []:
            # .env holds the secrets and is never committed: its example must exist.
            path = root / (".env.example" if entry == ".env" else entry)
            if not path.is_file():
                problems.append(f"{name}: env_file {entry} is missing")
        for volume in service.get("volumes") or []:
            source = volume.split(":")[0]
            if source.startswith((".", "/")) and not (root / source).exists():
                problems.append(f"{name}: mounted {source} does not exist")
    return problems


def test_compose_matches_what_make_smoke_starts():
    assert drift(load_compose()) == []


def test_the_image_has_the_dags_plugins_and_lock_it_is_built_from():
    dockerfile = (PROJECT_ROOT / "Dockerfile").read_text(encoding="utf-8")
    assert "uv sync --frozen" in dockerfile and "_PIP_ADDITIONAL_REQUIREMENTS" not in dockerfile
    for folder in ("dags", "plugins"):
        assert f"/opt/clientpulse/{folder}" in dockerfile
        assert any((PROJECT_ROOT / folder).glob("*.py")), f"{folder}/ has no Python files"


def test_secrets_are_named_in_the_example_and_not_in_the_shared_settings():
    example = read_env_file(SECRETS_EXAMPLE)
    shared = read_env_file(ENV_FILE)
    for setting, variable in SECRET_SETTINGS.items():
        assert variable in example and example[variable] == "", f"{variable} in .env.example"
        assert setting not in shared
    assert "AIRFLOW_ADMIN_PASSWORD" in example
    assert shared["AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS"].split(":")[0] == ADMIN_USER


def test_make_smoke_changes_only_declared_settings_of_the_shared_file():
    shared = read_env_file(ENV_FILE)
    native_only = set(HOST_SETTINGS) | set(SECRET_SETTINGS) | set(NATIVE_PORTS)
    assert not native_only & set(shared), "host settings belong in docker-compose.yml"
    # The smoke's tuning changes timing and scheduling only, never what runs or where.
    topology = {"AIRFLOW__CORE__EXECUTOR", "AIRFLOW__CORE__AUTH_MANAGER"}
    assert set(SMOKE_TUNING).isdisjoint(native_only | topology)


def test_the_smoke_environment_is_the_shared_file_plus_declared_local_values(tmp_path):
    shared = read_env_file(ENV_FILE)
    connections = {"AIRFLOW_CONN_CLIENTPULSE_SLACK": "{}"}
    env, ports = native_environment(NativeHosts(tmp_path), tmp_path / "a.yaml", connections)
    declared = set(HOST_SETTINGS) | set(SECRET_SETTINGS) | set(NATIVE_PORTS) | set(connections)
    assert set(env) == set(shared) | declared | set(SMOKE_TUNING)
    changed = {key for key, value in shared.items() if env[key] != value}
    assert changed <= set(SMOKE_TUNING)
    assert env["AIRFLOW__CORE__EXECUTION_API_SERVER_URL"].endswith(
        f":{ports['AIRFLOW__API__PORT']}/execution/"
    )


def test_the_smoke_starts_the_listener_with_the_compose_services_settings(tmp_path):
    passwords = NativeHosts(tmp_path).passwords_file
    env, port = listener_environment(
        passwords, tmp_path / "a.yaml", "http://127.0.0.1:1", "http://slack/api/"
    )
    # the sandbox's Slack Web API and PATH are all it adds to the service's settings
    assert set(env) == set(LISTENER_SETTINGS) | {"SLACK_API_URL", "PATH"}
    assert env["CLIENTPULSE_LISTENER_HEALTH_PORT"] == str(port)
    assert env["CLIENTPULSE_AIRFLOW_PASSWORDS_FILE"] == str(passwords)
    assert env["SLACK_APP_TOKEN"].startswith("xapp-")


@pytest.fixture
def compose() -> dict[str, Any]:
    return copy.deepcopy(load_compose())


def test_a_removed_service_is_drift(compose, tmp_path):
    del compose["services"]["airflow-triggerer"]
    broken = tmp_path / "docker-compose.yml"
    broken.write_text(yaml.safe_dump(compose), encoding="utf-8")
    problems = drift(load_compose(broken))
    assert problems == ["services: missing ['airflow-triggerer']"]


def test_the_listener_without_its_health_check_or_tokens_is_drift(compose):
    listener = compose["services"][LISTENER]
    del listener["healthcheck"]
    listener["environment"] = {**listener["environment"], "SLACK_BOT_TOKEN": "xoxb-in-the-file"}
    assert drift(compose) == [
        f"{LISTENER}: environment differs from topology.LISTENER_SETTINGS",
        f"{LISTENER}: no health check on /health",
    ]


def test_an_init_writing_only_the_admins_password_is_drift(compose):
    init = compose["services"][INIT_SERVICE]
    script = "\n".join(init["command"])
    assert shlex.join(INIT_PASSWORDS) in script
    init["command"] = [
        line.replace(shlex.join(INIT_PASSWORDS), "echo admin-only >") for line in init["command"]
    ]
    assert drift(compose) == [f"{INIT_SERVICE}: does not write the users' passwords"]


def test_an_extra_service_is_drift(compose):
    compose["services"]["airflow-worker-2"] = compose["services"]["airflow-worker"]
    assert drift(compose) == ["services: not started by make smoke ['airflow-worker-2']"]


def test_a_changed_command_or_setting_is_drift(compose):
    compose["services"]["airflow-worker"]["command"] = ["celery", "worker", "-q", "other"]
    compose["services"]["airflow-scheduler"]["environment"] = {
        **compose["services"]["airflow-scheduler"]["environment"],
        "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
    }
    problems = drift(compose)
    assert any(p.startswith("airflow-worker: command") for p in problems)
    assert any(
        "airflow-scheduler: environment has ['AIRFLOW__CORE__EXECUTOR']" in p for p in problems
    )


def test_a_missing_referenced_file_is_drift(compose, tmp_path):
    (tmp_path / ".env.example").write_text("", encoding="utf-8")
    # no Dockerfile, no deploy/airflow.env, no config/ in tmp_path
    problems = set(_missing_references(compose, tmp_path))
    assert f"airflow-worker: no Dockerfile in {tmp_path}" in problems
    assert "airflow-worker: env_file deploy/airflow.env is missing" in problems
    assert "airflow-worker: mounted ./config does not exist" in problems
    assert not any("env_file .env " in p for p in problems)  # the example stands in for it
