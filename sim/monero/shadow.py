"""The seed's "Generated Shadow Configuration": the same scenario for users who run it under Shadow.

One host per agent (users, marketplaces, pools) plus the block controller, each running its Python agent as
the seed lays it out (``/usr/bin/python3 /simulation/agents/<role>.py --id <host> --config /configs/<host>.json``),
a one-node network graph, ``general.stop_time`` from the simulated duration, and a JSON config per agent with
the ports and parameters its agent needs. Under Shadow every host has its own address, so every agent uses
the same ports.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from models.monero import MoneroConfig

PYTHON = "/usr/bin/python3"
AGENTS_DIR = "/simulation/agents"
CONFIGS_DIR = "/configs"
P2P_PORT, RPC_PORT, WALLET_RPC_PORT = 18080, 18081, 18083

# One switch with a LAN's latency: Shadow needs a graph, and the seed's hosts all sit on node 0.
GRAPH = """graph [
  directed 0
  node [ id 0 host_bandwidth_down "1 Gbit" host_bandwidth_up "1 Gbit" ]
  edge [ source 0 target 0 latency "50 ms" packet_loss 0.0 ]
]
"""


@dataclass(frozen=True)
class ShadowExport:
    shadow: dict[str, Any]
    agent_configs: dict[str, dict[str, Any]]


def _host(role: str, host: str, *, with_id: bool = True) -> dict[str, Any]:
    identity = f" --id {host}" if with_id else ""
    return {
        "network_node_id": 0,
        "processes": [
            {
                "path": PYTHON,
                "args": f"{AGENTS_DIR}/{role}.py{identity} --config {CONFIGS_DIR}/{host}.json",
                "start_time": "0s",
            }
        ],
    }


def _node(difficulty: int) -> dict[str, Any]:
    return {"p2p_port": P2P_PORT, "rpc_port": RPC_PORT, "difficulty": difficulty}


def shadow_config(config: MoneroConfig) -> ShadowExport:
    agents, consensus = config.network.agents, config.network.consensus
    hosts: dict[str, Any] = {}
    configs: dict[str, dict[str, Any]] = {}
    marketplaces = [f"marketplace_{index}" for index in range(agents.marketplaces.count)]
    for index in range(agents.regular_users.count):
        host = f"user_{index}"
        hosts[host] = _host("regular_user", host)
        configs[host] = {
            "agent_id": host,
            "node": _node(consensus.difficulty),
            "wallet": {"rpc_port": WALLET_RPC_PORT, "daemon_address": f"127.0.0.1:{RPC_PORT}"},
            "transaction_frequency": agents.regular_users.config.transaction_frequency,
            "wallet_initial_balance": agents.regular_users.config.wallet_initial_balance,
            "amount": config.simulation.amount.model_dump(),
            "marketplaces": marketplaces,
        }
    for host in marketplaces:
        hosts[host] = _host("marketplace", host)
        configs[host] = {
            "agent_id": host,
            "node": _node(consensus.difficulty),
            "wallet": {"rpc_port": WALLET_RPC_PORT, "daemon_address": f"127.0.0.1:{RPC_PORT}"},
            "wallet_count": agents.marketplaces.config.wallet_count,
        }
    for pool in agents.mining_pools:
        hosts[pool.id] = _host("mining_pool", pool.id)
        configs[pool.id] = {
            "pool_id": pool.id,
            "hashrate_share": pool.hashrate_share,
            "node": {**_node(consensus.difficulty), "mining": True},
        }
    hosts["block_controller"] = _host("block_controller", "block_controller", with_id=False)
    configs["block_controller"] = {
        "block_time": consensus.block_time,
        "block_mode": config.simulation.block_mode,
        "seed": config.simulation.seed,
        "pools": {pool.id: pool.hashrate_share for pool in agents.mining_pools},
    }
    shadow = {
        "general": {"stop_time": f"{config.simulation.duration:g}s", "seed": config.simulation.seed},
        "network": {"graph": {"type": "gml", "inline": GRAPH}},
        "hosts": hosts,
    }
    return ShadowExport(shadow=shadow, agent_configs=configs)
