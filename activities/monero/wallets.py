"""Wallet activities: payments in two steps, vendors, incoming transfers, balances.

A payment is never sent twice. ``monero.build_transfer`` signs a transaction without relaying it
(``do_not_relay``): a retry after a lost reply only builds another transaction that nobody relays, and the
workflow keeps the hash of the one it got. ``monero.relay_transfer`` relays exactly that transaction; relaying a
given transaction twice cannot pay twice (same inputs, same hash), and before relaying it asks the node and the
wallet whether the transaction is already known, so a retry after a lost reply relays nothing. The payment's
workflow id is written as the transaction's note in the sender's wallet.
"""

from __future__ import annotations

import asyncio

import httpx
from prometheus_client import Counter
from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.monero import wire
from activities.monero.genesis import wait_until
from activities.monero.nodes import now_ms, watch_pool
from activities.monero.rpc import DaemonClient, WalletClient
from models.monero_run import (
    BalanceRequest,
    BuildTransfer,
    Built,
    Incoming,
    PoolWatch,
    Relayed,
    RelayTransfer,
    VendorRequest,
    Vendors,
    WalletBalance,
)

TRANSACTIONS_SENT = Counter("monerosim_transactions_sent", "Transactions relayed (never counted twice)", ["kind"])
PAYMENTS_SKIPPED = Counter("monerosim_payments_skipped", "Payments a user could not afford at the time", ["reason"])


def is_funding(payment_id: str) -> bool:
    """The bank's funding of the users (``<run>/fund/<batch>``), not a user's payment (``<run>/pay/...``)."""
    return "/fund/" in payment_id


async def until_height(daemon: DaemonClient, height: int, *, timeout: float = 60) -> None:
    """Poll the node until it has ``height`` blocks. A payment is decided at a height; its wallet must see that
    chain before it builds, whether or not the block has reached the other nodes yet."""

    async def reached() -> None:
        if (await daemon.height()).height < height:
            raise ApplicationError(f"{daemon.url} has not reached {height} blocks", type="NotAtHeight")

    await wait_until(reached, timeout=timeout, tick=activity.heartbeat, every=0.05)


