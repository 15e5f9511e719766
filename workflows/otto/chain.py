"""Waiting for the chain from workflow code: the retry policy and the await loop all otto workflows share."""

from __future__ import annotations

from datetime import timedelta
from typing import TypedDict

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ApplicationError

with workflow.unsafe.imports_passed_through():
    from activities.otto.fibers import FiberActivities
    from models.otto import AwaitFiber, FiberObservation, OttoEndpoints

CHAIN_RETRY = RetryPolicy(
    initial_interval=timedelta(milliseconds=100),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(seconds=5),
)
POLL_SECONDS = 30.0


class ActivityOptions(TypedDict):
    start_to_close_timeout: timedelta
    retry_policy: RetryPolicy


# Options for one call to the chain (a create, a transition, a registration): retried with backoff.
CHAIN_CALL: ActivityOptions = {"start_to_close_timeout": timedelta(seconds=30), "retry_policy": CHAIN_RETRY}


def awaiting(
    endpoints: OttoEndpoints,
    fiber_id: str,
    *,
    known_sequence: int | None = None,
    known_receipt_ordinal: int | None = None,
    min_ordinal: int | None = None,
    watch_update: str | None = None,
) -> AwaitFiber:
    return AwaitFiber(
        endpoints=endpoints,
        fiber_id=fiber_id,
        timeout_seconds=POLL_SECONDS,
        known_sequence=known_sequence,
        known_receipt_ordinal=known_receipt_ordinal,
        min_ordinal=min_ordinal,
        watch_update=watch_update,
    )


async def await_fiber(request: AwaitFiber, what: str) -> FiberObservation:
    """Wait for ML0, polling again after quiet spells; an update the chain dropped fails with its reason."""
    while True:
        observation = await workflow.execute_activity_method(
            FiberActivities.await_fiber,
            request,
            start_to_close_timeout=timedelta(seconds=request.timeout_seconds + 30),
            heartbeat_timeout=timedelta(seconds=20),
            retry_policy=CHAIN_RETRY,
        )
        if observation.rejection is not None:
            raise ApplicationError(
                f"{what} rejected by the chain: {observation.rejection.code}: {observation.rejection.message}",
                type=observation.rejection.code,
                non_retryable=True,
            )
        if not observation.timed_out:
            return observation
