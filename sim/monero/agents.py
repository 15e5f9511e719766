"""Who is who in a run, and which monerod node each agent uses (pure: names and placement only).

Agents are named as in the seed's Shadow configuration: ``user_<i>``, ``marketplace_<i>``, pools by their id.
Nodes are ``node_<i>``. Pool i (in config order) mines on node i; users, then marketplaces, are spread over all
nodes in turn (round_robin) or get the nodes after the pools' one each (per_agent, the seed's layout); the bank
(the pre-mined wallet that funds the users) sits on node 0.
"""

from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass

from models.monero import ATOMIC_UNITS_PER_XMR, MoneroConfig

BANK = "bank"


def users(config: MoneroConfig) -> list[str]:
    return [f"user_{i}" for i in range(config.network.agents.regular_users.count)]


def marketplaces(config: MoneroConfig) -> list[str]:
    return [f"marketplace_{i}" for i in range(config.network.agents.marketplaces.count)]


def pools(config: MoneroConfig) -> list[str]:
    return [pool.id for pool in config.network.agents.mining_pools]


def node_name(index: int) -> str:
    return f"node_{index}"


@dataclass(frozen=True)
class Placement:
    nodes: tuple[str, ...]
    pool_node: dict[str, str]
    wallet_node: dict[str, str]


def place(config: MoneroConfig) -> Placement:
    count = config.network.node_count
    nodes = tuple(node_name(i) for i in range(count))
    pool_node = {pool: nodes[i] for i, pool in enumerate(pools(config))}
    wallet_node = {BANK: nodes[0]}
    # per_agent: the nodes after the pools' are the users' and marketplaces', one each (count covers them all).
    first = len(pool_node) if config.network.nodes.placement == "per_agent" else 0
    for i, agent in enumerate([*users(config), *marketplaces(config)]):
        wallet_node[agent] = nodes[(first + i) % count]
    return Placement(nodes=nodes, pool_node=pool_node, wallet_node=wallet_node)


def stream(seed: int, *parts: object) -> random.Random:
    """An independent random stream named by the seed and a purpose (str seeds hash with SHA-512: stable)."""
    return random.Random("/".join([str(seed), *map(str, parts)]))


@dataclass(frozen=True)
class Decision:
    user: str
    marketplace: str
    vendor_index: int  # 1-based: subaddress index in the marketplace's wallet
    address: str
    amount: int  # atomic units


def decide_payment(
    config: MoneroConfig, user: str, minute: int, vendors: dict[str, tuple[str, ...]]
) -> Decision | None:
    """Does ``user`` pay in simulated minute ``minute``, whom, and how much (its own stream per user and minute)."""
    rng = stream(config.simulation.seed, "pay", user, minute)
    if rng.random() >= config.network.agents.regular_users.config.transaction_frequency:
        return None
    directory = [(market, index) for market in sorted(vendors) for index in range(1, len(vendors[market]) + 1)]
    if not directory:
        return None
    market, index = directory[rng.randrange(len(directory))]
    amount = config.simulation.amount
    low = round(amount.min_xmr * ATOMIC_UNITS_PER_XMR)
    high = round(amount.max_xmr * ATOMIC_UNITS_PER_XMR)
    return Decision(
        user=user,
        marketplace=market,
        vendor_index=index,
        address=vendors[market][index - 1],
        amount=rng.randint(low, high),
    )


def payment_window(next_minute: int, duration: float, next_block_time: float | None) -> range:
    """The simulated minutes from ``next_minute`` that pay before the next block (at ``next_block_time``; None:
    no block is due before the end), within ``duration``. A block due at a minute's own time comes first."""
    last = next_minute
    while (last + 1) * 60 < duration and (next_block_time is None or (last + 1) * 60 < next_block_time):
        last += 1
    return range(next_minute, last + 1)


def funding_amounts(config: MoneroConfig, outputs: int) -> list[int]:
    """``wallet_initial_balance`` split into ``outputs`` outputs (the last takes the remainder)."""
    total = round(config.network.agents.regular_users.config.wallet_initial_balance * ATOMIC_UNITS_PER_XMR)
    part = total // outputs
    return [part] * (outputs - 1) + [total - part * (outputs - 1)]


def pool_digest(previous: str, pool: str) -> str:
    return hashlib.sha256(f"{previous}/{pool}".encode()).hexdigest()
