"""Monero fixtures: one genesis snapshot per session, and a way to run a network on the test's queue.

The snapshot is pre-mined once (100 blocks on an offline node to a bank wallet restored from a mnemonic made
now); every run starts its nodes and its bank from copies of it. Tests that need monerod FAIL when it is missing
in CI (CI installs the Debian package ``monero``); elsewhere they skip, and only then.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from activities.monero.genesis import build_snapshot
from store.engine import open_store


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
