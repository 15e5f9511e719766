"""Agent populations: the traits and public identities a new wallet pool starts with."""

from __future__ import annotations

import random

from models.otto import FIBER_TYPES, AgentTraits

PLATFORMS = ("twitter", "discord", "telegram", "github")


def random_traits(rng: random.Random) -> AgentTraits:
    raw = [rng.random() + 0.05 for _ in FIBER_TYPES]
    total = sum(raw)
    return AgentTraits(
        fiber_weights={name: weight / total for name, weight in zip(FIBER_TYPES, raw, strict=True)},
        activity_level=rng.random(),
        risk_tolerance=rng.random(),
        cooperativeness=rng.random(),
        response_speed=rng.random(),
    )


def agent_id(index: int) -> str:
    return f"agent_{index:03d}"


def public_profile(index: int, rng: random.Random) -> dict[str, object]:
    """Everything about agent ``index`` except its keys: platform identity and traits."""
    platform = rng.choice(PLATFORMS)
    handle = f"sim_{agent_id(index)}_{rng.randrange(16**6):06x}"
    return {
        "platform": platform,
        "platform_user_id": handle,
        "display_name": f"Agent {index:03d}",
        "traits": random_traits(rng),
    }
