"""What the worker's /health and `simctl otto status` answer about running evolution runs."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from models.evolution import ChainHealthView


class RunHealth(BaseModel):
    model_config = ConfigDict(frozen=True)

    run_id: str
    workflow_id: str
    generation: int = Field(description="the generation in flight, else the next one to run")
    running: bool = Field(description="a generation is in flight (else between generations, or paused)")
    paused: bool = False
    stopping: bool = False
    population_size: int
    last_checkpoint: int | None = Field(None, description="the last generation checkpointed by this workflow chain")
    last_fitness_avg: float | None = None
    breaker: str = Field(
        "closed", description="closed, half_open or open; a generation only ends with the breaker closed"
    )
    failures: int = 0
    backoff_ms: int = 0
    ml0_ordinal: int | None = None
    ml0_lag_ms: int | None = None
    producing: bool | None = Field(None, description="ML0 taking snapshots; None when no generation is in flight")
    waiting: bool = Field(False, description="new initiations wait for the breaker or for ML0")

    @staticmethod
    def chain_fields(health: ChainHealthView | None) -> dict[str, object]:
        """The breaker and ML0 fields from a running generation's `health` query (defaults without one)."""
        if health is None:
            return {}
        return health.model_dump(
            include={"breaker", "failures", "backoff_ms", "ml0_ordinal", "ml0_lag_ms", "producing", "waiting"}
        )


class HealthReport(BaseModel):
    model_config = ConfigDict(frozen=True)

    status: str = Field(description="ok; degraded when a run's breaker is not closed or its ML0 is stalled")
    checked_at: datetime
    runs: list[RunHealth] = Field(default_factory=list)
    error: str | None = Field(None, description="why the runs could not be read (the server did not answer)")
