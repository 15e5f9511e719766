"""Fiber activities: create (signed by every party), transition (signed by the mover), await ML0, and a
send with its wait in one activity (one task, one history event pair per move instead of two).

Each write is idempotent. Fiber ids and target sequence numbers are chosen by the workflow, so a
retried create finds its fiber (or DL1 says it exists) and a retried transition finds the sequence
number already past its target; neither is applied twice.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
from prometheus_client import Counter
from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.otto.clients import MetagraphClient
from activities.otto.keyring import Keyring
from models.otto import (
    AwaitFiber,
    CreateAndAwait,
    CreateAndFire,
    CreateFiber,
    DocumentFired,
    FiberObservation,
    FiberRecord,
    SentAndSeen,
    SubmitAndAwait,
    Submitted,
    SubmitTransition,
)
from sim.otto import signing
from sim.otto.messages import create_state_machine, transition_state_machine

TRANSITIONS_SUBMITTED = Counter("traffic_simulator_transitions_submitted", "Fiber transitions accepted by DL1")


def _bridge_failure(layer: str) -> None:
    """One OttoChain request that failed transiently (and is retried). Through the SDK's meter, like the chain
    gate's count of failures after retries (``layer="breaker"``), so the seed's name is one metric family."""
    activity.metric_meter().create_counter(
        "traffic_simulator_bridge_failures", "OttoChain requests that failed transiently (retried)"
    ).add(1, {"layer": layer})


# The first look comes after about half an embedded snapshot interval: earlier ones mostly find nothing, and
# every look is an HTTP request on both sides of a CPU-bound machine.
_POLL_FIRST, _POLL_MAX, _POLL_GROWTH = 0.1, 1.0, 1.5
_REJECTION_EVERY = 3
# A wait heartbeats only once it has lasted this long: most end within a snapshot or two, and a heartbeat is
# one more request to the server. Well below every heartbeat timeout the workflows set (20 s).
_QUIET_HEARTBEAT_SECONDS = 2.0


class FiberActivities:
    def __init__(self, http: httpx.AsyncClient, keyring: Keyring) -> None:
        self._http = http
        self._keyring = keyring

    def all(self) -> list[Callable[..., Awaitable[Any]]]:
        """Every fiber activity, for a worker's list."""
        return [
            self.create_fiber,
            self.submit_transition,
            self.await_fiber,
            self.create_and_await,
            self.submit_and_await,
            self.create_and_fire,
        ]

    @activity.defn(name="otto.create_fiber")
    async def create_fiber(self, request: CreateFiber) -> Submitted:
        chain = MetagraphClient(self._http, request.endpoints)
        # Only a retry can find its own fiber (the id is the workflow's, fresh): a first attempt skips the read.
        if _retry() and await _counted(chain.fiber(request.fiber_id)) is not None:
            return Submitted(already_applied=True)
        keys = [self._keyring.private_key(request.wallets, signer) for signer in request.signers]
        message = create_state_machine(request.fiber_id, request.definition, request.initial_data)
        try:
            update_hash = await _counted(chain.submit(signing.sign(message, keys)))
        except ApplicationError as err:
            if err.type == "CidAlreadyExists":  # an earlier attempt's create got there first
                return Submitted(already_applied=True)
            raise
        return Submitted(hash=update_hash)

    @activity.defn(name="otto.submit_transition")
    async def submit_transition(self, request: SubmitTransition) -> Submitted:
        chain = MetagraphClient(self._http, request.endpoints)
        # The workflow read the fiber at the target just before, and only it moves the fiber: a first attempt
        # submits at once (a stale target is refused by DL1, handled below); a retry reads first, since the
        # attempt before it may have been applied.
        if _retry():
            record = await _counted(chain.fiber(request.fiber_id))
            if record is None:
                raise ApplicationError(f"fiber {request.fiber_id} is not on ML0 yet", type="NotYetOnChain")
            if record.sequence_number > request.target_sequence:
                return Submitted(already_applied=True)
        key = self._keyring.private_key(request.wallets, request.signer)
        message = transition_state_machine(request.fiber_id, request.event, request.payload, request.target_sequence)
        try:
            update_hash = await _counted(chain.submit(signing.sign(message, [key])))
        except ApplicationError as err:
            # The retry of an attempt that was applied meanwhile: DL1 now sees the number as stale.
            if err.type == "SequenceNumberMismatch":
                current = await _counted(chain.fiber(request.fiber_id))
                if current is not None and current.sequence_number > request.target_sequence:
                    return Submitted(already_applied=True)
            raise
        TRANSITIONS_SUBMITTED.inc()
        return Submitted(hash=update_hash)

    @activity.defn(name="otto.await_fiber")
    async def await_fiber(self, request: AwaitFiber) -> FiberObservation:
        """Durable polling: heartbeats while it waits; a crashed worker's retry simply polls again.

        One request per poll (the fiber, or the ordinal while waiting for one); the indexer is asked
        about rejections only every few polls, since a dropped update is rare and stays dropped.
        """
        chain = MetagraphClient(self._http, request.endpoints)
        started = time.monotonic()
        deadline = started + request.timeout_seconds
        delay = _POLL_FIRST
        record = None
        poll = 0
        while True:  # leaves by returning: a change, a rejection, or the deadline
            if time.monotonic() - started >= _QUIET_HEARTBEAT_SECONDS:
                activity.heartbeat()
            try:
                latest = await chain.latest_ordinal() if request.min_ordinal is not None else None
                if request.min_ordinal is None or (latest is not None and latest >= request.min_ordinal):
                    record = await chain.fiber(request.fiber_id)
                    if _changed(request, record):
                        return FiberObservation(
                            record=record, ordinal=latest if latest is not None else await _seen_at(chain, record)
                        )
                    if request.watch_update and poll % _REJECTION_EVERY == _REJECTION_EVERY - 1:
                        rejection = await _find_rejection(chain, request.fiber_id, request.watch_update)
                        if rejection is not None:
                            return FiberObservation(
                                record=record, ordinal=await chain.latest_ordinal(), rejection=rejection
                            )
            except ApplicationError as err:
                if err.non_retryable:
                    raise
                _bridge_failure("ml0")
            if time.monotonic() >= deadline:
                return FiberObservation(record=record, ordinal=0, timed_out=True)
            await asyncio.sleep(delay)
            delay = min(delay * _POLL_GROWTH, _POLL_MAX)
            poll += 1

    @activity.defn(name="otto.create_and_await")
    async def create_and_await(self, request: CreateAndAwait) -> SentAndSeen:
        """``create_fiber`` then ``await_fiber`` for it. A retry creates again, which finds the first create."""
        submitted = await self.create_fiber(request.create)
        return SentAndSeen(submitted=submitted, observation=await self._await_update(request.watch, submitted))

    @activity.defn(name="otto.submit_and_await")
    async def submit_and_await(self, request: SubmitAndAwait) -> SentAndSeen:
        """``submit_transition`` then ``await_fiber`` for it. A retry submits again, which finds the first one
        applied (``already_applied``) or submits the one that was lost."""
        submitted = await self.submit_transition(request.submit)
        return SentAndSeen(submitted=submitted, observation=await self._await_update(request.watch, submitted))

    @activity.defn(name="otto.create_and_fire")
    async def create_and_fire(self, request: CreateAndFire) -> DocumentFired:
        """``create_and_await``, then, for a fiber ML0 shows in DRAFT, ``submit_and_await`` of its one event by its
        one signer: a document fiber in one activity task instead of two. A call again (a retry, or after a quiet
        spell) creates again, which finds the fiber, and fires only what is still in DRAFT."""
        create = request.create
        created = await self.create_and_await(CreateAndAwait(create=create, watch=request.watch))
        record = created.observation.record
        if created.observation.rejection or created.observation.timed_out or record is None:
            return DocumentFired(observation=created.observation, fired=False)
        if record.current_state != "DRAFT":
            return DocumentFired(observation=created.observation, fired=False)
        fire = SubmitTransition(
            endpoints=create.endpoints,
            wallets=create.wallets,
            fiber_id=create.fiber_id,
            event=request.event,
            payload={},
            target_sequence=record.sequence_number,
            signer=create.signers[0],
        )
        watch = request.watch.model_copy(
            update={
                "known_sequence": record.sequence_number,
                "known_receipt_ordinal": record.last_receipt.ordinal if record.last_receipt else None,
            }
        )
        fired = await self.submit_and_await(SubmitAndAwait(submit=fire, watch=watch))
        return DocumentFired(observation=fired.observation, fired=True)

    async def _await_update(self, watch: AwaitFiber, submitted: Submitted) -> FiberObservation:
        return await self.await_fiber(watch.model_copy(update={"watch_update": submitted.hash}))


