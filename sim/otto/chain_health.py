"""Is ML0 producing snapshots? The seed's ml0Health, from the ordinals the simulator observes.

A metagraph that stops producing snapshots accepts updates it never settles, so new lifecycles started then
can only time out. The simulator pauses initiation while the chain is stalled: the last observed ordinal has
not advanced for longer than ``stall_after_ms``. Lag is how long ago the ordinal last moved.
"""

from __future__ import annotations

from dataclasses import dataclass, replace


@dataclass(frozen=True)
class ChainHealth:
    stall_after_ms: int = 10_000
    last_ordinal: int | None = None
    last_advance_ms: int | None = None

    def observed(self, ordinal: int, now_ms: int) -> ChainHealth:
        if self.last_ordinal is None or ordinal > self.last_ordinal:
            return replace(self, last_ordinal=ordinal, last_advance_ms=now_ms)
        return self

    def lag_ms(self, now_ms: int) -> int | None:
        return None if self.last_advance_ms is None else max(0, now_ms - self.last_advance_ms)

    def producing(self, now_ms: int) -> bool:
        """Unknown counts as producing: the first observation decides."""
        lag = self.lag_ms(now_ms)
        return lag is None or lag <= self.stall_after_ms
