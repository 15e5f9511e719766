"""The report's Findings and Conclusion as sentences generated from the figures, never written by hand.

Each finding is one sentence with its figure, the function or query it comes from, and, where the figure
follows from a parameter or from the scenario's design rather than from what the agents did, why. The
conclusion compares scenarios only where the figures allow it: a difference whose 95% intervals overlap
is said to be not established; a comparison without the figures for it is left out.

Pure: ``Findings`` in, ``Statements`` out; the sentences depend on nothing else, so equal seeds give
equal bytes.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from pydantic import BaseModel, ConfigDict

from models.ads import MICROS, ExperimentSpec
from sim.ads.findings import Findings
from sim.ads.hallucination import wilson
from sim.ads.trading_costs import TradingCost

Interval = tuple[float, float] | None


class Statement(BaseModel):
    model_config = ConfigDict(frozen=True)

    text: str
    source: str  # the function or query the figure comes from
    by_construction: str | None = None  # why the figure follows from a parameter or the design, if it does


class Statements(BaseModel):
    model_config = ConfigDict(frozen=True)

    findings: list[Statement]
    conclusion: list[str]


def _pct(value: float | None, digits: int = 1) -> str:
    return "—" if value is None else f"{value * 100:.{digits}f}%"


def _ci(interval: Interval, digits: int = 1, *, inside: bool = False) -> str:
    """The interval after a figure: in parentheses, or after a comma when already inside them."""
    if interval is None:
        return ""
    text = f"95% CI {_pct(interval[0], digits)}–{_pct(interval[1], digits)}"
    return f", {text}" if inside else f" ({text})"


def _usd(micros: float) -> str:
    return f"${micros / MICROS:,.2f}"


def _dollars(value: float) -> str:
    return f"${value:,.2f}"


def _share(part: float, whole: float) -> float | None:
    return part / whole if whole else None


def _pp(value: float | None) -> str:
    return "—" if value is None else f"{value:+.1f} pp"


def _join(parts: Sequence[str]) -> str:
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]


def statements(spec: ExperimentSpec, f: Findings) -> Statements:
    return Statements(findings=findings_statements(spec, f), conclusion=conclusion(f))


# --- findings -------------------------------------------------------------------------------------


def findings_statements(spec: ExperimentSpec, f: Findings) -> list[Statement]:
    costs = {c.scenario: c for c in f.trading_costs}
    makers: list[Callable[[ExperimentSpec, Findings, dict[str, TradingCost]], Statement | None]] = [
        _exchange_fee,
        _total_cost,
        _unserved,
        _fabricated_quotes,
        _negotiation,
        _recovery,
        _kpi_degradation,
        _detection,
        _ledger,
        _llm,
    ]
    return [s for make in makers if (s := make(spec, f, costs)) is not None]


def _exchange_fee(spec: ExperimentSpec, f: Findings, costs: dict[str, TradingCost]) -> Statement | None:
    parts = [
        f"{s} {_usd(c.exchange_fee_micros)} ({_pct(_share(c.exchange_fee_micros, c.buyer_spend_micros), 2)} of spend)"
        for s, c in costs.items()
    ]
    if not parts:
        return None
    return Statement(
        text=f"Exchange fees paid by buyers: {_join(parts)}.",
        source="sim.ads.trading_costs.trading_cost (Σ ads_deliveries.exchange_fee)",
        by_construction=f"A's share is the `exchange_fee` parameter ({spec.params.exchange_fee:.2f}); B and C have "
        "no exchange, so their 0 is by design",
    )


def _total_cost(spec: ExperimentSpec, f: Findings, costs: dict[str, TradingCost]) -> Statement | None:
    parts = [
        f"{s} {_dollars(c.total_usd)} ({_pct(c.share_of_spend, 2)} of spend{_ci(c.share_of_spend_ci, 2, inside=True)})"
        for s, c in costs.items()
    ]
    if not parts:
        return None
    a = costs.get("A")
    fee_dominated = a is not None and a.total_usd > 0 and a.exchange_fee_micros / MICROS >= 0.5 * a.total_usd
    return Statement(
        text=f"The total cost of trading beyond media was {_join(parts)}.",
        source="sim.ads.trading_costs.trading_cost (fee + unserved + above agreed + ledger + LLM tokens; CI: "
        "bootstrap over campaigns)",
        by_construction="A's total is mostly its exchange fee, set by the `exchange_fee` parameter"
        if fee_dominated
        else None,
    )


def _unserved(spec: ExperimentSpec, f: Findings, costs: dict[str, TradingCost]) -> Statement | None:
    parts = [
        f"{s} {_usd(c.unserved_spend_micros)} for {c.unserved_impressions:,} impressions" for s, c in costs.items()
    ]
    if not parts:
        return None
    silent = [s for s in costs if s not in spec.params.hallucination_scenarios]
    return Statement(
        text=f"Buyers paid for impressions that were reported but never served: {_join(parts)}.",
        source="sim.ads.trading_costs.trading_cost (ads_deliveries: reported − impressions)",
        by_construction=f"in {', '.join(silent)} no seller fabricates (`hallucination_scenarios`), so what is "
        "found there is honest reporting noise at most"
        if silent
        else None,
    )


def _fabricated_quotes(spec: ExperimentSpec, f: Findings, costs: dict[str, TradingCost]) -> Statement | None:
    parts = [
        f"{s} {c.deals_on_fabricated_quotes:,} (billed {_usd(c.above_agreed_micros)} above the agreed CPMs)"
        for s, c in costs.items()
    ]
    if not parts:
        return None
    silent = [s for s in costs if s not in spec.params.hallucination_scenarios]
    return Statement(
        text=f"Deals struck on a quote whose fabricated price or inventory the buyer acted on: {_join(parts)}.",
        source="sim.ads.trading_costs.fabricated_quote_deals (ads_deals × injected ads_claims, less claim_rejected "
        "events)",
        by_construction=f"{', '.join(silent)} has no fabricated claims (`hallucination_scenarios`), so 0 there is "
        "by construction"
        if silent
        else None,
    )


def _negotiation(spec: ExperimentSpec, f: Findings, costs: dict[str, TradingCost]) -> Statement | None:
    parts = [
        f"{s} {c.negotiation_rounds:,} rounds and {c.negotiation_messages:,} messages over {c.negotiations:,} "
        "negotiations"
        for s, c in costs.items()
    ]
    if not parts:
        return None
    return Statement(
        text=f"Negotiation took {_join(parts)}.",
        source="sim.ads.trading_costs.trading_cost (ads_events kind negotiation: rounds, steps)",
        by_construction="A's buyer bids in the exchange's auctions and never negotiates, so its 0 is by design"
        if "A" in costs
        else None,
    )


def _recovery_ci(f: Findings, scenario: str) -> tuple[float | None, Interval, int]:
    row = next((c for c in f.context if c.scenario == scenario), None)
    if row is None:
        return None, None, 0
    return row.recovery_fidelity, wilson(row.recovered_correctly, row.items_lost), row.items_lost


def _recovery(spec: ExperimentSpec, f: Findings, costs: dict[str, TradingCost]) -> Statement | None:
    parts = []
    for c in f.context:
        value, interval, lost = _recovery_ci(f, c.scenario)
        parts.append(f"{c.scenario} {_pct(value)} of {lost:,} lost items{_ci(interval)}")
    if not parts:
        return None
    b = next((c for c in f.context if c.scenario == "B"), None)
    return Statement(
        text=f"Memory recovered exactly after a loss: {_join(parts)}.",
        source="findings.context (ads_context_events: recovered_correctly ÷ items_lost)",
        by_construction="B has no ledger to rebuild from, so its recovery is 0 by design"
        if b is not None and b.items_recovered == 0
        else None,
    )


def _kpi_degradation(spec: ExperimentSpec, f: Findings, costs: dict[str, TradingCost]) -> Statement | None:
    rows = [d for d in f.degradation if d.metric == "kpi_attainment" and d.change_pp is not None]
    if not rows:
        return None
    parts = [
        f"{d.scenario} {_pct(d.first_value)} on day {d.first_day} to {_pct(d.last_value)} on day {d.last_day} "
        f"({_pp(d.change_pp)})"
        for d in rows
    ]
    return Statement(
        text=f"Mean KPI attainment (pro-rated to the flight) went from {_join(parts)}.",
        source="sim.ads.degradation.degradation over findings.kpi_by_day (ads_deliveries per campaign-day)",
    )


def _detection(spec: ExperimentSpec, f: Findings, costs: dict[str, TradingCost]) -> Statement | None:
    rows = [d for d in f.detection if d.claim_type == "all" and d.recall is not None]
    if not rows:
        return None
    parts = [f"{d.scenario} {_pct(d.recall)} of {d.injected:,} injected claims{_ci(d.recall_ci)}" for d in rows]
    return Statement(
        text=f"At the {spec.params.detection_tolerance:.0%} tolerance, detection flagged {_join(parts)}.",
        source="findings.detection (ads_claims through sim.ads.hallucination.detect)",
        by_construction="recall depends on the `detection_tolerance` parameter and on the drawn fabrication sizes; "
        "it compares claims with ground truth (an oracle), not what an agent could see",
    )


def _ledger(spec: ExperimentSpec, f: Findings, costs: dict[str, TradingCost]) -> Statement | None:
    relied = [c for c in costs.values() if c.ledger_relied_on]
    if not relied:
        return None
    parts = [
        f"{c.scenario} {_dollars(c.ledger_cost_usd)} for {c.ledger_entries:,} entries"
        + (
            f" ({_pct(c.ledger_cost_usd / (c.buyer_spend_micros / MICROS), 4)} of spend)"
            if c.buyer_spend_micros
            else ""
        )
        for c in relied
    ]
    return Statement(
        text=f"Writing the ledger its buyer relies on cost {_join(parts)}.",
        source="sim.ads.costs.ledger_cost over ledger_entries payload bytes (trading_cost)",
        by_construction="the entry count and bytes are measured, but the dollar figure scales linearly with the "
        "SUI and WAL prices and gas parameters",
    )


def _llm(spec: ExperimentSpec, f: Findings, costs: dict[str, TradingCost]) -> Statement | None:
    used = [c for c in costs.values() if c.llm is not None]
    if not used:
        return None
    parts = [
        f"{c.scenario} {c.llm.prompt_tokens + c.llm.completion_tokens:,} tokens over {c.llm.calls:,} calls "
        f"({_dollars(c.llm.cost_usd)})"
        for c in used
        if c.llm is not None
    ]
    return Statement(
        text=f"The LLM buyer used {_join(parts)}.",
        source="sim.ads.trading_costs.llm_usage (ads_events kind llm: the endpoint's usage)",
        by_construction="tokens are measured; their price is the LLM configuration's token prices (inputs)",
    )


# --- conclusion -----------------------------------------------------------------------------------


def conclusion(f: Findings) -> list[str]:
    """Comparisons the figures support, each conditional on them; none where a figure is missing."""
    lines: list[str] = []
    b_fid, b_ci, _ = _recovery_ci(f, "B")
    c_fid, c_ci, _ = _recovery_ci(f, "C")
    lines += _compare("recovery fidelity", "C", c_fid, c_ci, "B", b_fid, b_ci)
    costs = {c.scenario: c for c in f.trading_costs}
    for first, second in (("C", "B"), ("C", "A"), ("B", "A")):
        if first in costs and second in costs:
            x, y = costs[first], costs[second]
            lines += _compare(
                "cost of trading beyond media (share of spend)",
                first,
                x.share_of_spend,
                x.share_of_spend_ci,
                second,
                y.share_of_spend,
                y.share_of_spend_ci,
                digits=2,
            )
    goals = {g.scenario: g for g in f.goals}
    for first, second in (("C", "B"), ("C", "A")):
        if first in goals and second in goals:
            x_goal, y_goal = goals[first], goals[second]
            lines += _compare(
                "share of campaigns reaching their KPI within budget",
                first,
                x_goal.campaigns_hit_goal / x_goal.campaigns if x_goal.campaigns else None,
                wilson(x_goal.campaigns_hit_goal, x_goal.campaigns),
                second,
                y_goal.campaigns_hit_goal / y_goal.campaigns if y_goal.campaigns else None,
                wilson(y_goal.campaigns_hit_goal, y_goal.campaigns),
            )
    detection = {d.scenario: d for d in f.detection if d.claim_type == "all"}
    if "B" in detection and "C" in detection:
        lines += _compare(
            "detection recall",
            "C",
            detection["C"].recall,
            detection["C"].recall_ci,
            "B",
            detection["B"].recall,
            detection["B"].recall_ci,
        )
    kpi = [d for d in f.degradation if d.metric == "kpi_attainment" and d.change_pp is not None]
    for d in kpi:
        change = d.change_pp or 0.0
        direction = "fell" if change < 0 else "rose" if change > 0 else "did not change"
        lines.append(
            f"In {d.scenario}, mean KPI attainment {direction} between day {d.first_day} and day {d.last_day} "
            f"({_pp(d.change_pp)}); this is one study's day-to-day figure, without an interval."
        )
    return lines


def _compare(
    what: str,
    first: str,
    x: float | None,
    x_ci: Interval,
    second: str,
    y: float | None,
    y_ci: Interval,
    *,
    digits: int = 1,
) -> list[str]:
    """One sentence comparing two scenarios' figure: which is higher, and whether the intervals settle it."""
    if x is None or y is None:
        return []
    figures = f"{first} {_pct(x, digits)}, {second} {_pct(y, digits)}"
    if x_ci is None or y_ci is None:
        return [f"The {what} is {figures}; without intervals the difference is not tested."]
    if x_ci[0] <= y_ci[1] and y_ci[0] <= x_ci[1]:
        return [
            f"The difference in {what} between {first} and {second} ({figures}) is not established: "
            "their 95% intervals overlap."
        ]
    higher, lower = (first, second) if x > y else (second, first)
    return [f"The {what} is higher in {higher} than in {lower} ({figures}); the 95% intervals do not overlap."]
