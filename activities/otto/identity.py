"""Identity activities: find, register (bring your own wallet) and activate agents; fund them.

The bridge mints a fresh identity fiber on every `/agent/register`, so registration is made
idempotent here: an agent that already owns an identity is never registered again, and a retried
attempt first waits one snapshot so that its predecessor's registration, if it landed, is visible.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
from constellation_sdk.currency_transaction import create_currency_transaction
from constellation_sdk.currency_types import TransactionReference, TransferParams
from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.otto.clients import BridgeClient, MetagraphClient
from activities.otto.http import call
from activities.otto.keyring import Keyring
from models.otto import (
    ActivateIdentity,
    FiberRecord,
    FindIdentity,
    RegisterAgain,
    RegisterIdentity,
    Submitted,
    TopUp,
    TopUpResult,
)

UNITS_PER_TOKEN = 100_000_000
# A registration is taken for lost only once ML0 has made this many snapshots after a quiet spell without it: DL1
# puts what it accepted into the next snapshot, so an update in none of them died with the node that accepted it.
LOST_AFTER_SNAPSHOTS = 3


class IdentityActivities:
    def __init__(self, http: httpx.AsyncClient, keyring: Keyring) -> None:
        self._http = http
        self._keyring = keyring

    def all(self) -> list[Callable[..., Awaitable[Any]]]:
        """Every identity activity, for a worker's list."""
        return [self.find_identity, self.register_identity, self.register_again, self.activate_identity, self.top_up]

    @activity.defn(name="otto.find_identity")
    async def find_identity(self, request: FindIdentity) -> str | None:
        return await _existing_identity(BridgeClient(self._http, request.endpoints), request.address)

    @activity.defn(name="otto.register_identity")
    async def register_identity(self, request: RegisterIdentity) -> str:
        bridge = BridgeClient(self._http, request.endpoints)
        chain = MetagraphClient(self._http, request.endpoints)
        address = self._keyring.address(request.wallets, request.agent_id)
        if activity.info().attempt > 1:
            details = activity.info().heartbeat_details
            if details:
                await _wait_for_snapshot_after(chain, int(details[0]))
            existing = await _existing_identity(bridge, address)
            if existing is not None:
                return existing
        activity.heartbeat(await chain.latest_ordinal())
        registered = await bridge.register(
            self._keyring.private_key(request.wallets, request.agent_id),
            display_name=request.display_name,
            platform=request.platform,
            platform_user_id=request.platform_user_id,
        )
        return registered["fiberId"]

    @activity.defn(name="otto.register_again")
    async def register_again(self, request: RegisterAgain) -> str:
        """The identity of a registration that stayed off ML0 for a quiet spell: found after all, else registered
        again. Only once ML0 has made ``LOST_AFTER_SNAPSHOTS`` more snapshots, so a registration that is merely slow
        (or a chain that is stalled: this then waits, and its retries too) never leads to a second identity."""
        register = request.registration
        chain = MetagraphClient(self._http, register.endpoints)
        await _wait_for_snapshot_after(chain, await chain.latest_ordinal() + LOST_AFTER_SNAPSHOTS - 1)
        if await chain.fiber(request.lost_fiber_id) is not None:
            return request.lost_fiber_id
        address = self._keyring.address(register.wallets, register.agent_id)
        existing = await _existing_identity(BridgeClient(self._http, register.endpoints), address)
        if existing is not None:
            return existing
        activity.logger.warning(
            "registration of %s lost (identity %s never on ML0): registering again",
            register.agent_id,
            request.lost_fiber_id,
        )
        return await self.register_identity(register)

    @activity.defn(name="otto.activate_identity")
    async def activate_identity(self, request: ActivateIdentity) -> Submitted:
        chain = MetagraphClient(self._http, request.endpoints)
        record = await chain.fiber(request.fiber_id)
        if record is None:
            raise ApplicationError(f"identity {request.fiber_id} is not on ML0 yet", type="NotYetOnChain")
        if record.current_state != "REGISTERED":
            return Submitted(already_applied=True)
        address = self._keyring.address(request.wallets, request.agent_id)
        # The guard wants the owner: as signer here, and as `agent` for definitions that read it.
        response = await BridgeClient(self._http, request.endpoints).transition(
            self._keyring.private_key(request.wallets, request.agent_id),
            request.fiber_id,
            "activate",
            {"agent": address},
        )
        return Submitted(hash=response.get("hash"))

    @activity.defn(name="otto.top_up")
    async def top_up(self, request: TopUp) -> TopUpResult:
        """Bring ``address`` up to ``target_balance``: by faucet, or by a transfer signed by the funder."""
        chain = MetagraphClient(self._http, request.endpoints)
        if activity.info().attempt > 1:
            # A transfer from a failed attempt may be waiting for its snapshot: let it land first.
            await _wait_for_snapshot_after(chain)
        before = await chain.balance(request.address)
        missing = request.target_balance - before
        if missing <= 0:
            return TopUpResult(address=request.address, before=before, after=before, paid=0)
        if request.funder is None:
            if request.endpoints.faucet_url is None:
                raise ApplicationError(
                    "this network has no faucet: fund from an agent instead", type="NoFaucet", non_retryable=True
                )
            await call(
                self._http,
                "POST",
                request.endpoints.faucet_url,
                what="faucet",
                json={"address": request.address, "amount": missing},
            )
        else:
            await self._transfer(chain, request, request.funder, missing)
        # Paid already: a transient refusal from here on must not fail the attempt, or its retry
        # would find the balance topped up and report nothing paid.
        await _wait_for_snapshot_after(chain)
        return TopUpResult(
            address=request.address, before=before, after=await chain.balance(request.address), paid=missing
        )

    async def _transfer(self, chain: MetagraphClient, request: TopUp, funder: str, amount: int) -> None:
        key = self._keyring.private_key(request.wallets, funder)
        reference = await chain.last_reference(self._keyring.address(request.wallets, funder))
        transaction = create_currency_transaction(
            TransferParams(destination=request.address, amount=amount / UNITS_PER_TOKEN),
            key,
            TransactionReference(hash=reference["hash"], ordinal=int(reference["ordinal"])),
        )
        await chain.post_transaction(
            {
                "value": {
                    "source": transaction.value.source,
                    "destination": transaction.value.destination,
                    "amount": transaction.value.amount,
                    "fee": transaction.value.fee,
                    "parent": {"hash": transaction.value.parent.hash, "ordinal": transaction.value.parent.ordinal},
                    "salt": transaction.value.salt,
                },
                "proofs": [{"id": proof.id, "signature": proof.signature} for proof in transaction.proofs],
            }
        )


async def _existing_identity(bridge: BridgeClient, address: str) -> str | None:
    """The agent's identity fiber, if it has one: the active one first, else the oldest."""
    owned: list[tuple[str, FiberRecord]] = [
        (fiber_id, record)
        for fiber_id, record in (await bridge.agents()).items()
        if record.state_data.get("owner") == address
    ]
    if not owned:
        return None
    owned.sort(key=lambda item: (item[1].current_state != "ACTIVE", item[1].state_data.get("createdAt", ""), item[0]))
    return owned[0][0]


async def _wait_for_snapshot_after(chain: MetagraphClient, ordinal: int | None = None, timeout: float = 60) -> None:
    """Until a snapshot after ``ordinal`` exists (by default, after the first one read here), so
    everything accepted before it is visible. A poll that fails transiently is simply polled again."""
    async with asyncio.timeout(timeout):
        while True:
            activity.heartbeat(ordinal)
            try:
                latest = await chain.latest_ordinal()
            except ApplicationError as err:
                if err.non_retryable:
                    raise
            else:
                if ordinal is None:
                    ordinal = latest
                elif latest > ordinal:
                    return
            await asyncio.sleep(0.05)
