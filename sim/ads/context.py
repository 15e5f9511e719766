"""Context rot: agents forget memory items day by day and sometimes restart with nothing.

The seed's plan computed survival as (1 - rate) ** day and applied it *every* day, so memory
compounded to ~0.05% by day 30 instead of the ~55% its comment promised. Here each item survives
each day independently with a constant probability, so after d days P(alive) = survival ** d
(0.98 ** 30 ~= 0.545).
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from typing import TypeVar

T = TypeVar("T")


def decay(memory: Mapping[str, T], rng: random.Random, survival: float) -> tuple[dict[str, T], list[str]]:
    """One day of rot: (the items kept, the keys lost), both in the memory's own order.

    Exactly one draw per item, whatever the outcome, so a run's random stream depends only on
    how many items were remembered.
    """
    kept: dict[str, T] = {}
    lost: list[str] = []
    for key, value in memory.items():
        if rng.random() < survival:
            kept[key] = value
        else:
            lost.append(key)
    return kept, lost


def restart_hazard(days_since_restart: int, base: float, growth: float) -> float:
    """Today's chance that an agent restarts, ``days_since_restart`` days after its last restart (or its start).

    The seed's ContextRotSimulator says the probability "increases over time (simulating memory pressure)"
    but returns a constant 0.5% a day; here it rises by ``growth`` per day since the last restart, so a
    restart relieves the pressure, and ``growth`` = 0 is the seed's constant ``base``. Capped at 1.
    """
    if days_since_restart < 0:
        raise ValueError(f"days since the last restart cannot be negative, got {days_since_restart}")
    return min(1.0, base + growth * days_since_restart)


def restarted(rng: random.Random, probability: float) -> bool:
    """Whether the agent restarts today (its whole memory is wiped). One draw, always."""
    return rng.random() < probability


def expected_survival(days: int, survival: float) -> float:
    """Probability that an item remembered on day 0 is still remembered after ``days`` days."""
    return survival**days
