"""report.md of an evolution run: the seed's Success Metrics table first, then each figure with where it
comes from, the run's inputs apart from the findings."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from models.otto_report import RunFindings
from report.formatting import num, pct, table
from report.otto.charts import CHARTS
from sim.otto.findings import SCALAR_TRAITS


def render_markdown(run_id: str, seed: int, spec: Mapping[str, Any], f: RunFindings) -> str:
    sections = [
        _title(run_id, f),
        _success(f),
        _generations(f),
        _completion(f),
        _traits(f),
        _attestations(f),
        _reuse(f),
        _uptime(f),
        _breaker(f),
        _checks(f),
        _parameters(seed, spec),
        _charts(),
    ]
    return "\n\n".join("\n".join(lines) for lines in sections if lines) + "\n"


def _title(run_id: str, f: RunFindings) -> list[str]:
    t = f.totals
    return [
        f"# OttoChain traffic simulator: run `{run_id}`",
        "",
        f"{t.generations} generations, {t.initiated:,} lifecycles initiated. Every figure here is computed from the "
        "rows the run recorded in the results store (otto_generations, otto_agent_stats, otto_run_agents, "
        "otto_populations, otto_generation_times); the run's inputs are listed under [Parameters](#parameters).",
    ]


def _met(value: bool | None) -> str:
    return "—" if value is None else ("yes" if value else "no")


def _success(f: RunFindings) -> list[str]:
    return [
        "## Success Metrics (the seed's table, measured)",
        "",
        table(
            ["Metric", "V1 (seed)", "Target", "Measured", "Met", "Note"],
            [[m.metric, m.seed_current, m.target, m.measured, _met(m.met), m.note] for m in f.success],
        ),
    ]


def _generations(f: RunFindings) -> list[str]:
    rows = [
        [
            g.generation,
            g.population,
            g.initiated,
            g.completed,
            g.failed_terminal,
            g.timed_out,
            g.child_failed,
            g.in_flight,
            pct(g.completion_rate),
            f"{g.fitness_min:.3f} / {g.fitness_avg:.3f} / {g.fitness_max:.3f}",
            f"{g.mutation_rate:.3f}",
            g.attestations_made,
            f"{g.newcomers} / {g.retired}",
            num(g.seconds, 1),
        ]
        for g in f.generations
    ]
    t = f.totals
    return [
        "## Generations",
        "",
        "Lifecycles counted as initiated = completed + failed terminal + TIMEOUT + FAILED child + in flight; "
        "initiated is the sum of the agents' own `fibers_initiated`, the rest the recorded lifecycles' outcomes, "
        "so the two sides are independent counts. A generation is checkpointed only once all its lifecycles "
        "have ended: in flight is 0 for every recorded generation unless the rows disagree.",
        "",
        table(
            [
                "gen",
                "agents",
                "initiated",
                "completed",
                "failed",
                "timeout",
                "FAILED",
                "in flight",
                "completion",
                "fitness min / mean / max",
                "mutation",
                "attestations",
                "joined / retired",
                "seconds",
            ],
            rows,
        ),
        "",
        f"Run: {t.initiated:,} initiated = {t.completed:,} completed + {t.failed_terminal:,} failed terminal + "
        f"{t.timed_out:,} TIMEOUT + {t.child_failed:,} FAILED + {t.in_flight:,} in flight; completion rate "
        f"{pct(t.completion_rate)}. Mean fitness over every agent-generation: {num(f.mean_fitness_run, 3)}; in the "
        f"last generation: {num(f.mean_fitness_last, 3)}.",
        "",
        "![fitness](fitness.png)",
    ]


def _completion(f: RunFindings) -> list[str]:
    types = sorted({name for g in f.generations for name in g.completion_by_type})
    if not types:
        return []

    def cell(pair: list[int] | None) -> str:
        return "—" if not pair or not pair[1] else f"{pair[0] / pair[1]:.0%} ({pair[0]}/{pair[1]})"

    rows = [[g.generation, *(cell(g.completion_by_type.get(name)) for name in types)] for g in f.generations]
    rows.append(["run", *(cell(f.totals.completion_by_type.get(name)) for name in types)])
    return [
        "## Completion by fiber type",
        "",
        "A lifecycle completes when it reaches one of its type's success terminals; no outcome is drawn, each "
        "party decides its moves from its traits and what the chain shows.",
        "",
        table(["gen", *types], rows),
        "",
        "![completion by type](completion_by_type.png)",
    ]


def _traits(f: RunFindings) -> list[str]:
    if not f.generations or not f.generations[0].traits:
        return []
    first, last = f.generations[0], f.generations[-1]
    rows = [
        [
            trait.replace("_", " "),
            f"{first.traits[trait].mean:.3f} ± {first.traits[trait].sd:.3f}",
            f"{last.traits[trait].mean:.3f} ± {last.traits[trait].sd:.3f}" if trait in last.traits else "—",
        ]
        for trait in SCALAR_TRAITS
        if trait in first.traits
    ]
    rows += [
        [f"weight {name}", f"{first.fiber_weights[name]:.3f}", f"{last.fiber_weights.get(name, 0.0):.3f}"]
        for name in first.fiber_weights
    ]
    return [
        "## Traits over time",
        "",
        "Mean ± standard deviation over the agents that played the generation (the traits they played with).",
        "",
        table(["trait", f"generation {first.generation}", f"generation {last.generation}"], rows),
        "",
        "![traits](traits.png)",
    ]


def _attestations(f: RunFindings) -> list[str]:
    a = f.attestations
    counts: dict[int, int] = {}
    for held in a.held:
        counts[held] = counts.get(held, 0) + 1
    return [
        "## Attestations per agent",
        "",
        f"Held by the {a.agents} agents of the final population (every attestation each received over the run): "
        f"mean {num(a.mean, 2)}, median {num(a.median, 1)}, {a.in_range} hold 3-5. Over the run "
        f"{a.made_total:,} were issued and {a.received_total:,} received.",
        "",
        table(["held", "agents"], sorted(counts.items())) if counts else "no final population recorded",
        "",
        "![attestations per agent](attestations.png)",
    ]


def _reuse(f: RunFindings) -> list[str]:
    r = f.reuse
    return [
        "## Agent reuse",
        "",
        f"From the allocation rows (otto_run_agents) against the populations: {r.allocated} agents taken on from "
        f"the wallet pool, {r.founders} founders and {r.newcomers_allocated} newcomers, where selection asked for "
        f"{r.newcomers_requested} newcomers ({r.unexplained} unexplained allocations). Of the {r.places_kept} places "
        f"selection kept in generations after the first, {r.reused} were held by an agent allocated earlier "
        f"({pct(r.rate)}). A resumed run starts from the last checkpoint's population, so a restart shows here as "
        "one more generation boundary: a re-created agent would be an unexplained allocation.",
    ]


def _uptime(f: RunFindings) -> list[str]:
    u = f.uptime
    if u.timed_generations == 0:
        return [
            "## Uptime and pace",
            "",
            "No generation times recorded (rows from before otto_generation_times existed): uptime and "
            "generations per day cannot be measured for this run.",
        ]
    return [
        "## Uptime and pace",
        "",
        f"{u.timed_generations} timed generations from {u.first_started_at:%Y-%m-%d %H:%M:%S} to "
        f"{u.last_finished_at:%Y-%m-%d %H:%M:%S} UTC: a span of {num(u.span_seconds, 1)} s, of which generations "
        f"were running {num(u.running_seconds, 1)} s ({pct(u.running_share)}; the rest is between generations: "
        "continue-as-new, pauses, restarts). Generations per day, extrapolated from that span: "
        f"{num(u.generations_per_day)}. The times are the generation workflows' own clocks (start, checkpoint).",
    ]


def _breaker(f: RunFindings) -> list[str]:
    b = f.breaker
    failed = sum(g.child_failed for g in f.generations)
    lines = ["## Circuit breaker and ML0 health", ""]
    if not b.recorded:
        lines.append(
            "No breaker events recorded: this run's rows predate the recording of health events "
            f"(GenerationStats.health_events). FiberWorkflow children that failed: {failed}."
        )
    elif not b.totals:
        lines.append(
            f"No breaker events recorded in {len(f.generations)} generations: the breaker never opened and ML0 "
            f"never stalled. FiberWorkflow children that failed: {failed}."
        )
    else:
        kinds = sorted(b.totals)
        lines += [
            f"From {b.source}. Seconds waiting = from a breaker's first opening to its closing and from a stall "
            f"to its end, while new initiations waited. FiberWorkflow children that failed: {failed}.",
            "",
            table(
                ["gen", *kinds, "seconds waiting"],
                [
                    [g, *(counts.get(k, 0) for k in kinds), num(b.waiting_seconds.get(g), 1)]
                    for g, counts in sorted(b.by_generation.items())
                    if any(counts.values())
                ],
            ),
        ]
    return [*lines, "", "![breaker events](breaker.png)"]


def _checks(f: RunFindings) -> list[str]:
    if not f.checks:
        return ["## Consistency", "", "Every count adds up across the tables (no check failed)."]
    return ["## Consistency", "", "These checks failed:", "", *(f"- {problem}" for problem in f.checks)]


def _parameters(seed: int, spec: Mapping[str, Any]) -> list[str]:
    shown = {
        key: value for key, value in sorted(spec.items()) if key not in ("seed", "wallets", "carried", "started_by")
    }
    return [
        "## Parameters",
        "",
        "The run's recorded inputs (otto_runs.spec_json), not findings.",
        "",
        table(["parameter", "value"], [["seed", seed], *([k, json.dumps(v)] for k, v in shown.items())]),
    ]


def _charts() -> list[str]:
    return ["## Files", "", "report.json (every figure), " + ", ".join(CHARTS) + "."]
