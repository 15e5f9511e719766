"""Fault schedules against real components (issue 13, items 2, 3 and 6), and the table in bench/RELIABILITY.md.

    python -m bench.reliability [--quick] [--out bench/RELIABILITY.md]

Each scenario runs the project's own workflows and activities on a real Temporal dev server and a real
embedded OttoChain node, injects its faults, and counts what came out: work completed, work lost (a lifecycle
that never ended, a fiber whose moves the chain forgot, a ledger entry missing) and work duplicated (an update
applied twice, a ledger entry written twice). tests/reliability/test_network_faults.py, test_infra_faults.py and
test_monero_node_kill.py run the same scenarios at a small size and assert on the same counts; the bench runs
the longer schedules. ``--only monero`` (bench/monero_faults.py) kills a monerod, then a wallet-rpc, mid-run.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import math
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any, Protocol

import httpx
from sqlalchemy.ext.asyncio import AsyncEngine
from temporalio import activity
from temporalio.client import Client
from temporalio.worker import ActivityInboundInterceptor, ExecuteActivityInput, Interceptor, Worker

from activities.otto.fibers import FiberActivities
from activities.otto.keyring import Keyring
from bench.machine import describe_machine
from bench.otto_lifecycles import lifecycle_specs
from localnet.ottochain.chain import Faults
from localnet.ottochain.server import OttoChainServer
from localnet.temporal_dev import DevServer, DevServerConfig
from models.ads import DayRecord, ExperimentSpec
from models.evolution import EvolutionResult, EvolutionSpec, GenerationStats, HealthEventKind, HealthSettings
from models.otto import OttoEndpoints, Party
from models.settings import Settings
from models.task_queues import TaskQueue
from report import load_study, write_report
from sim.ads.findings import compute_findings
from store import ads as ads_store
from store import ledger
from store import otto as otto_store
from store.engine import open_store
from store.tables import AdsClaimRow, AdsDayRow, AdsDealRow, AdsDeliveryRow, AdsEventRow, OttoGenerationRow
from store.wallets import generate_pool
from workers.client import connect, ensure_search_attributes, wait_for_namespace
from workers.metrics import free_port
from workers.registry import QUEUES, WorkerResources
from workers.runner import project_runner
from workflows.ads.experiment import ExperimentWorkflow
from workflows.otto.evolution import EvolutionWorkflow
from workflows.otto.fiber import FiberWorkflow

PASSPHRASE = "reliability"


@dataclass
class Row:
    """One line of the table: what ran, what was injected, and what came out."""

    scenario: str
    faults: str
    runs: int
    completed: str
    lost: int
    duplicated: int
    recover_s: list[float] = field(default_factory=list)
    note: str = ""
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def recovery(self) -> str:
        if not self.recover_s:
            return "n/a"
        return f"max {max(self.recover_s):.1f} s, mean {sum(self.recover_s) / len(self.recover_s):.1f} s"


# --------------------------------------------------------------------------------------------- otto helpers


def otto_settings(temporal_address: str, store_url: str, state_dir: Path) -> Settings:
    return Settings(temporal_address=temporal_address, database_url=store_url, embedded=False, state_dir=state_dir)


@contextlib.asynccontextmanager
async def otto_worker(client: Client, settings: Settings, store: AsyncEngine, queue: str) -> AsyncIterator[None]:
    """The otto queue's workflows and activities, in this process, on ``queue``."""
    otto = next(spec for spec in QUEUES if spec.queue == TaskQueue.OTTO)
    async with httpx.AsyncClient(timeout=10) as http:
        resources = WorkerResources(settings=settings, engine=store, http=http, keyring=Keyring(PASSPHRASE))
        async with Worker(
            client,
            task_queue=queue,
            workflows=list(otto.workflows),
            activities=list(otto.activities(resources)),
            workflow_runner=project_runner(client.data_converter),
        ):
            yield


def evolution(run_id: str, endpoints: OttoEndpoints, wallets: Path, population: int, generations: int, **kw: Any):
    values: dict[str, Any] = {
        "run_id": run_id,
        "seed": 7,
        "population": population,
        "generations": generations,
        "endpoints": endpoints,
        "wallets": str(wallets),
        "continue_every": 2,
        "fiber_timeout_seconds": 300,
        "acceleration": 0.0,
    }
    return EvolutionSpec(**(values | kw))


async def generations_done(store: AsyncEngine, run_id: str) -> int:
    return len(await otto_store.rows(store, OttoGenerationRow, run_id))


@dataclass
class ChainCheck:
    """The chain's applied updates against the run's lifecycles."""

    lifecycles: int = 0
    ended: int = 0
    completed: int = 0
    timeouts: int = 0
    failures: list[str] = field(default_factory=list)
    lost: int = 0
    duplicated: int = 0
    problems: list[str] = field(default_factory=list)


