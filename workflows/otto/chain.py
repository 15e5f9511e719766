"""Calling the chain from workflow code: the retry policy, the await loop and the kind of activity.

Creates and transitions are regular activities, like waits. Between the patches ``LOCAL_CHAIN_CALLS`` and
``REGULAR_CHAIN_CALLS`` they were local activities (run inside the workflow task that decided the move);
histories recorded then replay down that branch, older ones down the regular one (see ``Chain.patched``).
Since ``SENT_WITH_ITS_WAIT`` an update and the wait for it are one activity, not two; since
``DOCUMENT_IN_ONE_ACTIVITY`` a document fiber's create and its one event are one activity too.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import timedelta
from functools import partial
from typing import Any, NamedTuple, TypedDict, TypeVar

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ApplicationError

with workflow.unsafe.imports_passed_through():
    from activities.otto.fibers import FiberActivities
    from models.otto import (
        AwaitFiber,
        CreateAndAwait,
        CreateAndFire,
        CreateFiber,
        FiberObservation,
        FiberRecord,
        OttoEndpoints,
        SentAndSeen,
        SubmitAndAwait,
        Submitted,
        SubmitTransition,
    )

CHAIN_RETRY = RetryPolicy(
    initial_interval=timedelta(milliseconds=100),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(seconds=5),
)
POLL_SECONDS = 30.0
# A wait heartbeats while it polls (the activities heartbeat once a wait has lasted 2 s).
WAIT_HEARTBEAT = timedelta(seconds=20)
LOCAL_CHAIN_CALLS = "otto-local-chain-calls"
REGULAR_CHAIN_CALLS = "otto-regular-chain-calls"
RESEND_UNSEEN_UPDATES = "otto-resend-unseen-updates"
SENT_WITH_ITS_WAIT = "otto-send-and-await"
DOCUMENT_IN_ONE_ACTIVITY = "otto-document-in-one-activity"

Arg = TypeVar("Arg")
Result = TypeVar("Result")


class ActivityOptions(TypedDict):
    start_to_close_timeout: timedelta
    retry_policy: RetryPolicy


# Options for one call to the chain (a create, a transition, a registration): retried with backoff.
CHAIN_CALL: ActivityOptions = {"start_to_close_timeout": timedelta(seconds=30), "retry_policy": CHAIN_RETRY}


def awaiting(
    endpoints: OttoEndpoints,
    fiber_id: str,
    *,
    known_sequence: int | None = None,
    known_receipt_ordinal: int | None = None,
    min_ordinal: int | None = None,
    watch_update: str | None = None,
) -> AwaitFiber:
    return AwaitFiber(
        endpoints=endpoints,
        fiber_id=fiber_id,
        timeout_seconds=POLL_SECONDS,
        known_sequence=known_sequence,
        known_receipt_ordinal=known_receipt_ordinal,
        min_ordinal=min_ordinal,
        watch_update=watch_update,
    )


async def await_fiber(request: AwaitFiber, what: str, *, quiet_returns: bool = False) -> FiberObservation:
    """Wait for ML0, polling again after quiet spells (or, with ``quiet_returns``, returning the first one timed
    out); an update the chain dropped fails with its reason.

    Always a regular activity, so that every move ends a workflow task: its result is then in history
    (a worker that dies later replays it instead of looking at the chain again, whose state has moved on),
    and the fiber's progress query and FiberState search attribute show each move as it lands."""
    while True:
        observation = await workflow.execute_activity_method(
            FiberActivities.await_fiber,
            request,
            start_to_close_timeout=timedelta(seconds=request.timeout_seconds + 30),
            heartbeat_timeout=WAIT_HEARTBEAT,
            retry_policy=CHAIN_RETRY,
        )
        _fail_if_rejected(observation, what)
        if quiet_returns or not observation.timed_out:
            return observation


