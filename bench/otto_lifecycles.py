"""OttoChain lifecycles per second: a mix of the seven fiber types, driven through both sides on the
embedded node over HTTP, against the bare baseline with the same activity count, in the same run.

    python -m bench.otto_lifecycles [--lifecycles N] [--snapshot-interval S]
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import tempfile
import time
import uuid
from pathlib import Path

import httpx
from temporalio.worker import Worker

from activities.otto.fibers import FiberActivities
from activities.otto.keyring import Keyring
from bench.baseline import count_activities, measure_baseline
from bench.machine import describe_machine
from bench.server import benchmark_client
from localnet.ottochain.chain import Faults
from localnet.ottochain.server import OttoChainServer
from models.otto import FiberSpec, OttoEndpoints, Party
from sim.otto.fibers import FIBER_KINDS
from store.wallets import generate_pool
from workers.runner import project_runner
from workflows.otto.fiber import FiberWorkflow

PASSPHRASE = "bench"


def make_pool(path: Path, size: int) -> list[Party]:
    store = generate_pool(path, PASSPHRASE, count=size, seed=1)
    return [Party(agent_id=a.id, address=a.address) for a in store.agents]


def lifecycle_specs(
    count: int, parties: list[Party], endpoints: OttoEndpoints, wallets: Path, *, timeout_seconds: float
) -> list[FiberSpec]:
    """``count`` lifecycles of every type and every outcome in turn, their parties taken round the pool."""
    cases = itertools.cycle([(kind, outcome.name) for kind in FIBER_KINDS.values() for outcome in kind.outcomes])
    specs = []
    for index in range(count):
        kind, outcome = next(cases)
        offset = (index * 3) % (len(parties) - kind.max_parties)
        specs.append(
            FiberSpec(
                fiber_type=kind.name,
                parties=parties[offset : offset + kind.min_parties],
                outcome=outcome,
                seed=index,
                endpoints=endpoints,
                wallets=str(wallets),
                timeout_seconds=timeout_seconds,
            )
        )
    return specs


async def main(args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory(prefix="simctl-bench-otto-") as scratch:
        wallets = Path(scratch) / "wallets.json"
        parties = make_pool(wallets, 40)
        async with (
            benchmark_client(None) as (client, server),
            OttoChainServer(faults=Faults(snapshot_interval=args.snapshot_interval)) as node,
            httpx.AsyncClient(timeout=10, limits=httpx.Limits(max_connections=200)) as http,
        ):
            fibers = FiberActivities(http, Keyring(PASSPHRASE))
            queue = f"bench-otto-{uuid.uuid4().hex[:8]}"
            specs = lifecycle_specs(args.lifecycles, parties, node.endpoints, wallets, timeout_seconds=600)
            async with Worker(
                client,
                task_queue=queue,
                workflows=[FiberWorkflow],
                activities=fibers.all(),
                workflow_runner=project_runner(client.data_converter),  # as workers.main and the baseline
            ):
                started = time.perf_counter()
                handles = [
                    await client.start_workflow(
                        FiberWorkflow.run, spec, id=f"bench-{uuid.uuid4().hex[:10]}", task_queue=queue
                    )
                    for spec in specs
                ]
                results = await asyncio.gather(*(handle.result() for handle in handles))
                elapsed = time.perf_counter() - started
            _, regular, local = await count_activities(client, handles)
            activities = regular + local
            per_lifecycle = activities / len(handles)
            baseline = await measure_baseline(client, workflows=len(handles), activities=round(per_lifecycle))

    completed = sum(r.status == "COMPLETED" for r in results)
    transitions = sum(r.transitions for r in results)
    print(f"machine:              {describe_machine()}")
    print(f"server:               {server}; OttoChain snapshot interval {args.snapshot_interval} s")
    print(
        f"lifecycles:           {len(results)} (mix of {len(FIBER_KINDS)} types, every outcome), {completed} completed"
    )
    print(f"transitions:          {transitions} ({transitions / len(results):.1f} per lifecycle)")
    print(f"activities:           {activities} ({per_lifecycle:.1f} per lifecycle)")
    print(f"wall time:            {elapsed:.2f} s")
    print(f"lifecycles/s:         {len(results) / elapsed:.2f}")
    print(f"activities/s:         {activities / elapsed:.1f}")
    print(
        f"baseline:             {baseline.workflows} x {baseline.activities_per_workflow} activities "
        f"in {baseline.seconds:.2f} s = {baseline.workflows_per_second:.2f} workflows/s, "
        f"{baseline.activities_per_second:.1f} activities/s"
    )
    print(f"ratio (activities/s): {activities / elapsed / baseline.activities_per_second:.2f} of the bare baseline")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--lifecycles", type=int, default=160)
    parser.add_argument("--snapshot-interval", type=float, default=0.2)
    asyncio.run(main(parser.parse_args()))
