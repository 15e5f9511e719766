"""Small run configurations for the monero tests (2 cores: 3 nodes at most)."""

from __future__ import annotations

from collections.abc import Sequence

from models.monero import MoneroConfig, parse_config


def small_config(
    *,
    blocks: int = 30,
    users: int = 4,
    marketplaces: int = 2,
    pools: Sequence[tuple[str, float]] = (("pool_alpha", 0.5), ("pool_beta", 0.3), ("pool_gamma", 0.2)),
    frequency: float = 0.1,
    seed: int = 7,
    vendors: int = 3,
    mode: str = "controller",
) -> MoneroConfig:
    block_time = 120
    pool_lines = "\n".join(f"      - {{id: {pool}, hashrate_share: {share}}}" for pool, share in pools)
    amount = "{min_xmr: 0.1, max_xmr: 1.5}"
    return parse_config(
        f"""
simulation: {{duration: {blocks * block_time}, seed: {seed}, block_mode: {mode}, amount: {amount}}}
network:
  agents:
    regular_users: {{count: {users}, config: {{transaction_frequency: {frequency}, wallet_initial_balance: 10.0}}}}
    marketplaces: {{count: {marketplaces}, config: {{wallet_count: {vendors}}}}}
    mining_pools:
{pool_lines}
  consensus: {{block_time: {block_time}, difficulty: 1}}
  nodes: {{count: {len(pools)}}}
""",
        "test config",
    )