class WalletActivities:
    def __init__(self, http: httpx.AsyncClient) -> None:
        self._http = http

    @activity.defn(name="monero.build_transfer")
    async def build_transfer(self, request: BuildTransfer) -> Built:
        wallet = WalletClient(self._http, request.wallet_url)
        if request.daemon_url is not None and request.at_height is not None:
            await until_height(DaemonClient(self._http, request.daemon_url), request.at_height)
        await wallet.refresh()
        destinations = [wire.Destination(address=d.address, amount=d.amount) for d in request.destinations]
        try:
            built = await wallet.build_transfer(destinations)
        except ApplicationError as err:
            if err.type in ("InsufficientFunds", "NotEnoughOutputs"):
                PAYMENTS_SKIPPED.labels(err.type).inc()
                reason = err.message
                if is_funding(request.payment_id):
                    # A bank that cannot fund ends the run: the error then says what the wallet saw.
                    held = await wallet.balance()
                    reason += f"; the bank's wallet holds {held.balance}, {held.unlocked_balance} unlocked"
                return Built(status="insufficient", reason=reason)
            if err.type == "WalletError":
                # -4: whatever the wallet's daemon could not serve. A node relaunched after a crash answers BUSY
                # until it has caught up ("failed to get output distribution"). Nothing was relayed: build again,
                # within the activity's attempts.
                raise ApplicationError(f"{err.message}: retried", type="BuildFailed") from err
            raise
        return Built(
            status="built", tx_hash=built.tx_hash, fee=built.fee, amount=built.amount, tx_metadata=built.tx_metadata
        )

    @activity.defn(name="monero.relay_transfer")
    async def relay_transfer(self, request: RelayTransfer) -> Relayed:
        daemon = DaemonClient(self._http, request.daemon_url)
        wallet = WalletClient(self._http, request.wallet_url)
        if await self._known(daemon, wallet, request.tx_hash):
            return await self._observed(daemon, request, Relayed(tx_hash=request.tx_hash, already=True))
        try:
            relayed = await wallet.relay(request.tx_metadata)
        except ApplicationError as err:
            if await self._known(daemon, wallet, request.tx_hash):
                return await self._observed(daemon, request, Relayed(tx_hash=request.tx_hash, already=True))
            if err.type == "WalletError":
                # wallet-rpc answers every refusal of its daemon with -4 "Failed to commit tx.": a node relaunched
                # after a crash refuses it until it has caught up again (the ring members are above its height).
                # Retried within the activity's attempts; a transaction that stays refused still fails the payment.
                raise ApplicationError(f"{err.message}: retried", type="RelayRefused") from err
            raise
        if relayed != request.tx_hash:
            raise ApplicationError(
                f"relayed {relayed}, expected {request.tx_hash}", type="RelayMismatch", non_retryable=True
            )
        await wallet.set_tx_note(request.tx_hash, request.payment_id)
        TRANSACTIONS_SENT.labels("funding" if is_funding(request.payment_id) else "payment").inc()
        return await self._observed(daemon, request, Relayed(tx_hash=request.tx_hash, already=False))

    @staticmethod
    async def _observed(daemon: DaemonClient, request: RelayTransfer, relayed: Relayed) -> Relayed:
        """With ``observe``: the relay's time, and when the sender's node had the transaction in its pool."""
        if not request.observe:
            return relayed
        relayed_at = now_ms()
        # Watched as long as monero.observe_in_pool watches (PoolWatch's own timeout).
        sighting = await watch_pool(daemon, PoolWatch(daemon_url=request.daemon_url, tx_hash=request.tx_hash))
        return relayed.model_copy(update={"relayed_at_ms": relayed_at, "in_pool_at_ms": sighting.in_pool_at_ms})

    @staticmethod
    async def _known(daemon: DaemonClient, wallet: WalletClient, tx_hash: str) -> bool:
        if await daemon.transactions([tx_hash]):
            return True
        return await wallet.transfer_by_txid(tx_hash) is not None

    @activity.defn(name="monero.create_vendors")
    async def create_vendors(self, request: VendorRequest) -> Vendors:
        """Subaddresses 1..count of the marketplace's wallet, one per vendor (existing ones are kept)."""
        wallet = WalletClient(self._http, request.wallet_url)
        existing = (await wallet.addresses()).addresses
        missing = request.count + 1 - len(existing)
        if missing > 0:
            await wallet.create_addresses(missing)
            existing = (await wallet.addresses()).addresses
        by_index = {entry.address_index: entry.address for entry in existing}
        await wallet.store()
        return Vendors(
            marketplace=request.marketplace, addresses=tuple(by_index[i] for i in range(1, request.count + 1))
        )

    @activity.defn(name="monero.received")
    async def received(self, wallet_url: str) -> list[Incoming]:
        """Incoming transfers of account 0 by subaddress, mined (height > 0) and in the pool (height 0)."""
        wallet = WalletClient(self._http, wallet_url)
        await wallet.refresh()
        return [
            Incoming(
                tx_hash=t.txid,
                vendor_index=t.subaddr_index.minor if t.subaddr_index else 0,
                amount=t.amount,
                height=t.height if t.type == "in" else 0,
            )
            for t in await wallet.incoming()
        ]

    @activity.defn(name="monero.balances")
    async def balances(self, request: BalanceRequest) -> list[WalletBalance]:
        async def one(name: str, role: str, url: str) -> WalletBalance:
            wallet = WalletClient(self._http, url)
            await wallet.refresh()
            balance = await wallet.balance()
            return WalletBalance(wallet=name, role=role, balance=balance.balance, unlocked=balance.unlocked_balance)

        return list(await asyncio.gather(*(one(w.name, w.role, w.url) for w in request.wallets)))
