"""A seeded, deterministic simulation of an agency over a year: the sandbox's single source.

`simulate(config)` returns a `World`: the Asana workspace and HubSpot portal (API shapes,
served by the fakes), the shared mailbox as RFC 5322 messages (written as a Takeout
mbox), and the ground truth (who churned, who is at risk) that signals are judged by.
The same config and seed always give the same world; no wall clock is read.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from clientpulse.config import AgencyConfig

from .sim_asana import generate_asana
from .sim_cast import DEMO_OPTIONS, CastOptions, build_cast
from .sim_crm import generate_crm
from .sim_mail import generate_mail

DEMO_AS_OF = datetime(2026, 11, 16, 7, 0, tzinfo=UTC)  # Monday 09:00 in Kyiv
DEMO_SEED = 7
DEMO_MONTHS = 13


@dataclass(frozen=True)
class World:
    as_of: datetime
    seed: int
    asana: dict
    hubspot: dict
    messages: list[bytes]
    ground_truth: dict

    def summary(self) -> dict:
        """Counts per source, for `world_summary.json` and a quick sanity look."""
        return {
            "as_of": self.as_of.isoformat(),
            "seed": self.seed,
            "messages": len(self.messages),
            "asana": {
                key: len(self.asana[key]) for key in ("users", "projects", "sections", "tasks")
            }
            | {"stories": sum(len(s) for s in self.asana["stories"].values())},
            "hubspot": {key: len(value) for key, value in self.hubspot.items()},
            "clients": {fate: len(ids) for fate, ids in self.ground_truth.items()},
        }


def simulate(
    config: AgencyConfig,
    *,
    seed: int = DEMO_SEED,
    as_of: datetime = DEMO_AS_OF,
    months: int = DEMO_MONTHS,
    options: CastOptions = DEMO_OPTIONS,
) -> World:
    """The world of `config` and `seed`; `options` (more churn, other churn stories) are
    for agencies other than the demo's, whose world the defaults keep as it is."""
    if as_of.tzinfo is None:
        raise ValueError("as_of must be timezone-aware")
    cast = build_cast(config, seed, as_of.astimezone(UTC), months, options)
    mail = generate_mail(cast, seed)
    return World(
        as_of=as_of,
        seed=seed,
        asana=generate_asana(cast, seed),
        hubspot=generate_crm(cast, seed, mail.mails),
        messages=mail.messages,
        ground_truth=cast.ground_truth(),
    )
