"""The simulated agencies the risk backtest replays (benchmarks/bench_risk_backtest.py).

- `demo`: config/demo.yaml with seed 7, the world `make demo` shows; the score's weights
  were tuned on it.
- `seed2`: a second agency the weights were not tuned on: the demo's 36 clients three
  times over (108 clients: the two copies get their own ids, names, domains, Asana
  projects and CRM companies), simulated with seed 2, 15 churned and 8 degraded
  clients, and churners drawn from six churn stories (`sandbox.sim_cast.CHURN_STORIES`)
  where the demo has one. Generated here, deterministically, rather than written out.
- `seed3`: the same agency simulated with seed 3: a holdout kept back while seed2's
  misses were studied (the key_contact_left factor came from them), so one agency's
  figures still come from a world nobody looked at before the score was set.
- `indie1` … `indie4`: worlds of the independent simulator (benchmarks/worlds/, seeds
  1–4; docs/independent_worlds.md), written apart from the sandbox's and the score.

`write_config` writes an agency's config into the folder its backtest runs in, with the
warehouse and the mailbox under that folder.
"""

from __future__ import annotations

import copy
import functools
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from benchmarks import worlds
from clientpulse.config import DEMO_CONFIG, PROJECT_ROOT
from sandbox.sim_cast import CHURN_STORIES, DEMO_OPTIONS, CastOptions
from sandbox.simulator import World

SEED2_COPIES = 3
SEED2_SEED = 2
SEED3_SEED = 3
SEED2_OPTIONS = CastOptions(churned=15, at_risk=8, churn_stories=tuple(CHURN_STORIES))
INDIE_SEEDS = (1, 2, 3, 4)
WORLDS_CACHE = PROJECT_ROOT / "out" / "bench" / "worlds"


@dataclass(frozen=True)
class Agency:
    name: str
    seed: int
    config: dict[str, Any]  # the raw YAML mapping, paths not yet pointed anywhere
    options: CastOptions
    world: Callable[[], World] | None = None  # made elsewhere than sandbox.simulator


def _demo_raw() -> dict[str, Any]:
    return yaml.safe_load(DEMO_CONFIG.read_text(encoding="utf-8"))


def demo() -> Agency:
    return Agency("demo", 7, _demo_raw(), DEMO_OPTIONS)


def replicate_clients(clients: list[dict[str, Any]], copies: int) -> list[dict[str, Any]]:
    """The clients, then `copies - 1` more copies of each: copy n (n ≥ 2) has `-n` on its
    id, ` n` on its name, `-n` on each email domain's first label, its own Asana project
    and CRM company numbers, and its freemail contacts as `first.lastn@provider`."""
    projects = sorted(int(gid) for c in clients for gid in c.get("asana_projects", []))
    companies = sorted(int(c["crm_company_id"]) for c in clients if c.get("crm_company_id"))
    project_step = projects[-1] - projects[0] + 1 if projects else 0
    company_step = companies[-1] - companies[0] + 1 if companies else 0
    out = [copy.deepcopy(c) for c in clients]
    for n in range(2, copies + 1):
        for client in clients:
            twin = copy.deepcopy(client)
            own = {d: _domain(d, n) for d in client.get("email_domains", [])}
            twin["id"] = f"{client['id']}-{n}"
            twin["name"] = f"{client['name']} {n}"
            twin["email_domains"] = list(own.values())
            twin["asana_projects"] = [
                str(int(gid) + (n - 1) * project_step) for gid in client.get("asana_projects", [])
            ]
            if client.get("crm_company_id"):
                twin["crm_company_id"] = str(int(client["crm_company_id"]) + (n - 1) * company_step)
            twin["contact_addresses"] = [
                _address(a, own, n) for a in client.get("contact_addresses", [])
            ]
            twin["report_recipients"] = [
                _address(a, own, n) for a in client.get("report_recipients", [])
            ]
            if not twin["contact_addresses"]:
                del twin["contact_addresses"]
            out.append(twin)
    return out


def _domain(domain: str, n: int) -> str:
    label, _, rest = domain.partition(".")
    return f"{label}-{n}.{rest}"


def _address(address: str, own: dict[str, str], n: int) -> str:
    local, _, domain = address.partition("@")
    if domain in own:
        return f"{local}@{own[domain]}"
    return f"{local}{n}@{domain}"  # a freemail address: the provider stays


def _replicated(name: str, seed: int) -> Agency:
    raw = _demo_raw()
    raw["agency"]["name"] = f"Northwind Creative (seed {seed}, ×{SEED2_COPIES} clients)"
    raw["clients"] = replicate_clients(raw["clients"], SEED2_COPIES)
    return Agency(name, seed, raw, SEED2_OPTIONS)


def seed2() -> Agency:
    return _replicated("seed2", SEED2_SEED)


def seed3() -> Agency:
    return _replicated("seed3", SEED3_SEED)


def indie(seed: int) -> Agency:
    """The independent simulator's world of `seed` (generated once, then cached)."""
    config, world = worlds.cached(seed, WORLDS_CACHE)
    return Agency(f"indie{seed}", seed, config, DEMO_OPTIONS, world=lambda: world)


AGENCIES = {"demo": demo, "seed2": seed2, "seed3": seed3} | {
    f"indie{seed}": functools.partial(indie, seed) for seed in INDIE_SEEDS
}


def write_config(agency: Agency, folder: Path) -> Path:
    """The agency's config as `folder/agency.yaml`, its warehouse and mbox under `folder`."""
    raw = copy.deepcopy(agency.config)
    raw["warehouse"] = {
        "path": "warehouse/clientpulse.duckdb",
        "snapshot_path": "warehouse/clientpulse_snapshot.duckdb",
    }
    # the shared inbox as a Takeout mbox: the world's mail without the demo's mail fakes
    mbox = raw["sources"]["mailboxes"].get("mbox") or []
    team = mbox[0]["mailbox"] if mbox else f"team@{raw['agency']['internal_domains'][0]}"
    path = "sandbox/mail/shared-inbox.mbox"
    raw["sources"]["mailboxes"] = {"mbox": [{"path": path, "mailbox": team}]}
    raw["delivery"]["dry_run"] = True
    raw["delivery"]["dry_run_dir"] = "dry_run"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "agency.yaml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path
