"""The chain gate: what a generation asks before it starts new work on the chain (the seed's HealthMonitor).

Two rules from ``sim.otto``, on the workflow's clock: the circuit breaker (``breaker.py``) and ML0 health
(``chain_health.py``). Before each new initiation (a lifecycle, a contract report, an attestation, the
newcomers' registration) and around the generation's own chain reads, ``ready()``:

- with the breaker open, sleeps out its backoff on a durable timer, then sends one probe (ML0's latest
  snapshot ordinal); a good probe closes it, a failed one opens it again with the next, longer backoff;
- reads ML0's ordinal when the last reading is older than ``poll_seconds``; a read that fails after its
  retries is a failure on the chain path;
- while the ordinal has not moved for ``stall_after_seconds``, polls on durable timers until it moves.

Only new work waits: lifecycles already running are children that end on their own (terminal or TIMEOUT).
While they run, ``watch()`` keeps looking, so a chain that fails with all the work in flight opens the breaker.
One lock serialises the checks, so a window of waiting initiations sends one probe, not one each. Every
change is recorded as a ``HealthEvent`` (the generation's stats keep them) and published through the
replay-safe metric meter: ``traffic_simulator_bridge_failures`` (counter, ``layer="breaker"``),
``traffic_simulator_bridge_backoff_ms``, ``traffic_simulator_breaker_state`` (0 closed, 1 half-open,
2 open) and ``traffic_simulator_ml0_lag_ms`` (gauges, by run).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import TypeVar

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():
    from activities.otto.evolution import EvolutionActivities
    from models.evolution import ChainHealthView, HealthEvent, HealthEventKind, HealthSettings
    from models.otto import OttoEndpoints
    from sim.otto.breaker import Breaker, BreakerState
    from sim.otto.chain_health import ChainHealth

T = TypeVar("T")

# A chain read the gate makes: a few quick attempts, then it counts as one failure on the chain path.
GATED_RETRY = RetryPolicy(
    initial_interval=timedelta(milliseconds=200), maximum_interval=timedelta(seconds=2), maximum_attempts=3
)
PROBE_TIMEOUT = timedelta(seconds=10)
BREAKER_STATE_VALUE = {BreakerState.CLOSED: 0, BreakerState.HALF_OPEN: 1, BreakerState.OPEN: 2}


def _ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def chain_path_failure(err: ActivityError) -> bool:
    """A failure the breaker counts: the chain did not answer (retries ran out, timeouts), as opposed to a
    request the chain refused for good, which no amount of waiting fixes."""
    cause = err.cause
    return not (isinstance(cause, ApplicationError) and cause.non_retryable)


class ChainGate:
    def __init__(self, endpoints: OttoEndpoints, settings: HealthSettings, *, run_id: str) -> None:
        self._endpoints = endpoints
        self._settings = settings
        self.breaker = Breaker(threshold=settings.breaker_threshold)
        self.health = ChainHealth(stall_after_ms=round(settings.stall_after_seconds * 1000))
        self.events: list[HealthEvent] = []
        self._observed_ms: int | None = None
        self._stalled = False
        self._waiting = False
        self._lock = asyncio.Lock()
        meter = workflow.metric_meter()
        self._labels = {"run": run_id}
        self._failures = meter.create_counter(
            "traffic_simulator_bridge_failures", "chain-path failures the circuit breaker counted"
        )
        self._backoff = meter.create_gauge("traffic_simulator_bridge_backoff_ms", "the open breaker's backoff")
        self._state = meter.create_gauge("traffic_simulator_breaker_state", "0 closed, 1 half-open, 2 open")
        self._lag = meter.create_gauge("traffic_simulator_ml0_lag_ms", "time since ML0's snapshot ordinal moved")

    def view(self) -> ChainHealthView:
        now = _ms(workflow.now())
        retry_at = self.breaker.retry_at_ms()
        return ChainHealthView(
            breaker=self.breaker.state.value,
            failures=self.breaker.failures,
            backoff_ms=self.breaker.backoff,
            retry_at=datetime.fromtimestamp(retry_at / 1000, workflow.now().tzinfo) if retry_at else None,
            ml0_ordinal=self.health.last_ordinal,
            ml0_lag_ms=self.health.lag_ms(now),
            producing=self.health.producing(now),
            waiting=self._waiting,
            openings=self.breaker.openings,
            observed_at=workflow.now(),
        )

    async def ready(self) -> None:
        """Returns when new work may start: the breaker closed and ML0 producing."""
        async with self._lock:
            while True:
                now = _ms(workflow.now())
                if self.breaker.state is BreakerState.OPEN:
                    retry_at = self.breaker.retry_at_ms() or now
                    if retry_at > now:
                        self._waiting = True
                        await workflow.sleep(timedelta(milliseconds=retry_at - now))
                        continue
                    self.breaker = self.breaker.probing(now)
                    self._record(HealthEventKind.HALF_OPEN)
                    await self._observe()
                    continue
                due = self._observed_ms is None or now - self._observed_ms >= self._settings.poll_seconds * 1000
                if due and not await self._observe():
                    continue
                now = _ms(workflow.now())
                if not self.health.producing(now):
                    if not self._stalled:
                        self._stalled = True
                        self._record(HealthEventKind.STALLED)
                    self._waiting = True
                    self._publish()
                    await workflow.sleep(timedelta(seconds=self._settings.poll_seconds))
                    continue
                self._waiting = False
                return

    async def watch(self, busy: Callable[[], bool]) -> None:
        """While ``busy()``, look at the chain every ``poll_seconds`` through ``ready()``: an outage that begins
        when every lifecycle has already started (so no new initiation asks) still counts on the breaker and
        opens it, and the chain answering again closes it."""
        while busy():
            await self.ready()
            with contextlib.suppress(asyncio.TimeoutError):
                await workflow.wait_condition(
                    lambda: not busy(), timeout=timedelta(seconds=self._settings.poll_seconds)
                )

    async def call(self, make: Callable[[], Awaitable[T]]) -> T:
        """One of the generation's own chain calls, through the gate: made only when ``ready()``; a failure
        after its retries counts on the breaker, and the call is made again once the breaker lets it."""
        while True:
            await self.ready()
            try:
                result = await make()
            except ActivityError as err:
                if not chain_path_failure(err):
                    raise
                workflow.logger.warning("chain call failed after its retries: %s", err.cause or err)
                self._failed()
                continue
            self._succeeded()
            return result

    async def _observe(self) -> bool:
        """Read ML0's ordinal; False (and a failure on the breaker) when the chain does not answer."""
        try:
            ordinal = await workflow.execute_activity_method(
                EvolutionActivities.latest_ordinal,
                self._endpoints,
                start_to_close_timeout=PROBE_TIMEOUT,
                retry_policy=GATED_RETRY,
            )
        except ActivityError as err:
            if not chain_path_failure(err):
                raise
            self._failed()
            return False
        now = _ms(workflow.now())
        self._observed_ms = now
        self.health = self.health.observed(ordinal, now)
        if self._stalled and self.health.producing(now):
            self._stalled = False
            self._record(HealthEventKind.RESUMED)
        self._succeeded()
        return True

    def _succeeded(self) -> None:
        was = self.breaker.state
        self.breaker = self.breaker.succeeded()
        if was is not BreakerState.CLOSED:
            self._record(HealthEventKind.CLOSED)
        else:
            self._publish()

    def _failed(self) -> None:
        self._failures.add(1, {**self._labels, "layer": "breaker"})
        if self.breaker.state is BreakerState.OPEN:
            return  # a call started before the breaker opened: its backoff already runs
        self.breaker = self.breaker.failed(_ms(workflow.now()))
        if self.breaker.state is BreakerState.OPEN:
            self._record(HealthEventKind.OPENED)
        else:
            self._publish()

    def _record(self, kind: HealthEventKind) -> None:
        now = _ms(workflow.now())
        self.events.append(
            HealthEvent(
                kind=kind,
                at=workflow.now(),
                failures=self.breaker.failures,
                backoff_ms=self.breaker.backoff if kind is HealthEventKind.OPENED else 0,
                ordinal=self.health.last_ordinal,
                lag_ms=self.health.lag_ms(now),
            )
        )
        workflow.logger.info("chain health: %s (%s)", kind.value, self.events[-1])
        self._publish()

    def _publish(self) -> None:
        self._state.set(BREAKER_STATE_VALUE[self.breaker.state], self._labels)
        self._backoff.set(self.breaker.backoff, self._labels)
        lag = self.health.lag_ms(_ms(workflow.now()))
        if lag is not None:
            self._lag.set(lag, self._labels)
