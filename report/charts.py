"""The six PNG charts of the report, drawn from findings with matplotlib's Agg backend."""

from __future__ import annotations

import io
from collections.abc import Callable

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from models.ads import MICROS
from report.formatting import label, pct, price
from sim.ads.findings import Findings

COLOURS = {"A": "#d62728", "B": "#ff7f0e", "C": "#2ca02c"}
CHARTS = (
    "fee_extraction.png",
    "kpi_attainment.png",
    "context_rot.png",
    "hallucinations.png",
    "detection_curve.png",
    "ledger_vs_fee.png",
)


def render_charts(f: Findings) -> dict[str, bytes]:
    """The six PNG charts, drawn with the Agg backend (no display, no global pyplot state)."""
    return {
        "fee_extraction.png": _png(_fee_chart, f),
        "kpi_attainment.png": _png(_kpi_chart, f),
        "context_rot.png": _png(_context_chart, f),
        "hallucinations.png": _png(_hallucination_chart, f),
        "detection_curve.png": _png(_detection_curve_chart, f),
        "ledger_vs_fee.png": _png(_ledger_chart, f),
    }


def _png(draw: Callable[[Figure, Findings], None], f: Findings) -> bytes:
    figure = Figure(figsize=(10, 5.5), dpi=100, layout="constrained")
    FigureCanvasAgg(figure)
    draw(figure, f)
    buffer = io.BytesIO()
    # No "Software" stamp, so the bytes do not change with the matplotlib version.
    figure.savefig(buffer, format="png", metadata={"Software": None})
    return buffer.getvalue()


def _fee_chart(figure: Figure, f: Findings) -> None:
    ax = figure.subplots()
    discrepancy = {d.scenario: d for d in f.discrepancy}
    labels = [label(t.scenario) for t in f.totals]
    served = [(t.seller_revenue_micros - discrepancy[t.scenario].overpayment_micros) / MICROS for t in f.totals]
    unserved = [discrepancy[t.scenario].overpayment_micros / MICROS for t in f.totals]
    fees = [t.exchange_fee_micros / MICROS for t in f.totals]
    ax.bar(labels, served, color="#4c72b0", label="to publishers for delivered impressions")
    ax.bar(labels, unserved, bottom=served, color="#dd8452", label="to publishers for impressions never served")
    ax.bar(
        labels,
        fees,
        bottom=[a + b for a, b in zip(served, unserved, strict=True)],
        color="#c44e52",
        label="exchange fee",
    )
    for i, t in enumerate(f.totals):
        total = t.buyer_spend_micros / MICROS
        spend = t.buyer_spend_micros or 1
        unserved_share = discrepancy[t.scenario].overpayment_micros / spend
        ax.annotate(
            f"${total:,.0f}\nfee {t.exchange_fee_micros / spend:.1%} · unserved {unserved_share:.2%}",
            (i, total),
            ha="center",
            va="bottom",
            fontsize=9,
            xytext=(0, 3),
            textcoords="offset points",
        )
    ax.set_ylabel("buyer spend (USD)")
    ax.set_title("Where the buyers' money went (recorded deliveries)")
    ax.yaxis.set_major_formatter(lambda v, _: f"${v:,.0f}")
    ax.set_ylim(0, max([t.buyer_spend_micros / MICROS for t in f.totals] + [1]) * 1.2)
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.08), ncol=3, fontsize=8, frameon=False)


def _kpi_chart(figure: Figure, f: Findings) -> None:
    ax = figure.subplots()
    for s in f.scenarios:
        points = [(k.day, k.mean_attainment) for k in f.kpi_by_day if k.scenario == s and k.mean_attainment is not None]
        if points:
            ax.plot(*zip(*points, strict=True), marker=".", color=COLOURS.get(s), label=label(s))
    ax.set_xlabel("simulated day")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_ylabel("mean KPI attainment (pro-rated target, capped at 100%)")
    ax.set_ylim(0, 1.05)
    ax.yaxis.set_major_formatter(lambda v, _: f"{v:.0%}")
    ax.set_title("KPI attainment over the flight")
    ax.grid(alpha=0.3)
    ax.legend(loc="lower right")


