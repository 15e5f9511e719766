"""The evolving simulator's throughput: a population on the embedded OttoChain node, generation after
generation, through the project's own worker (the otto queue's workflows and activities), and the lifecycle
rate against the bare baseline with the same activity count, in the same run.

    python -m bench.otto_evolution [--population 100] [--generations 20] [--snapshot-interval S]
    python -m bench.otto_evolution --soak-minutes 60     # runs until then; samples once a minute
    python -m bench.otto_evolution --activity-workers 1  # the activities in a worker process of their own

The node runs as its own process (``simctl localnet ottochain``, SQLite state file), so its memory is
measured apart from the worker's (this process) and the dev server's. Every agent takes part in at least
one lifecycle per generation (the generation's plan guarantees it). Generation 0 includes registering the
population on chain, so seconds per generation are given for the generations after it. With
``--activity-workers N``, this process runs only the workflows and N ``python -m workers.main --role
activities`` processes run the activities (sharing this run's store and wallet file).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import httpx
from temporalio.client import Client, WorkflowHandle, WorkflowHistory
from temporalio.worker import Worker

from activities.otto.keyring import Keyring
from bench.baseline import activities_in, measure_baseline
from bench.machine import cpu_seconds, describe_machine
from bench.server import benchmark_client
from bench.worker_processes import worker_env, worker_processes
from models.evolution import EvolutionResult, EvolutionSpec
from models.otto import OttoEndpoints
from models.settings import Settings
from models.task_queues import TaskQueue
from store import otto as otto_store
from store.engine import open_store
from store.tables import OttoGenerationRow
from store.wallets import generate_pool
from workers.metrics import free_port
from workers.registry import QUEUES, WorkerResources, ottochain_client
from workers.runner import project_runner
from workflows.otto.evolution import EvolutionWorkflow

PASSPHRASE = "bench"
DAY = 86_400


@dataclass
class NodeProcess:
    process: subprocess.Popen[bytes]
    url: str
    chain_dir: Path


@contextlib.asynccontextmanager
async def node_process(scratch: Path, snapshot_interval: float) -> AsyncIterator[NodeProcess]:
    """`simctl localnet ottochain` on a free loopback port, stopped with SIGTERM (by its pid) at the end."""
    port = free_port()
    chain_dir = scratch / "chain"
    log = (scratch / "node.log").open("wb")
    command = [sys.executable, "-m", "simctl", "--state-dir", str(scratch / "state"), "localnet", "ottochain"]
    command += ["--port", str(port), "--chain-dir", str(chain_dir), "--snapshot-interval", str(snapshot_interval)]
    process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        async with httpx.AsyncClient(timeout=2) as http:
            for _ in range(600):
                if process.poll() is not None:
                    raise RuntimeError(f"the node exited with {process.returncode}; see {scratch / 'node.log'}")
                with contextlib.suppress(httpx.HTTPError):
                    if (await http.get(f"{url}/ml0/node/info")).status_code == 200:
                        break
                await asyncio.sleep(0.1)
            else:
                raise RuntimeError("the node did not answer within 60 s")
        yield NodeProcess(process=process, url=url, chain_dir=chain_dir)
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                await asyncio.to_thread(process.wait, 30)
            except subprocess.TimeoutExpired:
                process.kill()
                await asyncio.to_thread(process.wait)
        log.close()


def rss_mib(pid: int) -> float | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def children_of(pid: int) -> dict[int, str]:
    """Direct children of ``pid`` by name (the dev server is one of this process's)."""
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        with contextlib.suppress(OSError, IndexError, ValueError):
            stat = (entry / "stat").read_text()
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found[int(entry.name)] = (entry / "comm").read_text().strip()
    return found


async def largest_history(client: Client, run_workflow_id: str, run_id: str) -> tuple[int, int]:
    """(events, bytes) of the largest history among the run's own workflows (every continue-as-new) and its
    generations (``RUN/gN``)."""
    largest = (0, 0)
    query = "WorkflowType = 'GenerationWorkflow' OR WorkflowType = 'EvolutionWorkflow'"
    async for execution in client.list_workflows(query):
        if execution.id != run_workflow_id and not execution.id.startswith(f"{run_id}/g"):
            continue
        described = await client.get_workflow_handle(execution.id, run_id=execution.run_id).describe()
        info = described.raw_description.workflow_execution_info
        largest = max(largest, (info.history_length, info.history_size_bytes))
    return largest


async def timeline(client: Client, workflow_id: str) -> dict[str, tuple[float, float, int]]:
    """When a generation did what, from its history: for each child workflow type and activity type, seconds
    from the generation's start to the first start and to the last completion, and how many there were."""
    history = await client.get_workflow_handle(workflow_id).fetch_history()
    origin = history.events[0].event_time.ToDatetime()
    kinds: dict[int, str] = {}  # scheduling event id -> kind
    spans: dict[str, tuple[float, float, int]] = {}
    for event in history.events:
        at = (event.event_time.ToDatetime() - origin).total_seconds()
        if event.HasField("activity_task_scheduled_event_attributes"):
            kind = kinds[event.event_id] = event.activity_task_scheduled_event_attributes.activity_type.name
        elif event.HasField("start_child_workflow_execution_initiated_event_attributes"):
            attributes = event.start_child_workflow_execution_initiated_event_attributes
            kind = kinds[event.event_id] = attributes.workflow_type.name
        else:
            ended = (
                event.activity_task_completed_event_attributes.scheduled_event_id
                if event.HasField("activity_task_completed_event_attributes")
                else event.child_workflow_execution_completed_event_attributes.initiated_event_id
                if event.HasField("child_workflow_execution_completed_event_attributes")
                else None
            )
            if ended in kinds:
                first, _, count = spans[kinds[ended]]
                spans[kinds[ended]] = (first, at, count)
            continue
        first, last, count = spans.get(kind, (at, at, 0))
        spans[kind] = (first, last, count + 1)
    spans["whole generation"] = (0.0, (history.events[-1].event_time.ToDatetime() - origin).total_seconds(), 1)
    return spans


def step_latencies(histories: list[WorkflowHistory]) -> dict[str, list[float]]:
    """Where a lifecycle's steps spend their time, from FiberWorkflow histories: each activity's wait in the
    task queue (scheduled -> started), its run (started -> completed, mostly waiting for a snapshot), and the
    workflow's turnaround (completed -> the next activity scheduled: a workflow task and its queue wait)."""
    found: dict[str, list[float]] = {"queue wait": [], "activity run": [], "workflow turnaround": []}
    for history in histories:
        scheduled: dict[int, float] = {}
        started: dict[int, float] = {}
        completed_at: float | None = None
        for event in history.events:
            at = event.event_time.ToDatetime().timestamp()
            if event.HasField("activity_task_scheduled_event_attributes"):
                scheduled[event.event_id] = at
                if completed_at is not None:
                    found["workflow turnaround"].append(at - completed_at)
            elif event.HasField("activity_task_started_event_attributes"):
                start = event.activity_task_started_event_attributes
                started[start.scheduled_event_id] = at
                found["queue wait"].append(at - scheduled[start.scheduled_event_id])
            elif event.HasField("activity_task_completed_event_attributes"):
                end = event.activity_task_completed_event_attributes
                found["activity run"].append(at - started[end.scheduled_event_id])
                completed_at = at
    return found


def print_latencies(found: dict[str, list[float]]) -> None:
    print("a lifecycle's steps (seconds, median / 90th percentile):")
    for what, values in found.items():
        if values:
            deciles = statistics.quantiles(values, n=10) if len(values) > 1 else values * 9
            print(f"  {what:<28} {statistics.median(values):6.3f} / {deciles[-1]:6.3f}  ({len(values)})")


def print_timelines(timelines: list[dict[str, tuple[float, float, int]]]) -> None:
    """Medians over the generations of each kind's first start, last end and count, in the order they start."""
    kinds = {kind for spans in timelines for kind in spans}
    rows = []
    for kind in kinds:
        seen = [spans[kind] for spans in timelines if kind in spans]
        rows.append(
            (
                statistics.median(first for first, _, _ in seen),
                statistics.median(last for _, last, _ in seen),
                statistics.median(count for _, _, count in seen),
                kind,
            )
        )
    print(f"a generation's timeline (medians of generations 1-{len(timelines)}, seconds from its start):")
    for first, last, count, kind in sorted(rows):
        print(f"  {kind:<28} {first:6.2f} -> {last:6.2f}  ({count:g})")


def server_pids(node: NodeProcess, workers: list[int]) -> list[int]:
    """The dev server's processes: this process's children that are neither the node nor a worker."""
    return [pid for pid in children_of(os.getpid()) if pid != node.process.pid and pid not in workers]


def state_file_mib(chain_dir: Path) -> float:
    return sum(path.stat().st_size for path in chain_dir.glob("ottochain.db*")) / 2**20


async def sample(
    client: Client,
    http: httpx.AsyncClient,
    node: NodeProcess,
    ids: tuple[str, str],
    started: float,
    generations: int,
    workers: list[int],
) -> dict[str, str]:
    summary = (await http.get(f"{node.url}/debug/summary")).json()
    events, size = await largest_history(client, *ids)
    server_rss = sum(rss_mib(pid) or 0 for pid in server_pids(node, workers))
    load = os.getloadavg()[0]
    return {
        "minute": f"{(time.perf_counter() - started) / 60:.0f}",
        "generations": str(generations),
        "fibers": str(summary["fibers"]),
        "worker RSS MiB": f"{sum(rss_mib(pid) or 0 for pid in [os.getpid(), *workers]):.0f}",
        "node RSS MiB": f"{rss_mib(node.process.pid) or 0:.0f}",
        "server RSS MiB": f"{server_rss:.0f}",
        "state file MiB": f"{state_file_mib(node.chain_dir):.1f}",
        "snapshot ms": f"{summary['snapshots'].get('lastSeconds', 0) * 1000:.1f}",
        "largest history": f"{events} ev / {size / 1024:.0f} KiB",
        "load": f"{load:.1f}",
    }


def print_table(rows: list[dict[str, str]]) -> None:
    if not rows:
        return
    columns = list(rows[0])
    print("| " + " | ".join(columns) + " |")
    print("|" + "|".join("---:" for _ in columns) + "|")
    for row in rows:
        print("| " + " | ".join(row[c] for c in columns) + " |")


async def follow(
    client: Client,
    http: httpx.AsyncClient,
    node: NodeProcess,
    handle: WorkflowHandle,
    run_id: str,
    started: float,
    soak_minutes: float | None,
    workers: list[int],
) -> tuple[EvolutionResult, list[float], list[dict[str, str]]]:
    """Wait for the run, noting when each generation ends and, in a soak, sampling once a minute."""
    finished_at: list[float] = []
    samples: list[dict[str, str]] = []
    result_task = asyncio.create_task(handle.result())
    latest = client.get_workflow_handle(handle.id)  # the current run, across continue-as-new
    ids = (handle.id, run_id)
    next_sample = started
    while not result_task.done():
        with contextlib.suppress(Exception):  # between runs of a continue-as-new the query has no answer
            progress = await latest.query(EvolutionWorkflow.progress)
            while progress is not None and len(finished_at) < progress.next_generation:
                finished_at.append(time.perf_counter())
        if soak_minutes is not None and time.perf_counter() >= next_sample:
            next_sample += 60
            try:
                samples.append(await sample(client, http, node, ids, started, len(finished_at), workers))
            except Exception as err:  # a slow answer costs one sample, not the soak
                print(f"sample failed: {type(err).__name__}: {err}", flush=True)
                continue
            print(" | ".join(samples[-1].values()), flush=True)
        await asyncio.wait({result_task}, timeout=0.5)
    result: EvolutionResult = result_task.result()
    while len(finished_at) < result.generations_done:
        finished_at.append(time.perf_counter())
    if soak_minutes is not None:
        samples.append(await sample(client, http, node, ids, started, len(finished_at), workers))
    return result, finished_at, samples


async def main(args: argparse.Namespace) -> None:
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="simctl-bench-evolution-") as scratch_dir:
        scratch = Path(scratch_dir)
        wallets = scratch / "wallets.json"
        generate_pool(wallets, PASSPHRASE, count=args.population + 10, seed=1)
        store = scratch / "store.db"
        async with (
            benchmark_client(None) as (client, server),
            node_process(scratch, args.snapshot_interval) as node,
            open_store(f"sqlite+aiosqlite:///{store}") as engine,
            ottochain_client() as http,
            worker_processes(
                args.activity_workers,
                worker_env(client.service_client.config.target_host, client.namespace, store, PASSPHRASE),
                scratch,
                ["--role", "activities", "--queues", "otto"],
            ) as activity_workers,
        ):
            resources = WorkerResources(settings=Settings(), engine=engine, http=http, keyring=Keyring(PASSPHRASE))
            otto = next(spec for spec in QUEUES if spec.queue == TaskQueue.OTTO)
            # The server is this run's own, so the otto queue's real name is free (and the activity workers poll it).
            queue = TaskQueue.OTTO.value
            workers = [process.pid for process in activity_workers]
            run_id = f"bench-{uuid.uuid4().hex[:8]}"
            soak_seconds = args.soak_minutes * 60 if args.soak_minutes else None
            spec = EvolutionSpec(
                run_id=run_id,
                seed=args.seed,
                population=args.population,
                generations=None if soak_seconds else args.generations,
                duration_seconds=soak_seconds,
                endpoints=OttoEndpoints.embedded(node.url),
                wallets=str(wallets),
                concurrency=args.concurrency,
                continue_every=10,
                fiber_timeout_seconds=300,
                acceleration=0.0,
            )
            # The dev server is this process's child, the node another: what each costs is read from /proc.
            costs = {
                "dev server": server_pids(node, workers),
                "worker": [os.getpid()],
                **({"activity workers": workers} if workers else {}),
                "node": [node.process.pid],
            }
            cpu_before = {name: sum(map(cpu_seconds, pids)) for name, pids in costs.items()}
            # The project's runner, as `python -m workers.main` and the baseline use.
            async with Worker(
                client,
                task_queue=queue,
                workflows=list(otto.workflows),
                activities=list(otto.activities(resources)),
                no_remote_activities=bool(workers),  # local activities still run here
                workflow_runner=project_runner(client.data_converter),
            ):
                started = time.perf_counter()
                handle = await client.start_workflow(
                    EvolutionWorkflow.run, spec, id=f"bench-evolve-{run_id}", task_queue=queue
                )
                result, finished_at, samples = await follow(
                    client, http, node, handle, run_id, started, args.soak_minutes, workers
                )
                elapsed = time.perf_counter() - started
                cpu = {name: sum(map(cpu_seconds, pids)) - cpu_before[name] for name, pids in costs.items()}
            rows = await otto_store.rows(engine, OttoGenerationRow, run_id)
            lifecycles = sum(row["lifecycles"] for row in rows)
            completed = sum(row["completed"] for row in rows)
            fibers = []
            async for execution in client.list_workflows("WorkflowType = 'FiberWorkflow'"):
                fibers.append(client.get_workflow_handle(execution.id, run_id=execution.run_id))
                if len(fibers) >= args.sample:
                    break
            histories = [await fiber.fetch_history() for fiber in fibers]
            regular, local = activities_in(histories)
            latencies = step_latencies(histories)
            timelines = [
                await timeline(client, f"{run_id}/g{generation}") for generation in range(1, result.generations_done)
            ]
            per_lifecycle = (regular + local) / max(1, len(fibers))
            steady = finished_at[1:]
            per_generation = [b - a for a, b in itertools.pairwise(finished_at)]
            steady_seconds = (steady[-1] - finished_at[0]) if len(steady) >= 1 else elapsed
            steady_lifecycles = sum(row["lifecycles"] for row in rows[1:]) if len(rows) > 1 else lifecycles
            lifecycle_activities_per_second = steady_lifecycles * per_lifecycle / steady_seconds
            baseline = await measure_baseline(
                client, workflows=min(100, max(1, lifecycles // max(1, len(rows)))), activities=round(per_lifecycle)
            )

    mean_generation = statistics.mean(per_generation) if per_generation else elapsed / max(1, len(rows))
    print(f"machine:                 {describe_machine()}")
    print(f"server:                  {server}; node process, SQLite state, snapshot every {args.snapshot_interval} s")
    print(f"load average (1 min):    {load_before[0]:.1f} before, {os.getloadavg()[0]:.1f} after")
    print(
        f"run:                     population {args.population}, {result.generations_done} generations, "
        f"concurrency {args.concurrency}, {lifecycles} lifecycles ({completed} completed)"
    )
    if args.activity_workers:
        print(f"workers:                 workflows in this process, activities in {args.activity_workers} other(s)")
    print(
        f"wall time:               {elapsed:.1f} s (generation 0, with registration: {finished_at[0] - started:.1f} s)"
    )
    if per_generation:
        print(
            f"seconds per generation:  {mean_generation:.2f} mean, {statistics.median(per_generation):.2f} median, "
            f"{min(per_generation):.2f}-{max(per_generation):.2f} (generations 1-{len(per_generation)})"
        )
    print(f"generations per day:     {DAY / mean_generation:,.0f} (extrapolated)")
    print(f"activities per lifecycle: {per_lifecycle:.1f} (from {len(fibers)} FiberWorkflow histories)")
    print(
        "CPU seconds (whole run):  "
        + ", ".join(f"{name} {seconds:.0f}" for name, seconds in cpu.items())
        + f"; {sum(cpu.values()) * 1000 / max(1, lifecycles):.0f} ms per lifecycle in all"
    )
    print(f"lifecycle activities/s:  {lifecycle_activities_per_second:.1f} (generations 1-{len(per_generation)})")
    print(
        f"baseline:                {baseline.workflows} x {baseline.activities_per_workflow} activities in "
        f"{baseline.seconds:.2f} s = {baseline.activities_per_second:.1f} activities/s"
    )
    print(f"ratio (activities/s):    {lifecycle_activities_per_second / baseline.activities_per_second:.2f}")
    print_latencies(latencies)
    if timelines:
        print_timelines(timelines)
    if samples:
        print()
        print_table(samples)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--population", type=int, default=100)
    parser.add_argument("--generations", type=int, default=20)
    parser.add_argument("--soak-minutes", type=float, default=None, help="run until then, sampling once a minute")
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--snapshot-interval", type=float, default=0.2)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--activity-workers", type=int, default=0, help="run the activities in this many worker processes"
    )
    parser.add_argument("--sample", type=int, default=60, help="FiberWorkflow histories to count activities in")
    asyncio.run(main(parser.parse_args()))
