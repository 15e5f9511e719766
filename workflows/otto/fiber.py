"""FiberWorkflow: one fiber lifecycle, driven through both sides to a terminal state.

Create the fiber signed by every party (so every party owns it), then loop: read what ML0 shows,
ask for the next move, have that party sign it, and wait until the move reaches ML0. A move the chain
drops (NotSignedByOwner, a stale sequence number) fails the workflow with the chain's reason; a guard
that refuses a move is a receipt the policy sees and reacts to; a lifecycle that has not ended when
the durable timer fires is a TIMEOUT.

Two modes, chosen by the input alone (so a history always replays down the branch it was recorded on):

- scripted: an outcome (given, or drawn from the seed) is planned first and the fiber type's policy
  plays towards it (``plan``, ``next_move``);
- decision (no outcome, traits on every party): each party decides its own moves from its own traits
  and what ML0 shows (``terms``, ``decide``); before each move the mover thinks for its response time
  on the simulated clock, a durable timer at the spec's acceleration.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Callable
from datetime import timedelta

from temporalio import workflow
from temporalio.exceptions import ActivityError, ApplicationError, CancelledError

with workflow.unsafe.imports_passed_through():
    from models.otto import (
        AwaitFiber,
        CreateFiber,
        FiberObservation,
        FiberOutcome,
        FiberProgress,
        FiberRecord,
        FiberSpec,
        SubmitTransition,
    )
    from sim.otto.fibers import fiber_kind
    from sim.otto.fibers.base import FiberKind, FiberView, Move, Plan, Wait
    from sim.otto.fibers.decisions import Table
    from workflows.common import search_attributes as sa
    from workflows.common.clock import ClockState, SimClock
    from workflows.otto.chain import Chain, awaiting

MAX_GUARD_FAILURES = 3


@workflow.defn
class FiberWorkflow:
    def __init__(self) -> None:
        self._progress: FiberProgress | None = None

    @workflow.query
    def progress(self) -> FiberProgress | None:
        return self._progress

    @workflow.run
    async def run(self, spec: FiberSpec) -> FiberOutcome:
        try:
            kind = fiber_kind(spec.fiber_type)
        except ValueError as err:
            raise ApplicationError(str(err), type="UnknownFiberType", non_retryable=True) from None
        if not kind.min_parties <= len(spec.parties) <= kind.max_parties:
            raise ApplicationError(
                f"{kind.name} takes {kind.min_parties}-{kind.max_parties} parties, got {len(spec.parties)}",
                type="BadParties",
                non_retryable=True,
            )
        rng = random.Random(spec.seed)
        addresses = [party.address for party in spec.parties]
        table: Table | None = None
        if spec.decided:
            plan = kind.terms(addresses, rng)
            table = Table.of(
                addresses,
                [party.traits for party in spec.parties if party.traits is not None],
                reputations=[party.reputation for party in spec.parties],
                salt=rng.getrandbits(64),
            )
        else:
            planned = spec.outcome or rng.choice([outcome.name for outcome in kind.outcomes])
            try:
                plan = kind.plan(planned, addresses, rng)
            except ValueError as err:
                raise ApplicationError(str(err), type="UnknownOutcome", non_retryable=True) from None

        lifecycle = _Lifecycle(
            spec,
            kind,
            plan,
            rng,
            table,
            Chain.patched(),
            fiber_id=spec.fiber_id or str(workflow.uuid4()),
            on_progress=self._report,
        )
        workflow.upsert_search_attributes(
            [
                sa.FIBER_TYPE.value_set(kind.name),
                sa.INITIATOR.value_set(spec.parties[0].agent_id),
                sa.COUNTERPARTY.value_set(spec.parties[1].agent_id),
                sa.AGENT.value_set(spec.parties[0].agent_id),
            ]
        )
        deadline = workflow.now() + timedelta(seconds=spec.timeout_seconds)
        try:
            return await asyncio.wait_for(lifecycle.drive(), timeout=spec.timeout_seconds)
        except TimeoutError:
            pass
        except ActivityError as err:
            # At the deadline wait_for cancels the drive; an activity in flight then ends as an ActivityError
            # caused by its cancellation, which wait_for passes on instead of its TimeoutError.
            if not (isinstance(err.cause, CancelledError) and workflow.now() >= deadline):
                raise
        workflow.metric_meter().create_counter("traffic_simulator_fibers_failed").add(1, {"type": kind.name})
        return lifecycle.outcome(status="TIMEOUT")

    def _report(self, progress: FiberProgress) -> None:
        previous = self._progress
        if previous is not None and previous.state == progress.state:
            progress = progress.model_copy(update={"since": previous.since})
        self._progress = progress
        if previous is None or previous.state != progress.state:
            workflow.upsert_search_attributes(
                [sa.FIBER_STATE.value_set(progress.state), sa.FIBER_STATE_SINCE.value_set(progress.since)]
            )


class _Lifecycle:
    """The state of one drive: what ML0 last showed and what has been done so far."""

    def __init__(
        self,
        spec: FiberSpec,
        kind: FiberKind,
        plan: Plan,
        rng: random.Random,
        table: Table | None,
        chain: Chain,
        *,
        fiber_id: str,
        on_progress: Callable[[FiberProgress], None],
    ) -> None:
        self.spec, self.kind, self.plan, self.rng, self.table, self.chain = spec, kind, plan, rng, table, chain
        self.fiber_id = fiber_id
        self.on_progress = on_progress
        self.addresses = [party.address for party in spec.parties]
        self.record: FiberRecord | None = None
        self.first_ordinal: int | None = None
        self.ordinal = 0
        self.transitions = 0
        self.guard_failures = 0
        self.last_event: str | None = None
        self.moves_by_party = {party.agent_id: 0 for party in spec.parties}
        self.ended_by: str | None = None
        self.clock = SimClock(ClockState(acceleration=spec.acceleration))
        self.started = workflow.now()

    async def drive(self) -> FiberOutcome:
        meter = workflow.metric_meter()
        meter.create_counter("traffic_simulator_fibers_initiated").add(1, {"type": self.kind.name})
        await self._create()
        while True:
            assert self.record is not None
            reached = self.kind.terminal(self.record.current_state)
            if reached is not None:
                name = "traffic_simulator_fibers_completed" if reached.success else "traffic_simulator_fibers_failed"
                meter.create_counter(name).add(1, {"type": self.kind.name})
                return self.outcome(status="COMPLETED")
            if self.guard_failures > MAX_GUARD_FAILURES:
                meter.create_counter("traffic_simulator_fibers_failed").add(1, {"type": self.kind.name})
                return self.outcome(status="FAILED")
            if self.table is not None:
                step = self.kind.decide(self._view(), self.table, self.rng)
            else:
                step = self.kind.next_move(self._view(), self.addresses, self.plan, self.rng)
            if step is None:
                return self.outcome(status="FAILED")
            if isinstance(step, Wait):
                self._report(waiting_on="chain")
                await self._observe(awaiting(self.spec.endpoints, self.fiber_id, min_ordinal=step.until_ordinal))
            else:
                await self._move(step)

    async def _create(self) -> None:
        signers = self.spec.parties if self.spec.owners == "all" else self.spec.parties[:1]
        create = CreateFiber(
            endpoints=self.spec.endpoints,
            wallets=self.spec.wallets,
            fiber_id=self.fiber_id,
            definition=self.kind.definition(),
            initial_data=self.kind.initial_data(self.addresses, self.plan),
            signers=[party.agent_id for party in signers],
        )
        _, observation = await self.chain.create_until_seen(
            create,
            lambda update: awaiting(self.spec.endpoints, self.fiber_id, watch_update=update),
            self._what("create"),
        )
        self._seen(observation)

    async def _move(self, move: Move) -> None:
        assert self.record is not None
        signer = self.spec.parties[move.actor].agent_id
        self._report(waiting_on=signer)
        if move.think_seconds > 0:  # decision mode only: scripted moves take no thinking
            await self.clock.advance(round(move.think_seconds))
        before = self.record
        submit = SubmitTransition(
            endpoints=self.spec.endpoints,
            wallets=self.spec.wallets,
            fiber_id=self.fiber_id,
            event=move.event,
            payload=move.payload,
            target_sequence=before.sequence_number,
            signer=signer,
        )
        self.last_event = move.event
        _, observation = await self.chain.submit_until_seen(
            submit,
            lambda update: awaiting(
                self.spec.endpoints,
                self.fiber_id,
                known_sequence=before.sequence_number,
                known_receipt_ordinal=before.last_receipt.ordinal if before.last_receipt else None,
                watch_update=update,
            ),
            self._what(f"{move.event} by {signer}"),
        )
        self._seen(observation)
        assert self.record is not None
        if self.record.sequence_number > before.sequence_number:
            self.transitions += self.record.sequence_number - before.sequence_number
            self.moves_by_party[signer] += 1
            if self.kind.terminal(self.record.current_state) is not None:
                self.ended_by = signer
        else:
            self.guard_failures += 1

    async def _observe(self, request: AwaitFiber, *, what: str = "wait") -> FiberObservation:
        observation = await self.chain.await_fiber(request, self._what(what))
        self._seen(observation)
        return observation

    def _what(self, step: str) -> str:
        return f"{self.kind.name} {self.fiber_id}: {step}"

    def _seen(self, observation: FiberObservation) -> None:
        self.ordinal = observation.ordinal
        if self.first_ordinal is None:
            self.first_ordinal = observation.ordinal
        if observation.record is not None:
            self.record = observation.record
            self._report()

    def _view(self) -> FiberView:
        assert self.record is not None
        receipt = self.record.last_receipt
        return FiberView(
            state=self.record.current_state,
            data=self.record.state_data,
            sequence=self.record.sequence_number,
            ordinal=self.ordinal,
            last_receipt=receipt.model_dump(by_alias=True) if receipt else None,
        )

    def _report(self, waiting_on: str | None = None) -> None:
        if self.record is None:
            return
        self.on_progress(
            FiberProgress(
                fiber_id=self.fiber_id,
                fiber_type=self.kind.name,
                state=self.record.current_state,
                sequence=self.record.sequence_number,
                transitions=self.transitions,
                last_event=self.last_event,
                waiting_on=waiting_on,
                since=workflow.now(),
            )
        )

    def outcome(self, *, status: str) -> FiberOutcome:
        state = self.record.current_state if self.record else None
        reached = self.kind.terminal(state) if state else None
        return FiberOutcome(
            fiber_id=self.fiber_id,
            fiber_type=self.kind.name,
            parties=[party.agent_id for party in self.spec.parties],
            planned_outcome=self.plan.outcome,
            outcome=reached.name if reached else None,
            terminal_state=state if reached else None,
            success=bool(reached and reached.success and status == "COMPLETED"),
            status=status,
            transitions=self.transitions,
            guard_failures=self.guard_failures,
            ordinals=self.ordinal - (self.first_ordinal or self.ordinal),
            wall_seconds=(workflow.now() - self.started).total_seconds(),
            state_data=dict(self.record.state_data) if self.record else {},
            moves_by_party=dict(self.moves_by_party),
            ended_by=self.ended_by,
            sim_seconds=self.clock.now,
        )
