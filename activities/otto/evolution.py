"""Evolution activities: what a run reads from the chain (balances, reputation), the wallets it takes from
the pool, and the store writes that make it resumable (the run's record, one checkpoint per generation).

Every write is idempotent: a run's start and each checkpoint are keyed in the store, and an allocation
of wallets for a generation returns what an earlier attempt recorded.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TypeVar

import httpx
from sqlalchemy.ext.asyncio import AsyncEngine
from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.ledger import ledger_conflicts_are_final
from activities.otto.clients import BridgeClient, MetagraphClient
from activities.otto.keyring import Keyring
from models.evolution import (
    AgentObservation,
    AllocateAgents,
    AllocatedAgent,
    Checkpoint,
    Member,
    ObserveAgents,
    PopulationRef,
    RunStart,
    RunState,
)
from models.otto import OttoEndpoints, WalletAgent
from sim.otto.reputation import reputation_of
from store import otto as otto_store
from store.wallets import WalletError, WalletFile, WalletStore, extend_pool

READS_AT_ONCE = 16
READ_RETRY_DELAYS = (0.1, 0.3, 1.0)
T = TypeVar("T")


class EvolutionActivities:
    def __init__(self, engine: AsyncEngine, http: httpx.AsyncClient, keyring: Keyring) -> None:
        self._engine = engine
        self._http = http
        self._keyring = keyring

    @activity.defn(name="otto.observe_agents")
    async def observe_agents(self, request: ObserveAgents) -> list[AgentObservation]:
        """Each agent's balance (one ML0 query each) and the reputation on its AgentIdentity (one bridge query
        for every identity: the population's records in one answer, not a read per agent)."""
        chain = MetagraphClient(self._http, request.endpoints)
        identities = await _patiently(BridgeClient(self._http, request.endpoints).agents)
        limit = asyncio.Semaphore(READS_AT_ONCE)

        async def one(member: Member) -> AgentObservation:
            async with limit:
                balance = await _patiently(lambda: chain.balance(member.address))
            record = identities.get(member.identity_fiber_id) if member.identity_fiber_id else None
            records = [record.model_dump(by_alias=True)] if record is not None else []
            reputation = reputation_of(member.address, records)
            return AgentObservation(
                agent_id=member.agent_id,
                balance=balance,
                reputation=reputation.reputation,
                identity_state=reputation.state,
                completed_contracts=reputation.completed_contracts,
                violations=reputation.violations,
            )

        return list(await asyncio.gather(*(one(member) for member in request.agents)))

    @activity.defn(name="otto.latest_ordinal")
    async def latest_ordinal(self, endpoints: OttoEndpoints) -> int:
        """ML0's latest snapshot ordinal: the breaker's probe and the stall watch (one cheap read)."""
        return await MetagraphClient(self._http, endpoints).latest_ordinal()

    @activity.defn(name="otto.allocate_agents")
    async def allocate_agents(self, request: AllocateAgents) -> list[AllocatedAgent]:
        """``count`` wallets of the pool that the run has never taken on, in pool order; the pool grows by
        fresh wallets when it runs out. Recorded per (run, generation): a retried request gets the same agents."""
        recorded = await otto_store.joined(self._engine, request.run_id, request.generation)
        pool = self._pool(request.wallets)
        if len(recorded) < request.count:
            # A first attempt, or one that asks for more than an earlier attempt took: take the difference.
            needed = request.count - len(recorded)
            taken = await otto_store.allocations(self._engine, request.run_id)
            free = [agent for agent in pool.agents if agent.id not in taken]
            if len(free) < needed:
                free += await asyncio.to_thread(self._extend, request.wallets, needed - len(free))
                pool = self._pool(request.wallets)
            chosen = [AllocatedAgent(agent_id=agent.id, address=agent.address) for agent in free[:needed]]
            recorded = await otto_store.allocate(self._engine, request.run_id, request.generation, chosen)
        profiles = {agent.id: agent for agent in pool.agents}
        return [_with_profile(agent, profiles.get(agent.agent_id)) for agent in recorded[: request.count]]

    def _pool(self, wallets: str) -> WalletFile:
        try:
            return WalletStore.read_public(Path(wallets).resolve())
        except WalletError as err:
            raise ApplicationError(str(err), type="WalletError", non_retryable=True) from None

    def _extend(self, wallets: str, count: int) -> list[WalletAgent]:
        passphrase = self._keyring.passphrase
        if passphrase is None:
            raise ApplicationError(
                "SIMCTL_WALLET_PASSPHRASE is not set in the worker's environment",
                type="WalletError",
                non_retryable=True,
            )
        try:
            return extend_pool(Path(wallets).resolve(), passphrase, count)
        except (OSError, WalletError) as err:
            raise ApplicationError(str(err), type="WalletError", non_retryable=True) from None

    @activity.defn(name="otto.begin_run")
    async def begin_run(self, start: RunStart) -> bool:
        try:
            return await otto_store.begin_run(self._engine, start)
        except otto_store.RunConflict as conflict:
            raise ApplicationError(str(conflict), type="RunConflict", non_retryable=True) from None

    @activity.defn(name="otto.load_run")
    async def load_run(self, run_id: str) -> RunState:
        """Where a stored run stands: the population after its last checkpoint and the ledger's head."""
        stored = await otto_store.run(self._engine, run_id)
        latest = await otto_store.last_population(self._engine, run_id)
        if stored is None or latest is None:
            raise ApplicationError(f"no run {run_id!r} in the store", type="RunNotFound", non_retryable=True)
        generation, size = latest
        return RunState(
            run_id=run_id,
            seed=stored.seed,
            next_generation=generation,
            population_size=size,
            ledger=await otto_store.chain_head(self._engine, run_id),
        )

    @activity.defn(name="otto.load_population")
    async def load_population(self, request: PopulationRef) -> list[Member]:
        run_id, generation = request.run_id, request.generation
        members = await otto_store.population(self._engine, run_id, generation)
        if members is None:
            raise ApplicationError(
                f"run {run_id!r} has no population for generation {generation}",
                type="PopulationNotFound",
                non_retryable=True,
            )
        return members

    @activity.defn(name="otto.write_checkpoint")
    async def write_checkpoint(self, checkpoint: Checkpoint) -> bool:
        """The generation's checkpoint and its ledger entry, in one transaction; False if already written."""
        with ledger_conflicts_are_final():
            return await otto_store.write_checkpoint(self._engine, checkpoint)


async def _patiently(read: Callable[[], Awaitable[T]]) -> T:
    """One read of hundreds in an observation: a transient fault is tried again here, so the activity fails
    (and the generation's breaker counts it) only when the chain keeps failing, not on one lost request."""
    for delay in READ_RETRY_DELAYS:
        try:
            return await read()
        except ApplicationError as err:
            if err.non_retryable:
                raise
        await asyncio.sleep(delay)
    return await read()


def _with_profile(agent: AllocatedAgent, wallet: WalletAgent | None) -> AllocatedAgent:
    if wallet is None:
        return agent.model_copy(update={"display_name": agent.agent_id, "platform_user_id": agent.agent_id})
    return agent.model_copy(
        update={
            "display_name": wallet.display_name,
            "platform": wallet.platform,
            "platform_user_id": wallet.platform_user_id,
        }
    )