def _context_chart(figure: Figure, f: Findings) -> None:
    daily_ax, cumulative_ax, fidelity_ax = figure.subplots(1, 3)
    scenarios = [c.scenario for c in f.context]
    for s in scenarios:
        own = [c for c in f.context_by_day if c.scenario == s]
        for ax, points, style in (
            (daily_ax, [(c.day, c.survival) for c in own if c.survival is not None], "."),
            (cumulative_ax, [(c.day, c.cumulative_survival) for c in own if c.cumulative_survival is not None], "."),
            (fidelity_ax, [(c.day, c.recovery_fidelity) for c in own if c.recovery_fidelity is not None], "o"),
        ):
            if points:
                ax.plot(*zip(*points, strict=True), marker=style, color=COLOURS.get(s), label=label(s))
        restarts = [c.day for c in own if c.restarts]
        for day in restarts:
            daily_ax.axvline(day, color=COLOURS.get(s), alpha=0.15, linewidth=3)
    reference = [c for c in f.context_by_day if scenarios and c.scenario == scenarios[0]]
    if reference:
        days = [c.day for c in reference]
        daily_ax.plot(
            days,
            [c.reference_daily_survival for c in reference],
            color="grey",
            linestyle="--",
            label="parameter reference",
        )
        cumulative_ax.plot(
            days,
            [c.reference_cumulative_survival for c in reference],
            color="grey",
            linestyle="--",
            label="parameter reference",
        )
    daily_ax.set_title("Daily survival\n(1 − lost ÷ remembered; shading = restarts)", fontsize=10)
    cumulative_ax.set_title("Cumulative survival\n(product of daily survivals)", fontsize=10)
    fidelity_ax.set_title("Recovery fidelity\n(recovered correctly ÷ lost)", fontsize=10)
    if not fidelity_ax.lines:
        fidelity_ax.text(0.5, 0.5, "no memory was lost", ha="center", transform=fidelity_ax.transAxes)
    for ax in (daily_ax, cumulative_ax, fidelity_ax):
        ax.set_xlabel("simulated day")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.yaxis.set_major_formatter(lambda v, _: f"{v:.0%}")
        ax.grid(alpha=0.3)
        if ax.get_legend_handles_labels()[0]:
            ax.legend(fontsize=7, loc="center right" if ax is fidelity_ax else "lower left")
    low = min([c.survival for c in f.context_by_day if c.survival is not None] + [0.9])
    daily_ax.set_ylim(max(0.0, low - 0.02), 1.005)
    cumulative_ax.set_ylim(0, 1.05)
    fidelity_ax.set_ylim(-0.05, 1.05)
    figure.suptitle("Context rot (recorded context events)")


def _hallucination_chart(figure: Figure, f: Findings) -> None:
    rate_ax, detection_ax = figure.subplots(1, 2, width_ratios=(3, 2))
    rows = [h for h in f.hallucinations if h.claims]
    labels = [f"{h.scenario} {h.agent_type}" for h in rows]
    width = 0.38
    colours = [COLOURS.get(h.scenario, "grey") for h in rows]
    positions = range(len(rows))
    rate_ax.bar(
        [i - width / 2 for i in positions],
        [h.injected_share or 0 for h in rows],
        width,
        color=colours,
        label="injected (fabricated) share of claims",
    )
    rate_ax.bar(
        [i + width / 2 for i in positions],
        [h.injected_unchecked / h.claims for h in rows],
        width,
        color=colours,
        hatch="//",
        alpha=0.5,
        label="injected and acted on unchecked",
    )
    rate_ax.set_xticks(list(positions), labels)
    for i, h in enumerate(rows):
        rate_ax.annotate(
            f"{h.injected:,}\nof {h.claims:,}",
            (i - width / 2, h.injected_share or 0),
            ha="center",
            va="bottom",
            fontsize=7,
        )
        rate_ax.annotate(
            f"{h.injected_unchecked:,}",
            (i + width / 2, h.injected_unchecked / h.claims),
            ha="center",
            va="bottom",
            fontsize=7,
        )
    rate_ax.set_title("Fabricated claims (ads_claims)")
    rate_ax.yaxis.set_major_formatter(lambda v, _: f"{v:.1%}")
    rate_ax.margins(y=0.2)
    rate_ax.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.07), ncol=2, frameon=False)
    if not rows:
        rate_ax.text(0.5, 0.5, "no claims recorded", ha="center", transform=rate_ax.transAxes)

    detection = [d for d in f.detection if d.claim_type == "all" and d.claims]
    x = range(len(detection))
    width = 0.38
    detection_ax.bar(
        [i - width / 2 for i in x], [d.precision or 0 for d in detection], width, color="#4c72b0", label="precision"
    )
    detection_ax.bar(
        [i + width / 2 for i in x], [d.recall or 0 for d in detection], width, color="#55a868", label="recall"
    )
    detection_ax.set_xticks(list(x), [label(d.scenario) for d in detection])
    for i, d in enumerate(detection):
        detection_ax.annotate(
            f"P {pct(d.precision)}", (i - width / 2, d.precision or 0), ha="center", va="bottom", fontsize=8
        )
        detection_ax.annotate(
            f"R {pct(d.recall)}", (i + width / 2, d.recall or 0), ha="center", va="bottom", fontsize=8
        )
    detection_ax.set_ylim(0, 1.15)
    detection_ax.yaxis.set_major_formatter(lambda v, _: f"{v:.0%}")
    detection_ax.set_title("Detection at the parameter tolerance")
    detection_ax.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.07), ncol=2, frameon=False)


