"""The monero report's PNG charts, drawn from findings with matplotlib's Agg backend (no display, no pyplot)."""

from __future__ import annotations

import io
import math
from collections import Counter
from collections.abc import Callable

from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from models.monero import ATOMIC_UNITS_PER_XMR
from sim.monero.findings import Findings, Summary

CHARTS = (
    "blocks_per_pool.png",
    "block_intervals.png",
    "confirmation_latency.png",
    "propagation.png",
    "reconciliation.png",
)


def render_charts(f: Findings) -> dict[str, bytes]:
    draw: dict[str, Callable[[Figure, Findings], None]] = {
        "blocks_per_pool.png": _pools,
        "block_intervals.png": _intervals,
        "confirmation_latency.png": _latency,
        "propagation.png": _propagation,
        "reconciliation.png": _reconciliation,
    }
    return {name: _png(draw[name], f) for name in CHARTS}


def _png(draw: Callable[[Figure, Findings], None], f: Findings) -> bytes:
    figure = Figure(figsize=(10, 5.5), dpi=100, layout="constrained")
    FigureCanvasAgg(figure)
    draw(figure, f)
    buffer = io.BytesIO()
    # No "Software" stamp, so the bytes do not change with the matplotlib version.
    figure.savefig(buffer, format="png", metadata={"Software": None})
    return buffer.getvalue()


def _no_data(ax: Axes, text: str) -> None:
    ax.text(0.5, 0.5, text, ha="center", va="center", transform=ax.transAxes)


def _pools(figure: Figure, f: Findings) -> None:
    ax = figure.subplots()
    pools = f.blocks.pools
    x = range(len(pools))
    ax.bar([i - 0.2 for i in x], [p.observed for p in pools], width=0.4, color="#4c72b0", label="mined (recorded)")
    ax.bar(
        [i + 0.2 for i in x],
        [p.expected for p in pools],
        width=0.4,
        color="#bbbbbb",
        label="expected: scheduled blocks × configured share",
    )
    ax.set_xticks(list(x), [f"{p.pool}\nshare {p.share:.0%}" for p in pools])
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_ylabel("scheduled blocks")
    fit = f.blocks.fit
    verdict = "no test (one pool or no blocks)" if fit is None else f"χ² = {fit.statistic:.2f}, p = {fit.p_value:.3f}"
    ax.set_title(f"Blocks per pool against the configured shares ({f.blocks.scheduled} blocks; {verdict})")
    ax.legend(fontsize=9)


def _intervals(figure: Figure, f: Findings) -> None:
    sim_ax, wall_ax = figure.subplots(1, 2)
    i = f.intervals
    if i.sim_intervals_s and i.mode == "poisson":
        top = max(i.sim_intervals_s) * 1.05
        bins = max(5, min(30, int(math.sqrt(len(i.sim_intervals_s))) + 1))
        edges = [top * k / bins for k in range(bins + 1)]
        sim_ax.hist(i.sim_intervals_s, bins=edges, density=True, color="#4c72b0", alpha=0.8, label="recorded")
        xs = [top * k / 200 for k in range(201)]
        mean = i.expected_mean_s
        curve = [math.exp(-x / mean) / mean for x in xs]
        sim_ax.plot(xs, curve, color="#c44e52", label=f"exponential, mean {mean:g} s")
        sim_ax.set_ylabel("density")
        sim_ax.legend(fontsize=8)
    elif i.sim_intervals_s:
        # Controller mode: every interval is block_time by construction; a bar per distinct value shows any other.
        counts = Counter(i.sim_intervals_s)
        values = sorted(counts)
        bars = sim_ax.bar([f"{v} s" for v in values], [counts[v] for v in values], color="#4c72b0")
        sim_ax.bar_label(bars)
        sim_ax.set_ylabel("intervals")
        sim_ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    else:
        _no_data(sim_ax, "no scheduled blocks")
    fit = i.fit
    test = (
        f"KS D = {fit.statistic:.3f}, p = {fit.p_value:.3f}"
        if fit
        else f"block_time by construction, {i.off_schedule} off schedule"
    )
    sim_ax.set_title(f"Simulated intervals ({i.mode}; {test})", fontsize=10)
    sim_ax.set_xlabel("seconds between scheduled blocks (simulated)")
    if i.wall_intervals_ms:
        wall_ax.hist([ms / 1000 for ms in i.wall_intervals_ms], bins=20, color="#55a868")
    else:
        _no_data(wall_ax, "fewer than two scheduled blocks")
    wall_ax.set_title("Wall-clock intervals between mining calls", fontsize=10)
    wall_ax.set_xlabel("seconds (wall clock)")
    wall_ax.set_ylabel("blocks")


