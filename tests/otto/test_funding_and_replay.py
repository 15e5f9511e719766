"""Funding by faucet and by signed currency transfers; fiber histories replay deterministically."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from pathlib import Path

import httpx
from temporalio.api.history.v1 import HistoryEvent
from temporalio.client import Client, WorkflowHistory
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.worker import Replayer

from activities.otto.identity import IdentityActivities
from activities.otto.keyring import Keyring
from localnet.ottochain.chain import Faults
from localnet.ottochain.server import OttoChainServer
from models.otto import FiberSpec, FundSpec, OttoEndpoints
from tests.histories import activity_calls
from tests.otto.conftest import PASSPHRASE, Pool
from tests.polling import eventually
from workflows.otto.evolution import EvolutionWorkflow
from workflows.otto.fiber import FiberWorkflow
from workflows.otto.generation import GenerationWorkflow
from workflows.otto.identity import AttestationWorkflow, FundAgentsWorkflow, IdentityWorkflow

HISTORIES = Path(__file__).parent / "histories"
TOKENS = 100_000_000


async def balance(http: httpx.AsyncClient, endpoints: OttoEndpoints, address: str) -> int:
    return (await http.get(f"{endpoints.ml0_url}/currency/{address}/balance")).json()["balance"]


async def test_fund_by_faucet_then_by_transfer_from_a_funder(
    client: Client, otto_worker, task_queue: str, pool: Pool, endpoints: OttoEndpoints, http: httpx.AsyncClient
):
    funder, *recipients = pool.take(4)
    identity = IdentityActivities(http, Keyring(PASSPHRASE))
    async with otto_worker(FundAgentsWorkflow, extra_activities=[identity.top_up]):

        async def fund(spec: FundSpec):
            return await client.execute_workflow(
                FundAgentsWorkflow.run, spec, id=f"fund-{uuid.uuid4().hex[:8]}", task_queue=task_queue
            )

        by_faucet = await fund(
            FundSpec(
                endpoints=endpoints,
                wallets=str(pool.path),
                recipients=[funder, *recipients],
                target_balance=1000 * TOKENS,
            )
        )
        again = await fund(
            FundSpec(endpoints=endpoints, wallets=str(pool.path), recipients=recipients, target_balance=1000 * TOKENS)
        )
        by_transfer = await fund(
            FundSpec(
                endpoints=endpoints,
                wallets=str(pool.path),
                recipients=recipients,
                target_balance=1200 * TOKENS,
                funder=funder.agent_id,
            )
        )

    assert [r.paid for r in by_faucet] == [1000 * TOKENS] * 4
    assert [r.paid for r in again] == [0, 0, 0], "topping up is idempotent"
    assert [r.after for r in by_transfer] == [1200 * TOKENS] * 3
    assert await balance(http, endpoints, funder.address) == (1000 - 3 * 200) * TOKENS
    reference = (await http.get(f"{endpoints.cl1_url}/transactions/last-reference/{funder.address}")).json()
    assert reference["ordinal"] == 3, "three chained transfers from the funder"


async def test_a_top_up_paid_before_the_first_snapshot_is_reported_as_paid(
    client: Client, otto_worker, task_queue: str, pool: Pool, http: httpx.AsyncClient
):
    """ML0 answers 503 until its first snapshot: the attempt that paid must wait it out, not fail and
    leave a retry to find the balance topped up and report nothing paid."""
    async with OttoChainServer(faults=Faults(snapshot_interval=0.05, snapshot_stall=True)) as fresh:
        [agent] = pool.take(1, offset=8)
        identity = IdentityActivities(http, Keyring(PASSPHRASE))
        spec = FundSpec(
            endpoints=fresh.endpoints, wallets=str(pool.path), recipients=[agent], target_balance=500 * TOKENS
        )
        async with otto_worker(FundAgentsWorkflow, extra_activities=[identity.top_up]):
            handle = await client.start_workflow(
                FundAgentsWorkflow.run, spec, id=f"fund-{uuid.uuid4().hex[:8]}", task_queue=task_queue
            )
            await eventually(lambda: fresh.chain.balance(agent.address) > 0, what="the faucet paying")
            assert fresh.chain.state.ordinal == 0, "paid before the first snapshot"
            fresh.chain.faults.snapshot_stall = False
            [result] = await handle.result()
        assert (result.before, result.paid, result.after) == (0, 500 * TOKENS, 500 * TOKENS)
        attempts = [
            e.activity_task_started_event_attributes.attempt
            async for e in handle.fetch_history_events()
            if e.HasField("activity_task_started_event_attributes")
        ]
        assert attempts == [1], "the paying attempt finished the job"


async def test_fiber_history_replays_with_the_current_code(
    client: Client, otto_worker, task_queue: str, pool: Pool, endpoints: OttoEndpoints
):
    spec = FiberSpec(
        fiber_type="TicTacToe",
        parties=pool.take(2),
        outcome="timeout",
        seed=2,
        endpoints=endpoints,
        wallets=str(pool.path),
        timeout_seconds=120,
    )
    async with otto_worker():
        handle = await client.start_workflow(
            FiberWorkflow.run, spec, id=f"replay-{uuid.uuid4().hex[:8]}", task_queue=task_queue
        )
        assert (await handle.result()).outcome == "timeout"
    history = await handle.fetch_history()
    result = await Replayer(workflows=[FiberWorkflow], data_converter=pydantic_data_converter).replay_workflow(history)
    assert result.replay_failure is None


def saved(name: str) -> WorkflowHistory:
    return WorkflowHistory.from_json(name, json.loads((HISTORIES / f"{name}.json").read_text()))


def test_saved_histories_cover_both_ways_of_sending_an_update():
    """v1 sends an update and waits for it in two activities, v2 in one: the replay below covers both branches."""
    for name in ("fiber-tictactoe-win", "fiber-contract-decided", "attestation-skill"):
        v1, v2 = saved(f"v1-{name}"), saved(f"v2-{name}")
        assert activity_calls(v1, "otto.submit_transition") > 0 and activity_calls(v1, "otto.await_fiber") > 0
        assert activity_calls(v1, "otto.submit_and_await") == 0
        assert activity_calls(v2, "otto.submit_and_await") == activity_calls(v1, "otto.submit_transition")
        assert activity_calls(v2, "otto.create_and_await") == activity_calls(v1, "otto.create_fiber") == 1
        assert activity_calls(v2, "otto.submit_transition") == activity_calls(v2, "otto.await_fiber") == 0


def first_before_last_lifecycle_ended(history: WorkflowHistory, marks: Callable[[HistoryEvent], bool]) -> bool:
    """Did the generation record its first event that ``marks`` picks before its last FiberWorkflow child ended?"""
    children: dict[int, str] = {}
    first = last_lifecycle = None
    for event in history.events:
        if first is None and marks(event):
            first = event.event_id
        if event.HasField("start_child_workflow_execution_initiated_event_attributes"):
            started = event.start_child_workflow_execution_initiated_event_attributes
            children[event.event_id] = started.workflow_type.name
        elif event.HasField("child_workflow_execution_completed_event_attributes"):
            initiated = event.child_workflow_execution_completed_event_attributes.initiated_event_id
            if children[initiated] == "FiberWorkflow":
                last_lifecycle = event.event_id
    assert first is not None and last_lifecycle is not None
    return first < last_lifecycle


def first_report_before_last_lifecycle_ended(history: WorkflowHistory) -> bool:
    """Did the generation send a contract report's create before its last FiberWorkflow child ended?"""

    def creates(event: HistoryEvent) -> bool:
        return event.HasField("activity_task_scheduled_event_attributes") and (
            event.activity_task_scheduled_event_attributes.activity_type.name
            in ("otto.create_fiber", "otto.create_and_await", "otto.create_and_fire")
        )

    return first_before_last_lifecycle_ended(history, creates)


