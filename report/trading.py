"""report.md's sections on the cost of trading, degradation over the flight, Findings and Conclusion.

Every cell prints a field of ``sim.ads.findings.Findings`` (``trading_costs``, ``degradation``) or a
sentence of ``sim.ads.statements``; the same values are in report.json, so the two cannot disagree.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from report.formatting import dollars, label, num, pct, price, table, usd
from sim.ads.findings import Findings
from sim.ads.statements import Statements
from sim.ads.trading_costs import TradingCost

NOT_RUN_WITH_LLM = "not run with an LLM"

METRIC_NAMES = {
    "kpi_attainment": "KPI attainment (mean, pro-rated)",
    "memory_survival": "Memory survival that day",
    "recovery_fidelity": "Recovery fidelity that day",
    "detection_recall": "Detection recall that day",
    "detection_precision": "Detection precision that day",
}


def _llm_cell(value: Callable[[TradingCost], str]) -> Callable[[TradingCost], str]:
    return lambda c: NOT_RUN_WITH_LLM if c.llm is None else value(c)


# (row label, the function or query behind it, the cell of one scenario)
COST_ROWS: Sequence[tuple[str, str, Callable[[TradingCost], str]]] = (
    ("Buyer spend (media and all)", "Σ `ads_deliveries.buyer_spend`", lambda c: usd(c.buyer_spend_micros)),
    ("Exchange fee", "Σ `ads_deliveries.exchange_fee`", lambda c: usd(c.exchange_fee_micros)),
    (
        "Paid for impressions never served",
        "`ads_deliveries`: (spend − fee) × (reported − delivered) ÷ reported",
        lambda c: f"{usd(c.unserved_spend_micros)} ({num(c.unserved_impressions)} impressions)",
    ),
    (
        "Deals struck on fabricated quotes",
        "`trading_costs.fabricated_quote_deals`: `ads_deals` × injected `ads_claims` − `claim_rejected` events",
        lambda c: num(c.deals_on_fabricated_quotes),
    ),
    (
        "Paid above the agreed CPM",
        "`ads_deals.cpm` vs agreed CPM in `ads_events` (negotiation), on served spend",
        lambda c: usd(c.above_agreed_micros),
    ),
    (
        "Negotiations (rounds, messages)",
        "`ads_events` kind negotiation: count, Σ rounds, Σ steps",
        lambda c: f"{num(c.negotiations)} ({num(c.negotiation_rounds)}, {num(c.negotiation_messages)})",
    ),
    (
        "Ledger (entries, cost)",
        "`ledger_entries` payload bytes → `sim.ads.costs.ledger_cost`",
        lambda c: (
            f"{num(c.ledger_entries)}, {price(c.ledger_cost_usd)}" if c.ledger_relied_on else "no ledger relied on"
        ),
    ),
    (
        "LLM tokens (prompt + completion)",
        "`ads_events` kind llm (the endpoint's `usage`)",
        _llm_cell(lambda c: f"{num(c.llm.prompt_tokens)} + {num(c.llm.completion_tokens)}" if c.llm else ""),
    ),
    (
        "LLM token cost",
        "tokens × the LLM configuration's token prices",
        _llm_cell(lambda c: price(c.llm.cost_usd) if c.llm else ""),
    ),
    (
        "**Total cost of trading beyond media**",
        "`sim.ads.trading_costs.trading_cost`: fee + never served + above agreed + ledger + LLM",
        lambda c: f"**{dollars(c.total_usd)}**",
    ),
    (
        "Share of buyer spend (95% CI)",
        "total ÷ spend; bootstrap over campaigns (`bootstrap_ratio_ci`)",
        lambda c: pct(c.share_of_spend, 2) + _interval(c.share_of_spend_ci),
    ),
    (
        "Per 1000 delivered impressions",
        "total ÷ Σ `ads_deliveries.impressions` × 1000",
        lambda c: price(c.per_1000_impressions_usd),
    ),
)


def _interval(ci: tuple[float, float] | None) -> str:
    return "" if ci is None else f" ({pct(ci[0], 2)}–{pct(ci[1], 2)})"


def cost_of_trading(f: Findings) -> list[str]:
    costs = f.trading_costs
    if not costs:
        return []
    return [
        "## Total cost of trading",
        "",
        "What each scenario's buyer paid beyond the media it received, measured from recorded events "
        "(`findings.trading_costs`, computed by `sim.ads.trading_costs.trading_cost`; the same values are under "
        "`findings.trading_costs` in report.json):",
        "",
        table(
            ["Cost", *[label(c.scenario) for c in costs], "Computed by"],
            [(name, *[cell(c) for c in costs], source) for name, source, cell in COST_ROWS],
        ),
        "",
        "The money rows are disjoint per delivery, so they add up: the exchange fee comes off the spend first, then "
        "the share paid for reported impressions that were never served, then, on what was served, what a deal was "
        "billed above the CPM the buyer agreed to (the seller billing its true price after a fabricated, lower quote). "
        "Counts (deals on fabricated quotes, negotiation rounds and messages, ledger entries, tokens) are shown beside "
        "the money and not added to it. A deal counts as struck on a fabricated quote when that day's quote for its "
        "product carried an injected price or inventory claim the buyer did not reject. *By construction:* A's fee "
        "is the `exchange_fee` share of spend and B and C have no exchange (0); A never negotiates (it bids in "
        "auctions), and only C relies on a ledger, so only C pays for one. Token prices and the ledger's gas and token "
        "prices are inputs; the token counts and ledger bytes they multiply are measured.",
    ]


def degradation(f: Findings) -> list[str]:
    rows = [d for d in f.degradation if d.first_day is not None]
    if not rows:
        return []
    return [
        "## Day 1 versus the last day",
        "",
        "How each per-day figure moved over the flight, in percentage points (`findings.degradation`, "
        "`sim.ads.degradation.degradation` over the per-day rows: `findings.kpi_by_day`, `findings.context_by_day` and "
        "the day's `ads_claims`). A figure is undefined on a day with nothing to measure (no lost memory, no injected "
        "claim), so each row compares the first and last day on which it is defined; *n* is the count each value is a "
        "share of (campaigns, items or claims), and a value over a small *n* is a weak one.",
        "",
        table(
            ["Scenario", "Figure", "First day (n)", "Value", "Last day (n)", "Value", "Change"],
            [
                (
                    label(d.scenario),
                    METRIC_NAMES.get(d.metric, d.metric),
                    f"{d.first_day} ({num(d.first_n)})",
                    pct(d.first_value),
                    f"{d.last_day} ({num(d.last_n)})",
                    pct(d.last_value),
                    "—" if d.change_pp is None else f"{d.change_pp:+.1f} pp",
                )
                for d in rows
            ],
        ),
        *(
            ["", "*By construction:* recovery fidelity in B is 0 (B has no ledger to rebuild from)."]
            if any(d.scenario == "B" and d.metric == "recovery_fidelity" for d in rows)
            else []
        ),
    ]


def findings_section(said: Statements) -> list[str]:
    if not said.findings:
        return []
    lines = [
        "## Findings",
        "",
        "Generated from the figures (report.json `statements.findings`); each names the function or query behind "
        "it, and says so where a figure follows from a parameter or the scenario's design.",
        "",
    ]
    for n, s in enumerate(said.findings, 1):
        flag = f" *By construction:* {s.by_construction}." if s.by_construction else ""
        lines.append(f"{n}. {s.text} (`{s.source}`){flag}")
    return lines


def conclusion_section(said: Statements) -> list[str]:
    return [
        "## Conclusion",
        "",
        "Only what the figures support, generated from them (report.json `statements.conclusion`): a difference is "
        "stated when its 95% intervals do not overlap and called not established when they do.",
        "",
        *(f"- {line}" for line in said.conclusion),
        *([] if said.conclusion else ["- The recorded figures support no comparison between scenarios."]),
    ]