def _fail_if_rejected(observation: FiberObservation, what: str) -> None:
    if observation.rejection is not None:
        raise ApplicationError(
            f"{what} rejected by the chain: {observation.rejection.code}: {observation.rejection.message}",
            type=observation.rejection.code,
            non_retryable=True,
        )


async def until_seen(
    send: Callable[[], Awaitable[Submitted]], watch: Callable[[str | None], AwaitFiber], what: str
) -> tuple[Submitted, FiberObservation]:
    """Send an update and wait until ML0 shows it (``watch`` makes the wait for the update's hash); an update the
    chain rejected fails with its reason. Returns the first send's answer (did the update precede this call?) and
    what ML0 showed.

    A node can accept an update and die before any snapshot holds it; restarted, it knows nothing of it, so the
    update is neither applied nor rejected and a longer wait finds nothing. An update still unseen after a quiet
    spell is therefore sent again. That is safe: a first copy applied after all makes the second one stale, and
    the send activities then report it as already applied."""
    first = submitted = await send()
    while True:
        observation = await await_fiber(watch(submitted.hash), what, quiet_returns=True)
        if not observation.timed_out:
            # A second send can find the first copy applied late: "already applied" then says nothing of the call.
            return first, observation
        # Histories from before the patch waited on for the first copy.
        if workflow.patched(RESEND_UNSEEN_UPDATES):
            workflow.logger.warning("%s: not on ML0 after %.0f s; sending it again", what, POLL_SECONDS)
            submitted = await send()


async def _sent_until_seen(
    send_and_await: Callable[[Any, Arg], Awaitable[SentAndSeen]], request: Arg, what: str
) -> tuple[Submitted, FiberObservation]:
    """``until_seen`` with the send and its wait in one activity: each call sends (again) and waits one quiet
    spell at most."""
    first: Submitted | None = None
    while True:
        sent = await workflow.execute_activity_method(send_and_await, request, **SEND_AND_AWAIT)
        first = first or sent.submitted
        _fail_if_rejected(sent.observation, what)
        if not sent.observation.timed_out:
            return first, sent.observation
        workflow.logger.warning("%s: not on ML0 after %.0f s; sending it again", what, POLL_SECONDS)


# One send with its wait: the send's own 30 s and a quiet spell; heartbeats while it waits, like ``await_fiber``.
SEND_AND_AWAIT: dict[str, Any] = {
    "start_to_close_timeout": timedelta(seconds=POLL_SECONDS + 60),
    "heartbeat_timeout": WAIT_HEARTBEAT,
    "retry_policy": CHAIN_RETRY,
}


# A document fiber in one activity: two sends, each with a wait of up to a quiet spell.
CREATE_AND_FIRE: dict[str, Any] = SEND_AND_AWAIT | {"start_to_close_timeout": timedelta(seconds=2 * POLL_SECONDS + 60)}


class Fired(NamedTuple):
    record: FiberRecord
    fired: bool  # this call fired the event (False: the fiber was found past DRAFT)


