"""Where the CLI finds OttoChain: configured URLs, or an embedded node in this process."""

from __future__ import annotations

import contextlib
import fcntl
import os
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path

from localnet.ottochain.genesis import GenesisError
from localnet.ottochain.persist import StateFileError
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
    """An in-process node whose chain persists in the state directory; one process at a time.

    A start that fails leaves nothing behind: not its lock file, nor the state directory when it made
    that directory and nothing else landed in it.
    """
    created = _missing_directories(state_dir)
    state_dir.mkdir(parents=True, exist_ok=True)
    started = False
    try:
        with _node_lock(state_dir):
            try:
                # SQLite; an ottochain.json of an older node beside it is migrated on the first start.
                server = OttoChainServer(state_file=state_dir / "ottochain.db", **options)
            except (GenesisError, StateFileError) as err:
                raise CliError(str(err)) from None
            async with server:
                started = True
                yield server
    finally:
        if not started:
            for directory in created:  # deepest first; only while empty
                with contextlib.suppress(OSError):
                    directory.rmdir()


@contextmanager
def _node_lock(state_dir: Path) -> Iterator[None]:
    """Hold ``ottochain.lock`` (holding our pid) until the block ends, then remove it.

    The lock is an flock, which the kernel releases when its holder dies: a lock file left by a
    process that is gone does not block. The file is removed while still locked, so a process that
    opened it just before must check, once it holds its lock, that it locked the file now at the path.
    """
    path = state_dir / "ottochain.lock"
    while True:
        lock = open(path, "a+")  # noqa: SIM115 (held open across the yield below)
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            lock.seek(0)
            holder = lock.read().strip() or "another process"
            lock.close()
            raise CliError(
                f"the embedded OttoChain in {state_dir} is in use by pid {holder}; "
                "run `simctl localnet ottochain` once and pass its --bridge-url"
            ) from None
        try:
            current = os.stat(path).st_ino == os.fstat(lock.fileno()).st_ino
        except FileNotFoundError:
            current = False
        if current:
            break
        lock.close()  # its holder removed it meanwhile: lock the file that is there now
    try:
        lock.seek(0)
        lock.truncate()
        lock.write(str(os.getpid()))
        lock.flush()
        yield
    finally:
        path.unlink(missing_ok=True)
        lock.close()


def _missing_directories(directory: Path) -> list[Path]:
    """``directory`` and those of its parents that do not exist yet, deepest first."""
    missing = []
    while not directory.exists() and directory.parent != directory:
        missing.append(directory)
        directory = directory.parent
    return missing
