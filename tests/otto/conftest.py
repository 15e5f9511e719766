"""OttoChain fixtures: a wallet pool, an embedded node over real HTTP, and a worker for the otto queue."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from activities.otto.fibers import FiberActivities
from activities.otto.keyring import Keyring
from localnet.ottochain.chain import Faults
from localnet.ottochain.server import OttoChainServer
from models.otto import OttoEndpoints, Party
from store.wallets import generate_pool
from workflows.otto.fiber import FiberWorkflow

PASSPHRASE = "test passphrase"
POOL_SIZE = 12


@dataclass(frozen=True)
class Pool:
    path: Path
    parties: list[Party]
    private_keys: dict[str, str]

    def take(self, count: int, offset: int = 0) -> list[Party]:
        return self.parties[offset : offset + count]


@pytest.fixture(scope="session")
def pool(tmp_path_factory: pytest.TempPathFactory) -> Pool:
    path = tmp_path_factory.mktemp("wallets") / "wallets.json"
    store = generate_pool(path, PASSPHRASE, count=POOL_SIZE, seed=11)
    parties = [Party(agent_id=agent.id, address=agent.address) for agent in store.agents]
    return Pool(
        path=path, parties=parties, private_keys={agent.id: store.private_key(agent.id) for agent in store.agents}
    )


@pytest.fixture
async def node() -> AsyncIterator[OttoChainServer]:
    async with OttoChainServer(faults=Faults(snapshot_interval=0.05)) as server:
        yield server


@pytest.fixture
def endpoints(node: OttoChainServer) -> OttoEndpoints:
    return node.endpoints


@pytest.fixture(scope="session")
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(timeout=10) as client:
        yield client


@pytest.fixture
def otto_worker(run_worker, http: httpx.AsyncClient):
    """A worker on the test's queue with the real fiber activities, keys from the pool's file."""
    activities = FiberActivities(http, Keyring(PASSPHRASE))

    def start(*extra_workflows, extra_activities=()):
        return run_worker(
            workflows=[FiberWorkflow, *extra_workflows],
            activities=[
                *activities.all(),
                *extra_activities,
            ],
        )

    return start
