"""Crash tests: the otto wallet pool and the monero genesis snapshot of the domain suites, and a worker to kill."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from temporalio.client import Client

from models.task_queues import TaskQueue
from tests.monero.conftest import genesis_snapshot, monero_engine, monero_http, monero_network
from tests.reliability.crash import CrashingWorker, worker_environment

__all__ = ["genesis_snapshot", "monero_engine", "monero_http", "monero_network"]


@pytest.fixture
def crashing_worker(client: Client, temporal_address: str, tmp_path: Path) -> Iterator[Callable[..., CrashingWorker]]:
    """``crashing_worker(queue, **env)``: a `python -m workers.main` of the test's own, killed for sure at the end."""
    made: list[CrashingWorker] = []

    def make(queue: TaskQueue, **extra_env: str) -> CrashingWorker:
        state = tmp_path / f"worker-state-{len(made)}"
        state.mkdir()
        env = worker_environment(temporal_address, state, **extra_env)
        worker = CrashingWorker(client=client, env=env, log=tmp_path / f"worker-{len(made)}.log", queue=queue)
        made.append(worker)
        return worker

    yield make
    for worker in made:
        worker.ensure_dead()