def _latency(figure: Figure, f: Findings) -> None:
    blocks_ax, wall_ax = figure.subplots(1, 2)
    c = f.confirmation
    if c.latency_blocks_histogram:
        keys = list(c.latency_blocks_histogram)
        blocks_ax.bar(keys, [c.latency_blocks_histogram[k] for k in keys], color="#4c72b0")
        blocks_ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    else:
        _no_data(blocks_ax, "no payment mined")
    blocks_ax.set_title(f"Blocks from sending to mined ({c.mined} of {c.sent} mined)", fontsize=10)
    blocks_ax.set_xlabel("blocks (1 = the next block)")
    blocks_ax.set_ylabel("payments")
    rows = [("to pool", c.to_pool_wall_ms), ("to mined", c.latency_wall_ms)]
    shown = [(name, s) for name, s in rows if s.count]
    if shown:
        _summary_bars(wall_ax, shown, scale=1000)
    else:
        _no_data(wall_ax, "no wall-clock latencies recorded")
    wall_ax.set_title("Wall clock from the relay's reply", fontsize=10)
    wall_ax.set_ylabel("seconds")


def _summary_bars(ax: Axes, rows: list[tuple[str, Summary]], *, scale: float) -> None:
    """Median, p90 and max of each summary, side by side."""
    width = 0.25
    for offset, (stat, colour) in enumerate((("median", "#4c72b0"), ("p90", "#dd8452"), ("max", "#c44e52"))):
        values = [(getattr(s, stat) or 0) / scale for _, s in rows]
        bars = ax.bar(
            [i + (offset - 1) * width for i in range(len(rows))], values, width=width, color=colour, label=stat
        )
        ax.bar_label(bars, fmt="%.2f", fontsize=7)
    ax.set_xticks(range(len(rows)), [name for name, _ in rows])
    ax.legend(fontsize=8)


def _propagation(figure: Figure, f: Findings) -> None:
    ax = figure.subplots()
    p = f.propagation
    if p.by_node_count:
        ks = [step.nodes for step in p.by_node_count]
        for stat, colour, style in (("median", "#4c72b0", "-o"), ("p90", "#dd8452", "-s"), ("max", "#c44e52", ":^")):
            ax.plot(ks, [getattr(step.delay_ms, stat) for step in p.by_node_count], style, color=colour, label=stat)
        ax.set_xticks(ks)
        ax.legend(fontsize=9)
    else:
        _no_data(ax, "no propagation samples recorded")
    ax.set_xlabel("nodes that have the block (the miner's included)")
    ax.set_ylabel("ms after the mining call returned")
    ax.set_title(f"Block propagation by node count ({p.blocks_measured} blocks, {p.nodes} nodes)")


def _reconciliation(figure: Figure, f: Findings) -> None:
    ax = figure.subplots()
    markets = f.reconciliation.marketplaces
    if markets:
        x = range(len(markets))
        ax.bar([i - 0.2 for i in x], [m.sent / ATOMIC_UNITS_PER_XMR for m in markets], width=0.4, label="users sent")
        ax.bar(
            [i + 0.2 for i in x],
            [(m.received or 0) / ATOMIC_UNITS_PER_XMR for m in markets],
            width=0.4,
            label="vendors received (mined)",
        )
        verdicts = ["ok" if m.ok else "not reconciled yet" if not m.reconciled else "MISMATCH" for m in markets]
        ax.set_xticks(list(x), [f"{m.marketplace}\n{verdict}" for m, verdict in zip(markets, verdicts, strict=True)])
        ax.legend(fontsize=9)
    else:
        _no_data(ax, "no marketplace payments")
    ax.set_ylabel("XMR")
    r = f.reconciliation
    verdict = (
        "not reconciled yet" if r.pending else "reconciled to the atomic unit" if r.reconciled else "NOT reconciled"
    )
    ax.set_title(f"Marketplaces: sent against received ({verdict})")
