"""Infrastructure faults (issue 13, item 2): the run still completes with nothing lost or duplicated when
the Temporal dev server (file database) is SIGKILLed and restarted under a small ads study, when the study's
PostgreSQL store crashes and restarts on the same port and data directory, and when the embedded OttoChain
node (its own process) is SIGKILLed mid-evolution and restarted from its persisted chain."""

from __future__ import annotations

from pathlib import Path

import pytest
from temporalio.client import Client

from bench.reliability import node_kills, postgres_restarts, temporal_restarts
from tests.reliability.faults import restartable_postgres

pytestmark = [pytest.mark.reliability, pytest.mark.timeout(600)]


async def test_a_study_across_two_dev_server_restarts_writes_the_unfaulted_report(tmp_path: Path):
    size = {"buyers": 1, "sellers": 2, "campaigns_per_buyer": 2, "days": 8}
    row = await temporal_restarts(tmp_path, size=size, restarts=2, seed=13, timeout=400)

    assert row.details["same_report"], row.note
    assert row.lost == 0 and row.duplicated == 0
    assert row.details["entries"] > 0 and len(row.recover_s) == 2


@pytest.mark.postgres
async def test_a_study_across_two_postgres_crashes_writes_the_unfaulted_report(tmp_path: Path):
    size = {"buyers": 1, "sellers": 2, "campaigns_per_buyer": 2, "days": 8}
    with restartable_postgres() as postgres:
        row = await postgres_restarts(tmp_path, postgres, size=size, restarts=2, seed=17, timeout=400)
        assert postgres.starts == 3

    assert row.details["same_report"], row.note
    assert row.lost == 0 and row.duplicated == 0
    assert row.details["entries"] > 0 and len(row.recover_s) == 2


async def test_an_evolution_across_two_node_kills_applies_every_move_once(
    client: Client, temporal_address: str, tmp_path: Path
):
    row = await node_kills(client, temporal_address, tmp_path, population=6, generations=4, kills=2, timeout=480)

    assert row.details["generations_done"] == 4 and row.details["starts"] == 3
    assert row.details["problems"] == [] and row.lost == 0 and row.duplicated == 0, row.note
    assert row.details["failures"] == [], row.details["failures"]
    assert len(row.recover_s) == 2
