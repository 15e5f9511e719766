"""The monero network's `config.yaml`: the seed's schema, plus what a run needs that the seed leaves out.

The seed (Monerosim V2) fixes ``simulation.duration``, ``network.agents`` (regular users, marketplaces, mining
pools) and ``network.consensus``. A run also needs a seed, how agents map to monerod nodes, the payment amount
range, the acceleration of simulated time and how blocks are scheduled; those are optional keys with
defaults, so the seed's own example file is a valid config as it stands.
"""

from __future__ import annotations

from typing import Annotated, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

ATOMIC_UNITS_PER_XMR = 10**12

MAX_NODES = 256

PoolId = Annotated[str, Field(pattern=r"^[A-Za-z0-9_-]{1,64}$")]


class _Strict(BaseModel):
    # A misspelt key is an error, not a silently ignored default.
    model_config = ConfigDict(extra="forbid", frozen=True)


class RegularUserConfig(_Strict):
    transaction_frequency: float = Field(0.1, ge=0, le=1, description="chance per simulated minute of paying")
    wallet_initial_balance: float = Field(10.0, gt=0, description="XMR each user's wallet is funded with")


class RegularUsers(_Strict):
    count: int = Field(ge=0, le=1000)
    config: RegularUserConfig = RegularUserConfig()


class MarketplaceConfig(_Strict):
    wallet_count: int = Field(10, ge=1, le=1000, description="vendor addresses per marketplace")


class Marketplaces(_Strict):
    count: int = Field(ge=0, le=1000)
    config: MarketplaceConfig = MarketplaceConfig()


class MiningPool(_Strict):
    id: PoolId
    hashrate_share: float = Field(gt=0, description="relative hashrate; shares are normalised to sum to 1")


class Agents(_Strict):
    regular_users: RegularUsers
    marketplaces: Marketplaces
    mining_pools: list[MiningPool] = Field(min_length=1)

    @field_validator("mining_pools")
    @classmethod
    def _distinct_pools(cls, pools: list[MiningPool]) -> list[MiningPool]:
        ids = [pool.id for pool in pools]
        if len(set(ids)) != len(ids):
            raise ValueError(f"mining pool ids must be distinct, got {ids}")
        return pools


class Consensus(_Strict):
    block_time: float = Field(120.0, gt=0, description="target seconds between blocks")
    difficulty: int = Field(1, ge=1, description="monerod --fixed-difficulty")


class Nodes(_Strict):
    """How agents map to monerod processes (the seed gives every agent its own; two cores hold about ten)."""

    count: int | None = Field(None, ge=1, le=MAX_NODES, description="monerod nodes; default: one per pool plus one")
    # round_robin: each pool mines on its own node; users and marketplaces are spread over all nodes in turn.
    # per_agent: the seed's layout, every agent (pool, user, marketplace) on a node of its own.
    placement: Literal["round_robin", "per_agent"] = "round_robin"


class Network(_Strict):
    agents: Agents
    consensus: Consensus = Consensus()
    nodes: Nodes = Nodes()

    @model_validator(mode="after")
    def _a_node_per_pool(self) -> Network:
        pools = len(self.agents.mining_pools)
        if self.nodes.count is not None and self.nodes.count < pools:
            raise ValueError(f"nodes.count is {self.nodes.count} but each of the {pools} mining pools needs a node")
        agents = self.agent_count
        if self.nodes.placement == "per_agent" and self.nodes.count not in (None, agents):
            raise ValueError(
                f"nodes.count is {self.nodes.count} but placement per_agent gives {agents} agents a node each"
            )
        if self.nodes.placement == "per_agent" and agents > MAX_NODES:
            raise ValueError(f"placement per_agent needs {agents} nodes, more than {MAX_NODES}")
        return self

    @property
    def agent_count(self) -> int:
        return len(self.agents.mining_pools) + self.agents.regular_users.count + self.agents.marketplaces.count

    @property
    def node_count(self) -> int:
        if self.nodes.placement == "per_agent":
            return self.agent_count
        return self.nodes.count if self.nodes.count is not None else len(self.agents.mining_pools) + 1


class AmountRange(_Strict):
    min_xmr: float = Field(0.1, gt=0)
    max_xmr: float = Field(2.0, gt=0)

    @model_validator(mode="after")
    def _ordered(self) -> AmountRange:
        if self.min_xmr > self.max_xmr:
            raise ValueError(f"min_xmr {self.min_xmr} is above max_xmr {self.max_xmr}")
        return self


class Simulation(_Strict):
    duration: float = Field(gt=0, description="simulated seconds")
    seed: int = 0
    acceleration: float = Field(0.0, ge=0, description="simulated seconds per real second; 0 = as fast as possible")
    # controller: the seed's block controller picks a pool by weighted choice every block_time.
    # poisson: monerosim's later design, each pool's next block after an exponential wait (mean block_time/share).
    block_mode: Literal["controller", "poisson"] = "controller"
    amount: AmountRange = AmountRange()


class MoneroConfig(_Strict):
    simulation: Simulation
    network: Network

    def pool_shares(self) -> dict[str, float]:
        """Each pool's share of the hashrate, normalised to sum to 1."""
        pools = self.network.agents.mining_pools
        total = sum(pool.hashrate_share for pool in pools)
        return {pool.id: pool.hashrate_share / total for pool in pools}


class ConfigError(ValueError):
    """A config file that cannot be used, said in one line that names the key."""


def _printable(text: str) -> str:
    return text if text.isprintable() else repr(text)


def parse_config(text: str, source: str) -> MoneroConfig:
    """The config in ``text`` (YAML); ``source`` names it in errors."""
    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        where = f", line {mark.line + 1}" if mark is not None else ""
        problem = getattr(err, "problem", None) or "not valid YAML"
        raise ConfigError(f"{source}{where}: {problem}") from None
    if not isinstance(document, dict):
        raise ConfigError(
            f"{source}: expected a mapping with 'simulation' and 'network', got {type(document).__name__}"
        )
    try:
        return MoneroConfig.model_validate(document)
    except ValidationError as err:
        first = err.errors()[0]
        # A key may hold a newline or other control characters: quoted, the error stays one line.
        key = ".".join(_printable(str(part)) for part in first["loc"]) or "(top level)"
        message = first["msg"].removeprefix("Value error, ")
        raise ConfigError(f"{source}: {key}: {message}") from None
