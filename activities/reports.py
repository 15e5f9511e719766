"""The study's report: load an experiment's recorded rows, and write report.md, report.json, charts,
the event log (events.jsonl) and the narrative log (narrative.md).

Every figure comes from ``sim.ads.findings`` (a query over recorded rows); parameters are printed
in their own section and in their own JSON object, never as findings.
"""

from __future__ import annotations

import io
import json
import math
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from models.ads import MICROS, AdsParams, ExperimentSpec, World
from sim.ads.costs import FROST_PER_WAL, MIST_PER_SUI
from sim.ads.findings import Findings, StudyRows, overpayment, sanity_checks
from sim.ads.hallucination import detect
from store import ads as ads_store
from store.files import write_atomically
from store.tables import (
    AdsClaimRow,
    AdsContextRow,
    AdsDayRow,
    AdsDealRow,
    AdsDeliveryRow,
    AdsEventRow,
    LedgerRow,
)

NARRATIVE_CAP = 10  # entries per section and scenario in narrative.md
LOOKAHEAD_DAYS = 3  # a context-rot entry reports the deals its campaign booked in the next days
SCENARIO_NAMES = {"A": "exchange", "B": "agent-to-agent", "C": "agent-to-agent + ledger"}
COLOURS = {"A": "#d62728", "B": "#ff7f0e", "C": "#2ca02c"}
CHARTS = ("fee_extraction.png", "kpi_attainment.png", "context_rot.png", "hallucinations.png", "ledger_vs_fee.png")


# --- loading ----------------------------------------------------------------------------------------


async def load_study(engine: AsyncEngine, experiment_id: str) -> tuple[ExperimentSpec, World, StudyRows]:
    """The experiment's spec, world and every recorded row; LookupError for an unknown id."""
    row = await ads_store.experiment(engine, experiment_id)
    if row is None:
        known = await ads_store.experiment_ids(engine)
        hint = f" (known: {', '.join(known[:5])}{'…' if len(known) > 5 else ''})" if known else " (the store holds none)"
        raise LookupError(f"no experiment {experiment_id!r} in the store{hint}")
    spec = ExperimentSpec.model_validate_json(row.spec_json)
    world = World.model_validate_json(row.world_json)
    tables = {
        name: await ads_store.rows(engine, table, experiment_id)
        for name, table in (
            ("deals", AdsDealRow), ("deliveries", AdsDeliveryRow), ("claims", AdsClaimRow),
            ("context", AdsContextRow), ("events", AdsEventRow), ("days", AdsDayRow),
        )
    }
    prefix = f"ads/{experiment_id}/"
    async with engine.connect() as connection:
        result = await connection.execute(
            select(LedgerRow.chain_id, LedgerRow.seq, LedgerRow.payload_json)
            .where(LedgerRow.chain_id.startswith(prefix, autoescape=True))
            .order_by(LedgerRow.chain_id, LedgerRow.seq)
        )
        ledger = [dict(r) for r in result.mappings()]
    return spec, world, StudyRows(**tables, ledger=ledger)


# --- writing ----------------------------------------------------------------------------------------


