"""A payment is built on the chain it was decided at: monero.build_transfer waits until the wallet's own node has
``at_height`` blocks (the other nodes may not have the block yet), and says so in one line if it never does."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import httpx
import pytest
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment

from activities.monero.genesis import wait_until
from activities.monero.nodes import NodeActivities
from activities.monero.rpc import DaemonClient, WalletClient
from activities.monero.wallets import WalletActivities, until_height
from localnet.ports import free_port
from models.monero_run import (
    BuildTransfer,
    Destination,
    GenesisRequest,
    NodePlan,
    NodeStart,
    StopRequest,
    WalletPlan,
    WalletStart,
)

pytestmark = pytest.mark.monerod


async def test_a_build_waits_for_its_node_to_have_the_block_it_was_decided_at(
    genesis_snapshot: Path, monero_http: httpx.AsyncClient, tmp_path: Path
):
    manifest = json.loads((genesis_snapshot / "genesis.json").read_text())
    nodes = NodeActivities(tmp_path, monero_http)
    genesis = await nodes.prepare_genesis(GenesisRequest(run_dir=str(tmp_path), source=str(genesis_snapshot)))
    wallet_node, miner = (
        NodePlan(
            name=name,
            rpc_port=free_port(),
            p2p_port=free_port(),
            data_dir=str(tmp_path / "nodes" / name),
        )
        for name in ("node_0", "node_1")
    )
    bank = WalletPlan(name="bank", role="bank", node="node_0", rpc_port=free_port())
    daemon = DaemonClient(monero_http, wallet_node.url)
    try:
        for node, peer in ((wallet_node, miner), (miner, wallet_node)):
            await nodes.start_node(
                NodeStart(
                    run_dir=str(tmp_path),
                    node=node,
                    peers=(f"127.0.0.1:{peer.p2p_port}",),
                    genesis_dir=genesis.dir,
                    difficulty=1,
                )
            )
        await nodes.start_wallet(
            WalletStart(run_dir=str(tmp_path), wallet=bank, daemon=wallet_node.rpc, genesis_dir=genesis.dir)
        )
        request = BuildTransfer(
            payment_id="at-height/pay/bank/0",
            wallet_url=bank.url,
            destinations=(Destination(address=manifest["bank_address"], amount=10**9),),
            daemon_url=wallet_node.url,
            at_height=genesis.height + 1,
        )
        build = asyncio.create_task(ActivityEnvironment().run(WalletActivities(monero_http).build_transfer, request))
        await asyncio.sleep(1.5)
        assert not build.done(), "built before its node had the block"
        # Mined on the other node (it answers BUSY until it counts itself synchronised with its peer).
        await wait_until(
            lambda: DaemonClient(monero_http, miner.url).generate_blocks(1, manifest["bank_address"]), timeout=60
        )
        built = await asyncio.wait_for(build, 60)
        assert built.status == "built" and built.tx_hash
        # The wallet refreshed after the block: it built on the chain of at_height blocks.
        assert (await WalletClient(monero_http, bank.url).call("get_height"))["height"] == genesis.height + 1

        with pytest.raises(ApplicationError) as raised:
            await ActivityEnvironment().run(until_height, daemon, genesis.height + 5, timeout=0.5)
        assert raised.value.type == "NotAtHeight"
        assert f"has not reached {genesis.height + 5} blocks" in raised.value.message
    finally:
        await nodes.stop_processes(StopRequest(run_dir=str(tmp_path), names=("bank", "node_0", "node_1")))
