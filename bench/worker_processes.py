"""Worker processes a bench starts (`python -m workers.main`), each stopped by its pid at the end."""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import os
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Sequence
from pathlib import Path

from models.otto import OttoEndpoints

# The workers run the code of the tree this bench runs from (a snapshot of it, say), not whatever is installed.
ROOT = Path(__file__).resolve().parents[1]
# Settings of the caller's environment that would change what a worker does here.
FOREIGN = (
    "SIMCTL_TASK_QUEUES",
    "SIMCTL_WORKER_ROLE",
    "SIMCTL_TRACE_FILE",
    "SIMCTL_OTLP_ENDPOINT",
    "OTEL_EXPORTER_OTLP_ENDPOINT",
)


def _die_with_parent() -> None:
    # A worker must not outlive this bench if the bench is killed outright.
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


def worker_env(
    address: str, namespace: str, store: Path, passphrase: str, node_url: str | None = None
) -> dict[str, str]:
    """The environment of a worker on ``address`` sharing the SQLite results store ``store``."""
    env = {key: value for key, value in os.environ.items() if key not in FOREIGN}
    env |= {
        "TEMPORAL_ADDRESS": address,
        "SIMCTL_NAMESPACE": namespace,
        "SIMCTL_EMBEDDED": "false",
        "SIMCTL_DATABASE_URL": f"sqlite:///{store}",
        "SIMCTL_METRICS_PORT": "0",
        "SIMCTL_LOG_LEVEL": "info",  # the "polling" line tells that a worker is ready
        "SIMCTL_WALLET_PASSPHRASE": passphrase,
    }
    if node_url is not None:
        endpoints = OttoEndpoints.embedded(node_url)
        for layer in ("bridge", "dl1", "ml0", "cl1", "indexer"):
            env[f"SIMCTL_OTTO_{layer.upper()}_URL"] = getattr(endpoints, f"{layer}_url")
    return env


@contextlib.asynccontextmanager
async def worker_processes(
    count: int, env: dict[str, str], logs: Path, options: Sequence[str] = ()
) -> AsyncIterator[list[subprocess.Popen]]:
    """``count`` workers (on every task queue, unless ``options`` say otherwise), yielded once each polls."""
    processes: list[subprocess.Popen] = []
    files = []
    try:
        for index in range(count):
            log = (logs / f"worker-{index}.log").open("wb+")
            files.append(log)
            processes.append(
                subprocess.Popen(
                    [sys.executable, "-m", "workers.main", *options],
                    cwd=ROOT,
                    env={**env, "SIMCTL_STATE_DIR": str(logs / f"worker-{index}")},
                    stdin=subprocess.DEVNULL,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    preexec_fn=_die_with_parent,
                )
            )
        deadline = time.monotonic() + 180  # four Python workers importing at once on a busy machine
        waiting = set(range(count))
        while waiting:
            for index in sorted(waiting):
                if processes[index].poll() is not None:
                    raise RuntimeError(f"worker {index} exited with {processes[index].returncode}; see its log")
                if b"worker polling task queues" in (logs / f"worker-{index}.log").read_bytes():
                    waiting.discard(index)
            if time.monotonic() > deadline:
                raise RuntimeError(f"workers {sorted(waiting)} did not poll within 180 s")
            await asyncio.sleep(0.2)
        yield processes
    finally:
        for process in processes:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in processes:
            try:
                await asyncio.to_thread(process.wait, 30)
            except subprocess.TimeoutExpired:
                process.kill()
                await asyncio.to_thread(process.wait)
        for log in files:
            log.close()