def write_report(
    out_dir: Path, experiment_id: str, spec: ExperimentSpec, world: World, rows: StudyRows, findings: Findings
) -> list[Path]:
    """Write every report file atomically into ``out_dir``; returns the paths written."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    checks = sanity_checks(spec, findings)
    files: dict[str, bytes] = {
        "report.json": _report_json(spec, findings, checks),
        "report.md": render_markdown(experiment_id, spec, world, findings, checks).encode(),
        "events.jsonl": "".join(json.dumps(line, sort_keys=True, separators=(",", ":")) + "\n" for line in event_lines(rows)).encode(),
        "narrative.md": render_narrative(experiment_id, spec, world, rows).encode(),
    }
    files.update(render_charts(findings))
    written = []
    for name, content in files.items():
        path = out_dir / name
        write_atomically(path, content)
        written.append(path)
    return written


def _report_json(spec: ExperimentSpec, findings: Findings, checks: list[str]) -> bytes:
    document = {
        "findings": findings.json_dict(),
        # The inputs, kept apart from the findings; no id, so equal seeds give equal bytes.
        "parameters": spec.model_dump(mode="json", exclude={"id"}),
        "checks": checks,
    }
    return (json.dumps(document, sort_keys=True, indent=2) + "\n").encode()


# --- formatting -------------------------------------------------------------------------------------


def _usd(micros: float | None, digits: int = 2) -> str:
    return "—" if micros is None else f"${micros / MICROS:,.{digits}f}"


def _dollars(value: float | None, digits: int = 2) -> str:
    return "—" if value is None else f"${value:,.{digits}f}"


def _price(value: float | None) -> str:
    """USD amounts that can be fractions of a cent: two significant digits below one cent."""
    if value is None:
        return "—"
    if 0 < abs(value) < 0.01:
        return f"${value:.{1 - math.floor(math.log10(abs(value)))}f}"
    return f"${value:,.4f}"


def _plural(count: int, word: str) -> str:
    return f"{count:,} {word}{'' if count == 1 else 's'}"


def _pct(value: float | None, digits: int = 1) -> str:
    return "—" if value is None else f"{value * 100:.{digits}f}%"


def _num(value: float | None, digits: int = 0) -> str:
    return "—" if value is None else f"{value:,.{digits}f}"


def _table(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return "\n".join(lines)


def _label(scenario: str) -> str:
    return f"{scenario} ({SCENARIO_NAMES.get(scenario, scenario)})"


# --- report.md ----------------------------------------------------------------------------------------


def render_markdown(experiment_id: str, spec: ExperimentSpec, world: World, f: Findings, checks: Sequence[str]) -> str:
    totals = {t.scenario: t for t in f.totals}
    goals = {g.scenario: g for g in f.goals}
    vs = f.ledger_vs_fee
    out: list[str] = [
        f"# Programmatic advertising study: experiment `{experiment_id}`",
        "",
        "Every figure in this report is computed from the events recorded in the results store "
        "(deliveries, deals, claims, context events, the event log and the ledger). The study's inputs are "
        "listed under [Parameters](#parameters) and are never presented as findings.",
        "",
        "## Executive summary",
        "",
        f"- {len(world.campaigns)} campaigns × {len(f.scenarios)} scenarios ({', '.join(_label(s) for s in f.scenarios)}), "
        f"{world.days} simulated days.",
    ]
    for s in f.scenarios:
        t, g = totals[s], goals[s]
        out.append(
            f"- **{_label(s)}**: buyers spent {_usd(t.buyer_spend_micros)} for {_num(t.impressions)} delivered impressions "
            f"(effective CPM {_usd(t.effective_cpm_micros)}); intermediary take {_pct(t.take_rate)}; "
            f"{g.campaigns_hit_goal} of {g.campaigns} campaigns reached their KPI target within budget "
            f"({g.campaigns_hit_kpi} reached it at any cost) "
            f"(mean attainment {_pct(g.mean_final_kpi_attainment)}); {_pct(g.budget_spent_share)} of budgets spent, "
            f"{g.campaigns_over_budget} campaigns over budget; {t.deals} deals."
        )
    discrepancy = {d.scenario: d for d in f.discrepancy}
    for s in f.scenarios:
        d = discrepancy[s]
        if d.overpayment_micros:
            out.append(
                f"- In {s}, sellers over-reported {_num(d.over_reported_impressions)} impressions; the buyer paid "
                f"{_usd(d.overpayment_micros)} ({_pct(d.overpayment_share, 2)} of its spend) for impressions never served."
            )
        if d.deals_billed_above_agreed:
            out.append(
                f"- In {s}, {_plural(d.deals_billed_above_agreed, 'deal')} struck on fabricated (deflated) quotes "
                f"{'was' if d.deals_billed_above_agreed == 1 else 'were'} billed at the seller's true price: "
                f"{_usd(d.billed_above_agreed_micros)} more than the agreed CPMs "
                f"({_plural(d.deals_billed_above_max_cpm, 'deal')} above the campaign's maximum CPM)."
            )
    if vs.exchange_fee_per_1000_impressions_usd is not None and vs.ledger_cost_per_1000_impressions_usd is not None:
        out.append(
            f"- The exchange's fee cost {_price(vs.exchange_fee_per_1000_impressions_usd)} per 1000 impressions in A; "
            f"C's ledger cost {_price(vs.ledger_cost_per_1000_impressions_usd)} per 1000 impressions "
            f"({_num(vs.fee_to_ledger_ratio)}× less). Per $100,000 of buyer spend: {_dollars(vs.exchange_fee_per_100k_spend_usd)} "
            f"to the exchange in A, {_dollars(vs.ledger_cost_per_100k_spend_usd)} for the ledger in C."
        )
    context = {c.scenario: c for c in f.context}
    for s in sorted(context):
        c = context[s]
        out.append(
            f"- Context rot in {s}: {_num(c.items_lost)} of {_num(c.items_before)} remembered items lost "
            f"(daily survival {_pct(c.survival, 2)}, {c.restarts} restarts); recovery fidelity {_pct(c.recovery_fidelity)}."
        )
    if checks:
        out += ["", "### Data checks", "", "Computed from the recorded rows against the study's own rules; each deserves a look:", ""]
        out += [f"- {check}" for check in checks]

    # Fee extraction.
    out += [
        "", "## Fee extraction", "",
        "![fee extraction](fee_extraction.png)", "",
        _table(
            ["Scenario", "Buyer spend", "To publishers", "Exchange fee", "Take rate", "Paid for unserved impressions",
             "Delivered impressions", "Paid impressions", "CPM paid", "Effective CPM"],
            [
                (_label(s), _usd(t.buyer_spend_micros), _usd(t.seller_revenue_micros), _usd(t.exchange_fee_micros),
                 _pct(t.take_rate, 2), _usd(discrepancy[s].overpayment_micros), _num(t.impressions), _num(t.paid_impressions),
                 _usd(t.cpm_paid_micros), _usd(t.effective_cpm_micros))
                for s, t in totals.items()
            ],
        ),
        "",
        "Take rate = exchange fees ÷ buyer spend, summed over recorded deliveries. A's rate reproduces the "
        f"`exchange_fee` parameter ({spec.params.exchange_fee:.2f}) by construction: it checks the fee arithmetic "
        "(the fee is a share of spend, not cpm × (1 + fee)), it is not an independent finding. B and C have no "
        "intermediary; what B loses instead is the spend on impressions sellers reported but never served. "
        "CPM paid is spend per 1000 paid (reported) impressions; effective CPM is spend per 1000 delivered ones.",
    ]

    # Deals.
    out += [
        "", "## Deals and negotiation", "",
        _table(
            ["Scenario", "Deals", "PG", "PD", "PA", "Rounds (mean)", "Rounds (median)", "Negotiations (agreed)", "Auctions (won)"],
            [
                (_label(s), t.deals, t.deals_by_type.get("PG", 0), t.deals_by_type.get("PD", 0), t.deals_by_type.get("PA", 0),
                 _num(t.deal_rounds_mean, 2), _num(t.deal_rounds_median, 1), f"{t.negotiations} ({t.negotiations_agreed})",
                 f"{t.auctions} ({t.auctions_won})")
                for s, t in totals.items()
            ],
        ),
        "",
        "Rounds are the negotiation rounds a deal took (deal latency); A's deals are won in auctions (0 rounds). "
        "In A a deal is the private-auction deal id a campaign gets on a product the first time it wins it.",
    ]

    # Goals.
    out += [
        "", "## Campaign goal achievement", "",
        _table(
            ["Scenario", "Campaigns", "Hit goal (KPI within budget)", "Hit KPI at any cost", "Mean final KPI attainment",
             "Within target CPM", "Over budget", "Spend over budget", "No delivery", "Budget spent"],
            [
                (_label(s), g.campaigns, f"{g.campaigns_hit_goal} ({_pct(g.campaigns_hit_goal / g.campaigns if g.campaigns else None, 0)})",
                 f"{g.campaigns_hit_kpi} ({_pct(g.campaigns_hit_kpi / g.campaigns if g.campaigns else None, 0)})",
                 _pct(g.mean_final_kpi_attainment), g.campaigns_within_target_cpm, g.campaigns_over_budget,
                 _usd(g.over_budget_micros), g.campaigns_without_delivery, _pct(g.budget_spent_share))
                for s, g in goals.items()
            ],
        ),
        "",
        "A campaign hits its KPI when its delivered KPI (impressions, clicks, conversions or viewable impressions, "
        "from ground-truth deliveries) reaches its target; it hits its goal when it does so without spending more "
        "than its budget. Attainment is delivered ÷ target capped at 100%. "
        "Within target CPM: spend per 1000 *delivered* impressions at or below the campaign's target CPM.",
    ]
    out += _structural_notes(spec, world, f)

    # KPI over time.
    days = sorted({k.day for k in f.kpi_by_day})
    shown = days if len(days) <= 10 else sorted({d for d in days if d == 1 or d % 5 == 0 or d == days[-1]})
    kpi = {(k.scenario, k.day): k.mean_attainment for k in f.kpi_by_day}
    out += [
        "", "## KPI attainment over time", "",
        "![KPI attainment by day](kpi_attainment.png)", "",
        _table(["Scenario", *[f"Day {d}" for d in shown]], [(_label(s), *[_pct(kpi.get((s, d))) for d in shown]) for s in f.scenarios]),
        "",
        "Each day: the mean over campaigns already in flight of cumulative delivered KPI ÷ the target pro-rated to "
        "the elapsed share of the campaign's flight, capped at 100%.",
    ]

    # Context rot.
    if f.context:
        ref = f.context_by_day[0].reference_daily_survival if f.context_by_day else None
        out += [
            "", "## Context rot", "",
            "![context rot](context_rot.png)", "",
            _table(
                ["Scenario", "Campaign-days", "With memory", "Items remembered", "Items lost", "Daily survival",
                 "Restarts", "Recovered", "Recovered correctly", "Recovery fidelity"],
                [
                    (_label(c.scenario), c.campaign_days, c.with_items, _num(c.items_before), _num(c.items_lost),
                     _pct(c.survival, 2), c.restarts, _num(c.items_recovered), _num(c.recovered_correctly), _pct(c.recovery_fidelity))
                    for c in f.context
                ],
            ),
            "",
        ]
        by_day = {(c.scenario, c.day): c for c in f.context_by_day}
        out.append(
            _table(
                ["Scenario", *[f"Day {d}" for d in shown]],
                [
                    (f"{c.scenario}: cumulative survival", *[_pct(by_day[(c.scenario, d)].cumulative_survival) for d in shown])
                    for c in f.context
                ]
                + [("parameter-derived reference", *[_pct(by_day[(f.context[0].scenario, d)].reference_cumulative_survival) for d in shown])],
            )
        )
        out += [
            "",
            "Daily survival = 1 − items lost ÷ items remembered, over campaign-days on which the buyer remembered "
            "anything (restarts included). Cumulative survival multiplies the observed daily survivals: the chance "
            "an item remembered on day 1 is still there, before any recovery. Recovery fidelity = items recovered "
            "exactly as they were ÷ items lost. The reference row is **not a finding**: it is "
            f"(`context_survival` × (1 − `restart_probability`))^day = {_pct(ref, 2)} per day, from the parameters. "
            "C rebuilds lost items from its campaign's chain, which holds what the buyer recorded, so its fidelity "
            "falls below 100% only where the chain lacks or contradicts an item.",
        ]

    # Hallucinations.
    out += [
        "", "## Hallucination analysis", "",
        "![hallucinations](hallucinations.png)", "",
        _table(
            ["Scenario", "Agent", "Claims", "Injected (fabricated)", "Injected share", "Injected and unchecked"],
            [(_label(h.scenario), h.agent_type, _num(h.claims), _num(h.injected), _pct(h.injected_share, 2), _num(h.injected_unchecked))
             for h in f.hallucinations if h.claims],
        ),
        "",
        *_no_claims_note(spec, f),
        f"Detection at the parameter tolerance ({spec.params.detection_tolerance:.0%} relative error; major from "
        f"{spec.params.major_severity:.0%}), from each recorded claim against its ground truth:",
        "",
        _table(
            ["Scenario", "Claim type", "Claims", "Injected", "Flagged", "True positives", "Precision", "Recall", "Minor", "Major"],
            [(_label(d.scenario), d.claim_type, _num(d.claims), _num(d.injected), _num(d.flagged), _num(d.true_positives),
              _pct(d.precision), _pct(d.recall), _num(d.severity.get("minor", 0)), _num(d.severity.get("major", 0)))
             for d in f.detection if d.claims],
        ),
        "",
        "Only the injected set counts as hallucination (no API errors, no rounding). The injected share follows the "
        "`hallucination_rate` parameter and is shown to confirm the injection, not as a finding; the findings are "
        "what detection catches and what unchecked fabrications cost. *Unchecked* means the agent acted on the claim "
        "without verifying it (scenario C checks every claim against the ledger before acting). Precision or recall "
        "is — when nothing was flagged or nothing injected. Detection here compares each claim with the recorded ground "
        "truth, so it measures whether the fabrications stand out at the tolerance (an oracle check), not how well an "
        "agent that cannot see the truth would do.",
        "",
        "What unchecked fabrications cost: delivery discrepancy (reported − delivered impressions, per delivery) and "
        "deals struck on a fabricated quote that the seller billed at its true price:",
        "",
        _table(
            ["Scenario", "Deliveries", "Misreported", "Over-reported impressions", "Overpayment", "Share of spend",
             f"Campaigns > {spec.params.detection_tolerance:.0%} off", "Deals billed above agreed CPM", "Billed above agreed",
             "Deals above max CPM"],
            [(_label(d.scenario), _num(d.deliveries), _num(d.misreported_deliveries), _num(d.over_reported_impressions),
              _usd(d.overpayment_micros), _pct(d.overpayment_share, 2), f"{d.campaigns_over_tolerance} of {d.campaigns}",
              _num(d.deals_billed_above_agreed), _usd(d.billed_above_agreed_micros), _num(d.deals_billed_above_max_cpm))
             for d in f.discrepancy],
        ),
    ]

    # Ledger.
    out += [
        "", "## Ledger cost vs exchange fee", "",
        "![ledger cost vs exchange fee](ledger_vs_fee.png)", "",
        _table(
            ["Scenario", "Chain", "Chains", "Entries", "Bytes", "Sui (SUI)", "Walrus (WAL)", "Blobs", "Cost (USD)",
             "Per 1000 impressions", "Share of spend"],
            [
                (_label(row.scenario), "written (relied on)" if row.written_by_scenario else "deal records only (what it would cost)",
                 row.chains, f"{_num(row.entries)} ({', '.join(f'{k} {v:,}' for k, v in row.entries_by_type.items()) or '—'})",
                 _num(row.bytes), _num(row.cost_sui_mist / MIST_PER_SUI, 4), _num(row.cost_walrus_frost / FROST_PER_WAL, 4),
                 row.cost_blobs, _dollars(row.cost_usd), _price(row.cost_per_1000_impressions_usd),
                 _pct(row.cost_share_of_spend, 4))
                for row in f.ledger
            ],
        ),
        "",
        _table(
            ["", "Exchange fee (A)", "Ledger (C)"],
            [
                ("Total (USD)", _dollars(vs.exchange_fee_usd), _dollars(vs.ledger_cost_usd)),
                ("Per 1000 delivered impressions", _price(vs.exchange_fee_per_1000_impressions_usd),
                 _price(vs.ledger_cost_per_1000_impressions_usd)),
                ("Per $100,000 of buyer spend", _dollars(vs.exchange_fee_per_100k_spend_usd), _dollars(vs.ledger_cost_per_100k_spend_usd)),
            ],
        ),
        "",
        f"Fee ÷ ledger cost per 1000 impressions: {_num(vs.fee_to_ledger_ratio)}×. "
        "Ledger cost applies `ledger_cost` to the byte length of each recorded ledger payload: one Sui object per "
        "record (computation + storage, no rebate since records are kept) and Walrus blobs of "
        f"{spec.params.ledger_batch_records} records per campaign chain. The token prices (SUI ${spec.params.sui_usd}, "
        f"WAL ${spec.params.wal_usd}) are parameters.",
    ]

    out += ["", *_parameters_section(spec, world)]
    out += ["", *_method_section()]
    out += [
        "", "## Files", "",
        "- `report.json`: every figure above (`findings`), the inputs (`parameters`) and the data checks (`checks`).",
        f"- Charts: {', '.join(f'`{c}`' for c in CHARTS)}.",
        "- `events.jsonl`: every recorded row of the experiment (context events, the event log, deals, claims, "
        "deliveries), one JSON object a line, ordered by scenario, campaign, day.",
        f"- `narrative.md`: deals, detected hallucinations and context-rot events told from the recorded rows "
        f"(at most {NARRATIVE_CAP} per section and scenario).",
        "",
    ]
    return "\n".join(out)


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
        ("scenarios", ", ".join(spec.scenarios)), ("days", spec.days), ("buyers", spec.buyers), ("sellers", spec.sellers),
        ("campaigns per buyer", spec.campaigns_per_buyer), ("seed", spec.seed), ("acceleration", spec.acceleration),
        ("LLM buyer", f"{spec.llm.model} at {spec.llm.url}" if spec.llm else "none (rule engine)"),
        ("campaigns (generated)", len(world.campaigns)), ("products (generated)", len(products)),
        ("campaign budgets, total", _usd(sum(c.budget for c in world.campaigns))),
        ("campaign KPIs", ", ".join(f"{k} {v}" for k, v in sorted(kpis.items()))),
        ("buyer tiers", ", ".join(f"{b.id} {b.tier}" for b in world.buyers)),
    ]
    fields = AdsParams.model_fields
    return [
        "## Parameters", "",
        "Inputs of the study, not findings. Study sizes and the generated world:", "",
        _table(["Parameter", "Value"], sizes), "",
        "Every `AdsParams` value:", "",
        _table(
            ["Parameter", "Value", "Meaning"],
            [(f"`{name}`", _param_value(getattr(spec.params, name)), fields[name].description or "") for name in fields],
        ),
    ]


def _param_value(value: Any) -> str:
    if isinstance(value, tuple):
        return ", ".join(str(v) for v in value)
    return str(value)


def _method_section() -> list[str]:
    return [
        "## How each figure is computed", "",
        "- **Spend, publisher revenue, exchange fee, take rate, impressions, CPMs**: sums over `ads_deliveries` "
        "(`buyer_spend`, `seller_revenue`, `exchange_fee` in micros; `impressions` = delivered, `reported` = paid).",
        "- **Deals, deal types, rounds**: `ads_deals`; negotiations and auctions: `ads_events` (kinds `negotiation`, `auction`).",
        "- **Campaign goals and KPI attainment by day**: `ads_deliveries` per campaign and day against the campaign's "
        "targets in the experiment's world (`ads_experiments.world_json`).",
        "- **Context rot**: `ads_context_events` (items before, lost, recovered, recovered correctly; kind decay or restart).",
        "- **Hallucinations and detection**: `ads_claims` (claimed vs actual; `injected`, `checked`), flagged with "
        "`sim.ads.hallucination.detect` at the parameter tolerance.",
        "- **Delivery discrepancy and overpayment**: `ads_deliveries`, reported − delivered impressions; overpayment = "
        "spend × (reported − delivered) ÷ reported.",
        "- **Ledger**: `ledger_entries` of the chains `ads/<experiment>/<scenario>/<campaign>`; bytes = payload length; "
        "cost by `sim.ads.costs.ledger_cost`.",
        "- **Campaign-days recorded**: `ads_days`.",
    ]


# --- charts -------------------------------------------------------------------------------------------


def render_charts(f: Findings) -> dict[str, bytes]:
    """The five PNG charts, drawn with the Agg backend (no display, no global pyplot state)."""
    return {
        "fee_extraction.png": _png(_fee_chart, f),
        "kpi_attainment.png": _png(_kpi_chart, f),
        "context_rot.png": _png(_context_chart, f),
        "hallucinations.png": _png(_hallucination_chart, f),
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
    labels = [_label(t.scenario) for t in f.totals]
    served = [(t.seller_revenue_micros - discrepancy[t.scenario].overpayment_micros) / MICROS for t in f.totals]
    unserved = [discrepancy[t.scenario].overpayment_micros / MICROS for t in f.totals]
    fees = [t.exchange_fee_micros / MICROS for t in f.totals]
    ax.bar(labels, served, color="#4c72b0", label="to publishers for delivered impressions")
    ax.bar(labels, unserved, bottom=served, color="#dd8452", label="to publishers for impressions never served")
    ax.bar(labels, fees, bottom=[a + b for a, b in zip(served, unserved)], color="#c44e52", label="exchange fee")
    for i, t in enumerate(f.totals):
        total = t.buyer_spend_micros / MICROS
        spend = t.buyer_spend_micros or 1
        ax.annotate(
            f"${total:,.0f}\nfee {t.exchange_fee_micros / spend:.1%} · unserved {discrepancy[t.scenario].overpayment_micros / spend:.2%}",
            (i, total), ha="center", va="bottom", fontsize=9, xytext=(0, 3), textcoords="offset points",
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
            ax.plot(*zip(*points), marker=".", color=COLOURS.get(s), label=_label(s))
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
        days = [c for c in f.context_by_day if c.scenario == s]
        for ax, points, style in (
            (daily_ax, [(c.day, c.survival) for c in days if c.survival is not None], "."),
            (cumulative_ax, [(c.day, c.cumulative_survival) for c in days if c.cumulative_survival is not None], "."),
            (fidelity_ax, [(c.day, c.recovery_fidelity) for c in days if c.recovery_fidelity is not None], "o"),
        ):
            if points:
                ax.plot(*zip(*points), marker=style, color=COLOURS.get(s), label=_label(s))
        restarts = [c.day for c in days if c.restarts]
        for day in restarts:
            daily_ax.axvline(day, color=COLOURS.get(s), alpha=0.15, linewidth=3)
    reference = [c for c in f.context_by_day if scenarios and c.scenario == scenarios[0]]
    if reference:
        days = [c.day for c in reference]
        daily_ax.plot(days, [c.reference_daily_survival for c in reference], color="grey", linestyle="--", label="parameter reference")
        cumulative_ax.plot(days, [c.reference_cumulative_survival for c in reference], color="grey", linestyle="--",
                           label="parameter reference")
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
    rate_ax.bar([i - width / 2 for i in positions], [h.injected_share or 0 for h in rows], width, color=colours,
                label="injected (fabricated) share of claims")
    rate_ax.bar([i + width / 2 for i in positions], [h.injected_unchecked / h.claims for h in rows], width, color=colours,
                hatch="//", alpha=0.5, label="injected and acted on unchecked")
    rate_ax.set_xticks(list(positions), labels)
    for i, h in enumerate(rows):
        rate_ax.annotate(f"{h.injected:,}\nof {h.claims:,}", (i - width / 2, h.injected_share or 0), ha="center", va="bottom", fontsize=7)
        rate_ax.annotate(f"{h.injected_unchecked:,}", (i + width / 2, h.injected_unchecked / h.claims), ha="center", va="bottom", fontsize=7)
    rate_ax.set_title("Fabricated claims (ads_claims)")
    rate_ax.yaxis.set_major_formatter(lambda v, _: f"{v:.1%}")
    rate_ax.margins(y=0.2)
    rate_ax.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.07), ncol=2, frameon=False)
    if not rows:
        rate_ax.text(0.5, 0.5, "no claims recorded", ha="center", transform=rate_ax.transAxes)

    detection = [d for d in f.detection if d.claim_type == "all" and d.claims]
    x = range(len(detection))
    width = 0.38
    detection_ax.bar([i - width / 2 for i in x], [d.precision or 0 for d in detection], width, color="#4c72b0", label="precision")
    detection_ax.bar([i + width / 2 for i in x], [d.recall or 0 for d in detection], width, color="#55a868", label="recall")
    detection_ax.set_xticks(list(x), [_label(d.scenario) for d in detection])
    for i, d in enumerate(detection):
        detection_ax.annotate(f"P {_pct(d.precision)}", (i - width / 2, d.precision or 0), ha="center", va="bottom", fontsize=8)
        detection_ax.annotate(f"R {_pct(d.recall)}", (i + width / 2, d.recall or 0), ha="center", va="bottom", fontsize=8)
    detection_ax.set_ylim(0, 1.15)
    detection_ax.yaxis.set_major_formatter(lambda v, _: f"{v:.0%}")
    detection_ax.set_title("Detection at the parameter tolerance")
    detection_ax.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.07), ncol=2, frameon=False)


def _ledger_chart(figure: Figure, f: Findings) -> None:
    ax = figure.subplots()
    vs = f.ledger_vs_fee
    bars: list[tuple[str, float, str]] = []
    if vs.exchange_fee_per_1000_impressions_usd is not None:
        bars.append(("A: exchange fee", vs.exchange_fee_per_1000_impressions_usd, COLOURS["A"]))
    for row in f.ledger:
        if row.impressions and row.cost_usd:
            label = f"{row.scenario}: ledger" + ("" if row.written_by_scenario else "\n(deal records only)")
            bars.append((label, row.cost_per_1000_impressions_usd, COLOURS.get(row.scenario, "grey")))
    if not bars:
        ax.text(0.5, 0.5, "nothing delivered", ha="center", transform=ax.transAxes)
        return
    labels, values, colours = zip(*bars)
    # Hatched: what A's and B's deal-only chains would cost; they do not rely on a ledger.
    patches = ax.bar(labels, values, color=colours)
    for patch, label in zip(patches, labels):
        if "deal records" in label:
            patch.set_hatch("//")
            patch.set_alpha(0.5)
    ax.set_yscale("log")
    for i, value in enumerate(values):
        ax.annotate(_price(value) if value < 0.01 else f"${value:,.2f}", (i, value), ha="center", va="bottom", fontsize=9)
    ax.set_ylabel("USD per 1000 delivered impressions (log scale)")
    title = "Ledger cost vs exchange fee per 1000 impressions"
    if vs.fee_to_ledger_ratio:
        title += f" (fee ≈ {vs.fee_to_ledger_ratio:,.0f}× C's ledger)"
    ax.set_title(title)
    ax.margins(y=0.2)
    ax.grid(alpha=0.3, axis="y")


# --- events.jsonl -----------------------------------------------------------------------------------------


_SOURCE_RANK = {"ads_context_events": 0, "ads_events": 1, "ads_deals": 2, "ads_claims": 3, "ads_deliveries": 4}


def event_lines(rows: StudyRows) -> list[dict[str, Any]]:
    """Every recorded row as one event: scenario, campaign, day, kind, source table, and its fields.

    Ordered by scenario, campaign, day, then a campaign-day's own order: the morning's context
    events, the event log in sequence, deals, claims, deliveries.
    """
    lines: list[tuple[tuple, dict[str, Any]]] = []

    def add(source: str, row: Mapping[str, Any], day: int, kind: str, within: tuple, **fields: Any) -> None:
        body = {k: v for k, v in row.items() if k not in ("experiment_id", "scenario", "campaign_id", "day", "kind", "data_json")}
        line = {"source": source, "scenario": row["scenario"], "campaign": row["campaign_id"], "day": day, "kind": kind, **body, **fields}
        lines.append(((row["scenario"], row["campaign_id"], day, _SOURCE_RANK[source], within), line))

    for row in rows.context:
        add("ads_context_events", row, row["day"], f"context_{row['kind']}", (row["kind"],))
    for row in rows.events:
        add("ads_events", row, row["day"], row["kind"], (row["seq"],), data=json.loads(row["data_json"]))
    for row in rows.deals:
        add("ads_deals", row, row["created_day"], "deal", (row["deal_id"],))
    for row in rows.claims:
        add("ads_claims", row, row["day"], "claim", (_claim_index(row["claim_id"]), row["claim_id"]))
    for row in rows.deliveries:
        add("ads_deliveries", row, row["day"], "delivery", (row["deal_id"],))
    return [line for _, line in sorted(lines, key=lambda item: item[0])]


def _claim_index(claim_id: str) -> int:
    # Claim ids are "<campaign>/<day>/<n>": order by n as a number, not as text.
    tail = claim_id.rsplit("/", 1)[-1]
    return int(tail) if tail.isdigit() else 0


# --- narrative.md -----------------------------------------------------------------------------------------


def render_narrative(experiment_id: str, spec: ExperimentSpec, world: World, rows: StudyRows) -> str:
    """The seed's narrative format (Deal Completed, Hallucination Detected, Context Rot Event), told only
    from recorded rows, at most NARRATIVE_CAP entries per section and scenario."""
    campaigns = {c.id: c for c in world.campaigns}
    products = {p.id: p for p in world.products()}
    deliveries = defaultdict(list)
    for d in rows.deliveries:
        deliveries[(d["scenario"], d["deal_id"])].append(d)
    events = defaultdict(list)
    for e in rows.events:
        events[(e["scenario"], e["campaign_id"], e["day"], e["kind"])].append(json.loads(e["data_json"]))
    deals_by_day = defaultdict(list)
    for deal in rows.deals:
        deals_by_day[(deal["scenario"], deal["campaign_id"], deal["created_day"])].append(deal)
    scenarios = sorted(spec.scenarios)
    context = _Context(campaigns, products, deliveries, events, deals_by_day)

    out = [
        f"# Narrative log: experiment `{experiment_id}`",
        "",
        "Human-readable moments of the study, built only from the recorded rows (deals, deliveries, claims, "
        f"context events and the event log). Each section shows at most **{NARRATIVE_CAP} entries per scenario**; "
        "the totals say how many there were. Deals are shown in the order they were struck (day, campaign); "
        "hallucinations in the order they were claimed; context-rot events largest loss first. Money is USD.",
    ]

    out += ["", "# Deals completed"]
    for s in scenarios:
        deals = sorted((d for d in rows.deals if d["scenario"] == s), key=lambda d: (d["created_day"], d["campaign_id"], d["deal_id"]))
        out += ["", f"*Scenario {_label(s)}: {len(deals):,} deals recorded, {min(len(deals), NARRATIVE_CAP)} shown.*"]
        out += [context.deal(d) for d in deals[:NARRATIVE_CAP]]

    out += ["", "# Hallucinations detected"]
    tolerance, major = spec.params.detection_tolerance, spec.params.major_severity
    for s in scenarios:
        claims = [c for c in rows.claims if c["scenario"] == s]
        flagged = sorted(
            (c for c in claims if detect(c["claimed"], c["actual"], tolerance, major).flagged),
            key=lambda c: (c["day"], c["campaign_id"], _claim_index(c["claim_id"])),
        )
        out += ["", f"*Scenario {_label(s)}: {len(claims):,} claims recorded, {sum(1 for c in claims if c['injected']):,} injected, "
                f"{len(flagged):,} flagged at {tolerance:.0%} tolerance, {min(len(flagged), NARRATIVE_CAP)} shown.*"]
        out += [context.hallucination(c, tolerance, major) for c in flagged[:NARRATIVE_CAP]]

    out += ["", "# Context rot events"]
    for s in scenarios:
        losses = sorted(
            (c for c in rows.context if c["scenario"] == s and c["items_lost"] > 0),
            key=lambda c: (-c["items_lost"], c["day"], c["campaign_id"]),
        )
        total = sum(1 for c in rows.context if c["scenario"] == s)
        if not total:
            out += ["", f"*Scenario {_label(s)}: no context events recorded (no agent memory to lose in this scenario).*"]
            continue
        out += ["", f"*Scenario {_label(s)}: {total:,} campaign-days recorded, {len(losses):,} with memory lost, "
                f"{min(len(losses), NARRATIVE_CAP)} shown.*"]
        out += [context.context_rot(c) for c in losses[:NARRATIVE_CAP]]
    return "\n".join(out) + "\n"


class _Context:
    """Lookups over the recorded rows that the narrative entries draw on."""

    def __init__(self, campaigns, products, deliveries, events, deals_by_day) -> None:
        self.campaigns, self.products = campaigns, products
        self.deliveries, self.events, self.deals_by_day = deliveries, events, deals_by_day

    def deal(self, deal: Mapping[str, Any]) -> str:
        s, campaign = deal["scenario"], self.campaigns.get(deal["campaign_id"])
        product = self.products.get(deal["product_id"])
        served = self.deliveries.get((s, deal["deal_id"]), [])
        spend = sum(d["buyer_spend"] for d in served)
        revenue = sum(d["seller_revenue"] for d in served)
        fee = sum(d["exchange_fee"] for d in served)
        impressions = sum(d["impressions"] for d in served)
        audience = ", ".join(campaign.segments) if campaign else "its audience"
        budget = _usd(campaign.budget) if campaign else "—"
        channel = product.channel if product else "—"
        day_events = self.events.get((s, deal["campaign_id"], deal["created_day"], "auction" if s == "A" else "negotiation"), [])
        match = next((e for e in day_events if e.get("product") == deal["product_id"]), None)
        if s == "A":
            offered = f"its {deal['product_id']} lot to an auction (floor {_usd(match['floor']) if match else '—'} CPM)"
            outcome = (
                f"The buyer won the {len(match['bids'])}-bid auction on day {deal['created_day']}; it cleared at "
                f"{_usd(match['clearing_cpm'])} CPM." if match else f"The buyer won the auction at {_usd(deal['cpm'])} CPM."
            )
        else:
            steps = match.get("steps", []) if match else []
            opening = next((step[3] for step in steps if step[1] == "seller"), None)
            agreed = match.get("agreed_cpm") if match else None
            offered = f"{deal['daily_impressions']:,} impressions a day at {_usd(opening)} CPM"
            rounds = f"{deal['rounds']} round{'' if deal['rounds'] == 1 else 's'}"
            outcome = f"After {rounds} of negotiation, the deal closed at {_usd(agreed or deal['cpm'])} CPM"
            if agreed is not None and agreed != deal["cpm"]:
                outcome += f"; the seller, whose record is authoritative, billed {_usd(deal['cpm'])} CPM"
            outcome += f" ({deal['deal_type']}, from day {deal['start_day']} to {deal['end_day']})."
        return "\n".join([
            "", f"## Deal Completed: {deal['deal_id']}", "",
            f"**Buyer**: {deal['buyer_id']} was looking to reach {audience} (campaign {deal['campaign_id']}, "
            f"{campaign.kpi if campaign else '—'} KPI) with a budget of {budget}.", "",
            f"**Seller**: {deal['seller_id']} offered {offered} on their {channel} inventory.", "",
            f"**Outcome**: {outcome}", "",
            f"**Fees** (over the deal's {len(served)} recorded delivery days, {impressions:,} impressions delivered):",
            f"- Buyer paid: {_usd(spend)}",
            f"- Seller received: {_usd(revenue)}",
            f"- Intermediary extracted: {_usd(fee)} ({_pct(fee / spend if spend else None)})", "",
            f"**Scenario**: {_label(s)}",
        ])

    def hallucination(self, claim: Mapping[str, Any], tolerance: float, major: float) -> str:
        verdict = detect(claim["claimed"], claim["actual"], tolerance, major)
        kind = claim["claim_type"]
        said, truth = _claim_value(kind, claim["claimed"]), _claim_value(kind, claim["actual"])
        subject = {"price": f"the CPM of {claim['subject']}", "inventory": f"the daily avails of {claim['subject']}",
                   "history": f"past deals with {claim['subject']}", "delivery": f"impressions delivered on {claim['subject']}"}.get(kind, claim["subject"])
        injected = "" if claim["injected"] else " Not in the injected set: a false alarm."
        return "\n".join([
            "", "## Hallucination Detected", "",
            f"**Agent**: {claim['agent_id']} ({claim['agent_type']}), campaign {claim['campaign_id']}, scenario {_label(claim['scenario'])}", "",
            f"**What they claimed**: {subject} = {said}",
            f"**Reality**: {truth} (off by {verdict.relative_error:.1%}, {verdict.severity}).{injected}", "",
            f"**Impact**: {self._impact(claim)}", "",
            f"**Day**: Simulation day {claim['day']}",
        ])

    def _impact(self, claim: Mapping[str, Any]) -> str:
        s, campaign, day, kind = claim["scenario"], claim["campaign_id"], claim["day"], claim["claim_type"]
        booked = self.deals_by_day.get((s, campaign, day), [])
        if kind == "delivery":
            served = next((d for d in self.deliveries.get((s, claim["subject"]), []) if d["day"] == day), None)
            if served is None:
                return "No delivery row for this deal-day was recorded."
            if claim["checked"]:
                return (f"Checked against the ledger's impression log: the buyer paid for {served['reported']:,} "
                        f"impressions ({_usd(served['buyer_spend'])}), not the {claim['claimed']:,} reported.")
            return (f"The buyer paid {_usd(served['buyer_spend'])} for {served['reported']:,} impressions; "
                    f"{_usd(overpayment(served))} of it bought impressions that were never served.")
        if claim["checked"]:
            return "Checked against the ledger before acting: the buyer used the true value."
        if kind in ("price", "inventory"):
            deal = next((d for d in booked if d["product_id"] == claim["subject"]), None)
            if deal is None:
                return f"Unchecked; the buyer struck no deal on {claim['subject']} that day."
            if kind == "price":
                return (f"Unchecked; the buyer struck {deal['deal_id']} on this product that day, and the seller billed "
                        f"{_usd(deal['cpm'])} CPM.")
            return f"Unchecked; the buyer booked {deal['daily_impressions']:,} impressions a day on it ({deal['deal_id']})."
        if kind == "history":
            with_seller = [d for d in booked if d["seller_id"] == claim["subject"]]
            return (f"Unchecked; the buyer ranked {claim['subject']}'s products on a history it misremembered, and booked "
                    f"{len(with_seller)} deal(s) with it that day.")
        return "Unchecked."

    def context_rot(self, row: Mapping[str, Any]) -> str:
        s, campaign, day = row["scenario"], row["campaign_id"], row["day"]
        lost_event = next(iter(self.events.get((s, campaign, day, "context_lost"), [])), {})
        keys = list(lost_event.get("lost", []))
        shown = keys[:8]
        listing = [f"- `{k}`" for k in shown] + ([f"- … and {len(keys) - len(shown)} more"] if len(keys) > len(shown) else [])
        if not listing:
            listing = [f"- {row['items_lost']} items (keys not in the event log)"]
        lost, recovered, correct = row["items_lost"], row["items_recovered"], row["recovered_correctly"]
        outcome = "Successful" if recovered == lost else ("Partial" if recovered else "Failed")
        later = sum(len(self.deals_by_day.get((s, campaign, d), [])) for d in range(day, day + LOOKAHEAD_DAYS + 1))
        why = "from the campaign's ledger chain" if recovered else "there was no record to recover from"
        cause = "restarted (memory wiped)" if row["kind"] == "restart" else "forgot items overnight (decay)"
        return "\n".join([
            "", "## Context Rot Event", "",
            f"**Agent**: {row['agent_id']} lost memory on day {day} (campaign {campaign}, scenario {_label(s)}): "
            f"it {cause}, losing {lost} of {row['items_before']} items.", "",
            "**Lost context**:", *listing, "",
            f"**Recovery attempt**: {outcome} ({recovered} of {lost} recovered; {why})",
            f"**Recovery accuracy**: {correct / lost:.1%}", "",
            f"**Impact on campaign**: {_lost_summary(keys)}; the campaign booked {later} new deal{'' if later == 1 else 's'} on days "
            f"{day}–{day + LOOKAHEAD_DAYS}.",
        ])


def _lost_summary(keys: Sequence[str]) -> str:
    kinds = defaultdict(int)
    for key in keys:
        kinds[key.split(":", 1)[0]] += 1
    names = {"deal": "deal terms", "delivered": "delivered counts", "history": "seller histories", "spend": "the running spend total"}
    parts = [names.get(k, k) if k == "spend" else f"{n} {names.get(k, k)}" for k, n in sorted(kinds.items())]
    return "forgot " + ", ".join(parts) if parts else "memory items lost"


def _claim_value(kind: str, value: int) -> str:
    if kind == "price":
        return f"{_usd(value)} CPM"
    if kind == "inventory":
        return f"{value:,} impressions a day"
    if kind == "history":
        return f"{value} past deal(s)"
    return f"{value:,} impressions"
