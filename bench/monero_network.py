"""Monerosim's reference run on real monerod, and the largest network this machine holds.

    python -m bench.monero_network [--users 10] [--marketplaces 2] [--hours 6] [--seed 1]
    python -m bench.monero_network --max [--max-nodes 64] [--max-blocks 10] [--block-limit 30]

The reference run is the one monerosim reports (15 nodes, 6 simulated hours, block_time 120 s: 888 s of wall
time under Shadow): 15 agents (3 pools with the seed's shares 0.4/0.3/0.3, 10 users, 2 marketplaces), each on a
monerod of its own as the seed lays them out (``nodes.placement: per_agent``), 180 controller blocks,
acceleration 0. The genesis snapshot (100 blocks pre-mined on an offline node) is made first and timed on its
own; the run then starts every process, funds the users and mines its blocks. The project's monero worker runs
in this process on a fresh dev server configured as simctl embeds it; results go to a SQLite file.

``--max`` grows the network (per_agent placement: a node and a wallet per agent, plus the bank's wallet) by
doubling the users until a step fails or overruns ``--step-limit``, the median block takes longer than
``--block-limit`` seconds to reach every node, or the next step's projected memory exceeds 80% of what the
machine has available; each step runs ``--max-blocks`` blocks and reports the peak RSS of every monerod and
wallet-rpc process.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import resource
import statistics
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncEngine
from temporalio import activity
from temporalio import client as temporal_client
from temporalio.client import Client
from temporalio.worker import ActivityInboundInterceptor, ExecuteActivityInput, Interceptor

from activities.monero.genesis import build_snapshot
from bench.machine import CLOCK_TICKS, describe_machine
from bench.server import benchmark_client
from localnet.monero import processes
from models.monero import MoneroConfig, parse_config
from models.monero_run import NetworkInput, NetworkSummary, RunSpec
from models.settings import Settings
from models.task_queues import TaskQueue
from store import monero as monero_store
from store.tables import MoneroBlockRow, MoneroPropagationRow, MoneroRunRow
from workers.registry import QUEUES, open_resources
from workers.service import running_workers
from workflows.monero.network import MoneroNetworkWorkflow

BLOCK_TIME = 120
SHADOW_SECONDS = 888.0  # monerosim's figure for the same run under Shadow


def reference_config(*, users: int, marketplaces: int, hours: float, seed: int, frequency: float) -> MoneroConfig:
    """The seed's example pools and balances; amounts small enough that 10 XMR lasts a user all run."""
    return parse_config(
        f"""
simulation:
  duration: {round(hours * 3600)}
  seed: {seed}
  acceleration: 0
  block_mode: controller
  amount: {{min_xmr: 0.01, max_xmr: 0.1}}
network:
  agents:
    regular_users: {{count: {users}, config: {{transaction_frequency: {frequency}, wallet_initial_balance: 10.0}}}}
    marketplaces: {{count: {marketplaces}, config: {{wallet_count: 10}}}}
    mining_pools:
      - {{id: pool_alpha, hashrate_share: 0.4}}
      - {{id: pool_beta, hashrate_share: 0.3}}
      - {{id: pool_gamma, hashrate_share: 0.3}}
  consensus: {{block_time: {BLOCK_TIME}, difficulty: 1}}
  nodes: {{placement: per_agent}}
""",
        "bench config",
    )


def rss_kib(pid: int) -> int | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        return None
    return None


def available_kib() -> int:
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemAvailable:"):
            return int(line.split()[1])
    raise RuntimeError("no MemAvailable in /proc/meminfo")


