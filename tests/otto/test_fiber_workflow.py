"""FiberWorkflow on the real dev server against the embedded node over HTTP: every type, every outcome."""

from __future__ import annotations

import uuid

import httpx
import pytest
from temporalio.client import Client, WorkflowFailureError
from temporalio.exceptions import ApplicationError

from models.otto import FiberSpec, OttoEndpoints
from sim.otto.fibers import FIBER_KINDS
from tests.histories import activity_calls
from tests.otto.conftest import Pool
from workflows.otto.fiber import FiberWorkflow

CASES = [(kind.name, outcome.name) for kind in FIBER_KINDS.values() for outcome in kind.outcomes]


def spec_for(pool: Pool, endpoints: OttoEndpoints, fiber_type: str, outcome: str, **overrides) -> FiberSpec:
    kind = FIBER_KINDS[fiber_type]
    return FiberSpec(
        fiber_type=fiber_type,
        parties=pool.take(kind.min_parties),
        outcome=outcome,
        seed=7,
        endpoints=endpoints,
        wallets=str(pool.path),
        timeout_seconds=120,
        **overrides,
    )


async def read_ml0(http: httpx.AsyncClient, endpoints: OttoEndpoints, fiber_id: str) -> dict:
    response = await http.get(f"{endpoints.ml0_url}/data-application/v1/state-machines/{fiber_id}")
    response.raise_for_status()
    return response.json()


def test_every_type_has_a_success_and_a_failure_terminal():
    assert len(FIBER_KINDS) == 7
    for kind in FIBER_KINDS.values():
        assert any(o.success for o in kind.outcomes) and any(not o.success for o in kind.outcomes), kind.name


@pytest.mark.parametrize(("fiber_type", "outcome"), CASES, ids=[f"{t}-{o}" for t, o in CASES])
async def test_lifecycle_reaches_its_terminal_state_on_ml0(
    fiber_type: str,
    outcome: str,
    client: Client,
    otto_worker,
    task_queue: str,
    pool: Pool,
    endpoints: OttoEndpoints,
    http: httpx.AsyncClient,
):
    spec = spec_for(pool, endpoints, fiber_type, outcome)
    async with otto_worker():
        result = await client.execute_workflow(
            FiberWorkflow.run, spec, id=f"fiber-{uuid.uuid4().hex[:10]}", task_queue=task_queue
        )

    expected = FIBER_KINDS[fiber_type].outcome(outcome)
    assert result.status == "COMPLETED"
    assert result.outcome == outcome and result.terminal_state == expected.state
    assert result.success is expected.success
    assert result.guard_failures == 0

    record = await read_ml0(http, endpoints, result.fiber_id)
    assert record["currentState"] == expected.state
    assert record["stateData"] == result.state_data
    assert record["sequenceNumber"] == result.transitions > 0
    assert sorted(record["owners"]) == sorted(party.address for party in spec.parties), "every party owns the fiber"
    assert record["lastReceipt"]["success"] is True


async def test_move_by_a_non_owner_fails_the_workflow_without_retry(
    client: Client, otto_worker, task_queue: str, pool: Pool, endpoints: OttoEndpoints, http: httpx.AsyncClient
):
    """V1's bug, reproduced on purpose: only the initiator signs the create, so the counterparty owns nothing."""
    spec = spec_for(pool, endpoints, "Contract", "complete", owners="initiator")
    async with otto_worker():
        handle = await client.start_workflow(
            FiberWorkflow.run, spec, id=f"fiber-{uuid.uuid4().hex[:10]}", task_queue=task_queue
        )
        with pytest.raises(WorkflowFailureError) as failed:
            await handle.result()

    cause = failed.value.cause
    assert isinstance(cause, ApplicationError)
    assert cause.type == "NotSignedByOwner" and cause.non_retryable
    assert "accept by agent_001" in cause.message

    history = await handle.fetch_history()
    assert activity_calls(history, "otto.submit_and_await") == 1, "the refused move was submitted once, not retried"
    fiber_id = cause.message.split()[1].rstrip(":")
    record = await read_ml0(http, endpoints, fiber_id)
    assert record["sequenceNumber"] == 0 and record["owners"] == [spec.parties[0].address]


async def test_unknown_fiber_type_fails_fast(
    client: Client, otto_worker, task_queue: str, pool: Pool, endpoints: OttoEndpoints
):
    spec = spec_for(pool, endpoints, "Contract", "complete").model_copy(update={"fiber_type": "Chess"})
    async with otto_worker():
        with pytest.raises(WorkflowFailureError) as failed:
            await client.execute_workflow(
                FiberWorkflow.run, spec, id=f"fiber-{uuid.uuid4().hex[:10]}", task_queue=task_queue
            )
    assert isinstance(failed.value.cause, ApplicationError) and failed.value.cause.type == "UnknownFiberType"
