"""Scale-out on one machine (issue 12, item 5): the advertising study and an otto evolution run, each with
1, 2 and 4 separate worker processes (`python -m workers.main`) on one server, as wall time and activities/s
against one worker.

    python -m bench.scale_out [--workers 1,2,4] [--population 30] [--generations 5]
    python -m bench.scale_out --quick        # a tiny study and evolution: checks the bench, measures nothing

One fresh dev server, configured as simctl embeds it (SQLite file, WAL), with a namespace per study and
worker count: each measurement has task queues, workflow ids and histories of its own, and its activities
are counted from every history in its namespace. Each one also gets its own results store (a SQLite file the
workers share, as `simctl up` and a worker on one machine would) and, for otto, its own OttoChain node
(`simctl localnet ottochain`, a fresh chain) and wallet file. The workers start, report that they poll,
and only then does the clock start; every process is stopped by its pid at the end. CPU seconds of the
workers, the server and the node over the measured interval show where the machine's cores went.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

from temporalio.api.enums.v1 import EventType
from temporalio.client import Client

from bench.baseline import count_activities
from bench.machine import cpu_seconds, describe_machine
from bench.otto_evolution import PASSPHRASE, node_process
from bench.worker_processes import worker_env, worker_processes
from localnet.temporal_dev import DevServer, DevServerConfig
from models.ads import ExperimentSpec
from models.evolution import EvolutionSpec
from models.otto import OttoEndpoints
from models.settings import Settings
from models.task_queues import TaskQueue
from store.wallets import generate_pool
from workers.client import connect, wait_for_namespace
from workers.metrics import free_port
from workflows.ads.experiment import ExperimentWorkflow
from workflows.otto.evolution import EvolutionWorkflow


def load_1min() -> float:
    return os.getloadavg()[0]


@dataclass
class Measurement:
    study: str
    workers: int
    seconds: float | None  # None: did not finish within the time allowed
    workflows: int = 0
    regular: int = 0
    local: int = 0
    cpu: dict[str, float] = field(default_factory=dict)
    load: tuple[float, float] = (0.0, 0.0)
    shares: list[float] = field(default_factory=list)  # of the workflow and activity tasks, worker by worker

    @property
    def activities(self) -> int:
        return self.regular + self.local

    @property
    def per_second(self) -> float | None:
        return self.activities / self.seconds if self.seconds else None


@contextlib.asynccontextmanager
async def fresh_server(scratch: Path, namespaces: tuple[str, ...]) -> AsyncIterator[DevServer]:
    """The embedded configuration of bench/server.py, plus one namespace per measurement."""
    config = DevServerConfig(
        port=free_port(),
        headless=True,
        db_file=scratch / "temporal.db",
        log_file=scratch / "server.log",
        namespaces=namespaces,
    )
    async with DevServer(config) as server:
        yield server


def namespace_of(study: str, workers: int, position: int) -> str:
    # The position keeps a repeated count (1,2,4,1: the last a check on drift) in a namespace of its own.
    return f"scale-{study}-{position}-{workers}w"


async def measure(
    server: DevServer, scratch: Path, study: str, workers: int, position: int, args: argparse.Namespace
) -> Measurement:
    namespace = namespace_of(study, workers, position)
    run_dir = scratch / namespace
    run_dir.mkdir()
    address = server.config.address
    client = await connect(Settings(temporal_address=address, namespace=namespace), patience=30)
    await wait_for_namespace(client)
    async with contextlib.AsyncExitStack() as exits:
        node = await exits.enter_async_context(node_process(run_dir, 0.2)) if study == "otto" else None
        env = worker_env(address, namespace, run_dir / "store.db", PASSPHRASE, node.url if node else None)
        processes = await exits.enter_async_context(worker_processes(workers, env, run_dir))
        pids = {"workers": [p.pid for p in processes], "server": [server.pid or 0]}
        if node is not None:
            pids["node"] = [node.process.pid]
        cpu_before = {name: sum(cpu_seconds(pid) for pid in group) for name, group in pids.items()}
        load_before = load_1min()
        started = time.perf_counter()
        seconds: float | None
        try:
            await asyncio.wait_for(start(client, study, run_dir, node.url if node else "", args), args.timeout)
            seconds = time.perf_counter() - started
        except TimeoutError:
            seconds = None
        cpu = {name: sum(cpu_seconds(pid) for pid in group) - cpu_before[name] for name, group in pids.items()}
        load_after = load_1min()
        if seconds is None:
            with contextlib.suppress(Exception):
                await client.get_workflow_handle(f"{namespace}-run").terminate("bench.scale_out: time allowed is up")
    # Every run in the namespace is this measurement's (continue-as-new runs and children included).
    workflows, regular, local = await count_activities(client, "")
    shares = await task_shares(client, pids["workers"])
    return Measurement(study, workers, seconds, workflows, regular, local, cpu, (load_before, load_after), shares)


async def task_shares(client: Client, pids: list[int]) -> list[float]:
    """Each worker's share of the workflow and activity tasks in the namespace's histories (by the identity a
    task's started event records, ``pid@host``): that the work was spread at all, and how evenly."""
    done: Counter[str] = Counter()
    async for execution in client.list_workflows(""):
        history = await client.get_workflow_handle(execution.id, run_id=execution.run_id).fetch_history()
        for event in history.events:
            if event.event_type == EventType.EVENT_TYPE_WORKFLOW_TASK_STARTED:
                done[event.workflow_task_started_event_attributes.identity.split("@", 1)[0]] += 1
            elif event.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_STARTED:
                done[event.activity_task_started_event_attributes.identity.split("@", 1)[0]] += 1
    total = sum(done.values()) or 1
    return [done[str(pid)] / total for pid in pids]


async def start(client: Client, study: str, run_dir: Path, node_url: str, args: argparse.Namespace) -> None:
    """Run the study to its end; its top workflow's id is ``<namespace>-run``."""
    workflow_id = f"{client.namespace}-run"
    if study == "ads":
        spec = ExperimentSpec(
            id=workflow_id,
            buyers=args.buyers,
            sellers=args.sellers,
            campaigns_per_buyer=args.campaigns_per_buyer,
            days=args.days,
            seed=args.seed,
        )
        await client.execute_workflow(ExperimentWorkflow.run, spec, id=spec.id, task_queue=TaskQueue.ADS)
        return
    wallets = run_dir / "wallets.json"
    generate_pool(wallets, PASSPHRASE, count=args.population + 10, seed=1)
    evolution = EvolutionSpec(
        run_id=f"{client.namespace}-{uuid.uuid4().hex[:6]}",
        seed=args.seed,
        population=args.population,
        generations=args.generations,
        endpoints=OttoEndpoints.embedded(node_url),
        wallets=str(wallets),
        concurrency=args.concurrency,
        fiber_timeout_seconds=300,
        acceleration=0.0,
    )
    await client.execute_workflow(EvolutionWorkflow.run, evolution, id=workflow_id, task_queue=TaskQueue.OTTO)


def row(run: Measurement, first: Measurement | None) -> str:
    cores = sum(run.cpu.values()) / run.seconds if run.seconds else None
    cpu = " + ".join(f"{value:.1f}" for value in run.cpu.values())
    load = f"{run.load[0]:.1f}→{run.load[1]:.1f}"
    shares = " / ".join(f"{share:.0%}" for share in run.shares)
    if run.seconds is None or run.per_second is None:
        return f"| {run.study} | {run.workers} | not finished | | {run.activities} | | | {shares} | {cpu} | | {load} |"
    speedup = rate = ""
    if first is not None and first.seconds and first.per_second:
        speedup = f"{first.seconds / run.seconds:.2f}"
        rate = f"{run.per_second / first.per_second:.2f}"
    return (
        f"| {run.study} | {run.workers} | {run.seconds:.1f} s | {speedup} | {run.activities} "
        f"({run.regular} + {run.local}) | {run.per_second:.1f} | {rate} | {shares} | {cpu} | {cores:.2f} | {load} |"
    )


HEADER = (
    "| study | workers | wall time | speed-up (1 worker's time / this) | activities (regular + local) "
    "| activities/s | activities/s vs 1 worker | tasks per worker | CPU s: workers + server (+ node) | cores busy "
    "| load (1 min) |\n"
    "|---|---:|---:|---:|---:|---:|---:|---|---:|---:|---|"
)


async def main(args: argparse.Namespace) -> None:
    counts = [int(n) for n in args.workers.split(",")]
    studies = [s for s in ("ads", "otto") if s in args.studies.split(",")]
    print(f"machine: {describe_machine()}")
    print(
        f"ads:     {args.buyers} buyers x {args.campaigns_per_buyer} campaigns, {args.sellers} sellers, "
        f"{args.days} days, scenarios A, B, C, seed {args.seed}, acceleration 0"
    )
    print(
        f"otto:    population {args.population}, {args.generations} generations, concurrency {args.concurrency}, "
        f"seed {args.seed}, a fresh node process per run (snapshot every 0.2 s)"
    )
    print(f"server:  one fresh dev server (SQLite file, WAL), a namespace per run; workers: {counts}", flush=True)
    results: list[Measurement] = []
    with tempfile.TemporaryDirectory(prefix="simctl-bench-scale-out-") as scratch_dir:
        scratch = Path(scratch_dir)
        namespaces = tuple(namespace_of(s, n, i) for s in studies for i, n in enumerate(counts))
        async with fresh_server(scratch, namespaces) as server:
            for study in studies:
                for position, workers in enumerate(counts):
                    print(f"{study}, {workers} worker(s), starting at load {load_1min():.1f}", flush=True)
                    run = await measure(server, scratch, study, workers, position, args)
                    results.append(run)
                    first = next((r for r in results if r.study == study and r.workers == 1), None)
                    # The row at once: a run stopped half-way still leaves the figures measured so far.
                    print(row(run, first), flush=True)
    print()
    print(HEADER)
    for study in studies:
        runs = [run for run in results if run.study == study]
        first = next((run for run in runs if run.workers == 1), None)
        for run in runs:
            print(row(run, first))


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        "--workers", default="1,2,4", help="worker process counts in order, comma-separated; ratios are to the first 1"
    )
    parser.add_argument("--studies", default="ads,otto", help="ads, otto or both")
    parser.add_argument("--quick", action="store_true", help="tiny sizes: 3 days x 4 campaigns; population 10 x 2")
    parser.add_argument("--buyers", type=int, default=5)
    parser.add_argument("--sellers", type=int, default=5)
    parser.add_argument("--campaigns-per-buyer", type=int, default=10)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--population", type=int, default=30)
    parser.add_argument("--generations", type=int, default=5)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--timeout", type=float, default=900, help="seconds a run may take before it is stopped")
    args = parser.parse_args(argv)
    if args.quick:
        args.buyers, args.sellers, args.campaigns_per_buyer, args.days = 2, 2, 2, 3
        args.population, args.generations = 10, 2
    return args


if __name__ == "__main__":
    asyncio.run(main(parse()))
