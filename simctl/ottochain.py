"""Where the CLI finds OttoChain: configured URLs, or an embedded node in this process."""

from __future__ import annotations

import fcntl
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from localnet.ottochain.server import OttoChainServer
from models.otto import OttoEndpoints
from models.settings import Settings
from simctl.errors import CliError


def configured_endpoints(settings: Settings, bridge_url: str | None = None) -> OttoEndpoints | None:
    """The configured layers, or None when nothing is configured (then an embedded node is used)."""
    bridge = bridge_url or settings.otto_bridge_url
    explicit = {
        "dl1_url": settings.otto_dl1_url,
        "ml0_url": settings.otto_ml0_url,
        "cl1_url": settings.otto_cl1_url,
        "indexer_url": settings.otto_indexer_url,
    }
    if bridge is None and not any(explicit.values()):
        return None
    if bridge is not None and bridge.rstrip("/").endswith("/bridge") and not any(explicit.values()):
        # A node laid out like ours (e.g. `simctl localnet ottochain`): every layer beside the bridge.
        return OttoEndpoints.embedded(bridge.rstrip("/").removesuffix("/bridge"))
    missing = [name for name, url in explicit.items() if url is None]
    if bridge is None or missing:
        names = ", ".join(f"SIMCTL_OTTO_{name.upper()}" for name in missing) or "SIMCTL_OTTO_BRIDGE_URL"
        raise CliError(f"incomplete OttoChain endpoints: set {names} (or give a node's …/bridge URL)")
    return OttoEndpoints(bridge_url=bridge, **explicit)


@asynccontextmanager
async def ottochain(settings: Settings, bridge_url: str | None = None) -> AsyncIterator[OttoEndpoints]:
    endpoints = configured_endpoints(settings, bridge_url)
    if endpoints is not None:
        yield endpoints
        return
    async with embedded_node(settings.state_dir) as server:
        yield server.endpoints


@asynccontextmanager
async def embedded_node(state_dir: Path, **options) -> AsyncIterator[OttoChainServer]:
    """An in-process node whose chain persists in the state directory; one process at a time."""
    state_dir.mkdir(parents=True, exist_ok=True)
    lock_path = state_dir / "ottochain.lock"
    with open(lock_path, "a+") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            lock.seek(0)
            holder = lock.read().strip() or "another process"
            raise CliError(
                f"the embedded OttoChain in {state_dir} is in use by pid {holder}; "
                "run `simctl localnet ottochain` once and pass its --bridge-url"
            ) from None
        lock.seek(0)
        lock.truncate()
        lock.write(str(os.getpid()))
        lock.flush()
        async with OttoChainServer(state_file=state_dir / "ottochain.json", **options) as server:
            yield server
