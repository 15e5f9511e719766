"""Baseline: N workflows x K activities of a bare workflow; prints workflows/s and activities/s.

python -m bench.temporal_baseline [--workflows N] [--activities K] [--address HOST:PORT] [--in-memory]
"""

from __future__ import annotations

import argparse
import asyncio

from bench.baseline import measure_baseline
from bench.machine import describe_machine
from bench.server import benchmark_client


async def main(args: argparse.Namespace) -> None:
    async with benchmark_client(args.address, in_memory=args.in_memory) as (client, server):
        result = await measure_baseline(client, workflows=args.workflows, activities=args.activities)
    print(f"machine:        {describe_machine()}")
    print(f"server:         {server}")
    print(f"workload:       {result.workflows} workflows x {result.activities_per_workflow} activities")
    print(f"wall time:      {result.seconds:.2f} s")
    print(f"workflows/s:    {result.workflows_per_second:.1f}")
    print(f"activities/s:   {result.activities_per_second:.1f}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workflows", type=int, default=200)
    parser.add_argument("--activities", type=int, default=10)
    parser.add_argument("--address", help="use a running server instead of starting one")
    parser.add_argument("--in-memory", action="store_true", help="start the server without a database file")
    asyncio.run(main(parser.parse_args()))