async def check_run_against_chain(store: AsyncEngine, run_id: str, applied: list[dict[str, Any]]) -> ChainCheck:
    """Every lifecycle ended; on chain each fiber's sequence numbers run 1..n, none twice, no update twice.

    A lifecycle that does not end, or a fiber with a gap in its applied sequence (a move the chain forgot
    after the client saw it accepted), is lost; a sequence number or an update hash seen twice is duplicated.
    """
    check = ChainCheck()
    by_fiber: dict[str, list[int]] = {}
    for update in applied:
        by_fiber.setdefault(update["fiber_id"], []).append(update["sequence_number"])
    hashes = Counter(u["update_hash"] for u in applied if u.get("update_hash"))
    twice = [h for h, n in hashes.items() if n > 1]
    check.duplicated += len(twice)
    for fiber_id, sequence in by_fiber.items():
        seen = Counter(sequence)
        doubled = sum(n - 1 for n in seen.values())
        if doubled:
            check.duplicated += doubled
            check.problems.append(f"fiber {fiber_id}: sequence numbers applied twice {sorted(sequence)}")
        if sorted(seen) != list(range(1, max(seen) + 1)):
            check.lost += 1
            check.problems.append(f"fiber {fiber_id}: gap in applied sequence numbers {sorted(seen)}")
    for row in await otto_store.rows(store, OttoGenerationRow, run_id):
        for lifecycle in json.loads(row["lifecycles_json"]):
            check.lifecycles += 1
            status = lifecycle["status"]
            if status in ("COMPLETED", "TIMEOUT", "FAILED"):
                check.ended += 1
            else:
                check.lost += 1
                check.problems.append(f"lifecycle {lifecycle['index']} of generation {row['generation']}: {status}")
            check.completed += status == "COMPLETED"
            check.timeouts += status == "TIMEOUT"
            if status == "FAILED":
                error = str(lifecycle.get("error") or "")[:300]
                check.failures.append(f"generation {row['generation']} lifecycle {lifecycle['index']}: {error}")
    return check


async def health_events(store: AsyncEngine, run_id: str) -> list[tuple[HealthEventKind, datetime]]:
    events: list[tuple[HealthEventKind, datetime]] = []
    for row in await otto_store.rows(store, OttoGenerationRow, run_id):
        stats = GenerationStats.model_validate_json(row["stats_json"])
        events.extend((event.kind, event.at) for event in stats.health_events)
    return sorted(events, key=lambda e: e[1])


async def until(condition: Callable[[], Awaitable[bool]], task: asyncio.Future[Any], what: str) -> None:
    """Wait for ``condition``; a run that ends first fails the schedule (its faults must land mid-run)."""
    while not await condition():
        if task.done():
            task.result()
            raise AssertionError(f"the run ended before {what}")
        await asyncio.sleep(0.2)


# ---------------------------------------------------------------------------------------- network faults


@dataclass
class NetworkSchedule:
    """Phases after generation 0 (registration) checkpointed: flaky for ``flaky_seconds`` (and on until the next
    checkpoint), then down for ``down_seconds`` from that checkpoint, then healthy."""

    flaky_error_rate: float = 0.3
    flaky_latency: float = 0.05
    flaky_seconds: float = 15.0
    down_seconds: float = 20.0


