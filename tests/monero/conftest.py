"""Monero fixtures: one genesis snapshot per session, and a way to run a network on the test's queue (and the
process activities on that queue's host queue, as a worker serves them).

The snapshot is pre-mined once (100 blocks on an offline node to a bank wallet restored from a mnemonic made
now); every run starts its nodes and its bank from copies of it. Tests that need monerod FAIL when it is missing
in CI (CI installs the Debian package ``monero``); elsewhere they skip, and only then.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine
from temporalio.client import Client
from temporalio.worker import Worker

from activities.monero.genesis import build_snapshot
from activities.monero.host import HostActivities
from activities.monero.nodes import NodeActivities
from activities.monero.records import RecordActivities
from activities.monero.wallets import WalletActivities
from models.monero import MoneroConfig
from models.monero_run import NetworkInput, NetworkSummary, RunSpec
from store.engine import open_store
from workers.registry import MONERO_WORKFLOWS, monero_activity_methods, monero_process_methods
from workflows.monero.network import MoneroNetworkWorkflow


def require_monerod() -> None:
    if shutil.which("monerod") and shutil.which("monero-wallet-rpc"):
        return
    message = "monerod / monero-wallet-rpc not found: install the Debian package monero"
    if os.environ.get("CI"):
        pytest.fail(f"{message} (CI installs it: .ci/run)")
    pytest.skip(message)


@pytest.fixture(scope="session")
async def genesis_snapshot(tmp_path_factory: pytest.TempPathFactory) -> Path:
    require_monerod()
    target = tmp_path_factory.mktemp("monero-genesis") / "snapshot"
    await build_snapshot(target, blocks=100)
    return target


@pytest.fixture(scope="session")
async def monero_http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(timeout=httpx.Timeout(30.0, connect=5.0)) as http:
        yield http


@pytest.fixture
async def monero_engine(tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    async with open_store(f"sqlite+aiosqlite:///{tmp_path / 'monero.db'}") as engine:
        yield engine


@dataclass
class MoneroRun:
    spec: RunSpec
    summary: NetworkSummary
    state_dir: Path


@pytest.fixture
def monero_network(
    client: Client,
    run_worker,
    task_queue: str,
    genesis_snapshot: Path,
    monero_http: httpx.AsyncClient,
    monero_engine: AsyncEngine,
    tmp_path: Path,
) -> Callable:
    """``await monero_network(config, wallets=WalletActivities subclass)`` runs a network to its end."""

    async def run(
        config: MoneroConfig, *, wallets: type[WalletActivities] = WalletActivities, **spec_fields
    ) -> MoneroRun:
        state_dir = tmp_path / "state"
        spec = RunSpec(
            run_id=spec_fields.pop("run_id", f"test-{uuid.uuid4().hex[:8]}"),
            config=config,
            genesis_dir=str(genesis_snapshot),
            **spec_fields,
        )
        nodes = NodeActivities(state_dir, monero_http)
        wallet = wallets(monero_http)
        records = RecordActivities(monero_engine)
        host = HostActivities("test-host", f"{task_queue}@test-host")
        activities = monero_activity_methods(nodes, wallet, records, host)
        host_worker = Worker(
            client, task_queue=f"{task_queue}@test-host", activities=monero_process_methods(nodes, wallet)
        )
        async with run_worker(workflows=MONERO_WORKFLOWS, activities=activities), host_worker:
            summary = await client.execute_workflow(
                MoneroNetworkWorkflow.run, NetworkInput(spec=spec), id=spec.run_id, task_queue=task_queue
            )
        return MoneroRun(spec=spec, summary=summary, state_dir=state_dir)

    return run
