"""The advertising study at growing sizes: is its cost linear in its work?

    python -m bench.ads_scale [--scales 1,2,4,10] [--days 30] [--seed 1]

1x is the default study (5 buyers x 10 campaigns, 5 sellers); Nx for N > 1 is issue 11's series
(10 buyers, 10 sellers, 5N campaigns per buyer), so 10x is 500 campaigns (1,500 runs over the three
scenarios) and 100x 5,000. Each size runs in its own process (the project's worker in process, results
in a SQLite file) on its own fresh dev server configured as simctl embeds it, so the peak RSS is that
size's alone. Printed per size: wall time, time per campaign-day (campaign-days over every scenario),
the worker process's peak RSS, the largest workflow history (events and bytes, from visibility), and
the load average around the run (the machine is shared).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.machine import describe_machine
from bench.server import benchmark_client
from models.ads import ExperimentSpec
from models.settings import Settings
from models.task_queues import TaskQueue
from sim.ads.data import generate_world
from simctl import visibility
from workers.registry import open_resources
from workers.service import running_workers
from workflows.ads.experiment import ExperimentWorkflow
from workflows.common import search_attributes as sa


def sizes(scale: int) -> dict[str, int]:
    if scale == 1:
        return {"buyers": 5, "sellers": 5, "campaigns_per_buyer": 10}
    return {"buyers": 10, "sellers": 10, "campaigns_per_buyer": 5 * scale}


async def one(scale: int, days: int, seed: int) -> dict[str, float | int | str]:
    """Run one size in this process and return its figures."""
    with tempfile.TemporaryDirectory(prefix="simctl-bench-scale-") as scratch:
        settings = Settings(state_dir=Path(scratch), metrics_port=0)
        async with benchmark_client(None) as (client, _), open_resources(settings) as resources:
            spec = ExperimentSpec(id=f"scale-{scale}x", days=days, seed=seed, **sizes(scale))
            load_before = os.getloadavg()[0]
            async with running_workers(client, resources):
                started = time.perf_counter()
                summary = await client.execute_workflow(
                    ExperimentWorkflow.run, spec, id=spec.id, task_queue=TaskQueue.ADS
                )
                elapsed = time.perf_counter() - started
            load_after = os.getloadavg()[0]
            largest_events = largest_bytes = workflows = 0
            largest_id = ""
            async for execution in client.list_workflows(visibility.equals(sa.EXPERIMENT, spec.id)):
                workflows += 1
                size = execution.raw_info.history_size_bytes
                largest_events = max(largest_events, execution.history_length)
                if size > largest_bytes:
                    largest_bytes, largest_id = size, execution.id
    world = generate_world(seed, days=days, **sizes(scale))
    campaign_days = len(spec.scenarios) * sum(c.end_day - c.start_day + 1 for c in world.campaigns)
    return {
        "scale": scale,
        "campaigns": len(world.campaigns),
        "runs": summary.campaign_runs,
        "workflows": workflows,
        "campaign_days": campaign_days,
        "seconds": elapsed,
        "ms_per_campaign_day": 1000 * elapsed / campaign_days,
        # ru_maxrss is in KiB on Linux.
        "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "largest_history_events": largest_events,
        "largest_history_bytes": largest_bytes,
        "largest_history_id": largest_id,
        "load": f"{load_before:.1f}->{load_after:.1f}",
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scales", default="1,2,4,10", help="comma-separated multiples of the default study")
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one is not None:
        print(json.dumps(asyncio.run(one(args.one, args.days, args.seed))))
        return

    print(f"machine: {describe_machine()}")
    print(f"study: seed {args.seed}, {args.days} days, acceleration 0, scenarios A, B, C; fresh dev server per size")
    header = (
        "| scale | campaigns (runs) | campaign-days | wall time | ms per campaign-day | vs 1x | worker peak RSS "
        "| largest history (events, bytes) | load (1 min) |"
    )
    print(header)
    print("|---:|---:|---:|---:|---:|---:|---:|---|---|")
    first: float | None = None
    for scale in (int(s) for s in args.scales.split(",")):
        command = [sys.executable, "-m", "bench.ads_scale", "--one", str(scale), "--days", str(args.days)]
        done = subprocess.run([*command, "--seed", str(args.seed)], capture_output=True, text=True, check=False)
        if done.returncode != 0:
            print(f"| {scale}x | failed: {done.stderr.strip().splitlines()[-1] if done.stderr.strip() else '?'} |")
            continue
        row = json.loads(done.stdout.strip().splitlines()[-1])
        per = float(row["ms_per_campaign_day"])
        first = first if first is not None else per
        print(
            f"| {scale}x | {row['campaigns']} ({row['runs']}) | {row['campaign_days']} | {float(row['seconds']):.1f} s "
            f"| {per:.2f} | {per / first:.2f} | {float(row['peak_rss_mib']):.0f} MiB "
            f"| {row['largest_history_events']}, {row['largest_history_bytes']} ({row['largest_history_id']}) "
            f"| {row['load']} |",
            flush=True,
        )


if __name__ == "__main__":
    main()
