"""`generate(seed, out_dir)`: an independent world written out in the formats the
pipeline reads, and returned as a `sandbox.simulator.World` for the backtest's ingest.

Files under `out_dir`: `agency.yaml` (the config; demo.yaml's SLA policies and signals,
this world's agency, managers and clients), `asana.json` and `hubspot.json` (what the
fakes serve), `mail/shared-inbox.mbox` (a Takeout mbox) and `ground_truth.json` (who
left when, after which story, the look-alikes and the managers' holidays).
"""

from __future__ import annotations

import copy
import functools
import hashlib
import json
import pickle
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from clientpulse.config import DEMO_CONFIG
from sandbox.mbox_writer import write_mbox
from sandbox.simulator import World

from .asana import generate_asana
from .cast import AS_OF, CLIENTS, WORKSPACE_GID, Agency, build_agency
from .crm import generate_crm
from .mail import generate_mail
from .render import render

MBOX = "mail/shared-inbox.mbox"
HERE = Path(__file__).parent


def agency_config(agency: Agency) -> dict[str, Any]:
    """The agency's config mapping: demo.yaml's shape, this world's people."""
    raw = copy.deepcopy(yaml.safe_load(DEMO_CONFIG.read_text(encoding="utf-8")))
    raw["agency"] |= {
        "name": agency.name,
        "timezone": agency.timezone,
        "holiday_country": agency.country,
        "internal_domains": [agency.domain],
        "days_off": sorted(agency.calendar.days_off),
    }
    raw["sources"]["asana"]["workspace_gid"] = WORKSPACE_GID
    raw["sources"]["mailboxes"] = {"mbox": [{"path": MBOX, "mailbox": agency.team.email}]}
    raw["warehouse"] = {
        "path": "warehouse/clientpulse.duckdb",
        "snapshot_path": "warehouse/snapshot.duckdb",
    }
    raw["delivery"] |= {"dry_run": True, "dry_run_dir": "dry_run"}
    raw["delivery"]["email"]["from_address"] = f"{agency.name} <reports@{agency.domain}>"
    raw["account_managers"] = [
        {"id": m.id, "name": m.person.name, "email": m.person.email, "language": m.language}
        for m in agency.managers
    ]
    raw["clients"] = [
        {
            "id": c.id,
            "name": c.name,
            "language": c.language,
            "tier": c.tier,
            "account_manager": c.manager,
            "email_domains": [c.domain],
            **({"contact_addresses": c.freemail} if c.freemail else {}),
            "asana_projects": c.projects,
            "crm_company_id": c.company_id,
            "report_recipients": [c.contacts[0].person.email],
            "contact_cadence_days": 7 if c.rate >= 1 else 14,
            "timezone": c.timezone,
            "holiday_country": c.calendar.country,
        }
        for c in agency.clients
    ]
    return raw


def ground_truth(agency: Agency) -> dict[str, Any]:
    churned = {c.id: c.fate.left.isoformat() for c in agency.clients if c.fate.story}
    return {
        "churned": churned,
        "at_risk": [],
        "healthy": sorted(c.id for c in agency.clients if c.id not in churned),
        "stories": {c.id: c.fate.story for c in agency.clients if c.fate.story},
        "decline_start": {c.id: c.fate.decline.isoformat() for c in agency.clients if c.fate.story},
        "lookalikes": {
            c.fate.lookalike: {
                "client": c.id,
                "from": c.fate.decline.isoformat(),
                "to": c.fate.episode_end.isoformat(),
            }
            for c in agency.clients
            if c.fate.lookalike
        },
        "manager_holidays": {
            m.id: [[a.isoformat(), b.isoformat()] for a, b in m.holidays] for m in agency.managers
        },
    }


def simulate(seed: int, clients: int = CLIENTS) -> tuple[dict[str, Any], World]:
    """The config mapping and the world of `seed` (with `clients` clients), in memory."""
    agency = build_agency(seed, clients)
    mails = generate_mail(agency, np.random.default_rng([22, seed, 1]))
    world = World(
        as_of=AS_OF,
        seed=seed,
        asana=generate_asana(agency, np.random.default_rng([22, seed, 2])),
        hubspot=generate_crm(agency, np.random.default_rng([22, seed, 3])),
        messages=[render(m) for m in mails],
        ground_truth=ground_truth(agency),
    )
    return agency_config(agency), world


def generate(seed: int, out_dir: Path, clients: int = CLIENTS) -> World:
    """Write the world of `seed` under `out_dir` and return it."""
    raw, world = simulate(seed, clients)
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "agency.yaml").write_text(
        yaml.safe_dump(raw, allow_unicode=True, sort_keys=False), encoding="utf-8"
    )
    for name, part in (
        ("asana", world.asana),
        ("hubspot", world.hubspot),
        ("ground_truth", world.ground_truth),
    ):
        (out_dir / f"{name}.json").write_text(
            json.dumps(part, ensure_ascii=False, indent=1) + "\n", encoding="utf-8"
        )
    write_mbox(world.messages, out_dir / MBOX)
    return world


@functools.cache
def code_digest() -> str:
    """The generator's own code: a cached world is reused only while it is unchanged."""
    digest = hashlib.sha256()
    for path in sorted(HERE.glob("*.py")):
        digest.update(path.name.encode() + path.read_bytes())
    return digest.hexdigest()[:16]


def cached(seed: int, cache_dir: Path) -> tuple[dict[str, Any], World]:
    """`simulate(seed)`, kept under `cache_dir` between runs."""
    path = cache_dir / f"indie{seed}-{code_digest()}.pickle"
    if path.exists():
        return pickle.loads(path.read_bytes())  # noqa: S301 - our own cache file
    result = simulate(seed)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".partial")
    partial.write_bytes(pickle.dumps(result))
    partial.rename(path)
    return result