async def _seen_at(chain: MetagraphClient, record: FiberRecord | None) -> int:
    """The snapshot ordinal a change was seen at: the one the record names for its latest update or receipt,
    (the poll sees a change in the first snapshot that holds it), else, from an ML0 that names neither, asked."""
    named = [
        ordinal
        for ordinal in (
            record.latest_update_ordinal if record else None,
            record.last_receipt.ordinal if record and record.last_receipt else None,
        )
        if ordinal is not None
    ]
    return max(named) if named else await chain.latest_ordinal()


def _retry() -> bool:
    return activity.info().attempt > 1


def _changed(request: AwaitFiber, record) -> bool:
    if record is None:
        return False
    if request.known_sequence is None:
        return True
    if record.sequence_number != request.known_sequence:
        return True
    receipt = record.last_receipt
    return receipt is not None and receipt.ordinal > (request.known_receipt_ordinal or -1)


async def _find_rejection(chain: MetagraphClient, fiber_id: str, update_hash: str):
    try:
        rejections = await chain.rejections(fiber_id)
    except ApplicationError as err:
        if err.non_retryable:
            raise
        _bridge_failure("indexer")
        return None
    return next((r for r in rejections if r.update_hash == update_hash), None)


async def _counted(awaitable):
    """Await a client call, counting transient failures before they propagate to Temporal's retry."""
    try:
        return await awaitable
    except ApplicationError as err:
        if not err.non_retryable:
            _bridge_failure("metagraph")
        raise