async def network_faults(
    client: Client,
    temporal_address: str,
    scratch: Path,
    *,
    population: int = 10,
    generations: int = 3,
    schedule: NetworkSchedule | None = None,
    seed: int = 3,
    timeout: float = 900,
) -> Row:
    """An evolution run while the node answers 5xx (before handling, or after applying with the reply lost)
    and slowly, then fails every request, then heals: every lifecycle ends, nothing is applied twice, and the
    breaker opened only once everything failed and closed after the faults stopped."""
    schedule = schedule or NetworkSchedule()
    run_id = f"netfault-{uuid.uuid4().hex[:6]}"
    queue = f"reliability-{uuid.uuid4().hex[:8]}"
    wallets = scratch / "wallets.json"
    generate_pool(wallets, PASSPHRASE, count=population + generations, seed=5)
    store_url = f"sqlite+aiosqlite:///{scratch / 'store.db'}"
    settings = otto_settings(temporal_address, store_url, scratch)
    health = HealthSettings(breaker_threshold=2, poll_seconds=0.5)
    marks: dict[str, datetime] = {}
    async with (
        open_store(store_url) as store,
        OttoChainServer(faults=Faults(snapshot_interval=0.05, seed=seed)) as node,
        otto_worker(client, settings, store, queue),
    ):
        spec = evolution(run_id, node.endpoints, wallets, population, generations, health=health)
        handle = await client.start_workflow(
            EvolutionWorkflow.run,
            spec,
            id=f"evolve-{run_id}",
            task_queue=queue,
            execution_timeout=timedelta(seconds=timeout),
        )
        task = asyncio.ensure_future(handle.result())
        faults = node.chain.faults
        try:
            await until(lambda: _at_least(store, run_id, 1), task, "generation 0 was checkpointed")
            marks["flaky"] = datetime.now(UTC)
            faults.error_rate, faults.latency = schedule.flaky_error_rate, schedule.flaky_latency
            await asyncio.sleep(schedule.flaky_seconds)
            # Down from a checkpoint on: the next generation's own reads (through the breaker) meet it at once,
            # where lifecycles already in flight would only retry their moves.
            await until(lambda: _at_least(store, run_id, 2), task, "generation 1 was checkpointed")
            marks["down"] = datetime.now(UTC)
            faults.error_rate, faults.latency = 1.0, 0.0
            await asyncio.sleep(schedule.down_seconds)
            if task.done():
                raise AssertionError("the run ended inside its fault schedule")
            marks["healed"] = datetime.now(UTC)
            faults.error_rate = 0.0
            result: EvolutionResult = await asyncio.wait_for(task, timeout)
        finally:
            faults.error_rate, faults.latency = 0.0, 0.0
            if not task.done():
                task.cancel()
        applied = [vars(a) for a in node.chain.state.applied]
        injected = dict(node.chain.injected)
        check = await check_run_against_chain(store, run_id, applied)
        events = await health_events(store, run_id)

    slack = timedelta(seconds=2)  # the workflow's clock is its task's start; ours is the knob's change
    opened = [at for kind, at in events if kind == HealthEventKind.OPENED]
    closed = [at for kind, at in events if kind == HealthEventKind.CLOSED]
    mismatches = [f"opened at {at:%H:%M:%S.%f} outside the down window" for at in opened if at < marks["down"] - slack]
    if not opened:
        mismatches.append("the breaker never opened while every request failed")
    if not closed or closed[-1] < marks["healed"] - slack:
        mismatches.append("the breaker did not close after the faults stopped")
    if events and events[-1][0] != HealthEventKind.CLOSED:
        mismatches.append(f"the last breaker event is {events[-1][0]}, not closed")
    recover = [(closed[-1] - marks["healed"]).total_seconds()] if closed else []
    return Row(
        scenario=f"otto evolution ({population} agents, {generations} generations): network faults",
        faults=(
            f"{schedule.flaky_seconds:g} s at error rate {schedule.flaky_error_rate:g} + "
            f"{schedule.flaky_latency * 1000:g} ms latency, then {schedule.down_seconds:g} s at error rate 1.0; "
            f"{injected.get('before', 0)} refused, {injected.get('after', 0)} replies dropped after applying"
        ),
        runs=1,
        completed=f"{result.generations_done}/{generations} generations, {check.ended}/{check.lifecycles} "
        f"lifecycles ended ({check.completed} completed, {check.timeouts} TIMEOUT), {len(applied)} updates",
        lost=check.lost,
        duplicated=check.duplicated,
        recover_s=recover,
        note="; ".join(check.problems + mismatches + [f"FAILED child: {f}" for f in check.failures]),
        details={
            "opened": len(opened),
            "closed": len(closed),
            "mismatches": mismatches,
            "problems": check.problems,
            "failures": check.failures,
            "injected": injected,
            "generations_done": result.generations_done,
            "lifecycles": check.lifecycles,
            "ended": check.ended,
        },
    )


async def _at_least(store: AsyncEngine, run_id: str, count: int) -> bool:
    return await generations_done(store, run_id) >= count


# ------------------------------------------------------------------------------------ node killed, restarted


