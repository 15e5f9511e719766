"""FiberWorkflow in decision mode on the real dev server against the embedded node: no outcome is given;
the parties decide every move from their own traits, and the outcome is what their moves lead to."""

from __future__ import annotations

import random
import uuid

import httpx
import pytest
from temporalio.client import Client

from localnet.ottochain.server import OttoChainServer
from models.otto import FIBER_TYPES, AgentTraits, FiberOutcome, FiberSpec, OttoEndpoints, Party
from sim.otto.fibers import FIBER_KINDS
from tests.otto.conftest import Pool
from tests.otto.test_fiber_workflow import read_ml0
from workflows.otto.fiber import FiberWorkflow

WILLING = {"cooperativeness": 1.0, "risk_tolerance": 1.0, "activity_level": 1.0}
UNWILLING = {"cooperativeness": 0.0, "risk_tolerance": 0.0, "activity_level": 1.0}


def traits(*, response_speed: float = 0.5, **behaviour: float) -> AgentTraits:
    return AgentTraits(
        fiber_weights={name: 1 / len(FIBER_TYPES) for name in FIBER_TYPES},
        response_speed=response_speed,
        **{"activity_level": 0.5, "risk_tolerance": 0.5, "cooperativeness": 0.5, **behaviour},
    )


def with_traits(parties: list[Party], every: list[AgentTraits]) -> list[Party]:
    return [party.model_copy(update={"traits": t}) for party, t in zip(parties, every, strict=True)]


def decision_spec(pool: Pool, endpoints: OttoEndpoints, fiber_type: str, every: list[AgentTraits], **overrides):
    return FiberSpec(
        fiber_type=fiber_type,
        parties=with_traits(pool.take(len(every)), every),
        seed=5,
        endpoints=endpoints,
        wallets=str(pool.path),
        **{"timeout_seconds": 120, **overrides},
    )


async def run(client: Client, task_queue: str, spec: FiberSpec) -> FiberOutcome:
    return await client.execute_workflow(
        FiberWorkflow.run, spec, id=f"decide-{uuid.uuid4().hex[:10]}", task_queue=task_queue
    )


async def assert_as_on_ml0(result: FiberOutcome, spec: FiberSpec, http: httpx.AsyncClient, endpoints: OttoEndpoints):
    """What the workflow reports is what ML0 shows, and every applied move is counted to its signer."""
    assert result.planned_outcome is None, "decision mode plans no outcome"
    record = await read_ml0(http, endpoints, result.fiber_id)
    assert record["stateData"] == result.state_data
    assert record["sequenceNumber"] == result.transitions == sum(result.moves_by_party.values())
    assert set(result.moves_by_party) == {party.agent_id for party in spec.parties}
    assert sorted(record["owners"]) == sorted(party.address for party in spec.parties)
    if result.status == "COMPLETED":
        kind = FIBER_KINDS[spec.fiber_type]
        reached = kind.terminal(record["currentState"])
        assert reached is not None and (result.outcome, result.terminal_state) == (reached.name, reached.state)
        assert result.success is reached.success
        assert result.ended_by in result.moves_by_party and result.moves_by_party[result.ended_by] > 0
    else:
        assert result.status == "TIMEOUT" and result.outcome is None and result.ended_by is None


@pytest.mark.parametrize("fiber_type", FIBER_TYPES)
@pytest.mark.parametrize("willing", [True, False], ids=["cooperative", "uncooperative"])
async def test_wholly_cooperative_parties_succeed_and_wholly_uncooperative_ones_fail(
    fiber_type: str,
    willing: bool,
    client: Client,
    otto_worker,
    task_queue: str,
    pool: Pool,
    endpoints: OttoEndpoints,
    http: httpx.AsyncClient,
):
    kind = FIBER_KINDS[fiber_type]
    behaviour = WILLING if willing else UNWILLING
    spec = decision_spec(pool, endpoints, fiber_type, [traits(**behaviour) for _ in range(kind.min_parties)])
    async with otto_worker():
        result = await run(client, task_queue, spec)

    assert result.status == "COMPLETED" and result.guard_failures == 0
    assert result.success is willing, result.outcome
    await assert_as_on_ml0(result, spec, http, endpoints)


@pytest.mark.parametrize("fiber_type", FIBER_TYPES)
async def test_mixed_parties_reach_a_terminal_state_that_follows_from_their_moves(
    fiber_type: str,
    client: Client,
    otto_worker,
    task_queue: str,
    pool: Pool,
    endpoints: OttoEndpoints,
    http: httpx.AsyncClient,
):
    kind = FIBER_KINDS[fiber_type]
    rng = random.Random(fiber_type)
    every = [
        traits(
            cooperativeness=rng.random(),
            risk_tolerance=rng.random(),
            activity_level=rng.random(),
            response_speed=rng.random(),
        )
        for _ in range(kind.max_parties if kind.max_parties <= 4 else kind.min_parties + 1)
    ]
    spec = decision_spec(pool, endpoints, fiber_type, every)
    async with otto_worker():
        result = await run(client, task_queue, spec)
    assert result.status in ("COMPLETED", "TIMEOUT")
    await assert_as_on_ml0(result, spec, http, endpoints)