class Chain:
    """One workflow's calls to the chain, as local or as regular activities."""

    def __init__(self, *, local: bool, together: bool = False) -> None:
        self.local = local
        self.together = together

    @classmethod
    def patched(cls) -> Chain:
        """Regular activities for new runs, each update sent and awaited in one (``SENT_WITH_ITS_WAIT``). Local
        creates and transitions (patch ``LOCAL_CHAIN_CALLS``) cut the server's CPU, but under node kills
        sdk-core's local-activity timeout bookkeeping panicked and a run hung until its timeout, so
        ``REGULAR_CHAIN_CALLS`` takes new runs back; histories recorded before a patch still replay down their
        branch. Called once, before the workflow's first chain call."""
        if workflow.patched(REGULAR_CHAIN_CALLS):
            return cls(local=False, together=workflow.patched(SENT_WITH_ITS_WAIT))
        return cls(local=workflow.patched(LOCAL_CHAIN_CALLS))

    async def call(
        self, method: Callable[[Any, Arg], Awaitable[Result]], arg: Arg, *, timeout: timedelta = timedelta(seconds=30)
    ) -> Result:
        if self.local:
            return await workflow.execute_local_activity_method(
                method, arg, start_to_close_timeout=timeout, retry_policy=CHAIN_RETRY
            )
        return await workflow.execute_activity_method(
            method, arg, start_to_close_timeout=timeout, retry_policy=CHAIN_RETRY
        )

    async def create(self, request: CreateFiber) -> Submitted:
        return await self.call(FiberActivities.create_fiber, request)

    async def submit(self, request: SubmitTransition) -> Submitted:
        return await self.call(FiberActivities.submit_transition, request)

    async def await_fiber(self, request: AwaitFiber, what: str) -> FiberObservation:
        return await await_fiber(request, what)

    async def create_until_seen(
        self, request: CreateFiber, watch: Callable[[str | None], AwaitFiber], what: str
    ) -> tuple[Submitted, FiberObservation]:
        """Create a fiber and wait until ML0 shows it (``until_seen``)."""
        if not self.together:
            return await until_seen(partial(self.create, request), watch, what)
        return await _sent_until_seen(
            FiberActivities.create_and_await, CreateAndAwait(create=request, watch=watch(None)), what
        )

    async def submit_until_seen(
        self, request: SubmitTransition, watch: Callable[[str | None], AwaitFiber], what: str
    ) -> tuple[Submitted, FiberObservation]:
        """Submit a transition and wait until ML0 shows it or drops it (``until_seen``)."""
        if not self.together:
            return await until_seen(partial(self.submit, request), watch, what)
        return await _sent_until_seen(
            FiberActivities.submit_and_await, SubmitAndAwait(submit=request, watch=watch(None)), what
        )

    async def create_and_fire(self, create: CreateFiber, event: str, what: str) -> Fired:
        """The two steps of a document fiber (a contract report's ``file``, an attestation's ``issue``): its one
        signer creates it in DRAFT and fires its one event. A fiber found already past DRAFT (a retry, a replay,
        a resumed run) is returned as it is."""
        if self.together and workflow.patched(DOCUMENT_IN_ONE_ACTIVITY):
            return await _created_and_fired(create, event, what)
        _, found = await self.create_until_seen(
            create, lambda update: awaiting(create.endpoints, create.fiber_id, watch_update=update), what
        )
        record = found.record
        assert record is not None
        if record.current_state != "DRAFT":
            return Fired(record, fired=False)
        fire = SubmitTransition(
            endpoints=create.endpoints,
            wallets=create.wallets,
            fiber_id=create.fiber_id,
            event=event,
            payload={},
            target_sequence=record.sequence_number,
            signer=create.signers[0],
        )
        _, observed = await self.submit_until_seen(
            fire,
            lambda update: awaiting(
                create.endpoints,
                create.fiber_id,
                known_sequence=record.sequence_number,
                known_receipt_ordinal=record.last_receipt.ordinal if record.last_receipt else None,
                watch_update=update,
            ),
            what,
        )
        assert observed.record is not None
        return Fired(observed.record, fired=True)


async def _created_and_fired(create: CreateFiber, event: str, what: str) -> Fired:
    """``Chain.create_and_fire`` as one activity (``FiberActivities.create_and_fire``), called again after a quiet
    spell with its update unseen, as ``until_seen`` sends again."""
    request = CreateAndFire(create=create, event=event, watch=awaiting(create.endpoints, create.fiber_id))
    fired = False
    while True:
        done = await workflow.execute_activity_method(FiberActivities.create_and_fire, request, **CREATE_AND_FIRE)
        fired = fired or done.fired
        _fail_if_rejected(done.observation, what)
        if not done.observation.timed_out:
            assert done.observation.record is not None
            return Fired(done.observation.record, fired=fired)
        workflow.logger.warning("%s: not on ML0 after %.0f s; sending it again", what, POLL_SECONDS)