def children_started(history: WorkflowHistory, workflow_type: str) -> int:
    return sum(
        event.start_child_workflow_execution_initiated_event_attributes.workflow_type.name == workflow_type
        for event in history.events
        if event.HasField("start_child_workflow_execution_initiated_event_attributes")
    )


def test_saved_generation_histories_cover_both_ways_of_reporting_and_attesting():
    """v1 files a generation's contract reports after its last lifecycle and issues attestations through
    AttestationWorkflow children; v2 files reports as each lifecycle ends and issues attestations itself."""
    v1, v2 = saved("v1-generation-0"), saved("v2-generation-0")
    assert not first_report_before_last_lifecycle_ended(v1)
    assert first_report_before_last_lifecycle_ended(v2)
    assert children_started(v1, "AttestationWorkflow") > 0
    assert children_started(v2, "AttestationWorkflow") == 0
    assert activity_calls(v2, "otto.create_and_await") > children_started(v2, "FiberWorkflow") > 0


def test_saved_histories_cover_a_document_fiber_in_one_activity():
    """v3 creates a document fiber (an attestation, a contract report) and fires its event in one activity, where
    v2 used two: the replay below covers both branches."""
    for name in ("attestation-skill", "generation-0"):
        v2, v3 = saved(f"v2-{name}"), saved(f"v3-{name}")
        assert activity_calls(v2, "otto.create_and_fire") == 0 and activity_calls(v2, "otto.create_and_await") > 0
        assert activity_calls(v3, "otto.create_and_fire") > 0
        assert activity_calls(v3, "otto.create_and_await") == activity_calls(v3, "otto.submit_and_await") == 0
    assert first_report_before_last_lifecycle_ended(saved("v3-generation-0"))


