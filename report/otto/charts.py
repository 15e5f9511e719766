"""The evolution report's PNG charts, drawn from the findings with matplotlib's Agg backend."""

from __future__ import annotations

import io
import math
from collections.abc import Callable

from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from models.otto_report import RunFindings
from sim.otto.findings import ATTESTATIONS_TARGET, SCALAR_TRAITS

CHARTS = ("fitness.png", "completion_by_type.png", "traits.png", "attestations.png", "breaker.png")
HEALTH_COLOURS = {
    "opened": "#d62728",
    "half_open": "#ff7f0e",
    "closed": "#2ca02c",
    "stalled": "#9467bd",
    "resumed": "#17becf",
}


def render_charts(f: RunFindings) -> dict[str, bytes]:
    return {
        "fitness.png": _png(_fitness, f),
        "completion_by_type.png": _png(_completion, f),
        "traits.png": _png(_traits, f, size=(12, 7)),
        "attestations.png": _png(_attestations, f),
        "breaker.png": _png(_breaker, f),
    }


def _png(draw: Callable[[Figure, RunFindings], None], f: RunFindings, size: tuple[float, float] = (10, 5.5)) -> bytes:
    figure = Figure(figsize=size, dpi=100, layout="constrained")
    FigureCanvasAgg(figure)
    draw(figure, f)
    buffer = io.BytesIO()
    # No "Software" stamp, so the bytes do not change with the matplotlib version.
    figure.savefig(buffer, format="png", metadata={"Software": None})
    return buffer.getvalue()


def _generations_axis(ax: Axes, generations: list[int]) -> None:
    ax.set_xlabel("generation")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    if len(generations) == 1:
        ax.set_xlim(generations[0] - 1, generations[0] + 1)
    ax.grid(alpha=0.3)


def _fitness(figure: Figure, f: RunFindings) -> None:
    ax = figure.subplots()
    x = [g.generation for g in f.generations]
    ax.fill_between(x, [g.fitness_min for g in f.generations], [g.fitness_max for g in f.generations], alpha=0.15)
    ax.plot(x, [g.fitness_max for g in f.generations], marker=".", label="max")
    ax.plot(x, [g.fitness_avg for g in f.generations], marker="o", linewidth=2, label="mean")
    ax.plot(x, [g.fitness_min for g in f.generations], marker=".", label="min")
    ax.axhline(0.5, color="grey", linestyle="--", linewidth=1, label="seed's target mean (0.50)")
    ax.set_ylim(0, 1)
    ax.set_ylabel("fitness (weighted sum of normalised terms)")
    ax.set_title("Fitness by generation (otto_agent_stats / otto_generations)")
    _generations_axis(ax, x)
    ax.legend(loc="upper left", fontsize=8)


def _completion(figure: Figure, f: RunFindings) -> None:
    ax = figure.subplots()
    x = [g.generation for g in f.generations]
    types = sorted({name for g in f.generations for name in g.completion_by_type})
    for name in types:
        # NaN where a generation played no lifecycle of the type: the line breaks there instead of bridging it.
        rates = [
            pair[0] / pair[1] if (pair := g.completion_by_type.get(name, [0, 0]))[1] else math.nan
            for g in f.generations
        ]
        ax.plot(x, rates, marker=".", label=name, alpha=0.8)
    overall = [(g.generation, g.completion_rate) for g in f.generations if g.completion_rate is not None]
    if overall:
        ax.plot(*zip(*overall, strict=True), color="black", linewidth=2.5, marker="o", label="all types")
    ax.axhline(0.8, color="grey", linestyle="--", linewidth=1, label="seed's target (80%)")
    ax.set_ylim(-0.05, 1.05)
    ax.yaxis.set_major_formatter(lambda v, _: f"{v:.0%}")
    ax.set_ylabel("lifecycles reaching a success terminal")
    ax.set_title("Completion rate by fiber type by generation (recorded lifecycles)")
    _generations_axis(ax, x)
    ax.legend(loc="center left", bbox_to_anchor=(1.0, 0.5), fontsize=8)


