"""The session's genesis snapshot: pre-mined once, and nodes and the bank start from copies of it."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest

from activities.monero.nodes import NodeActivities
from activities.monero.rpc import DaemonClient, WalletClient
from localnet.monero import processes
from localnet.ports import free_port
from models.monero_run import GenesisRequest, NodePlan, NodeStart, StopRequest, WalletPlan, WalletStart

pytestmark = pytest.mark.monerod


async def test_a_node_and_the_bank_start_from_copies_of_the_snapshot(
    genesis_snapshot: Path, monero_http: httpx.AsyncClient, tmp_path: Path
):
    manifest = json.loads((genesis_snapshot / "genesis.json").read_text())
    assert manifest["height"] == 101
    activities = NodeActivities(tmp_path, monero_http)
    genesis = await activities.prepare_genesis(GenesisRequest(run_dir=str(tmp_path), source=str(genesis_snapshot)))
    assert genesis.height == 101
    node = NodePlan(
        name="node_0",
        rpc_port=free_port(),
        p2p_port=free_port(),
        data_dir=str(tmp_path / "nodes" / "node_0"),
    )
    bank = WalletPlan(name="bank", role="bank", node="node_0", rpc_port=free_port())
    try:
        start = NodeStart(run_dir=str(tmp_path), node=node, peers=(), genesis_dir=genesis.dir, difficulty=1)
        started = await activities.start_node(start)
        assert not started.reused
        assert (await DaemonClient(monero_http, node.url).height()).height == 101
        # A second start finds the recorded process running and starts nothing.
        assert (await activities.start_node(start)).pid == started.pid
        wallet = await activities.start_wallet(
            WalletStart(run_dir=str(tmp_path), wallet=bank, daemon=node.rpc, genesis_dir=genesis.dir)
        )
        assert wallet.address == manifest["bank_address"] == genesis.bank_address
        client = WalletClient(monero_http, bank.url)
        await client.refresh()
        balance = await client.balance()
        assert balance.unlocked_balance > 0 and balance.balance > balance.unlocked_balance
    finally:
        stopped = await activities.stop_processes(StopRequest(run_dir=str(tmp_path), names=("bank", "node_0")))
    assert stopped == ["bank", "node_0"]
    assert processes.recorded_all(tmp_path) == {}