def patches(history: WorkflowHistory) -> set[str]:
    """The patch ids a history's workflow took (``workflow.patched`` records a marker for each)."""
    return {
        json.loads(event.marker_recorded_event_attributes.details["patch-data"].payloads[0].data)["id"]
        for event in history.events
        if event.HasField("marker_recorded_event_attributes")
        and event.marker_recorded_event_attributes.marker_name == "core_patch"
    }


def test_saved_histories_cover_newcomers_registered_while_lifecycles_run():
    """v4 registers a generation's newcomers while its lifecycles run, v3 after selection: the replay below covers
    both branches."""
    v3, v4 = saved("v3-generation-0"), saved("v4-generation-0")
    assert "otto-enrol-newcomers-early" not in patches(v3)
    assert "otto-enrol-newcomers-early" in patches(v4)
    assert first_before_last_lifecycle_ended(
        v4,
        lambda event: (
            event.HasField("start_child_workflow_execution_initiated_event_attributes")
            and event.start_child_workflow_execution_initiated_event_attributes.workflow_type.name == "IdentityWorkflow"
        ),
    )
    assert activity_calls(v4, "otto.create_and_fire") > 0


def test_saved_histories_cover_both_ways_of_awaiting_a_registration():
    """v5 awaits a new identity in quiet spells, ready to register again, v3 and before waited on: the replay below
    covers both branches."""
    v3, v5 = saved("v3-identity-activate"), saved("v5-identity-activate")
    assert "otto-register-again-when-lost" not in patches(v3)
    assert "otto-register-again-when-lost" in patches(v5)
    assert activity_calls(v5, "otto.register_identity") == activity_calls(v3, "otto.register_identity") == 1


async def test_saved_histories_still_replay():
    """Histories recorded from earlier runs: a change that makes workflow code nondeterministic fails here."""
    files = sorted(HISTORIES.glob("*.json"))
    assert {path.name[:3] for path in files} == {"v1-", "v2-", "v3-", "v4-", "v5-"}
    replayer = Replayer(
        workflows=[
            FiberWorkflow,
            IdentityWorkflow,
            AttestationWorkflow,
            FundAgentsWorkflow,
            GenerationWorkflow,
            EvolutionWorkflow,
        ],
        data_converter=pydantic_data_converter,
    )
    for path in files:
        result = await replayer.replay_workflow(saved(path.stem), raise_on_replay_failure=False)
        assert result.replay_failure is None, f"{path.name}: {result.replay_failure}"