async def test_contract_an_uncooperative_counterparty_rejects_a_cooperative_pair_completes(
    client: Client, otto_worker, task_queue: str, pool: Pool, endpoints: OttoEndpoints, http: httpx.AsyncClient
):
    rejecting = decision_spec(pool, endpoints, "Contract", [traits(**WILLING), traits(**UNWILLING)])
    completing = decision_spec(pool, endpoints, "Contract", [traits(**WILLING), traits(**WILLING)])
    async with otto_worker():
        rejected = await run(client, task_queue, rejecting)
        completed = await run(client, task_queue, completing)

    proposer, counterparty = (party.agent_id for party in rejecting.parties)
    assert (rejected.outcome, rejected.terminal_state, rejected.ended_by) == ("reject", "REJECTED", counterparty)
    assert rejected.moves_by_party == {proposer: 0, counterparty: 1}
    assert (completed.outcome, completed.terminal_state, completed.success) == ("complete", "COMPLETED", True)
    assert completed.moves_by_party[counterparty] >= 2 and completed.moves_by_party[proposer] >= 1  # accept, deliver
    assert {c["party"] for c in completed.state_data["completions"]} == {p.address for p in completing.parties}
    for result, spec in ((rejected, rejecting), (completed, completing)):
        await assert_as_on_ml0(result, spec, http, endpoints)


async def test_a_reputation_below_the_counterpartys_risk_tolerance_is_refused(
    client: Client, otto_worker, task_queue: str, pool: Pool, endpoints: OttoEndpoints
):
    """The proposer's reputation, as observed when the lifecycle was arranged, travels on its Party."""
    averse = traits(cooperativeness=1.0, risk_tolerance=0.0)
    spec = decision_spec(pool, endpoints, "Contract", [traits(**WILLING), averse])
    unproven = spec.parties[0].model_copy(update={"reputation": 0})
    async with otto_worker():
        result = await run(client, task_queue, spec.model_copy(update={"parties": [unproven, spec.parties[1]]}))
    assert result.outcome == "reject" and result.ended_by == spec.parties[1].agent_id


async def test_thinking_takes_simulated_time_on_durable_timers(
    client: Client, otto_worker, task_queue: str, pool: Pool, endpoints: OttoEndpoints
):
    """TicTacToe thinks up to 60 simulated seconds a move; at 600x each pause is a timer of at most 0.1 s."""
    spec = decision_spec(pool, endpoints, "TicTacToe", [traits(**WILLING, response_speed=0.5)] * 2, acceleration=600.0)
    async with otto_worker():
        handle = await client.start_workflow(
            FiberWorkflow.run, spec, id=f"decide-{uuid.uuid4().hex[:10]}", task_queue=task_queue
        )
        result = await handle.result()
    assert result.status == "COMPLETED" and result.success
    timers = [
        e.timer_started_event_attributes.start_to_fire_timeout.ToTimedelta().total_seconds()
        async for e in handle.fetch_history_events()
        if e.HasField("timer_started_event_attributes")
    ]
    thinking = timers[1:]  # the first is the lifecycle's own timeout
    assert timers[0] == spec.timeout_seconds
    assert len(thinking) == result.transitions, "one pause before every move"
    assert all(0 < t <= 60 / 600 for t in thinking)
    assert result.sim_seconds == pytest.approx(sum(thinking) * 600, abs=1)


async def test_a_chain_slower_than_the_lifecycle_timer_ends_in_a_timeout_not_a_failure(
    client: Client, otto_worker, task_queue: str, pool: Pool, node: OttoChainServer
):
    """The 3 s timer fires while the create is still in flight (every request takes 8 s): the lifecycle ends as
    TIMEOUT; the activity's cancellation is not a failure of the workflow."""
    spec = decision_spec(pool, node.endpoints, "Contract", [traits(**WILLING)] * 2, timeout_seconds=3)
    node.chain.faults.latency = 8.0
    try:
        async with otto_worker():
            result = await run(client, task_queue, spec)
    finally:
        node.chain.faults.latency = 0.0
    assert result.status == "TIMEOUT" and result.transitions == 0 and not result.success


async def test_parties_too_slow_for_the_lifecycle_timer_end_in_a_timeout(
    client: Client, otto_worker, task_queue: str, pool: Pool, endpoints: OttoEndpoints, http: httpx.AsyncClient
):
    """A day of thinking per answer at 1000x is over a minute of real time: the 3 s timer fires first."""
    slow = [traits(**WILLING, response_speed=0.0)] * 2
    spec = decision_spec(pool, endpoints, "Contract", slow, acceleration=1000.0, timeout_seconds=3)
    async with otto_worker():
        result = await run(client, task_queue, spec)
    assert result.status == "TIMEOUT" and result.transitions == 0
    await assert_as_on_ml0(result, spec, http, endpoints)
