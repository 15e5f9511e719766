"""Simulated time inside a workflow.

A workflow's clock advances by simulated seconds. ``acceleration`` is how many simulated seconds pass
per real second: 0 runs as fast as possible with no timers at all; N > 0 waits on durable timers, so
a crashed worker resumes mid-day exactly where it was.
"""

from __future__ import annotations

from datetime import timedelta

from pydantic import BaseModel, Field
from temporalio import workflow


class ClockState(BaseModel):
    """What a clock carries across continue-as-new."""

    acceleration: float = Field(0.0, ge=0)
    now: int = Field(0, ge=0, description="simulated seconds since the simulation's epoch")


class SimClock:
    def __init__(self, state: ClockState) -> None:
        self._acceleration = state.acceleration
        self._now = state.now

    @property
    def now(self) -> int:
        return self._now

    @property
    def state(self) -> ClockState:
        return ClockState(acceleration=self._acceleration, now=self._now)

    def real_delay(self, sim_seconds: int) -> timedelta | None:
        if self._acceleration == 0 or sim_seconds <= 0:
            return None
        return timedelta(seconds=sim_seconds / self._acceleration)

    async def advance(self, sim_seconds: int) -> int:
        """Let ``sim_seconds`` of simulated time pass; returns the new simulated now."""
        delay = self.real_delay(sim_seconds)
        if delay is not None:
            await workflow.sleep(delay)
        self._now += sim_seconds
        return self._now

    async def advance_to(self, sim_time: int) -> int:
        return await self.advance(max(0, sim_time - self._now))
