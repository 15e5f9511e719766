"""Activity timeouts and retry policies shared by the monero workflows."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from temporalio.common import RetryPolicy

QUICK = RetryPolicy(initial_interval=timedelta(milliseconds=200), maximum_interval=timedelta(seconds=5))


def rpc(seconds: float = 60, attempts: int = 0) -> dict[str, Any]:
    """One RPC-sized step: a bounded attempt, retried with a short backoff."""
    policy = RetryPolicy(
        initial_interval=timedelta(milliseconds=200), maximum_interval=timedelta(seconds=5), maximum_attempts=attempts
    )
    return {"start_to_close_timeout": timedelta(seconds=seconds), "retry_policy": policy}


def waiting(seconds: float, attempts: int = 5) -> dict[str, Any]:
    """A step that waits on processes (start, stop, propagation): it heartbeats, so a dead worker is noticed."""
    return {
        "start_to_close_timeout": timedelta(seconds=seconds),
        "heartbeat_timeout": timedelta(seconds=30),
        "retry_policy": RetryPolicy(
            initial_interval=timedelta(seconds=1), maximum_interval=timedelta(seconds=10), maximum_attempts=attempts
        ),
    }


def store() -> dict[str, Any]:
    return {"start_to_close_timeout": timedelta(seconds=60), "retry_policy": QUICK}


def on(host_queue: str | None) -> dict[str, Any]:
    """Schedule on the run's host queue, where its processes are; None (a run from before host queues): the
    workflow's own queue, leaving the commands exactly as those runs recorded them."""
    return {"task_queue": host_queue} if host_queue else {}
