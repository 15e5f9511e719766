"""The full default advertising study (3 scenarios x 50 campaigns x 30 days, acceleration 0) on the
embedded stack's configuration, against the bare baseline with the same activity count.

    python -m bench.ads_study [--buyers 5] [--campaigns-per-buyer 10] [--days 30] [--seed 1]
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from pathlib import Path

from bench.baseline import count_activities, measure_baseline
from bench.machine import describe_machine
from bench.server import benchmark_client
from models.ads import ExperimentSpec
from models.settings import Settings
from models.task_queues import TaskQueue
from simctl import visibility
from workers.registry import open_resources
from workers.service import running_workers
from workflows.ads.experiment import ExperimentWorkflow
from workflows.common import search_attributes as sa


async def main(args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory(prefix="simctl-bench-ads-") as scratch:
        settings = Settings(state_dir=Path(scratch), metrics_port=0)
        async with benchmark_client(None) as (client, server), open_resources(settings) as resources:
            spec = ExperimentSpec(
                id="bench-study",
                buyers=args.buyers,
                sellers=args.sellers,
                campaigns_per_buyer=args.campaigns_per_buyer,
                days=args.days,
                seed=args.seed,
            )
            async with running_workers(client, resources):
                started = time.perf_counter()
                summary = await client.execute_workflow(
                    ExperimentWorkflow.run, spec, id=spec.id, task_queue=TaskQueue.ADS
                )
                elapsed = time.perf_counter() - started
            workflows, activities, local = await count_activities(client, visibility.equals(sa.EXPERIMENT, spec.id))
            per_workflow = round((activities + local) / workflows)
            baseline = await measure_baseline(client, workflows=workflows, activities=per_workflow)

    total = activities + local
    print(f"machine:              {describe_machine()}")
    print(f"server:               {server}; results store: SQLite file")
    campaigns = args.buyers * args.campaigns_per_buyer
    print(
        f"study:                {len(spec.scenarios)} scenarios x {campaigns} campaigns x {args.days} days "
        f"(seed {args.seed}, acceleration 0): {summary.campaign_runs} campaign runs"
    )
    print(f"workflows:            {workflows} (1 experiment + campaigns)")
    print(f"activities:           {total} ({activities} regular, {local} local)")
    print(f"wall time:            {elapsed:.2f} s")
    print(f"activities/s:         {total / elapsed:.1f}")
    print(
        f"baseline:             {baseline.workflows} x {baseline.activities_per_workflow} activities "
        f"in {baseline.seconds:.2f} s = {baseline.activities_per_second:.1f} activities/s"
    )
    print(f"ratio (activities/s): {total / elapsed / baseline.activities_per_second:.2f} of the bare baseline")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--buyers", type=int, default=5)
    parser.add_argument("--sellers", type=int, default=5)
    parser.add_argument("--campaigns-per-buyer", type=int, default=10)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--seed", type=int, default=1)
    asyncio.run(main(parser.parse_args()))
