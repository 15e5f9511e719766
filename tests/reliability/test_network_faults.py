"""Network faults on the OttoChain path during an evolution run (issue 13, item 3): a flaky window (a share of
requests answered 5xx, half of them after the node applied the write and dropped the reply, plus latency), then
a window where every request fails, then a healthy chain. Every lifecycle ends (a terminal state or TIMEOUT),
no update and no sequence number is applied twice, and the breaker opened only once everything failed and
closed after the faults stopped (its HealthEvents, as the generations checkpointed them)."""

from __future__ import annotations

from pathlib import Path

import pytest
from temporalio.client import Client

from bench.reliability import NetworkSchedule, network_faults

pytestmark = [pytest.mark.reliability, pytest.mark.timeout(600)]


async def test_an_evolution_through_flaky_then_dead_then_healed_chain_ends_every_fiber_once(
    client: Client, temporal_address: str, tmp_path: Path
):
    schedule = NetworkSchedule(flaky_error_rate=0.3, flaky_latency=0.05, flaky_seconds=10, down_seconds=15)
    row = await network_faults(client, temporal_address, tmp_path, population=6, generations=3, schedule=schedule)

    details = row.details
    assert details["generations_done"] == 3
    assert details["problems"] == [] and row.lost == 0 and row.duplicated == 0, row.note
    assert details["ended"] == details["lifecycles"] > 0
    # The faults really happened, both kinds: refused requests and replies lost after the write was applied.
    assert details["injected"].get("before", 0) > 10 and details["injected"].get("after", 0) > 10
    assert details["mismatches"] == [], details["mismatches"]
    assert details["opened"] >= 1 and details["closed"] >= 1
