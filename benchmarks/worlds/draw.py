"""Draws from a numpy generator that are cheap for small Python sequences."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypeVar

import numpy as np

T = TypeVar("T")


def pick(rng: np.random.Generator, items: Sequence[T]) -> T:
    """One item, uniformly (`rng.choice` converts the sequence to an array each call)."""
    return items[int(rng.integers(len(items)))]


def weighted(rng: np.random.Generator, items: Sequence[T], weights: Sequence[float]) -> T:
    """One item with probability proportional to its weight."""
    point = float(rng.random()) * sum(weights)
    for item, weight in zip(items, weights, strict=True):
        point -= weight
        if point < 0:
            return item
    return items[-1]
