"""An evolution run's findings: every figure a computation over the run's recorded rows.

Pure: ``models.otto_report.RunRows`` in, ``RunFindings`` out. The seed's Success Metrics table is filled
from these figures; where a figure equals an input by construction, its note says so.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from models.evolution import LifecycleResult
from models.otto_report import (
    Attestations,
    BreakerFindings,
    GenerationFindings,
    RecordedAgentGeneration,
    RecordedGeneration,
    Reuse,
    RunFindings,
    RunRows,
    SuccessMetric,
    Totals,
    TraitSpread,
    Uptime,
)

SCALAR_TRAITS = ("activity_level", "risk_tolerance", "cooperativeness", "response_speed")
DAY = timedelta(days=1).total_seconds()
# The seed's "Success Metrics" table: V1's figure and the target, per metric.
COMPLETION_TARGET = 0.80
ATTESTATIONS_TARGET = (3, 5)
FITNESS_TARGET = 0.50
UPTIME_TARGET = timedelta(hours=24)
GENERATIONS_PER_DAY_TARGET = 1000
OUR_GENERATIONS_PER_DAY_TARGET = 10_000


def _rate(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def count_outcomes(lifecycles: Iterable[LifecycleResult]) -> tuple[int, int, int, int]:
    """(completed, failure terminal, TIMEOUT, FAILED child) over ended lifecycles."""
    completed = failed = timed_out = child_failed = 0
    for lifecycle in lifecycles:
        if lifecycle.success:
            completed += 1
        elif lifecycle.status == "TIMEOUT":
            timed_out += 1
        elif lifecycle.status == "FAILED":
            child_failed += 1
        else:
            failed += 1
    return completed, failed, timed_out, child_failed


def completion_by_type(lifecycles: Iterable[LifecycleResult]) -> dict[str, list[int]]:
    """Fiber type: [completed, lifecycles], types in name order."""
    counts: dict[str, list[int]] = {}
    for lifecycle in lifecycles:
        pair = counts.setdefault(lifecycle.fiber_type, [0, 0])
        pair[0] += int(lifecycle.success)
        pair[1] += 1
    return {name: counts[name] for name in sorted(counts)}


def trait_spread(values: Sequence[float]) -> TraitSpread:
    return TraitSpread(
        mean=statistics.fmean(values),
        sd=statistics.pstdev(values) if len(values) > 1 else 0.0,
        low=min(values),
        high=max(values),
    )


def generation_findings(row: RecordedGeneration, agents: Sequence[RecordedAgentGeneration]) -> GenerationFindings:
    completed, failed, timed_out, child_failed = count_outcomes(row.lifecycles)
    initiated = sum(agent.fibers_initiated for agent in agents)
    ended = completed + failed + timed_out + child_failed
    weights: dict[str, list[float]] = {}
    for agent in agents:
        for fiber_type, weight in agent.traits.fiber_weights.items():
            weights.setdefault(fiber_type, []).append(weight)
    seconds = (
        (row.finished_at - row.started_at).total_seconds()
        if row.started_at is not None and row.finished_at is not None
        else None
    )
    return GenerationFindings(
        generation=row.generation,
        population=len(agents),
        initiated=initiated,
        completed=completed,
        failed_terminal=failed,
        timed_out=timed_out,
        child_failed=child_failed,
        in_flight=initiated - ended,
        completion_rate=_rate(completed, ended),
        completion_by_type=completion_by_type(row.lifecycles),
        fitness_min=row.stats.fitness_min,
        fitness_avg=row.stats.fitness_avg,
        fitness_max=row.stats.fitness_max,
        mutation_rate=row.stats.mutation_rate,
        diversity=row.stats.diversity,
        traits={
            trait: trait_spread([float(getattr(agent.traits, trait)) for agent in agents])
            for trait in SCALAR_TRAITS
            if agents
        },
        fiber_weights={name: statistics.fmean(values) for name, values in sorted(weights.items())},
        attestations_made=sum(agent.attestations_made for agent in agents),
        newcomers=len(row.stats.newcomers),
        retired=len(row.stats.retired),
        started_at=row.started_at,
        finished_at=row.finished_at,
        seconds=seconds,
    )


def reuse(rows: RunRows) -> Reuse:
    """Each generation after the first keeps the places selection did not give to a newcomer; a kept place
    held by an agent allocated for an earlier generation is a re-use. Allocations beyond the founders and
    the newcomers selection asked for would be agents made again instead of re-used."""
    joined = {allocation.agent_id: allocation.joined_generation for allocation in rows.allocations}
    asked = {row.generation + 1: set(row.stats.newcomers) for row in rows.generations}
    places_kept = reused = 0
    for population in rows.populations:
        if population.generation == 0 or population.generation not in asked:
            continue
        for agent in population.agent_ids:
            if agent in asked[population.generation]:
                continue
            places_kept += 1
            if joined.get(agent, population.generation) < population.generation:
                reused += 1
    founders = sum(1 for generation in joined.values() if generation == 0)
    requested = sum(len(newcomers) for newcomers in asked.values())
    allocated_later = len(joined) - founders
    return Reuse(
        founders=founders,
        allocated=len(joined),
        places_kept=places_kept,
        reused=reused,
        newcomers_requested=requested,
        newcomers_allocated=allocated_later,
        unexplained=max(0, allocated_later - requested),
        rate=_rate(reused, places_kept),
    )


def attestations(rows: RunRows) -> Attestations:
    """Attestations each agent of the final population holds: every one it received over the run."""
    received: dict[str, int] = {}
    for agent in rows.agents:
        received[agent.agent_id] = received.get(agent.agent_id, 0) + agent.attestations_received
    final = max(rows.populations, key=lambda p: p.generation).agent_ids if rows.populations else []
    held = sorted(received.get(agent, 0) for agent in final)
    low, high = ATTESTATIONS_TARGET
    return Attestations(
        agents=len(held),
        held=held,
        mean=statistics.fmean(held) if held else None,
        median=float(statistics.median(held)) if held else None,
        in_range=sum(1 for count in held if low <= count <= high),
        made_total=sum(agent.attestations_made for agent in rows.agents),
        received_total=sum(agent.attestations_received for agent in rows.agents),
    )


def uptime(generations: Sequence[GenerationFindings]) -> Uptime:
    timed = [g for g in generations if g.started_at is not None and g.finished_at is not None]
    if not timed:
        return Uptime(
            timed_generations=0,
            first_started_at=None,
            last_finished_at=None,
            span_seconds=None,
            running_seconds=None,
            running_share=None,
            generations_per_day=None,
        )
    first: datetime = min(g.started_at for g in timed if g.started_at is not None)
    last: datetime = max(g.finished_at for g in timed if g.finished_at is not None)
    span = (last - first).total_seconds()
    running = sum(g.seconds or 0.0 for g in timed)
    return Uptime(
        timed_generations=len(timed),
        first_started_at=first,
        last_finished_at=last,
        span_seconds=span,
        running_seconds=running,
        running_share=running / span if span > 0 else None,
        generations_per_day=len(timed) * DAY / span if span > 0 else None,
    )


def breaker(rows: RunRows) -> BreakerFindings:
    """The chain path's health events (breaker opened, half-open, closed; ML0 stalled, resumed) per generation,
    from the ``health_events`` each generation's stats record, and how long new work waited: from a breaker's
    first opening to its closing, and from a stall to its end. Rows written before the breaker existed carry
    no such field: then nothing is recorded, which is not the same as no events."""
    by_generation: dict[int, dict[str, int]] = {}
    waited: dict[int, float] = {}
    recorded = False
    for row in rows.generations:
        if row.health_events is None:
            continue
        recorded = True
        counts: dict[str, int] = {}
        open_since: datetime | None = None
        stalled_since: datetime | None = None
        seconds = 0.0
        for event in row.health_events:
            counts[event.kind] = counts.get(event.kind, 0) + 1
            if event.kind == "opened" and open_since is None:
                open_since = event.at
            elif event.kind == "closed" and open_since is not None:
                seconds += (event.at - open_since).total_seconds()
                open_since = None
            elif event.kind == "stalled" and stalled_since is None:
                stalled_since = event.at
            elif event.kind == "resumed" and stalled_since is not None:
                seconds += (event.at - stalled_since).total_seconds()
                stalled_since = None
        by_generation[row.generation] = dict(sorted(counts.items()))
        waited[row.generation] = seconds
    totals: dict[str, int] = {}
    for counts in by_generation.values():
        for name, count in counts.items():
            totals[name] = totals.get(name, 0) + count
    return BreakerFindings(
        recorded=recorded,
        source="otto_generations.stats_json: health_events" if recorded else "",
        by_generation=by_generation,
        waiting_seconds=waited,
        totals=dict(sorted(totals.items())),
    )


def consistency(rows: RunRows, generations: Sequence[GenerationFindings], reuse_: Reuse) -> list[str]:
    """Where the rows disagree with one another; empty when every figure adds up."""
    problems = []
    for row, found in zip(rows.generations, generations, strict=True):
        g = row.generation
        ended = found.completed + found.failed_terminal + found.timed_out + found.child_failed
        if found.initiated != ended:
            problems.append(f"generation {g}: {found.initiated} initiated but {ended} ended")
        if (row.stats.completed, row.stats.failed) != (found.completed, ended - found.completed):
            problems.append(
                f"generation {g}: stats say {row.stats.completed} completed/{row.stats.failed} failed, "
                f"its lifecycles {found.completed}/{ended - found.completed}"
            )
        if row.stats.lifecycles != len(row.lifecycles):
            problems.append(f"generation {g}: stats say {row.stats.lifecycles} lifecycles, {len(row.lifecycles)} rows")
        if row.stats.by_type and {k: list(v) for k, v in sorted(row.stats.by_type.items())} != found.completion_by_type:
            problems.append(f"generation {g}: completion by type differs between stats and lifecycles")
        if row.stats.population_size != found.population:
            problems.append(f"generation {g}: population {row.stats.population_size} but {found.population} agent rows")
    if reuse_.unexplained:
        problems.append(f"{reuse_.unexplained} agents allocated beyond the founders and the newcomers asked for")
    return problems


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{value:.1%}"


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return "—"
    if seconds < 120:
        return f"{seconds:.1f} s"
    if seconds < 7200:
        return f"{seconds / 60:.1f} min"
    return f"{seconds / 3600:.1f} h"


def success_metrics(
    totals: Totals,
    reuse_: Reuse,
    held: Attestations,
    mean_fitness: float | None,
    up: Uptime,
    spec: Mapping[str, Any],
) -> list[SuccessMetric]:
    """The seed's Success Metrics table with this run's figures."""
    low, high = ATTESTATIONS_TARGET
    duration = spec.get("duration_seconds")
    return [
        SuccessMetric(
            metric="Fiber completion rate",
            seed_current="0%",
            target=f">{COMPLETION_TARGET:.0%}",
            measured=f"{_pct(totals.completion_rate)} ({totals.completed:,} of {totals.initiated:,} initiated)",
            value=totals.completion_rate,
            met=None if totals.completion_rate is None else totals.completion_rate > COMPLETION_TARGET,
            note="decision mode: no outcome is drawn; each party's moves come from its traits and what it sees",
        ),
        SuccessMetric(
            metric="Agent reuse across restarts",
            seed_current="0%",
            target="100%",
            measured=(
                f"{_pct(reuse_.rate)} ({reuse_.reused:,} of {reuse_.places_kept:,} kept places re-used; "
                f"{reuse_.allocated:,} agents taken on: {reuse_.founders:,} founders + "
                f"{reuse_.newcomers_allocated:,} newcomers for {reuse_.newcomers_requested:,} asked)"
            ),
            value=reuse_.rate,
            met=None if reuse_.rate is None else reuse_.rate == 1.0 and reuse_.unexplained == 0,
            note=(
                "by construction: each generation's population is read from the store and newcomers are "
                "allocated once per generation; this checks the allocation rows bear it out"
            ),
        ),
        SuccessMetric(
            metric="Attestations per agent",
            seed_current="0",
            target=f"{low}-{high}",
            measured=(
                "—"
                if held.mean is None
                else f"mean {held.mean:.2f}, median {held.median:g} "
                f"({held.in_range} of {held.agents} hold {low}-{high})"
            ),
            value=held.mean,
            met=None if held.mean is None else low <= held.mean <= high,
            note="held by the final population: every attestation received over the run, at trait-driven rates",
        ),
        SuccessMetric(
            metric="Mean fitness score",
            seed_current="0.12",
            target=f"{FITNESS_TARGET:.2f}+",
            measured="—" if mean_fitness is None else f"{mean_fitness:.3f} (last generation)",
            value=mean_fitness,
            met=None if mean_fitness is None else mean_fitness >= FITNESS_TARGET,
            note="weighted sum of normalised terms; compare across runs only with the same fitness code",
        ),
        SuccessMetric(
            metric="Uptime without crash",
            seed_current="~10 min",
            target="24h+",
            measured=(
                "—"
                if up.span_seconds is None
                else f"{_duration(up.span_seconds)} span, generations running {_pct(up.running_share)} of it"
            ),
            value=up.span_seconds,
            met=None if up.span_seconds is None else up.span_seconds >= UPTIME_TARGET.total_seconds(),
            note=(
                "the span is set by the run's own length, an input: "
                + (f"--duration {duration:g} s" if duration else "--generations")
                + "; a crash shows as a gap between generations, not as a shorter span"
            ),
        ),
        SuccessMetric(
            metric="Generations per day",
            seed_current="~50",
            target=f"{GENERATIONS_PER_DAY_TARGET:,}+ (ours {OUR_GENERATIONS_PER_DAY_TARGET:,}+)",
            measured=(
                "—"
                if up.generations_per_day is None
                else f"{up.generations_per_day:,.0f} "
                f"({up.timed_generations} generations in {_duration(up.span_seconds)})"
            ),
            value=up.generations_per_day,
            met=None if up.generations_per_day is None else up.generations_per_day >= GENERATIONS_PER_DAY_TARGET,
            note=(
                "extrapolated from the recorded generation timestamps; depends on the population size (an input) "
                "and on how loaded the machine was"
            ),
        ),
    ]


def compute_findings(rows: RunRows) -> RunFindings:
    by_generation: dict[int, list[RecordedAgentGeneration]] = {}
    for agent in rows.agents:
        by_generation.setdefault(agent.generation, []).append(agent)
    generations = [generation_findings(row, by_generation.get(row.generation, [])) for row in rows.generations]
    every = [lifecycle for row in rows.generations for lifecycle in row.lifecycles]
    completed, failed, timed_out, child_failed = count_outcomes(every)
    initiated = sum(g.initiated for g in generations)
    ended = completed + failed + timed_out + child_failed
    totals = Totals(
        generations=len(generations),
        initiated=initiated,
        completed=completed,
        failed_terminal=failed,
        timed_out=timed_out,
        child_failed=child_failed,
        in_flight=initiated - ended,
        completion_rate=_rate(completed, initiated),
        completion_by_type=completion_by_type(every),
    )
    reused = reuse(rows)
    held = attestations(rows)
    up = uptime(generations)
    last = generations[-1].fitness_avg if generations else None
    # Over every agent-generation, not the mean of the generations' means (populations may differ in size).
    run_mean = statistics.fmean(agent.fitness for agent in rows.agents) if rows.agents else None
    return RunFindings(
        generations=generations,
        totals=totals,
        reuse=reused,
        attestations=held,
        uptime=up,
        breaker=breaker(rows),
        mean_fitness_last=last,
        mean_fitness_run=run_mean,
        success=success_metrics(totals, reused, held, last, up, rows.spec),
        checks=consistency(rows, generations, reused),
    )
