"""A transfer whose reply is lost is not repeated: every build and every relay succeeds, then its reply is lost
once, and the retries pay nothing twice (funding and payments alike)."""

from __future__ import annotations

from typing import ClassVar

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine
from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.monero.wallets import WalletActivities
from models.monero import ATOMIC_UNITS_PER_XMR
from models.monero_run import BuildTransfer, Built, Relayed, RelayTransfer
from store import monero as monero_store
from store.tables import MoneroBalanceRow, MoneroTransactionRow
from tests.monero.configs import small_config

pytestmark = pytest.mark.monerod


class LosingReplies(WalletActivities):
    """The RPC succeeds, then the activity fails as if its reply never arrived; the retry runs for real."""

    built_lost: ClassVar[set[str]] = set()
    relay_lost: ClassVar[set[str]] = set()
    relays: ClassVar[list[Relayed]] = []

    @activity.defn(name="monero.build_transfer")
    async def build_transfer(self, request: BuildTransfer) -> Built:
        built = await super().build_transfer(request)
        if built.status == "built" and request.payment_id not in self.built_lost:
            self.built_lost.add(request.payment_id)
            raise ApplicationError(f"reply of build {built.tx_hash[:12]} lost", type="Unavailable")
        return built

    @activity.defn(name="monero.relay_transfer")
    async def relay_transfer(self, request: RelayTransfer) -> Relayed:
        relayed = await super().relay_transfer(request)
        self.relays.append(relayed)
        if request.payment_id not in self.relay_lost:
            self.relay_lost.add(request.payment_id)
            raise ApplicationError(f"reply of relay {relayed.tx_hash[:12]} lost", type="Unavailable")
        return relayed


async def test_a_transfer_whose_reply_is_lost_is_not_repeated(monero_network, monero_engine: AsyncEngine):
    config = small_config(
        blocks=6,
        users=2,
        marketplaces=1,
        pools=(("pool_a", 0.6), ("pool_b", 0.4)),
        frequency=0.5,
        vendors=2,
        mode="poisson",
    )
    run = await monero_network(config, wallets=LosingReplies)
    summary = run.summary
    assert summary.payments_sent >= 2
    # Poisson mode: the blocks came after each round's drawn wait, from the pools' own draws.
    assert summary.rounds == sum(summary.blocks_by_pool.values()) >= 1
    assert summary.final_height == 101 + 11 + summary.rounds + summary.settle_blocks
    # Every payment and funding transaction had both replies lost once; each was relayed exactly once.
    sent = await monero_store.rows(monero_engine, MoneroTransactionRow, summary.run_id)
    relayed = [row for row in sent if row["status"] != "skipped"]
    assert {row["payment_id"] for row in relayed} == LosingReplies.relay_lost <= LosingReplies.built_lost
    attempts: dict[str, list[bool]] = {}
    for attempt in LosingReplies.relays:
        attempts.setdefault(attempt.tx_hash, []).append(attempt.already)
    assert set(attempts) == {row["tx_hash"] for row in relayed}
    # The first relay sent it; the retry found it on the node and sent nothing.
    assert all(already == [False, True] for already in attempts.values()), attempts
    # No second payment reached anyone: the vendors got exactly what was sent, the users exactly their funding.
    assert summary.reconciled and all(not r.unexpected for r in summary.reconciliations)
    assert summary.payments_mined == summary.payments_sent
    start = await monero_store.rows(monero_engine, MoneroBalanceRow, summary.run_id)
    users = [row for row in start if row["phase"] == "start" and row["role"] == "user"]
    assert [row["balance"] for row in users] == [10 * ATOMIC_UNITS_PER_XMR] * 2
