"""The advertising study, all three scenarios at a reduced size, with its standalone worker SIGKILLed five times
at random points and restarted (issue 13 item 1): report.json byte-identical to an uncrashed run's, every
ledger chain entry for entry the same (none lost, none written twice), and the audit passes."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine
from temporalio.client import Client

from models.ads import ExperimentSpec
from models.settings import Settings
from models.task_queues import TaskQueue
from report import load_study, write_report
from sim.ads.findings import compute_findings
from simctl.commands.audit import run_audit
from store import ads as ads_store
from store import ledger
from store.engine import open_store
from store.tables import AdsClaimRow, AdsDayRow, AdsDealRow, AdsDeliveryRow, AdsEventRow
from workflows.ads.experiment import ExperimentWorkflow

pytestmark = [pytest.mark.reliability, pytest.mark.timeout(600)]

SEED = 13
# The default study's three scenarios and parameters, fewer parties and days: 12 campaigns of up to 8 days.
# SIMCTL_CRASH_STUDY=default runs the whole default study instead: a long schedule, for bench/RELIABILITY.md.
SMALL = {"buyers": 2, "sellers": 2, "campaigns_per_buyer": 2, "days": 8}
SIZE = {} if os.environ.get("SIMCTL_CRASH_STUDY") == "default" else SMALL
KILLS = 5


@pytest.fixture
def store_file(tmp_path: Path) -> Path:
    return tmp_path / "study.db"


@pytest.fixture
async def store(store_file: Path) -> AsyncIterator[AsyncEngine]:
    async with open_store(f"sqlite+aiosqlite:///{store_file}") as engine:
        yield engine


async def report_json(store: AsyncEngine, experiment_id: str, out: Path) -> bytes:
    spec, world, rows = await load_study(store, experiment_id)
    write_report(out, experiment_id, spec, world, rows, compute_findings(spec, world, rows))
    return (out / "report.json").read_bytes()


async def ledger_of(store: AsyncEngine, experiment_id: str) -> dict[str, list[tuple[int, str, int]]]:
    """Every chain of the study, the study's id left out of names and payloads: (seq, payload, simulated time)."""
    prefix = f"ads/{experiment_id}/"
    chains = {}
    for chain in await ledger.chain_ids(store):
        if chain.startswith(prefix):
            entries, _, _ = await ledger.read_chain(store, chain)
            chains[chain.removeprefix(prefix)] = [
                (e.seq, e.payload_json.replace(experiment_id, "<id>"), e.sim_time) for e in entries
            ]
    return chains


async def row_counts(store: AsyncEngine, experiment_id: str) -> dict[str, int]:
    tables = (AdsDayRow, AdsDealRow, AdsDeliveryRow, AdsClaimRow, AdsEventRow)
    return {table.__tablename__: len(await ads_store.rows(store, table, experiment_id)) for table in tables}


async def test_a_study_killed_five_times_writes_the_uncrashed_report(
    client: Client, crashing_worker, temporal_address: str, tmp_path: Path, store_file: Path, store: AsyncEngine
):
    worker = crashing_worker(TaskQueue.ADS, SIMCTL_DATABASE_URL=f"sqlite:///{store_file}")
    calm = ExperimentSpec(id=f"calm-{uuid.uuid4().hex[:6]}", seed=SEED, **SIZE)
    crashed = calm.model_copy(update={"id": f"crash-{uuid.uuid4().hex[:6]}"})
    try:
        await worker.start()
        await client.execute_workflow(ExperimentWorkflow.run, calm, id=calm.id, task_queue=TaskQueue.ADS)
        handle = await client.start_workflow(ExperimentWorkflow.run, crashed, id=crashed.id, task_queue=TaskQueue.ADS)
        total = len(await ads_store.rows(store, AdsDayRow, calm.id))

        async def share_done() -> float:
            return len(await ads_store.rows(store, AdsDayRow, crashed.id)) / total

        # Kill points as shares of the study's campaign-days, so all five land mid-run on a fast or slow day.
        await worker.crash_while(
            handle.result(), kills=KILLS, seed=SEED, between=(0.02, 0.9), timeout=420, progress=share_done
        )
        assert await worker.stop() == 0
    finally:
        worker.ensure_dead()
    assert len(worker.kills) == KILLS, worker.kills

    calm_report = await report_json(store, calm.id, tmp_path / "calm")
    crashed_report = await report_json(store, crashed.id, tmp_path / "crashed")
    assert crashed_report == calm_report
    assert await row_counts(store, crashed.id) == await row_counts(store, calm.id)
    calm_chains, crashed_chains = await ledger_of(store, calm.id), await ledger_of(store, crashed.id)
    assert crashed_chains == calm_chains and any(len(entries) > 1 for entries in calm_chains.values())

    settings = Settings(
        temporal_address=temporal_address, database_url=f"sqlite:///{store_file}", embedded=False, state_dir=tmp_path
    )
    audit = await run_audit(settings, chain=None, experiment=crashed.id, with_history=True)
    assert audit.ok, (
        [v for v in audit.verdicts if not v.ok],
        audit.history and (audit.history.mismatches, audit.history.replay_failures),
    )
    assert audit.history is not None and audit.history.histories == 3 * crashed.buyers * crashed.campaigns_per_buyer
