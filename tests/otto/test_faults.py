"""Self-healing: with slow snapshots and one request in five failing, every lifecycle still completes once."""

from __future__ import annotations

import asyncio
import itertools
import uuid
from collections import Counter

from temporalio.client import Client

from localnet.ottochain.chain import Faults
from localnet.ottochain.server import OttoChainServer
from models.otto import FiberSpec
from sim.otto.fibers import FIBER_KINDS
from tests.otto.conftest import Pool
from workflows.otto.fiber import FiberWorkflow

BATCH = 50


async def test_batch_completes_under_faults_and_no_transition_applies_twice(
    client: Client, otto_worker, task_queue: str, pool: Pool
):
    cases = itertools.cycle([(kind, outcome.name) for kind in FIBER_KINDS.values() for outcome in kind.outcomes])
    faults = Faults(error_rate=0.2, snapshot_interval=0.4, seed=3)
    async with OttoChainServer(faults=faults) as node, otto_worker():
        specs = []
        for index in range(BATCH):
            kind, outcome = next(cases)
            offset = index % (len(pool.parties) - kind.min_parties + 1)
            specs.append(
                FiberSpec(
                    fiber_type=kind.name,
                    parties=pool.take(kind.min_parties, offset),
                    outcome=outcome,
                    seed=index,
                    endpoints=node.endpoints,
                    wallets=str(pool.path),
                    timeout_seconds=300,
                )
            )
        handles = [
            await client.start_workflow(
                FiberWorkflow.run, spec, id=f"fault-{uuid.uuid4().hex[:10]}", task_queue=task_queue
            )
            for spec in specs
        ]
        results = await asyncio.gather(*(handle.result() for handle in handles))
        chain = node.chain

    assert [r.status for r in results] == ["COMPLETED"] * BATCH
    assert all(r.outcome == spec.outcome for r, spec in zip(results, specs, strict=True))

    applied = Counter((a.fiber_id, a.sequence_number) for a in chain.state.applied)
    assert max(applied.values()) == 1, "a (fiber, sequence number) was applied twice"
    per_fiber = Counter(a.fiber_id for a in chain.state.applied)
    for result in results:
        fiber = chain.state.fibers[result.fiber_id]
        assert fiber.sequence_number == result.transitions == per_fiber[result.fiber_id]

    # The faults really happened, both kinds: refused requests and requests whose reply was lost.
    assert chain.injected["before"] > 50 and chain.injected["after"] > 50
    assert len(chain.state.fibers) == BATCH


async def test_an_update_the_node_acknowledged_and_lost_is_sent_again_and_applied_once(
    client: Client, otto_worker, task_queue: str, pool: Pool
):
    # DL1 answers with a hash and loses every fourth valid update (a node that dies before its next snapshot);
    # each loss costs the lifecycle a quiet spell of POLL_SECONDS before it sends the update again.
    faults = Faults(forget_every=4, snapshot_interval=0.05)
    kinds = [FIBER_KINDS["SimpleOrder"], FIBER_KINDS["TokenEscrow"]]
    async with OttoChainServer(faults=faults) as node, otto_worker():
        specs = [
            FiberSpec(
                fiber_type=kind.name,
                parties=pool.take(kind.min_parties, index),
                outcome=kind.outcomes[0].name,
                seed=index,
                endpoints=node.endpoints,
                wallets=str(pool.path),
                timeout_seconds=600,
            )
            for index, kind in enumerate(kinds)
        ]
        results = await asyncio.gather(
            *(
                client.execute_workflow(
                    FiberWorkflow.run, spec, id=f"forget-{uuid.uuid4().hex[:10]}", task_queue=task_queue
                )
                for spec in specs
            )
        )
        chain = node.chain

    assert chain.injected["forgotten"] >= 2
    assert [r.status for r in results] == ["COMPLETED", "COMPLETED"]
    assert [r.outcome for r in results] == [spec.outcome for spec in specs]
    applied = Counter((a.fiber_id, a.sequence_number) for a in chain.state.applied)
    assert max(applied.values()) == 1, "a (fiber, sequence number) was applied twice"
    for result in results:
        assert chain.state.fibers[result.fiber_id].sequence_number == result.transitions