def _traits(figure: Figure, f: RunFindings) -> None:
    axes = figure.subplots(2, 3)
    x = [g.generation for g in f.generations]
    for ax, trait in zip(axes.flat, SCALAR_TRAITS, strict=False):
        spreads = [g.traits[trait] for g in f.generations if trait in g.traits]
        xs = [g.generation for g in f.generations if trait in g.traits]
        if spreads:
            means = [s.mean for s in spreads]
            ax.fill_between(
                xs, [s.low for s in spreads], [s.high for s in spreads], color="#1f77b4", alpha=0.1, label="min–max"
            )
            ax.fill_between(
                xs,
                [s.mean - s.sd for s in spreads],
                [s.mean + s.sd for s in spreads],
                color="#1f77b4",
                alpha=0.3,
                label="mean ± sd",
            )
            ax.plot(xs, means, color="#1f77b4", marker=".", label="mean")
        ax.set_ylim(0, 1)
        ax.set_title(trait.replace("_", " "), fontsize=10)
        _generations_axis(ax, x)
    axes.flat[0].legend(fontsize=7, loc="lower left")
    weights_ax = axes.flat[4]
    types = sorted({name for g in f.generations for name in g.fiber_weights})
    if types and x:
        weights_ax.stackplot(
            x, [[g.fiber_weights.get(name, 0.0) for g in f.generations] for name in types], labels=types, alpha=0.8
        )
        weights_ax.legend(fontsize=6, loc="center left", bbox_to_anchor=(1.0, 0.5))
    weights_ax.set_ylim(0, 1)
    weights_ax.set_title("mean fiber weights", fontsize=10)
    _generations_axis(weights_ax, x)
    ga_ax = axes.flat[5]
    ga_ax.plot(x, [g.diversity for g in f.generations], marker=".", label="diversity (mean trait sd)")
    ga_ax.plot(x, [g.mutation_rate for g in f.generations], marker=".", label="mutation rate")
    ga_ax.set_title("diversity and adaptive mutation", fontsize=10)
    ga_ax.legend(fontsize=7)
    _generations_axis(ga_ax, x)
    figure.suptitle("Traits of the agents that played each generation (otto_agent_stats.traits_json)")


def _attestations(figure: Figure, f: RunFindings) -> None:
    ax = figure.subplots()
    held = f.attestations.held
    low, high = ATTESTATIONS_TARGET
    ax.axvspan(low - 0.5, high + 0.5, color="#2ca02c", alpha=0.12, label=f"seed's target ({low}-{high})")
    if held:
        top = max(held)
        ax.hist(held, bins=[b - 0.5 for b in range(top + 2)], edgecolor="white", label="agents")
        ax.axvline(
            f.attestations.mean or 0, color="black", linestyle="--", label=f"mean {f.attestations.mean or 0:.2f}"
        )
    else:
        ax.text(0.5, 0.5, "no final population recorded", ha="center", transform=ax.transAxes)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel("attestations held (received over the run)")
    ax.set_ylabel("agents of the final population")
    ax.set_title("Attestations per agent (otto_agent_stats.attestations_received)")
    ax.grid(alpha=0.3, axis="y")
    ax.legend(fontsize=8)


def _breaker(figure: Figure, f: RunFindings) -> None:
    ax = figure.subplots()
    x = [g.generation for g in f.generations]
    b = f.breaker
    if b.recorded:
        kinds = [k for k in HEALTH_COLOURS if k in b.totals] + sorted(set(b.totals) - set(HEALTH_COLOURS))
        width = 0.8 / max(len(kinds), 1)
        for i, kind in enumerate(kinds):
            ax.bar(
                [g + (i - (len(kinds) - 1) / 2) * width for g in x],
                [b.by_generation.get(g, {}).get(kind, 0) for g in x],
                width=width,
                color=HEALTH_COLOURS.get(kind),
                label=f"breaker/ML0: {kind}",
            )
    ax.plot(
        x,
        [g.child_failed for g in f.generations],
        color="black",
        marker="x",
        linestyle=":",
        label="lifecycles whose FiberWorkflow failed",
    )
    if not b.recorded:
        message = "no breaker events recorded: these rows predate the breaker's events"
    elif not b.totals:
        message = f"no breaker events recorded in {len(x)} generations: the chain path never failed"
    else:
        message = ""
    if message:
        ax.text(0.5, 0.6, message, ha="center", transform=ax.transAxes, fontsize=10)
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    counts = [count for c in b.by_generation.values() for count in c.values()]
    ax.set_ylim(bottom=0, top=max([1, *counts, *(g.child_failed for g in f.generations)]) * 1.3)
    ax.set_ylabel("events / lifecycles")
    ax.set_title("Circuit breaker and ML0 health events by generation (GenerationStats.health_events)")
    _generations_axis(ax, x)
    ax.legend(fontsize=8, loc="upper right")