@dataclass
class NodeProcess:
    """`simctl localnet ottochain` on a fixed port and chain directory, killed and started again by its PID."""

    scratch: Path
    port: int
    process: subprocess.Popen[bytes] | None = None
    starts: int = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def endpoints(self) -> OttoEndpoints:
        return OttoEndpoints.embedded(self.url)

    async def start(self) -> None:
        command = [sys.executable, "-m", "simctl", "--state-dir", str(self.scratch / "node-state"), "localnet"]
        command += ["ottochain", "--port", str(self.port), "--chain-dir", str(self.scratch / "chain")]
        command += ["--snapshot-interval", "0.05"]
        with (self.scratch / "node.log").open("ab") as log:
            self.process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        self.starts += 1
        async with httpx.AsyncClient(timeout=2) as http:
            for _ in range(600):
                if self.process.poll() is not None:
                    raise RuntimeError(f"the node exited with {self.process.returncode}; see node.log")
                with contextlib.suppress(httpx.HTTPError):
                    if (await http.get(f"{self.url}/ml0/node/info")).status_code == 200:
                        return
                await asyncio.sleep(0.1)
        raise RuntimeError("the node did not answer within 60 s")

    def kill(self) -> None:
        assert self.process is not None and self.process.poll() is None, "the node died before its kill"
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(30)

    async def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            await asyncio.to_thread(self.process.wait, 30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            await asyncio.to_thread(self.process.wait)


async def node_kills(
    client: Client,
    temporal_address: str,
    scratch: Path,
    *,
    population: int = 10,
    generations: int = 3,
    kills: int = 2,
    between: tuple[float, float] = (0.5, 2.0),
    down: tuple[float, float] = (1.0, 4.0),
    seed: int = 11,
    timeout: float = 900,
) -> Row:
    """An evolution run whose node is SIGKILLed ``kills`` times, the k-th a moment after generation k-1 is
    checkpointed, and started again on the same port from its state file: the run completes, every fiber's
    moves are on the restarted chain, none twice. Recovery: from the restart to the next update the chain
    applies."""
    rng = random.Random(seed)
    run_id = f"nodekill-{uuid.uuid4().hex[:6]}"
    queue = f"reliability-{uuid.uuid4().hex[:8]}"
    wallets = scratch / "wallets.json"
    generate_pool(wallets, PASSPHRASE, count=population + generations, seed=5)
    store_url = f"sqlite+aiosqlite:///{scratch / 'store.db'}"
    settings = otto_settings(temporal_address, store_url, scratch)
    node = NodeProcess(scratch=scratch, port=free_port())
    recover: list[float] = []
    try:
        await node.start()
        async with (
            open_store(store_url) as store,
            otto_worker(client, settings, store, queue),
            httpx.AsyncClient(timeout=10) as http,
        ):
            spec = evolution(run_id, node.endpoints, wallets, population, generations)
            handle = await client.start_workflow(
                EvolutionWorkflow.run,
                spec,
                id=f"evolve-{run_id}",
                task_queue=queue,
                execution_timeout=timedelta(seconds=timeout),
            )
            task = asyncio.ensure_future(handle.result())
            try:
                for number in range(kills):
                    # Kill k lands inside generation k, however fast the machine runs the generations.
                    checkpoints = number + 1
                    await until(
                        partial(_at_least, store, run_id, checkpoints), task, f"generation {number} was checkpointed"
                    )
                    await asyncio.wait({task}, timeout=rng.uniform(*between))
                    if task.done():
                        task.result()
                        raise AssertionError(f"the run finished before node kill {number + 1} of {kills}")
                    node.kill()
                    await asyncio.sleep(rng.uniform(*down))
                    await node.start()
                    recover.append(await _next_update(http, node.url, task))
                result: EvolutionResult = await asyncio.wait_for(task, timeout)
            finally:
                if not task.done():
                    task.cancel()
            applied = (await http.get(f"{node.url}/debug/applied")).json()
            check = await check_run_against_chain(store, run_id, applied)
    finally:
        await node.stop()
    return Row(
        scenario=f"otto evolution ({population} agents, {generations} generations): node SIGKILLed",
        faults=f"{kills} SIGKILLs of the embedded node (its own process), restarted on the same port from its "
        f"SQLite state after {down[0]:g}-{down[1]:g} s down",
        runs=1,
        completed=f"{result.generations_done}/{generations} generations, {check.ended}/{check.lifecycles} "
        f"lifecycles ended ({check.completed} completed, {check.timeouts} TIMEOUT), {len(applied)} updates",
        lost=check.lost,
        duplicated=check.duplicated,
        recover_s=recover,
        note="; ".join(check.problems + [f"FAILED child: {f}" for f in check.failures]),
        details={
            "problems": check.problems,
            "failures": check.failures,
            "generations_done": result.generations_done,
            "starts": node.starts,
        },
    )


async def _next_update(http: httpx.AsyncClient, url: str, task: asyncio.Future[Any]) -> float:
    """Seconds from the node's restart until it applied one more update than it restarted with."""
    started = time.monotonic()
    first = len((await http.get(f"{url}/debug/applied")).json())
    while not task.done():
        with contextlib.suppress(httpx.HTTPError):
            if len((await http.get(f"{url}/debug/applied")).json()) > first:
                break
        await asyncio.sleep(0.2)
    return time.monotonic() - started


# ----------------------------------------------------------------------------- Temporal server restarted


class DayGate(Interceptor):
    """Holds one study's ``ads.record_day`` activities once a set number of its campaign-days are let through.

    A fault is meant to land at a chosen share of a study. Polling the store for progress and injecting when the
    share is passed is a race the study can win on a fast machine (a small study writes ten days in 0.1 s); with
    the gate the study stops at the share and waits there for the fault (`Outage` says whether the held
    activities are let go during it or after it)."""

    def __init__(self) -> None:
        self._experiment_id = ""
        self._limit: float = math.inf
        self._admitted: set[tuple[str, str, int]] = set()
        self._changed = asyncio.Condition()

    async def hold_after(self, experiment_id: str, days: float) -> None:
        """Let ``experiment_id``'s first ``days`` campaign-days through (counting those already let through), and
        hold the rest; ``math.inf`` holds nothing."""
        async with self._changed:
            self._experiment_id, self._limit = experiment_id, days
            self._changed.notify_all()

    async def enter(self, record: DayRecord) -> None:
        key = (record.scenario, record.campaign_id, record.day)

        def admitted() -> bool:
            # A retried attempt of a day already let through is never held: it is the fault's own retry.
            return (
                record.experiment_id != self._experiment_id
                or key in self._admitted
                or len(self._admitted) < self._limit
            )

        async with self._changed:
            await self._changed.wait_for(admitted)
            if record.experiment_id == self._experiment_id:
                self._admitted.add(key)

    def intercept_activity(self, next: ActivityInboundInterceptor) -> ActivityInboundInterceptor:
        return _GatedActivities(next, self)


class _GatedActivities(ActivityInboundInterceptor):
    def __init__(self, next: ActivityInboundInterceptor, gate: DayGate) -> None:
        super().__init__(next)
        self._gate = gate

    async def execute_activity(self, input: ExecuteActivityInput) -> Any:
        if activity.info().activity_type == "ads.record_day":
            await self._gate.enter(input.args[0])
        return await super().execute_activity(input)


@contextlib.asynccontextmanager
async def ads_workers(
    client: Client, settings: Settings, store: AsyncEngine, gate: DayGate | None = None
) -> AsyncIterator[None]:
    """The platform and ads queues' workers, in this process (the ads queue's behind ``gate``, if given)."""
    async with httpx.AsyncClient(timeout=10) as http:
        resources = WorkerResources(settings=settings, engine=store, http=http, keyring=Keyring(None))
        async with contextlib.AsyncExitStack() as stack:
            for spec in QUEUES:
                if spec.queue in (TaskQueue.PLATFORM, TaskQueue.ADS):
                    worker = Worker(
                        client,
                        task_queue=spec.queue,
                        workflows=list(spec.workflows),
                        activities=list(spec.activities(resources)),
                        interceptors=[gate] if gate is not None and spec.queue == TaskQueue.ADS else [],
                        workflow_runner=project_runner(client.data_converter),
                    )
                    await stack.enter_async_context(worker)
            yield


async def study_fingerprint(store: AsyncEngine, experiment_id: str, out: Path) -> tuple[bytes, dict[str, list]]:
    """report.json, and every ledger chain of the study with its id left out: (seq, payload, sim time); and the
    study's row count in each of its tables (as a one-item chain, so a difference shows in the comparison)."""
    spec, world, rows = await load_study(store, experiment_id)
    write_report(out, experiment_id, spec, world, rows, compute_findings(spec, world, rows))
    prefix = f"ads/{experiment_id}/"
    chains: dict[str, list[Any]] = {}
    for chain in await ledger.chain_ids(store):
        if chain.startswith(prefix):
            entries, _, _ = await ledger.read_chain(store, chain)
            chains[chain.removeprefix(prefix)] = [
                (e.seq, e.payload_json.replace(experiment_id, "<id>"), e.sim_time) for e in entries
            ]
    for table in (AdsDayRow, AdsDealRow, AdsDeliveryRow, AdsClaimRow, AdsEventRow):
        chains[f"rows:{table.__tablename__}"] = [len(await ads_store.rows(store, table, experiment_id))]
    return (out / "report.json").read_bytes(), chains


def ledger_difference(calm: dict[str, list], faulted: dict[str, list]) -> tuple[int, int]:
    """(lost, duplicated) ledger entries of the faulted study against the calm one's."""
    lost = duplicated = 0
    for chain in calm.keys() | faulted.keys():
        if chain.startswith("rows:"):
            continue
        want, got = Counter(map(str, calm.get(chain, []))), Counter(map(str, faulted.get(chain, [])))
        lost += sum((want - got).values())
        duplicated += sum((got - want).values())
    return lost, duplicated


@dataclass
class StudyOutcome:
    days: int
    entries: int
    same_report: bool
    lost: int
    duplicated: int
    recover_s: list[float]
    differing: list[str]


class Outage(Protocol):
    """A server a study depends on, taken down and brought back by a fault scenario.

    ``release_while_down``: whether the campaign-days held for the fault are let go while the server is down, so
    that their writes meet it, or once it is back."""

    release_while_down: bool

    async def down(self) -> None: ...

    async def up(self) -> None: ...


async def ads_study_under_faults(
    client: Client,
    settings: Settings,
    store_url: str,
    scratch: Path,
    *,
    size: dict[str, int],
    faults: int,
    seed: int,
    outage: Outage,
    down: tuple[float, float],
    timeout: float,
) -> StudyOutcome:
    """An unfaulted study, then the same seed with ``outage`` taken down (for a seeded ``down`` seconds) and up
    again ``faults`` times at seeded shares of its campaign-days, by workers in this process; report.json and the
    ledger compared. The days that would come after a fault's share wait for it (see `DayGate`)."""
    rng = random.Random(seed)
    shares = sorted(rng.uniform(0.1, 0.8) for _ in range(faults))
    recover: list[float] = []
    gate = DayGate()
    async with open_store(store_url) as store, ads_workers(client, settings, store, gate):
        calm = ExperimentSpec(id=f"calm-{uuid.uuid4().hex[:6]}", seed=seed, **size)
        faulted = calm.model_copy(update={"id": f"faulted-{uuid.uuid4().hex[:6]}"})
        await client.execute_workflow(ExperimentWorkflow.run, calm, id=calm.id, task_queue=TaskQueue.ADS)
        total = len(await ads_store.rows(store, AdsDayRow, calm.id))
        stops = [max(1, round(share * total)) for share in shares]
        await gate.hold_after(faulted.id, stops[0])
        handle = await client.start_workflow(ExperimentWorkflow.run, faulted, id=faulted.id, task_queue=TaskQueue.ADS)
        done = 0

        async def days_done() -> int:
            nonlocal done
            # While the store itself is down, the count is the last one read.
            with contextlib.suppress(Exception):
                done = len(await ads_store.rows(store, AdsDayRow, faulted.id))
            return done

        # The result is awaited after the faults: a client call across a dead server only waits longer.
        for number, stop in enumerate(stops):
            while await days_done() < stop:
                await asyncio.sleep(0.05)
            following = stops[number + 1] if number + 1 < faults else math.inf
            await outage.down()
            if outage.release_while_down:
                await gate.hold_after(faulted.id, following)
            await asyncio.sleep(rng.uniform(*down))
            await outage.up()
            if not outage.release_while_down:
                await gate.hold_after(faulted.id, following)
            restarted, before = time.monotonic(), await days_done()
            while await days_done() == before and before < total:
                await asyncio.sleep(0.05)
            recover.append(time.monotonic() - restarted)
        await asyncio.wait_for(handle.result(), timeout)
        calm_report, calm_chains = await study_fingerprint(store, calm.id, scratch / "calm")
        faulted_report, faulted_chains = await study_fingerprint(store, faulted.id, scratch / "faulted")
    lost, duplicated = ledger_difference(calm_chains, faulted_chains)
    return StudyOutcome(
        days=total,
        entries=sum(len(e) for c, e in faulted_chains.items() if not c.startswith("rows:")),
        same_report=faulted_report == calm_report,
        lost=lost,
        duplicated=duplicated,
        recover_s=recover,
        differing=sorted(
            c for c in calm_chains.keys() | faulted_chains.keys() if calm_chains.get(c) != faulted_chains.get(c)
        ),
    )


def study_row(size: dict[str, int], what: str, faults: str, outcome: StudyOutcome) -> Row:
    campaigns = size["buyers"] * size["campaigns_per_buyer"] * 3
    same = outcome.same_report
    return Row(
        scenario=f"ads study ({campaigns} campaigns, {size['days']} days): {what}",
        faults=faults,
        runs=1,
        completed=f"{outcome.days} campaign-days, {outcome.entries} ledger entries; report.json "
        + ("byte-identical to the unfaulted run's" if same else "DIFFERS from the unfaulted run's"),
        lost=outcome.lost,
        duplicated=outcome.duplicated,
        recover_s=outcome.recover_s,
        note="" if same else f"report.json differs; tables and chains that differ: {outcome.differing}",
        details={"same_report": same, "entries": outcome.entries, "days": outcome.days},
    )


async def temporal_restarts(
    scratch: Path,
    *,
    size: dict[str, int] | None = None,
    restarts: int = 2,
    down: tuple[float, float] = (1.0, 3.0),
    seed: int = 13,
    timeout: float = 900,
) -> Row:
    """The ads study on a dev server of its own (SQLite file database), SIGKILLed ``restarts`` times at seeded
    shares of the study's campaign-days and started again on the same port and file; the workers in this
    process reconnect. report.json and every ledger chain match an unfaulted run's with the same seed."""
    size = size or {"buyers": 2, "sellers": 2, "campaigns_per_buyer": 2, "days": 8}
    config = DevServerConfig(
        port=free_port(), headless=True, db_file=scratch / "temporal.db", log_file=scratch / "temporal.log"
    )
    server = DevServer(config)

    class Killed:
        # Held activities finish in the worker; had they finished while the server was down, their completions
        # would be lost and Temporal would retry each only after its 60 s start-to-close timeout.
        release_while_down = False

        async def down(self) -> None:
            assert server.pid is not None
            os.kill(server.pid, signal.SIGKILL)
            await server.stop()

        async def up(self) -> None:
            await server.start()

    try:
        await server.start()
        client = await connect(Settings(temporal_address=config.address), patience=30)
        await wait_for_namespace(client)
        await ensure_search_attributes(client)
        store_url = f"sqlite+aiosqlite:///{scratch / 'study.db'}"
        settings = otto_settings(config.address, store_url, scratch)
        outcome = await ads_study_under_faults(
            client, settings, store_url, scratch, size=size, faults=restarts, seed=seed, outage=Killed(), down=down,
            timeout=timeout,
        )  # fmt: skip
    finally:
        await server.stop()
    faults = f"{restarts} SIGKILLs of the dev server (SQLite file), restarted on the same port after "
    faults += f"{down[0]:g}-{down[1]:g} s"
    return study_row(size, "Temporal dev server restarted", faults, outcome)


class Restartable(Protocol):
    """A server a scenario can crash and start again (tests/reliability/faults.py's PostgreSQL)."""

    @property
    def url(self) -> str: ...

    def crash(self) -> None: ...

    def start(self) -> None: ...


async def postgres_restarts(
    scratch: Path,
    postgres: Restartable,
    *,
    size: dict[str, int] | None = None,
    restarts: int = 2,
    down: tuple[float, float] = (1.0, 3.0),
    seed: int = 17,
    timeout: float = 900,
) -> Row:
    """The ads study with its results store on PostgreSQL, the server crashed (immediate shutdown) ``restarts``
    times mid-study and started again on the same port and data directory: the activities' writes fail, Temporal
    retries them, and report.json and the ledger match the unfaulted run's."""
    size = size or {"buyers": 2, "sellers": 2, "campaigns_per_buyer": 2, "days": 8}
    config = DevServerConfig(port=free_port(), headless=True, log_file=scratch / "temporal.log")

    class Crashed:
        release_while_down = True

        async def down(self) -> None:
            await asyncio.to_thread(postgres.crash)

        async def up(self) -> None:
            await asyncio.to_thread(postgres.start)

    async with DevServer(config):
        client = await connect(Settings(temporal_address=config.address), patience=30)
        await wait_for_namespace(client)
        await ensure_search_attributes(client)
        settings = otto_settings(config.address, postgres.url, scratch)
        outcome = await ads_study_under_faults(
            client, settings, postgres.url, scratch, size=size, faults=restarts, seed=seed, outage=Crashed(),
            down=down, timeout=timeout,
        )  # fmt: skip
    faults = f"{restarts} immediate shutdowns (SIGQUIT) of the store's PostgreSQL, restarted on the same port and "
    faults += f"data directory after {down[0]:g}-{down[1]:g} s"
    return study_row(size, "PostgreSQL restarted", faults, outcome)


# ------------------------------------------------------------------------------------------------- load


def rss_mib() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


async def fiber_load(client: Client, scratch: Path, *, lifecycles: int = 1000, timeout: float = 3600) -> Row:
    """``lifecycles`` FiberWorkflow lifecycles started together (every type and outcome in turn) on the embedded
    node: every one ends as asked, no move is applied twice, and this process's RSS (worker, node and client in
    one interpreter) is sampled throughout to show it stays bounded."""
    wallets = scratch / "wallets.json"
    pool = generate_pool(wallets, PASSPHRASE, count=40, seed=1)
    parties = [Party(agent_id=a.id, address=a.address) for a in pool.agents]
    queue = f"reliability-load-{uuid.uuid4().hex[:8]}"
    samples: list[float] = [rss_mib()]
    async with (
        OttoChainServer(faults=Faults(snapshot_interval=0.2)) as node,
        httpx.AsyncClient(timeout=10, limits=httpx.Limits(max_connections=200)) as http,
    ):
        fibers = FiberActivities(http, Keyring(PASSPHRASE))
        specs = lifecycle_specs(lifecycles, parties, node.endpoints, wallets, timeout_seconds=timeout)
        activities: list[Callable[..., Any]] = fibers.all()
        async with Worker(
            client,
            task_queue=queue,
            workflows=[FiberWorkflow],
            activities=activities,
            workflow_runner=project_runner(client.data_converter),
        ):
            started = time.perf_counter()
            handles = [
                await client.start_workflow(
                    FiberWorkflow.run, spec, id=f"load-{uuid.uuid4().hex[:10]}", task_queue=queue
                )
                for spec in specs
            ]
            gathered = asyncio.ensure_future(
                asyncio.gather(*(handle.result() for handle in handles), return_exceptions=True)
            )
            while not gathered.done():
                await asyncio.wait({gathered}, timeout=5)
                samples.append(rss_mib())
            results = gathered.result()
            elapsed = time.perf_counter() - started
        applied = [vars(a) for a in node.chain.state.applied]
    failed = [r for r in results if isinstance(r, BaseException)]
    ended = [r for r in results if not isinstance(r, BaseException)]
    wrong = [
        r
        for r, spec in zip(results, specs, strict=True)
        if not isinstance(r, BaseException) and r.outcome != spec.outcome
    ]
    per_fiber = Counter(a["fiber_id"] for a in applied)
    mismatched = [r.fiber_id for r in ended if r.fiber_id and per_fiber[r.fiber_id] != r.transitions]
    doubled = Counter((a["fiber_id"], a["sequence_number"]) for a in applied)
    duplicated = sum(n - 1 for n in doubled.values())
    notes = []
    if failed:
        notes.append(f"{len(failed)} failed workflows: {type(failed[0]).__name__}: {str(failed[0])[:200]}")
    if wrong:
        notes.append(f"{len(wrong)} ended with another outcome than asked")
    if mismatched:
        notes.append(f"{len(mismatched)} fibers whose transitions on chain differ from the workflow's count")
    return Row(
        scenario=f"load: {lifecycles} concurrent fiber lifecycles",
        faults="none (load); RSS of the worker+node+client process sampled every 5 s: "
        f"start {samples[0]:.0f} MiB, peak {max(samples):.0f} MiB, end {samples[-1]:.0f} MiB",
        runs=1,
        completed=f"{len(ended)}/{lifecycles} ended as asked in {elapsed:.0f} s "
        f"({lifecycles / elapsed:.2f} lifecycles/s), {len(applied)} updates",
        lost=len(failed) + len(mismatched),
        duplicated=duplicated,
        note="; ".join(notes),
        details={"failed": len(failed), "wrong": len(wrong), "peak_rss": max(samples)},
    )


# ------------------------------------------------------------------------------------------------ table


def render(rows: list[Row], machine: str, load: str, elapsed: float) -> str:
    lines = [
        "# Reliability",
        "",
        "Written by `python -m bench.reliability` (issue 13, items 2, 3 and 6). Each scenario runs the project's",
        "workflows and activities on a real Temporal dev server and a real embedded OttoChain node (real monerod",
        "and wallet-rpc for the monero rows) and injects the faults named; *lost* counts lifecycles that never",
        "ended, fibers with a gap in their applied moves, ledger entries missing against an unfaulted run and",
        "scheduled blocks or payments a monero run did not mine; *duplicated* counts updates or sequence numbers",
        "applied twice, ledger entries written twice and heights or transactions recorded twice. Time to recover:",
        "from the fault's end (the restart, or the chain answering again) to the next unit of work done (an update",
        "applied, a campaign-day recorded, the breaker closed); for monero, from the SIGKILL to the process",
        "relaunched by the run's supervisor.",
        "",
        f"Machine: {machine}. Load: {load}. Wall time of the whole bench: {elapsed / 60:.1f} min.",
        "",
        "| scenario | faults injected | runs | work completed | lost | duplicated | time to recover | notes |",
        "|---|---|---:|---|---:|---:|---|---|",
    ]
    for row in rows:
        note = row.note or "0 lost, 0 duplicated"
        lines.append(
            f"| {row.scenario} | {row.faults} | {row.runs} | {row.completed} | {row.lost} | {row.duplicated} "
            f"| {row.recovery} | {note} |"
        )
    return "\n".join([*lines, "", NOT_COVERED]) + "\n"


NOT_COVERED = """## Not covered by this bench yet

- **500 campaigns** and **a monero network at the machine's limit**: not run here; `python -m bench.ads_scale`
  and `python -m bench.monero_network --max` measure them without faults (bench/RESULTS.md)."""


def write_atomically(path: Path, text: str) -> None:
    with tempfile.NamedTemporaryFile("w", dir=path.parent, prefix=f".{path.name}.", delete=False) as out:
        out.write(text)
        temporary = Path(out.name)
    os.replace(temporary, path)


SCENARIOS = ("network", "node", "monero", "temporal", "postgres", "load")


async def main(args: argparse.Namespace) -> None:
    started = time.perf_counter()
    load_before = os.getloadavg()
    rows: list[Row] = []
    quick = args.quick
    generations = 3 if quick else 5
    study = {"buyers": 2, "sellers": 2, "campaigns_per_buyer": 2, "days": 8 if quick else 15}

    def publish() -> None:
        # After every scenario: a bench stopped half-way still leaves the rows it measured.
        load_now = os.getloadavg()
        load = (
            f"1-minute load average {load_before[0]:.1f} at the start and {load_now[0]:.1f} at the last row, on "
            f"{os.cpu_count()} cores shared with other work"
        )
        write_atomically(args.out, render(rows, describe_machine(), load, time.perf_counter() - started))

    with tempfile.TemporaryDirectory(prefix="simctl-reliability-") as scratch_dir:
        scratch = Path(scratch_dir)
        for name in SCENARIOS:
            (scratch / name).mkdir()
        config = DevServerConfig(
            port=free_port(), headless=True, db_file=scratch / "temporal.db", log_file=scratch / "temporal.log"
        )
        async with DevServer(config):
            client = await connect(Settings(temporal_address=config.address), patience=30)
            await wait_for_namespace(client)
            await ensure_search_attributes(client)
            if "network" in args.only:
                schedule = NetworkSchedule(flaky_seconds=15 if quick else 30, down_seconds=20 if quick else 40)
                rows.append(
                    await run_step(
                        "network faults",
                        network_faults(client, config.address, scratch / "network", generations=generations,
                                       schedule=schedule),
                    )
                )  # fmt: skip
                publish()
            if "node" in args.only:
                kills = 2 if quick else 4
                rows.append(
                    await run_step(
                        "node kills",
                        node_kills(client, config.address, scratch / "node", generations=generations, kills=kills),
                    )
                )
                publish()
            if "monero" in args.only:
                # Imported here: bench.monero_faults builds its rows with this module's Row.
                from bench.monero_faults import monero_kill

                for kind in ("node", "wallet"):
                    blocks = 12 if quick else 30
                    kill = monero_kill(client, scratch / "monero" / kind, kind=kind, blocks=blocks)
                    rows.append(await run_step(f"monero {kind} kill", kill))
                    publish()
            if "load" in args.only:
                rows.append(
                    await run_step("fiber load", fiber_load(client, scratch / "load", lifecycles=args.lifecycles))
                )
                publish()
        if "temporal" in args.only:
            restarts = 2 if quick else 4
            rows.append(
                await run_step(
                    "temporal restarts", temporal_restarts(scratch / "temporal", size=study, restarts=restarts)
                )
            )
            publish()
        if "postgres" in args.only:
            # The restartable server is the tests' (it starts the PostgreSQL the test extras ship).
            from tests.reliability.faults import restartable_postgres

            with restartable_postgres() as postgres:
                restarts = 2 if quick else 4
                rows.append(
                    await run_step(
                        "postgres restarts",
                        postgres_restarts(scratch / "postgres", postgres, size=study, restarts=restarts),
                    )
                )
            publish()
    print(args.out.read_text())


async def run_step(name: str, scenario: Awaitable[Row]) -> Row:
    """A scenario that crashes becomes a row that says so, and the bench goes on."""
    print(f"running {name}...", flush=True)
    try:
        row = await scenario
    except Exception as err:
        row = Row(scenario=name, faults="", runs=1, completed="did not complete", lost=0, duplicated=0)
        row.note = f"FAILED: {type(err).__name__}: {str(err)[:300]}"
    print(row, flush=True)
    return row


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="the smaller schedules (fewer kills, shorter windows)")
    parser.add_argument("--out", type=Path, default=Path(__file__).with_name("RELIABILITY.md"))
    parser.add_argument("--only", nargs="+", choices=SCENARIOS, default=list(SCENARIOS), help="scenarios to run")
    parser.add_argument("--lifecycles", type=int, default=1000, help="concurrent fiber lifecycles in the load row")
    return parser.parse_args(argv)


if __name__ == "__main__":
    asyncio.run(main(parse()))
