"""The circuit breaker on the bridge/DL1/ML0 path, as a pure state machine (the seed's HealthMonitor).

Closed: calls go through; each failure counts, a success resets the count. After ``threshold`` consecutive
failures the breaker opens for ``backoff_ms(failures)`` = min(1000 * 2^failures, 60000) ms, which the workflow
waits on a durable timer. Then it is half-open: one probe goes through; its success closes the breaker, its
failure opens it again with the next, longer backoff. Time is whatever clock the caller passes (the
workflow's), so the same sequence of outcomes gives the same states on replay.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from enum import StrEnum

MAX_BACKOFF_MS = 60_000


def backoff_ms(failures: int) -> int:
    """The seed's getBackoff: doubling from one second, capped at a minute."""
    return min(1000 << min(failures, 16), MAX_BACKOFF_MS)


class BreakerState(StrEnum):
    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half_open"


@dataclass(frozen=True)
class Breaker:
    threshold: int = 3
    state: BreakerState = BreakerState.CLOSED
    failures: int = 0  # consecutive, since the last success
    opened_at_ms: int | None = None
    openings: int = 0

    @property
    def backoff(self) -> int:
        return backoff_ms(self.failures) if self.state is not BreakerState.CLOSED else 0

    def retry_at_ms(self) -> int | None:
        """When an open breaker lets a probe through."""
        if self.state is not BreakerState.OPEN or self.opened_at_ms is None:
            return None
        return self.opened_at_ms + backoff_ms(self.failures)

    def allows(self, now_ms: int) -> bool:
        """May a call start now? An open breaker whose backoff has passed lets one probe through."""
        if self.state is BreakerState.OPEN:
            retry_at = self.retry_at_ms()
            return retry_at is not None and now_ms >= retry_at
        return True

    def probing(self, now_ms: int) -> Breaker:
        """The breaker once the probe starts: half-open until its outcome is known."""
        if self.state is BreakerState.OPEN and self.allows(now_ms):
            return replace(self, state=BreakerState.HALF_OPEN)
        return self

    def succeeded(self) -> Breaker:
        return replace(self, state=BreakerState.CLOSED, failures=0, opened_at_ms=None)

    def failed(self, now_ms: int) -> Breaker:
        failures = self.failures + 1
        if self.state is BreakerState.HALF_OPEN or failures >= self.threshold:
            return replace(
                self, state=BreakerState.OPEN, failures=failures, opened_at_ms=now_ms, openings=self.openings + 1
            )
        return replace(self, failures=failures)
