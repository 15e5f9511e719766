"""A monero network on real monerod: 3 pools, 4 users, 2 marketplaces, 30 blocks."""

from __future__ import annotations

import json

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine
from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.worker import Replayer

from localnet.monero import processes
from store import ledger
from store import monero as monero_store
from store.tables import MoneroBlockRow, MoneroTransactionRow
from tests.monero.configs import small_config
from workers.registry import MONERO_WORKFLOWS

pytestmark = pytest.mark.monerod


async def test_a_thirty_block_run_mines_every_payment_and_the_marketplaces_reconcile(
    monero_network, monero_engine: AsyncEngine, client: Client
):
    run = await monero_network(small_config(blocks=30), rounds_per_run=12)
    summary = run.summary
    assert summary.rounds == 30
    assert sum(summary.blocks_by_pool.values()) == 30
    assert summary.payments_sent > 0
    assert summary.unmined == ()
    assert summary.payments_mined == summary.payments_sent
    assert summary.reconciled, summary.reconciliations
    transactions = await monero_store.rows(monero_engine, MoneroTransactionRow, summary.run_id)
    payments = [t for t in transactions if t["kind"] == "payment" and t["status"] != "skipped"]
    assert len(payments) == summary.payments_sent
    assert all(t["status"] == "mined" and t["confirmations"] >= 1 for t in payments)
    # Every atomic unit the users sent is what the vendors received.
    sent = sum(t["amount"] for t in payments)
    received = sum(v.received for r in summary.reconciliations for v in r.vendors)
    assert received == sent
    blocks = await monero_store.rows(monero_engine, MoneroBlockRow, summary.run_id)
    run_blocks = [b for b in blocks if b["phase"] == "run"]
    assert len(run_blocks) == 30
    mined_txs = {tx for b in blocks for tx in json.loads(b["tx_hashes_json"])}
    assert {t["tx_hash"] for t in payments} <= mined_txs
    verdict = await ledger.verify_stored_chain(monero_engine, f"monero/{summary.run_id}")
    assert verdict.ok and verdict.length == len(blocks)
    # Every process the run started is stopped.
    assert processes.recorded_all(run.state_dir / "monero" / summary.run_id) == {}
    # The run's last segment, a round and a payment replay with the current code.
    replayer = Replayer(workflows=MONERO_WORKFLOWS, data_converter=pydantic_data_converter)
    first_payment = next(t["payment_id"] for t in payments)
    for workflow_id in (summary.run_id, f"{summary.run_id}/block/run-1", first_payment):
        history = await client.get_workflow_handle(workflow_id).fetch_history()
        await replayer.replay_workflow(history)
