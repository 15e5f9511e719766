"""The server a benchmark runs on: by default a fresh dev server configured exactly as simctl embeds it."""

from __future__ import annotations

import tempfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from temporalio.client import Client

from localnet.temporal_dev import DevServer, DevServerConfig
from models.settings import Settings
from workers.client import connect, wait_for_namespace
from workers.metrics import free_port


@asynccontextmanager
async def benchmark_client(address: str | None, *, in_memory: bool = False) -> AsyncIterator[tuple[Client, str]]:
    """A client on ``address``, or on a new embedded-configuration server (SQLite file, WAL) if None."""
    if address is not None:
        client = await connect(Settings(temporal_address=address))
        yield client, f"existing server at {address}"
        return
    with tempfile.TemporaryDirectory(prefix="simctl-bench-") as state:
        config = DevServerConfig(
            port=free_port(),
            headless=True,
            db_file=None if in_memory else Path(state) / "temporal.db",
            log_file=Path(state) / "server.log",
        )
        async with DevServer(config):
            client = await connect(Settings(temporal_address=config.address), patience=30)
            await wait_for_namespace(client)
            storage = "in memory" if in_memory else "SQLite file, WAL"
            yield client, f"embedded dev server ({storage})"
