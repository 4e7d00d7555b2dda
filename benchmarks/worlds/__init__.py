"""Agencies simulated independently of sandbox/sim_*.py and of the risk score, from a
written brief of how agencies and clients behave (docs/independent_worlds.md).

`generate(seed, out_dir)` writes one world; `cached(seed, dir)` keeps it between runs.
"""

from .generator import cached, generate, simulate

__all__ = ["cached", "generate", "simulate"]
