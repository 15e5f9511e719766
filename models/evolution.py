"""What crosses the evolution's boundaries: measured performance, fitness, and a generation's selection."""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

from models.otto import AgentTraits


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True)


class Performance(_Frozen):
    """One agent's generation, as measured: outcomes from recorded lifecycles, the rest read from the chain."""

    agent_id: str
    completed: int = Field(ge=0, description="lifecycles it took part in that reached a success terminal")
    settled: int = Field(ge=0, description="lifecycles it took part in that ended at all (success, failure, timeout)")
    reputation: int = Field(description="the reputation on its AgentIdentity fiber")
    earnings: int = Field(description="net change of its balance over the generation, in 1e-8 units")
    counterparties: int = Field(ge=0, description="distinct agents it shared a lifecycle with")
    fiber_types: int = Field(ge=0, description="distinct fiber types it took part in")


class Fitness(_Frozen):
    """Each term normalised to [0, 1], and their weighted sum."""

    agent_id: str
    completion: float
    reputation: float
    earnings: float
    network: float
    diversity: float
    total: float


class Role(StrEnum):
    """What selection did with an agent's place in the population."""

    ELITE = "elite"  # top 20%: kept as it is, and a parent of this generation's offspring
    SURVIVOR = "survivor"  # middle 60%: kept as it is
    OFFSPRING = "offspring"  # bottom 20% less the worst 5%: takes a mutated child of two elites
    REPLACED = "replaced"  # worst 5%: retired, its place goes to a new random agent


class Placement(_Frozen):
    agent_id: str
    rank: int
    role: Role
    traits: AgentTraits = Field(description="the traits it carries into the next generation")
    parents: tuple[str, str] | None = None


class Selection(_Frozen):
    """The next generation: every current agent's placement, and the traits the newcomers start with."""

    placements: list[Placement]
    newcomers: list[AgentTraits]
    mutation_rate: float
    diversity: float = Field(description="mean standard deviation of the traits before selection")