def _detection_curve_chart(figure: Figure, f: Findings) -> None:
    """Precision against recall as the tolerance moves from 0% to 30% relative error, one line per scenario."""
    ax = figure.subplots()
    scenarios = sorted({p.scenario for p in f.detection_curve})
    for scenario in scenarios:
        points = [p for p in f.detection_curve if p.scenario == scenario and p.precision is not None]
        if not points or all(p.recall is None for p in points):
            continue
        recall = [p.recall or 0.0 for p in points]
        precision = [p.precision or 0.0 for p in points]
        ax.plot(recall, precision, marker=".", color=COLOURS.get(scenario, "grey"), label=label(scenario))
        for p in points:
            if round(p.tolerance * 100) in (0, 2, 5, 10, 20, 30):
                ax.annotate(
                    f"{p.tolerance:.0%}",
                    (p.recall or 0.0, p.precision or 0.0),
                    fontsize=8,
                    xytext=(4, 4),
                    textcoords="offset points",
                )
    if not scenarios:
        ax.text(0.5, 0.5, "no claims recorded", ha="center", transform=ax.transAxes)
    ax.set_xlim(0, 1.05)
    ax.set_ylim(0, 1.05)
    ax.xaxis.set_major_formatter(lambda v, _: f"{v:.0%}")
    ax.yaxis.set_major_formatter(lambda v, _: f"{v:.0%}")
    ax.set_xlabel("recall (injected claims flagged)")
    ax.set_ylabel("precision (flagged claims injected)")
    ax.set_title("Detection over the tolerance (labels: relative error above which a claim is flagged)")
    if ax.lines:
        ax.legend(fontsize=8)
    ax.grid(alpha=0.3)


def _ledger_chart(figure: Figure, f: Findings) -> None:
    ax = figure.subplots()
    vs = f.ledger_vs_fee
    bars: list[tuple[str, float, str]] = []
    if vs.exchange_fee_per_1000_impressions_usd is not None:
        bars.append(("A: exchange fee", vs.exchange_fee_per_1000_impressions_usd, COLOURS["A"]))
    for row in f.ledger:
        if row.impressions and row.cost_usd:
            name = f"{row.scenario}: ledger" + ("" if row.written_by_scenario else "\n(deal records only)")
            bars.append((name, row.cost_per_1000_impressions_usd, COLOURS.get(row.scenario, "grey")))
    if not bars:
        ax.text(0.5, 0.5, "nothing delivered", ha="center", transform=ax.transAxes)
        return
    labels, values, colours = zip(*bars, strict=True)
    # Hatched: what A's and B's deal-only chains would cost; they do not rely on a ledger.
    patches = ax.bar(labels, values, color=colours)
    for patch, name in zip(patches, labels, strict=True):
        if "deal records" in name:
            patch.set_hatch("//")
            patch.set_alpha(0.5)
    ax.set_yscale("log")
    for i, value in enumerate(values):
        ax.annotate(
            price(value) if value < 0.01 else f"${value:,.2f}", (i, value), ha="center", va="bottom", fontsize=9
        )
    ax.set_ylabel("USD per 1000 delivered impressions (log scale)")
    title = "Ledger cost vs exchange fee per 1000 impressions"
    if vs.fee_to_ledger_ratio:
        title += f" (fee ≈ {vs.fee_to_ledger_ratio:,.0f}× C's ledger)"
    ax.set_title(title)
    ax.margins(y=0.2)
    ax.grid(alpha=0.3, axis="y")