def descendants_cpu(root: int) -> dict[int, tuple[str, float]]:
    """CPU seconds (user + system) so far of every process below ``root``, by PID: (program name, seconds)."""
    table: dict[int, tuple[int, str, float]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            text = (entry / "stat").read_text()
        except OSError:
            continue
        name = text[text.index("(") + 1 : text.rindex(")")]
        fields = text[text.rindex(")") + 2 :].split()
        # After the name: state, ppid, ... utime and stime are the 12th and 13th (stat fields 14 and 15).
        table[int(entry.name)] = (int(fields[1]), name, (int(fields[11]) + int(fields[12])) / CLOCK_TICKS)
    below: dict[int, tuple[str, float]] = {}
    frontier = [root]
    while frontier:
        parent = frontier.pop()
        for pid, (ppid, name, seconds) in table.items():
            if ppid == parent and pid not in below:
                below[pid] = (name, seconds)
                frontier.append(pid)
    return below


@dataclass
class Watch:
    """What the bench sees from outside while the run goes: when each phase began, peak RSS per process, and the
    CPU time of every process the run started (sampled each second: a process's last sample counts)."""

    phases: dict[str, float] = field(default_factory=dict)
    peak_rss: dict[str, int] = field(default_factory=dict)
    cpu: dict[int, tuple[str, float]] = field(default_factory=dict)

    async def follow(self, client: Client, run_id: str, run_dir: Path, started: float) -> None:
        handle = client.get_workflow_handle(run_id)
        before = descendants_cpu(os.getpid())
        while True:
            try:
                progress = await handle.query(MoneroNetworkWorkflow.progress)
                phase = str(progress.get("phase"))
                self.phases.setdefault(phase, time.perf_counter() - started)
            except Exception:  # a query during continue-as-new or before the first task: ask again
                pass
            for name, (pid, marker) in processes.recorded_all(run_dir).items():
                if processes.alive(pid, marker) and (kib := rss_kib(pid)) is not None:
                    self.peak_rss[name] = max(self.peak_rss.get(name, 0), kib)
            for pid, (name, seconds) in descendants_cpu(os.getpid()).items():
                # The dev server ran before the run: only its CPU since the run began counts.
                self.cpu[pid] = (name, seconds - before.get(pid, (name, 0.0))[1])
            await asyncio.sleep(1.0)

    def cpu_by_program(self) -> dict[str, float]:
        totals: dict[str, float] = {}
        for name, seconds in self.cpu.values():
            totals[name] = totals.get(name, 0.0) + seconds
        return totals


class ActivityClock(temporal_client.Interceptor, Interceptor):
    """Seconds spent in each activity type, summed over its executions (concurrent ones overlap)."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}
        self.calls: dict[str, int] = {}

    def reset(self) -> None:
        self.seconds.clear()
        self.calls.clear()

    def intercept_activity(self, next: ActivityInboundInterceptor) -> ActivityInboundInterceptor:
        clock = self

        class Timed(ActivityInboundInterceptor):
            async def execute_activity(self, input: ExecuteActivityInput) -> object:
                started = time.perf_counter()
                try:
                    return await super().execute_activity(input)
                finally:
                    name = activity.info().activity_type
                    clock.seconds[name] = clock.seconds.get(name, 0.0) + time.perf_counter() - started
                    clock.calls[name] = clock.calls.get(name, 0) + 1

        return Timed(next)

    def describe(self) -> str:
        ranked = sorted(self.seconds.items(), key=lambda item: -item[1])
        return "\n".join(
            f"  {name:<26}{seconds:8.1f} s in {calls:>4} calls ({seconds / calls * 1000:.0f} ms each)"
            for name, seconds in ranked
            if (calls := self.calls[name])
        )


@dataclass
class Measured:
    summary: NetworkSummary
    seconds: float
    watch: Watch
    mining_ms: int  # generateblocks, summed over every block
    propagation_ms: int  # from mined to the last node having it, summed over every block
    median_propagation_ms: float
    run_blocks: int
    nodes: int
    wallets: int
    own_cpu_s: float  # this process: the worker, the client and the bench's sampling


async def run_network(
    client: Client,
    engine: AsyncEngine,
    state_dir: Path,
    config: MoneroConfig,
    genesis: Path,
    run_id: str,
    watch: Watch | None = None,
) -> Measured:
    spec = RunSpec(run_id=run_id, config=config, genesis_dir=str(genesis))
    watch = watch or Watch()
    own_before = own_cpu()
    started = time.perf_counter()
    follower = asyncio.create_task(watch.follow(client, run_id, state_dir / "monero" / run_id, started))
    try:
        summary = await client.execute_workflow(
            MoneroNetworkWorkflow.run, NetworkInput(spec=spec), id=run_id, task_queue=TaskQueue.MONERO
        )
    finally:
        follower.cancel()
    seconds = time.perf_counter() - started
    own = own_cpu() - own_before
    watch.phases.setdefault("done", seconds)
    blocks = await monero_store.rows(engine, MoneroBlockRow, run_id)
    samples = await monero_store.rows(engine, MoneroPropagationRow, run_id)
    slowest: dict[int, int] = {}
    for sample in samples:
        slowest[sample["height"]] = max(slowest.get(sample["height"], 0), sample["delay_ms"])
    plan = json.loads((await monero_store.rows(engine, MoneroRunRow, run_id))[0]["plan_json"])
    return Measured(
        summary=summary,
        seconds=seconds,
        watch=watch,
        mining_ms=sum(b["took_ms"] for b in blocks),
        propagation_ms=sum(slowest.values()),
        median_propagation_ms=statistics.median(slowest.values()) if slowest else 0.0,
        run_blocks=sum(1 for b in blocks if b["phase"] == "run"),
        nodes=len(plan["nodes"]),
        wallets=len(plan["wallets"]),
        own_cpu_s=own,
    )


def own_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def describe_rss(peak: dict[str, int], names: list[str]) -> str:
    values = [peak[name] / 1024 for name in names if name in peak]
    if not values:
        return "not sampled"
    return f"median {statistics.median(values):.0f} MiB, max {max(values):.0f} MiB over {len(values)} processes"


def report(measured: Measured, premine_seconds: float) -> None:
    summary, watch = measured.summary, measured.watch
    phases = watch.phases
    running = phases.get("running", 0.0)
    # A short phase can fall between two polls: the rounds end when any later phase is first seen.
    settling = min((t for p, t in phases.items() if p in ("settling", "reconciling", "stopping", "done")))
    print(f"nodes / wallet-rpc:   {measured.nodes} monerod, {measured.wallets} wallet-rpc")
    print(f"pre-mine:             {premine_seconds:.1f} s (100 blocks on an offline node, once; not in the run)")
    print(f"run wall time:        {measured.seconds:.1f} s (Shadow: {SHADOW_SECONDS:.0f} s; target < 300 s)")
    print(f"  setup:              {running:.1f} s (processes, peering, vendors, funding, 11 unlock blocks)")
    print(f"  scheduled rounds:   {settling - running:.1f} s ({measured.run_blocks} blocks)")
    print(
        f"  settle to the end:  {measured.seconds - settling:.1f} s ({summary.settle_blocks} settle blocks, "
        "reconciliation, balances, stop)"
    )
    print(
        f"blocks/s:             {measured.run_blocks / max(settling - running, 1e-9):.2f} in the rounds, "
        f"{(summary.final_height - 100) / measured.seconds:.2f} over the run (height {summary.final_height})"
    )
    print(f"generateblocks:       {measured.mining_ms / 1000:.1f} s in all")
    print(
        f"propagation:          {measured.propagation_ms / 1000:.1f} s in all to the last node "
        f"(median {measured.median_propagation_ms:.0f} ms a block)"
    )
    print(
        f"payments:             {summary.payments_sent} sent, {summary.payments_mined} mined, "
        f"{summary.payments_skipped} skipped, {len(summary.unmined)} unmined; reconciled: {summary.reconciled}"
    )
    print(f"blocks by pool:       {summary.blocks_by_pool}")
    nodes = sorted(n for n in watch.peak_rss if n.startswith("node_"))
    wallets = sorted(n for n in watch.peak_rss if not n.startswith("node_"))
    print(f"peak RSS monerod:     {describe_rss(watch.peak_rss, nodes)}")
    print(f"peak RSS wallet-rpc:  {describe_rss(watch.peak_rss, wallets)}")
    by_program = watch.cpu_by_program() | {"the bench (worker, client)": measured.own_cpu_s}
    total = sum(by_program.values())
    cores = os.cpu_count() or 1
    print(
        f"CPU time:             {total:.1f} s over {measured.seconds:.1f} s of wall time "
        f"({total / measured.seconds / cores:.0%} of {cores} cores): "
        + ", ".join(f"{name} {seconds:.1f} s" for name, seconds in sorted(by_program.items(), key=lambda i: -i[1]))
    )
    print("phases (s from the start): " + ", ".join(f"{phase} {at:.1f}" for phase, at in watch.phases.items()))


def load_average() -> str:
    return Path("/proc/loadavg").read_text().split()[0]


async def main(args: argparse.Namespace) -> None:
    processes.require_binaries()
    queues = [spec for spec in QUEUES if spec.queue is TaskQueue.MONERO]
    with tempfile.TemporaryDirectory(prefix="simctl-bench-monero-") as scratch:
        state_dir = Path(scratch)
        settings = Settings(state_dir=state_dir, metrics_port=0)
        print(f"machine:              {describe_machine()}")
        print(f"load before:          {load_average()} (1-minute load average; other engineers share the cores)")
        started = time.perf_counter()
        genesis = state_dir / "genesis"
        await build_snapshot(genesis, blocks=100)
        premine = time.perf_counter() - started
        clock = ActivityClock()
        async with benchmark_client(None) as (plain_client, server), open_resources(settings) as resources:
            print(f"server:               {server}; results store: SQLite file")
            # The worker picks up a client interceptor that is also a worker interceptor: activities are timed.
            config = plain_client.config()
            config["interceptors"] = [*config["interceptors"], clock]
            client = Client(**config)
            async with running_workers(client, resources, queues):
                if args.max:
                    await grow(client, resources.engine, state_dir, genesis, args)
                    return
                run_config = reference_config(
                    users=args.users,
                    marketplaces=args.marketplaces,
                    hours=args.hours,
                    seed=args.seed,
                    frequency=args.frequency,
                )
                print(
                    f"run:                  {len(run_config.network.agents.mining_pools)} pools, {args.users} users, "
                    f"{args.marketplaces} marketplaces, {args.hours:g} simulated hours, block_time {BLOCK_TIME} s, "
                    f"transaction_frequency {args.frequency}, seed {args.seed}, acceleration 0"
                )
                measured = await run_network(
                    client, resources.engine, state_dir, run_config, genesis, "bench-reference"
                )
        print(f"load after:           {load_average()}")
        report(measured, premine)
        print("time in activities (summed; concurrent ones overlap):")
        print(clock.describe())


async def grow(client: Client, engine: AsyncEngine, state_dir: Path, genesis: Path, args: argparse.Namespace) -> None:
    users = args.max_start_users
    step = 0
    while True:
        step += 1
        config = reference_config(
            users=users, marketplaces=2, hours=args.max_blocks * BLOCK_TIME / 3600, seed=args.seed, frequency=0.05
        )
        nodes = config.network.node_count
        if nodes > args.max_nodes:
            print(f"stop: {nodes} nodes is over --max-nodes {args.max_nodes}")
            return
        print(f"step {step}: {nodes} nodes, {nodes + 1} wallets (load {load_average()})", flush=True)
        run_id = f"bench-max-{step}"
        watch = Watch()
        try:
            measured = await asyncio.wait_for(
                run_network(client, engine, state_dir, config, genesis, run_id, watch), args.step_limit
            )
        except Exception as err:  # the machine's limit shows up as a failed or overlong run: report it, stop
            reason = f"over --step-limit {args.step_limit:.0f} s" if isinstance(err, TimeoutError) else str(err)
            cause = err.__cause__
            while cause is not None:  # a workflow's failure says little; its activity's cause says why
                reason += f" <- {cause}"
                cause = cause.__cause__
            print(f"stop: step {step} failed: {type(err).__name__}: {reason}")
            started = sorted(watch.peak_rss)
            nodes_seen = [name for name in started if name.startswith("node_")]
            wallets_seen = [name for name in started if not name.startswith("node_")]
            print(
                f"  peak RSS so far: monerod {describe_rss(watch.peak_rss, nodes_seen)}; "
                f"wallet-rpc {describe_rss(watch.peak_rss, wallets_seen)}"
            )
            handle = client.get_workflow_handle(run_id)
            with contextlib.suppress(Exception):  # the run stops its processes when cancelled
                await handle.cancel()
                await handle.result()
            return
        per_block = measured.propagation_ms / 1000 / max(1, measured.run_blocks + measured.summary.settle_blocks)
        node_names = [name for name in watch.peak_rss if name.startswith("node_")]
        wallet_names = [name for name in watch.peak_rss if not name.startswith("node_")]
        node_rss = [watch.peak_rss[name] for name in node_names]
        wallet_rss = [watch.peak_rss[name] for name in wallet_names]
        print(
            f"  wall {measured.seconds:.0f} s (setup {watch.phases.get('running', 0):.0f} s), "
            f"propagation to the last node {per_block:.2f} s a block on average (the first includes every node's "
            f"RandomX start), median {measured.median_propagation_ms / 1000:.2f} s, "
            f"payments {measured.summary.payments_sent} sent "
            f"{measured.summary.payments_mined} mined, reconciled {measured.summary.reconciled}",
            flush=True,
        )
        print(
            f"  peak RSS: monerod {describe_rss(watch.peak_rss, node_names)}; "
            f"wallet-rpc {describe_rss(watch.peak_rss, wallet_names)}; "
            f"sum {(sum(node_rss) + sum(wallet_rss)) / 1024 / 1024:.1f} GiB",
            flush=True,
        )
        median_block = measured.median_propagation_ms / 1000
        if median_block > args.block_limit:
            print(
                f"stop: a block takes {median_block:.1f} s to reach every node, over --block-limit {args.block_limit}"
            )
            return
        next_users = users * 2
        grow_by = next_users - users
        projected = grow_by * (max(node_rss, default=0) + max(wallet_rss, default=0))
        if projected > 0.8 * available_kib():
            print(f"stop: the next step needs about {projected / 1024 / 1024:.1f} GiB more, over 80% of what is free")
            return
        users = next_users


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--users", type=int, default=10)
    parser.add_argument("--marketplaces", type=int, default=2)
    parser.add_argument("--hours", type=float, default=6.0)
    parser.add_argument("--frequency", type=float, default=0.1, help="transaction_frequency (chance per minute)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--max", action="store_true", help="grow the network until the machine's limit")
    parser.add_argument("--max-start-users", type=int, default=10)
    parser.add_argument("--max-nodes", type=int, default=64)
    parser.add_argument("--max-blocks", type=int, default=10)
    parser.add_argument("--step-limit", type=float, default=1200.0, help="wall seconds a --max step may take")
    parser.add_argument("--block-limit", type=float, default=30.0, help="seconds a block may take to reach every node")
    asyncio.run(main(parser.parse_args()))
