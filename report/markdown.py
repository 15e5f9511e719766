"""report.md: the findings in prose and tables, the parameters apart from them, and how each figure is computed.

One function per section, each returning its lines; ``render_markdown`` puts a blank line between them.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from models.ads import AdsParams, ExperimentSpec, World
from report.charts import CHARTS
from report.formatting import dollars, label, num, pct, plural, price, table, usd
from report.narrative import NARRATIVE_CAP
from report.trading import conclusion_section, cost_of_trading, degradation, findings_section
from sim.ads.costs import FROST_PER_WAL, MIST_PER_SUI
from sim.ads.findings import Findings, LedgerVsFee
from sim.ads.statements import Statements


def render_markdown(
    experiment_id: str, spec: ExperimentSpec, world: World, f: Findings, checks: Sequence[str], said: Statements
) -> str:
    sections = [
        _title(experiment_id),
        _executive_summary(world, f, checks),
        findings_section(said),
        _fee_extraction(spec, f),
        cost_of_trading(f),
        _deals(f),
        _goals(spec, world, f),
        _kpi_over_time(f),
        _context_rot(f),  # empty when no scenario kept a memory
        degradation(f),
        _hallucinations(spec, f),
        _ledger(spec, f),
        conclusion_section(said),
        _parameters_section(spec, world),
        _method_section(),
        _files(),
    ]
    return "\n\n".join("\n".join(lines) for lines in sections if lines)


def _title(experiment_id: str) -> list[str]:
    return [
        f"# Programmatic advertising study: experiment `{experiment_id}`",
        "",
        "Every figure in this report is computed from the events recorded in the results store "
        "(deliveries, deals, claims, context events, the event log and the ledger). The study's inputs are "
        "listed under [Parameters](#parameters) and are never presented as findings.",
    ]


# --- executive summary ----------------------------------------------------------------------------


def _executive_summary(world: World, f: Findings, checks: Sequence[str]) -> list[str]:
    return [
        "## Executive summary",
        "",
        f"- {len(world.campaigns)} campaigns × {len(f.scenarios)} scenarios "
        f"({', '.join(label(s) for s in f.scenarios)}), {world.days} simulated days.",
        *_scenario_bullets(f),
        *_discrepancy_bullets(f),
        *_fee_vs_ledger_bullet(f.ledger_vs_fee),
        *_context_bullets(f),
        *_data_checks(checks),
    ]


def _scenario_bullets(f: Findings) -> list[str]:
    totals = {t.scenario: t for t in f.totals}
    goals = {g.scenario: g for g in f.goals}
    bullets = []
    for s in f.scenarios:
        t, g = totals[s], goals[s]
        bullets.append(
            f"- **{label(s)}**: buyers spent {usd(t.buyer_spend_micros)} for {num(t.impressions)} "
            f"delivered impressions (effective CPM {usd(t.effective_cpm_micros)}); "
            f"intermediary take {pct(t.take_rate)}; "
            f"{g.campaigns_hit_goal} of {g.campaigns} campaigns reached their KPI target within budget "
            f"({g.campaigns_hit_kpi} reached it at any cost) "
            f"(mean attainment {pct(g.mean_final_kpi_attainment)}); {pct(g.budget_spent_share)} of budgets spent, "
            f"{g.campaigns_over_budget} campaigns over budget; {t.deals} deals."
        )
    return bullets


def _discrepancy_bullets(f: Findings) -> list[str]:
    discrepancy = {d.scenario: d for d in f.discrepancy}
    bullets = []
    for s in f.scenarios:
        d = discrepancy[s]
        if d.overpayment_micros:
            bullets.append(
                f"- In {s}, sellers over-reported {num(d.over_reported_impressions)} impressions; the buyer paid "
                f"{usd(d.overpayment_micros)} ({pct(d.overpayment_share, 2)} of its spend) for impressions "
                "never served."
            )
        if d.deals_billed_above_agreed:
            bullets.append(
                f"- In {s}, {plural(d.deals_billed_above_agreed, 'deal')} struck on fabricated (deflated) quotes "
                f"{'was' if d.deals_billed_above_agreed == 1 else 'were'} billed at the seller's true price: "
                f"{usd(d.billed_above_agreed_micros)} more than the agreed CPMs "
                f"({plural(d.deals_billed_above_max_cpm, 'deal')} above the campaign's maximum CPM)."
            )
    return bullets


def _fee_vs_ledger_bullet(vs: LedgerVsFee) -> list[str]:
    if vs.exchange_fee_per_1000_impressions_usd is None or vs.ledger_cost_per_1000_impressions_usd is None:
        return []
    return [
        f"- The exchange's fee cost {price(vs.exchange_fee_per_1000_impressions_usd)} per 1000 impressions in A; "
        f"C's ledger cost {price(vs.ledger_cost_per_1000_impressions_usd)} per 1000 impressions "
        f"({num(vs.fee_to_ledger_ratio)}× less). Per $100,000 of buyer spend: "
        f"{dollars(vs.exchange_fee_per_100k_spend_usd)} to the exchange in A, "
        f"{dollars(vs.ledger_cost_per_100k_spend_usd)} for the ledger in C."
    ]


def _context_bullets(f: Findings) -> list[str]:
    return [
        f"- Context rot in {c.scenario}: {num(c.items_lost)} of {num(c.items_before)} remembered items lost "
        f"(daily survival {pct(c.survival, 2)}, {c.restarts} restarts); recovery fidelity {pct(c.recovery_fidelity)}."
        for c in sorted(f.context, key=lambda c: c.scenario)
    ]


def _data_checks(checks: Sequence[str]) -> list[str]:
    if not checks:
        return []
    return [
        "",
        "### Data checks",
        "",
        "Computed from the recorded rows against the study's own rules; each deserves a look:",
        "",
        *(f"- {check}" for check in checks),
    ]


# --- money, deals and goals -----------------------------------------------------------------------


def _fee_extraction(spec: ExperimentSpec, f: Findings) -> list[str]:
    discrepancy = {d.scenario: d for d in f.discrepancy}
    return [
        "## Fee extraction",
        "",
        "![fee extraction](fee_extraction.png)",
        "",
        table(
            [
                "Scenario",
                "Buyer spend",
                "To publishers",
                "Exchange fee",
                "Take rate",
                "Paid for unserved impressions",
                "Delivered impressions",
                "Paid impressions",
                "CPM paid",
                "Effective CPM",
            ],
            [
                (
                    label(t.scenario),
                    usd(t.buyer_spend_micros),
                    usd(t.seller_revenue_micros),
                    usd(t.exchange_fee_micros),
                    pct(t.take_rate, 2),
                    usd(discrepancy[t.scenario].overpayment_micros),
                    num(t.impressions),
                    num(t.paid_impressions),
                    usd(t.cpm_paid_micros),
                    usd(t.effective_cpm_micros),
                )
                for t in f.totals
            ],
        ),
        "",
        "Take rate = exchange fees ÷ buyer spend, summed over recorded deliveries. A's rate reproduces the "
        f"`exchange_fee` parameter ({spec.params.exchange_fee:.2f}) by construction: it checks the fee arithmetic "
        "(the fee is a share of spend, not cpm × (1 + fee)), it is not an independent finding. B and C have no "
        "intermediary; what B loses instead is the spend on impressions sellers reported but never served. "
        "CPM paid is spend per 1000 paid (reported) impressions; effective CPM is spend per 1000 delivered ones.",
    ]


def _deals(f: Findings) -> list[str]:
    return [
        "## Deals and negotiation",
        "",
        table(
            [
                "Scenario",
                "Deals",
                "PG",
                "PD",
                "PA",
                "Rounds (mean)",
                "Rounds (median)",
                "Negotiations (agreed)",
                "Auctions (won)",
            ],
            [
                (
                    label(t.scenario),
                    t.deals,
                    t.deals_by_type.get("PG", 0),
                    t.deals_by_type.get("PD", 0),
                    t.deals_by_type.get("PA", 0),
                    num(t.deal_rounds_mean, 2),
                    num(t.deal_rounds_median, 1),
                    f"{t.negotiations} ({t.negotiations_agreed})",
                    f"{t.auctions} ({t.auctions_won})",
                )
                for t in f.totals
            ],
        ),
        "",
        "Rounds are the negotiation rounds a deal took (deal latency); A's deals are won in auctions (0 rounds). "
        "In A a deal is the private-auction deal id a campaign gets on a product the first time it wins it.",
    ]


def _goals(spec: ExperimentSpec, world: World, f: Findings) -> list[str]:
    return [
        "## Campaign goal achievement",
        "",
        table(
            [
                "Scenario",
                "Campaigns",
                "Hit goal (KPI within budget)",
                "Hit KPI at any cost",
                "Mean final KPI attainment",
                "Within target CPM",
                "Over budget",
                "Spend over budget",
                "No delivery",
                "Budget spent",
            ],
            [
                (
                    label(g.scenario),
                    g.campaigns,
                    f"{g.campaigns_hit_goal} ({pct(g.campaigns_hit_goal / g.campaigns if g.campaigns else None, 0)})",
                    f"{g.campaigns_hit_kpi} ({pct(g.campaigns_hit_kpi / g.campaigns if g.campaigns else None, 0)})",
                    pct(g.mean_final_kpi_attainment),
                    g.campaigns_within_target_cpm,
                    g.campaigns_over_budget,
                    usd(g.over_budget_micros),
                    g.campaigns_without_delivery,
                    pct(g.budget_spent_share),
                )
                for g in f.goals
            ],
        ),
        "",
        "A campaign hits its KPI when its delivered KPI (impressions, clicks, conversions or viewable impressions, "
        "from ground-truth deliveries) reaches its target; it hits its goal when it does so without spending more "
        "than its budget. Attainment is delivered ÷ target capped at 100%. "
        "Within target CPM: spend per 1000 *delivered* impressions at or below the campaign's target CPM.",
        *_structural_notes(spec, world, f),
    ]


# --- over time: KPI and context rot ---------------------------------------------------------------


def _shown_days(f: Findings) -> list[int]:
    """The days the by-day tables print: all of them up to 10, else day 1, every fifth day and the last."""
    days = sorted({k.day for k in f.kpi_by_day})
    return days if len(days) <= 10 else sorted({d for d in days if d == 1 or d % 5 == 0 or d == days[-1]})


def _kpi_over_time(f: Findings) -> list[str]:
    shown = _shown_days(f)
    kpi = {(k.scenario, k.day): k.mean_attainment for k in f.kpi_by_day}
    return [
        "## KPI attainment over time",
        "",
        "![KPI attainment by day](kpi_attainment.png)",
        "",
        table(
            ["Scenario", *[f"Day {d}" for d in shown]],
            [(label(s), *[pct(kpi.get((s, d))) for d in shown]) for s in f.scenarios],
        ),
        "",
        "Each day: the mean over campaigns already in flight of cumulative delivered KPI ÷ the target pro-rated to "
        "the elapsed share of the campaign's flight, capped at 100%.",
    ]


def _context_rot(f: Findings) -> list[str]:
    if not f.context:
        return []
    ref = f.context_by_day[0].reference_daily_survival if f.context_by_day else None
    return [
        "## Context rot",
        "",
        "![context rot](context_rot.png)",
        "",
        table(
            [
                "Scenario",
                "Campaign-days",
                "With memory",
                "Items remembered",
                "Items lost",
                "Daily survival",
                "Restarts",
                "Recovered",
                "Recovered correctly",
                "Recovery fidelity",
            ],
            [
                (
                    label(c.scenario),
                    c.campaign_days,
                    c.with_items,
                    num(c.items_before),
                    num(c.items_lost),
                    pct(c.survival, 2),
                    c.restarts,
                    num(c.items_recovered),
                    num(c.recovered_correctly),
                    pct(c.recovery_fidelity),
                )
                for c in f.context
            ],
        ),
        "",
        _survival_by_day(f),
        "",
        "Daily survival = 1 − items lost ÷ items remembered, over campaign-days on which the buyer remembered "
        "anything (restarts included). Cumulative survival multiplies the observed daily survivals: the chance "
        "an item remembered on day 1 is still there, before any recovery. Recovery fidelity = items recovered "
        "exactly as they were ÷ items lost. The reference row is **not a finding**: it is "
        f"(`context_survival` × (1 − `restart_probability`))^day = {pct(ref, 2)} per day, from the parameters. "
        "C rebuilds lost items from its campaign's chain, which holds what the buyer recorded, so its fidelity "
        "falls below 100% only where the chain lacks or contradicts an item.",
    ]


def _survival_by_day(f: Findings) -> str:
    """Each remembering scenario's cumulative survival on the shown days, and the parameters' reference."""
    shown = _shown_days(f)
    by_day = {(c.scenario, c.day): c for c in f.context_by_day}
    observed = [
        (f"{c.scenario}: cumulative survival", *[pct(by_day[(c.scenario, d)].cumulative_survival) for d in shown])
        for c in f.context
    ]
    reference = (
        "parameter-derived reference",
        *[pct(by_day[(f.context[0].scenario, d)].reference_cumulative_survival) for d in shown],
    )
    return table(["Scenario", *[f"Day {d}" for d in shown]], [*observed, reference])


# --- hallucinations -------------------------------------------------------------------------------


def _hallucinations(spec: ExperimentSpec, f: Findings) -> list[str]:
    return [
        "## Hallucination analysis",
        "",
        "![hallucinations](hallucinations.png)",
        "",
        table(
            ["Scenario", "Agent", "Claims", "Injected (fabricated)", "Injected share", "Injected and unchecked"],
            [
                (
                    label(h.scenario),
                    h.agent_type,
                    num(h.claims),
                    num(h.injected),
                    pct(h.injected_share, 2),
                    num(h.injected_unchecked),
                )
                for h in f.hallucinations
                if h.claims
            ],
        ),
        "",
        *_no_claims_note(spec, f),
        f"Detection at the parameter tolerance ({spec.params.detection_tolerance:.0%} relative error; major from "
        f"{spec.params.major_severity:.0%}), from each recorded claim against its ground truth:",
        "",
        _detection_table(f),
        "",
        "Intervals are 95% Wilson score intervals (precision over the flagged claims, recall over the injected ones). "
        "Fabrication sizes include small ones and honest counts carry reporting noise (docs/ads-calibration.md), so "
        "the two overlap and no tolerance separates them: the curve below trades precision for recall "
        "(`findings.detection_curve`, every claim of a scenario against its ground truth at each tolerance).",
        "",
        "![detection curve](detection_curve.png)",
        "",
        "Only the injected set counts as hallucination (no API errors, no rounding). The injected share follows the "
        "`hallucination_rate` parameter and is shown to confirm the injection, not as a finding; the findings are "
        "what detection catches and what unchecked fabrications cost. *Unchecked* means the agent acted on the claim "
        "without verifying it (scenario C checks every claim against the ledger before acting). Precision or recall "
        "is — when nothing was flagged or nothing injected. Detection here compares each claim with the recorded "
        "ground truth, so it measures whether the fabrications stand out at the tolerance (an oracle check), not how "
        "well an agent that cannot see the truth would do.",
        "",
        "What unchecked fabrications cost: delivery discrepancy (reported − delivered impressions, per delivery) and "
        "deals struck on a fabricated quote that the seller billed at its true price:",
        "",
        _discrepancy_table(spec, f),
    ]


def _detection_table(f: Findings) -> str:
    return table(
        [
            "Scenario",
            "Claim type",
            "Claims",
            "Injected",
            "Flagged",
            "True positives",
            "Precision",
            "Recall",
            "Minor",
            "Major",
        ],
        [
            (
                label(d.scenario),
                d.claim_type,
                num(d.claims),
                num(d.injected),
                num(d.flagged),
                num(d.true_positives),
                pct(d.precision) + _interval(d.precision_ci),
                pct(d.recall) + _interval(d.recall_ci),
                num(d.severity.get("minor", 0)),
                num(d.severity.get("major", 0)),
            )
            for d in f.detection
            if d.claims
        ],
    )


def _interval(ci: tuple[float, float] | None) -> str:
    return "" if ci is None else f" ({pct(ci[0])}–{pct(ci[1])})"


def _discrepancy_table(spec: ExperimentSpec, f: Findings) -> str:
    return table(
        [
            "Scenario",
            "Deliveries",
            "Misreported",
            "Over-reported impressions",
            "Overpayment",
            "Share of spend",
            f"Campaigns > {spec.params.detection_tolerance:.0%} off",
            "Deals billed above agreed CPM",
            "Billed above agreed",
            "Deals above max CPM",
        ],
        [
            (
                label(d.scenario),
                num(d.deliveries),
                num(d.misreported_deliveries),
                num(d.over_reported_impressions),
                usd(d.overpayment_micros),
                pct(d.overpayment_share, 2),
                f"{d.campaigns_over_tolerance} of {d.campaigns}",
                num(d.deals_billed_above_agreed),
                usd(d.billed_above_agreed_micros),
                num(d.deals_billed_above_max_cpm),
            )
            for d in f.discrepancy
        ],
    )


# --- the ledger -----------------------------------------------------------------------------------


def _ledger(spec: ExperimentSpec, f: Findings) -> list[str]:
    vs = f.ledger_vs_fee
    return [
        "## Ledger cost vs exchange fee",
        "",
        "![ledger cost vs exchange fee](ledger_vs_fee.png)",
        "",
        _ledger_table(f),
        "",
        table(
            ["", "Exchange fee (A)", "Ledger (C)"],
            [
                ("Total (USD)", dollars(vs.exchange_fee_usd), dollars(vs.ledger_cost_usd)),
                (
                    "Per 1000 delivered impressions",
                    price(vs.exchange_fee_per_1000_impressions_usd),
                    price(vs.ledger_cost_per_1000_impressions_usd),
                ),
                (
                    "Per $100,000 of buyer spend",
                    dollars(vs.exchange_fee_per_100k_spend_usd),
                    dollars(vs.ledger_cost_per_100k_spend_usd),
                ),
            ],
        ),
        "",
        f"Fee ÷ ledger cost per 1000 impressions: {num(vs.fee_to_ledger_ratio)}×. "
        "Ledger cost applies `ledger_cost` to the byte length of each recorded ledger payload: one Sui object per "
        "record (computation + storage, no rebate since records are kept) and Walrus blobs of "
        f"{spec.params.ledger_batch_records} records per campaign chain. The token prices (SUI ${spec.params.sui_usd}, "
        f"WAL ${spec.params.wal_usd}) are parameters.",
    ]


def _ledger_table(f: Findings) -> str:
    return table(
        [
            "Scenario",
            "Chain",
            "Chains",
            "Entries",
            "Bytes",
            "Sui (SUI)",
            "Walrus (WAL)",
            "Blobs",
            "Cost (USD)",
            "Per 1000 impressions",
            "Share of spend",
        ],
        [
            (
                label(row.scenario),
                "written (relied on)" if row.written_by_scenario else "deal records only (what it would cost)",
                row.chains,
                f"{num(row.entries)} ({', '.join(f'{k} {v:,}' for k, v in row.entries_by_type.items()) or '—'})",
                num(row.bytes),
                num(row.cost_sui_mist / MIST_PER_SUI, 4),
                num(row.cost_walrus_frost / FROST_PER_WAL, 4),
                row.cost_blobs,
                dollars(row.cost_usd),
                price(row.cost_per_1000_impressions_usd),
                pct(row.cost_share_of_spend, 4),
            )
            for row in f.ledger
        ],
    )


# --- parameters, method and files -----------------------------------------------------------------


def _files() -> list[str]:
    return [
        "## Files",
        "",
        "- `report.json`: every figure above (`findings`), the inputs (`parameters`) and the data checks (`checks`).",
        f"- Charts: {', '.join(f'`{c}`' for c in CHARTS)}.",
        "- `events.jsonl`: every recorded row of the experiment (context events, the event log, deals, claims, "
        "deliveries), one JSON object a line, ordered by scenario, campaign, day.",
        f"- `narrative.md`: deals, detected hallucinations and context-rot events told from the recorded rows "
        f"(at most {NARRATIVE_CAP} per section and scenario).",
        "",
    ]


def _structural_notes(spec: ExperimentSpec, world: World, f: Findings) -> list[str]:
    """Goal figures that the parameters decide on their own, said next to them (parameter-derived)."""
    notes: list[str] = []
    a = next((g for g in f.goals if g.scenario == "A"), None)
    params = spec.params
    if a is not None and params.auction == "first" and world.campaigns:
        # A first-price win clears at the buyer's own bid: bid_shading x its value, where the value is
        # the target CPM x (1 + buyer_value_over_target), at most the max CPM.
        lowest = min(
            params.bid_shading * min(c.max_cpm, c.target_cpm * (1 + params.buyer_value_over_target)) / c.target_cpm
            for c in world.campaigns
            if c.target_cpm
        )
        if lowest > 1:
            notes += [
                "",
                f"*Parameter-derived, not a finding:* in A the buyer bids `bid_shading` × its value and a first-price "
                f"win clears at that bid, which is at least {lowest:.2f}× every campaign's target CPM in this world; "
                f"so A cannot come in within target CPM ({a.campaigns_within_target_cpm} of {a.campaigns} did).",
            ]
    return notes


def _no_claims_note(spec: ExperimentSpec, f: Findings) -> list[str]:
    silent = sorted({h.scenario for h in f.hallucinations} - {h.scenario for h in f.hallucinations if h.claims})
    if not silent:
        return []
    return [
        f"No claims are recorded in {', '.join(silent)}: fabrication runs only in `hallucination_scenarios` "
        f"({', '.join(spec.params.hallucination_scenarios)}), and the exchange's records in A are authoritative.",
        "",
    ]


def _parameters_section(spec: ExperimentSpec, world: World) -> list[str]:
    products = world.products()
    kpis: dict[str, int] = defaultdict(int)
    for campaign in world.campaigns:
        kpis[campaign.kpi] += 1
    sizes = [
        ("scenarios", ", ".join(spec.scenarios)),
        ("days", spec.days),
        ("buyers", spec.buyers),
        ("sellers", spec.sellers),
        ("campaigns per buyer", spec.campaigns_per_buyer),
        ("seed", spec.seed),
        ("acceleration", spec.acceleration),
        ("LLM buyer", f"{spec.llm.model} at {spec.llm.url}" if spec.llm else "none (rule engine)"),
        ("campaigns (generated)", len(world.campaigns)),
        ("products (generated)", len(products)),
        ("campaign budgets, total", usd(sum(c.budget for c in world.campaigns))),
        ("campaign KPIs", ", ".join(f"{k} {v}" for k, v in sorted(kpis.items()))),
        ("buyer tiers", ", ".join(f"{b.id} {b.tier}" for b in world.buyers)),
    ]
    fields = AdsParams.model_fields
    return [
        "## Parameters",
        "",
        "Inputs of the study, not findings. Study sizes and the generated world:",
        "",
        table(["Parameter", "Value"], sizes),
        "",
        "Every `AdsParams` value:",
        "",
        table(
            ["Parameter", "Value", "Meaning"],
            [
                (f"`{name}`", _param_value(getattr(spec.params, name)), fields[name].description or "")
                for name in fields
            ],
        ),
    ]


def _param_value(value: Any) -> str:
    if isinstance(value, tuple):
        return ", ".join(str(v) for v in value)
    return str(value)


def _method_section() -> list[str]:
    return [
        "## How each figure is computed",
        "",
        "- **Spend, publisher revenue, exchange fee, take rate, impressions, CPMs**: sums over `ads_deliveries` "
        "(`buyer_spend`, `seller_revenue`, `exchange_fee` in micros; `impressions` = delivered, `reported` = paid).",
        "- **Deals, deal types, rounds**: `ads_deals`; negotiations and auctions: `ads_events` "
        "(kinds `negotiation`, `auction`).",
        "- **Campaign goals and KPI attainment by day**: `ads_deliveries` per campaign and day against the campaign's "
        "targets in the experiment's world (`ads_experiments.world_json`).",
        "- **Context rot**: `ads_context_events` (items before, lost, recovered, recovered correctly; "
        "kind decay or restart).",
        "- **Hallucinations and detection**: `ads_claims` (claimed vs actual; `injected`, `checked`), flagged with "
        "`sim.ads.hallucination.detect` at the parameter tolerance.",
        "- **Delivery discrepancy and overpayment**: `ads_deliveries`, reported − delivered impressions; overpayment = "
        "spend × (reported − delivered) ÷ reported.",
        "- **Ledger**: `ledger_entries` of the chains `ads/<experiment>/<scenario>/<campaign>`; "
        "bytes = payload length; cost by `sim.ads.costs.ledger_cost`.",
        "- **Campaign-days recorded**: `ads_days`.",
        "- **Total cost of trading**: `sim.ads.trading_costs.trading_cost` over the scenario's `ads_deliveries`, "
        "`ads_deals`, `ads_claims`, `ads_events` (negotiation, claim_rejected, llm) and `ledger_entries`.",
        "- **Day 1 versus the last day**: `sim.ads.degradation` over the per-day figures above.",
        "- **Findings and Conclusion**: `sim.ads.statements`, sentences generated from the figures.",
    ]
