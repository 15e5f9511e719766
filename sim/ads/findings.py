"""The study's findings: every figure a query over recorded rows, nothing read from the parameters
except where a rule needs one (the detection tolerance, ledger prices) or a reference is labelled
as parameter-derived.

Pure: typed rows in (``models.ads_report``), a ``Findings`` model out. No experiment id, clock or
ordering of the input leaks into the result, so two runs with the same seed give the same findings
under different ids.
"""

from __future__ import annotations

import json
import statistics
from collections import Counter, defaultdict
from collections.abc import Callable, Hashable, Iterable, Sequence
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict

from models.ads import MICROS, Campaign, ExperimentSpec, World
from models.ads_report import (
    RecordedClaim,
    RecordedContextEvent,
    RecordedDelivery,
    RecordedLedgerEntry,
    StudyRows,
)
from sim.ads.context import expected_survival
from sim.ads.costs import LedgerCost, cost_per_thousand, ledger_cost
from sim.ads.degradation import METRICS, DayValue, DegradationRow, degradation, detection_by_day
from sim.ads.hallucination import Severity, detect, precision_recall, relative_error, wilson
from sim.ads.kpi import attainment, kpi_value
from sim.ads.trading_costs import TradingCost, agreed_cpms, trading_cost

T = TypeVar("T")
K = TypeVar("K", bound=Hashable)
DEAL_TYPES = ("PG", "PD", "PA")
SEVERITIES: tuple[Severity, ...] = ("none", "minor", "major")
JSON_DECIMALS = 6


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True)


# --- the findings ---------------------------------------------------------------------------------


class ScenarioTotals(_Model):
    """Money, volume and deals of one scenario (ads_deliveries, ads_deals, ads_events, ads_days)."""

    scenario: str
    campaigns: int
    campaign_days_recorded: int
    campaign_days_expected: int
    deliveries: int
    deliveries_without_impressions: int  # deal-days recorded with nothing served (e.g. pacing stopped them)
    spend_without_impressions_micros: int  # paid on such rows: should be 0
    buyer_spend_micros: int
    seller_revenue_micros: int
    exchange_fee_micros: int
    intermediary_take_micros: int  # spend − seller revenue, as the seed's query has it
    unaccounted_micros: int  # spend − revenue − fee; 0 when the books balance
    take_rate: float | None  # exchange fee / buyer spend
    impressions: int  # delivered (ground truth)
    paid_impressions: int  # reported by the seller and paid for
    clicks: int
    conversions: int
    viewable: int
    cpm_paid_micros: float | None  # spend per 1000 paid impressions
    effective_cpm_micros: float | None  # spend per 1000 delivered impressions
    deals: int
    deals_by_type: dict[str, int]
    deal_rounds_mean: float | None
    deal_rounds_median: float | None
    negotiations: int
    negotiations_agreed: int
    auctions: int
    auctions_won: int


class GoalTotals(_Model):
    """Campaign goals per scenario, from each campaign's recorded deliveries against its targets."""

    scenario: str
    campaigns: int
    campaigns_hit_kpi: int
    campaigns_hit_goal: int  # KPI target reached without spending more than the budget
    mean_final_kpi_attainment: float | None
    campaigns_within_target_cpm: int  # effective CPM (spend / delivered impressions) <= target CPM
    campaigns_over_budget: int
    over_budget_micros: int
    campaigns_without_delivery: int
    budget_spent_share: float | None  # spend / the campaigns' budgets


class CampaignOutcome(_Model):
    scenario: str
    campaign_id: str
    kpi: str
    kpi_value: int
    kpi_attainment: float
    buyer_spend_micros: int
    impressions: int
    paid_impressions: int
    effective_cpm_micros: float | None
    within_target_cpm: bool
    over_budget: bool
    deals: int


class KpiDay(_Model):
    """Mean over campaigns already in flight of cumulative KPI / target pro-rated to elapsed flight."""

    scenario: str
    day: int
    campaigns: int
    mean_attainment: float | None


class ContextTotals(_Model):
    """Context rot in a scenario's recorded context events (ads_context_events)."""

    scenario: str
    campaign_days: int
    with_items: int
    items_before: int
    items_lost: int
    restarts: int
    items_recovered: int
    recovered_correctly: int
    survival: float | None  # 1 − lost / before, over campaign-days with items
    recovery_fidelity: float | None  # recovered correctly / lost


class ContextDay(ContextTotals):
    """The same sums for one simulated day, with the survival since day 1 and the parameter's reference."""

    day: int
    cumulative_survival: float | None  # product of daily survivals: an item's chance to last since day 1
    reference_daily_survival: float  # parameter-derived, not a finding
    reference_cumulative_survival: float  # parameter-derived, not a finding


class HallucinationRow(_Model):
    """Claims by scenario and agent type (ads_claims); injected = the fabricated set."""

    scenario: str
    agent_type: str
    claims: int
    injected: int
    injected_share: float | None
    injected_unchecked: int  # injected and not checked before the decision


class DetectionRow(_Model):
    """Claims flagged at the parameter tolerance against the injected set; claim_type "all" totals."""

    scenario: str
    claim_type: str
    claims: int
    injected: int
    flagged: int
    true_positives: int
    precision: float | None
    recall: float | None
    severity: dict[str, int]
    # 95% Wilson score intervals: precision over the flagged claims, recall over the injected ones.
    precision_ci: tuple[float, float] | None = None
    recall_ci: tuple[float, float] | None = None


class CurvePoint(_Model):
    """Detection of one scenario's claims (every claim type) at one tolerance: the precision-recall curve."""

    scenario: str
    tolerance: float
    flagged: int
    true_positives: int
    precision: float | None
    recall: float | None


class DiscrepancyRow(_Model):
    """What false reports and quotes cost the buyer: reported vs delivered impressions (ads_deliveries),
    and deals billed above the CPM the buyer agreed to (ads_deals against the negotiation events)."""

    scenario: str
    deliveries: int
    misreported_deliveries: int
    over_reported_impressions: int  # Σ (reported − delivered)
    overpayment_micros: int  # spend share that bought impressions never served
    overpayment_share: float | None  # of buyer spend
    campaigns: int
    campaigns_over_tolerance: int  # |reported − delivered| / delivered above the detection tolerance
    deals_billed_above_agreed: int  # the seller billed its list price after a fabricated (deflated) quote
    billed_above_agreed_micros: int  # spend on those deals beyond what the agreed CPM would have cost
    deals_billed_above_max_cpm: int  # deals billed above the campaign's maximum CPM


class LedgerRow(_Model):
    """Ledger entries per scenario (ledger_entries) and what writing them to Sui + Walrus costs."""

    scenario: str
    written_by_scenario: bool  # C relies on its chain; A and B keep deal records only
    chains: int
    entries: int
    entries_by_type: dict[str, int]
    bytes: int
    cost_records: int
    cost_blobs: int
    cost_sui_mist: int
    cost_walrus_frost: int
    cost_usd: float
    impressions: int
    cost_per_1000_impressions_usd: float
    cost_share_of_spend: float | None


class LedgerVsFee(_Model):
    exchange_fee_usd: float | None  # A's recorded fees
    exchange_fee_per_1000_impressions_usd: float | None
    ledger_cost_usd: float | None  # C's ledger
    ledger_cost_per_1000_impressions_usd: float | None
    fee_to_ledger_ratio: float | None  # exchange fee per 1000 / ledger cost per 1000
    exchange_fee_per_100k_spend_usd: float | None
    ledger_cost_per_100k_spend_usd: float | None


class Findings(_Model):
    scenarios: list[str]
    recorded_rows: dict[str, int]
    totals: list[ScenarioTotals]
    goals: list[GoalTotals]
    campaigns: list[CampaignOutcome]
    kpi_by_day: list[KpiDay]
    context_by_day: list[ContextDay]
    context: list[ContextTotals]
    hallucinations: list[HallucinationRow]
    detection: list[DetectionRow]
    detection_curve: list[CurvePoint]
    discrepancy: list[DiscrepancyRow]
    ledger: list[LedgerRow]
    ledger_vs_fee: LedgerVsFee
    trading_costs: list[TradingCost]  # sim.ads.trading_costs.trading_cost
    degradation: list[DegradationRow]  # sim.ads.degradation, first vs last defined day

    def json_dict(self) -> dict[str, Any]:
        """The JSON form: floats rounded to 6 decimals so float noise never changes the bytes."""
        rounded: dict[str, Any] = _rounded(self.model_dump(mode="json"))
        return rounded


def _rounded(value: Any) -> Any:
    if isinstance(value, float):
        return round(value, JSON_DECIMALS)
    if isinstance(value, dict):
        return {key: _rounded(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_rounded(item) for item in value]
    return value


# --- computing them -------------------------------------------------------------------------------


def compute_findings(spec: ExperimentSpec, world: World, tables: StudyRows) -> Findings:
    scenarios = sorted(spec.scenarios)
    campaigns = sorted(world.campaigns, key=lambda c: c.id)
    per = _by_scenario(tables, scenarios)
    outcomes = {s: _campaign_outcomes(s, campaigns, per[s]) for s in scenarios}
    totals = [_totals(s, campaigns, per[s], spec) for s in scenarios]
    ledger = [_ledger(s, per[s].ledger, t, spec) for s, t in zip(scenarios, totals, strict=True)]
    remembering = [s for s in scenarios if per[s].context]  # A's buyer keeps no memory: no context rows
    kpi_by_day = [day for s in scenarios for day in _kpi_by_day(s, campaigns, per[s].deliveries, world.days)]
    context_by_day = [day for s in remembering for day in _context_by_day(s, per[s].context, world.days, spec)]
    return Findings(
        scenarios=scenarios,
        recorded_rows={
            "deals": len(tables.deals),
            "deliveries": len(tables.deliveries),
            "claims": len(tables.claims),
            "context": len(tables.context),
            "events": len(tables.events),
            "days": len(tables.days),
            "ledger": len(tables.ledger),
        },
        totals=totals,
        goals=[_goals(s, campaigns, outcomes[s]) for s in scenarios],
        campaigns=[o for s in scenarios for o in outcomes[s]],
        kpi_by_day=kpi_by_day,
        context_by_day=context_by_day,
        context=[_context_totals(s, per[s].context) for s in remembering],
        hallucinations=_hallucinations(scenarios, tables.claims),
        detection=_detection(scenarios, tables.claims, spec),
        detection_curve=_detection_curve(scenarios, tables.claims),
        discrepancy=[_discrepancy(s, campaigns, per[s], spec) for s in scenarios],
        ledger=ledger,
        ledger_vs_fee=_ledger_vs_fee(totals, ledger),
        trading_costs=[
            trading_cost(
                s,
                [c.id for c in campaigns],
                per[s].deals,
                per[s].deliveries,
                per[s].claims,
                per[s].events,
                per[s].ledger,
                params=spec.params,
                llm=spec.llm,
                ledger_relied_on=row.written_by_scenario,
            )
            for s, row in zip(scenarios, ledger, strict=True)
        ],
        degradation=[
            row for s in scenarios for row in _degradation(s, kpi_by_day, context_by_day, per[s].claims, spec)
        ],
    )


def _degradation(
    scenario: str,
    kpi_by_day: Sequence[KpiDay],
    context_by_day: Sequence[ContextDay],
    claims: Sequence[RecordedClaim],
    spec: ExperimentSpec,
) -> list[DegradationRow]:
    """Each per-day series of one scenario, first against last defined day (``sim.ads.degradation``)."""
    context = [c for c in context_by_day if c.scenario == scenario]
    recall, precision = detection_by_day(claims, spec.params)
    series = {
        "kpi_attainment": [
            DayValue(day=k.day, value=k.mean_attainment, n=k.campaigns) for k in kpi_by_day if k.scenario == scenario
        ],
        "memory_survival": [DayValue(day=c.day, value=c.survival, n=c.items_before) for c in context],
        "recovery_fidelity": [DayValue(day=c.day, value=c.recovery_fidelity, n=c.items_lost) for c in context],
        "detection_recall": recall,
        "detection_precision": precision,
    }
    return [degradation(scenario, metric, series[metric]) for metric in METRICS]


def _by_scenario(tables: StudyRows, scenarios: Sequence[str]) -> dict[str, StudyRows]:
    """Each scenario's own rows of every table; a ledger entry's scenario is in its chain id."""
    deals = _group(tables.deals, lambda row: row.scenario)
    deliveries = _group(tables.deliveries, lambda row: row.scenario)
    claims = _group(tables.claims, lambda row: row.scenario)
    context = _group(tables.context, lambda row: row.scenario)
    events = _group(tables.events, lambda row: row.scenario)
    days = _group(tables.days, lambda row: row.scenario)
    ledger = _group(tables.ledger, lambda row: _chain_scenario(row.chain_id))
    return {
        s: StudyRows(
            deals=deals.get(s, []),
            deliveries=deliveries.get(s, []),
            claims=claims.get(s, []),
            context=context.get(s, []),
            events=events.get(s, []),
            ledger=ledger.get(s, []),
            days=days.get(s, []),
        )
        for s in scenarios
    }


def _group(rows: Iterable[T], key: Callable[[T], K]) -> dict[K, list[T]]:
    groups: dict[K, list[T]] = defaultdict(list)
    for row in rows:
        groups[key(row)].append(row)
    return dict(groups)


def _chain_scenario(chain_id: str) -> str:
    # "ads/{experiment}/{scenario}/{campaign}": the experiment id may itself contain slashes.
    return chain_id.rsplit("/", 2)[-2]


def _ratio(numerator: float, denominator: float) -> float | None:
    """None rather than a made-up 0 when there is nothing to divide by."""
    return numerator / denominator if denominator else None


def _flight_days(campaign: Campaign, days: int) -> int:
    return max(0, min(campaign.end_day, days) - campaign.start_day + 1)


def _totals(scenario: str, campaigns: Sequence[Campaign], rows: StudyRows, spec: ExperimentSpec) -> ScenarioTotals:
    deliveries, deals, events = rows.deliveries, rows.deals, rows.events
    spend = sum(d.buyer_spend for d in deliveries)
    revenue = sum(d.seller_revenue for d in deliveries)
    fee = sum(d.exchange_fee for d in deliveries)
    impressions = sum(d.impressions for d in deliveries)
    paid = sum(d.reported for d in deliveries)
    rounds = [d.rounds for d in deals]
    by_type = Counter(d.deal_type for d in deals)
    negotiations = [e.data for e in events if e.kind == "negotiation"]
    auctions = [e for e in events if e.kind == "auction"]
    buyers = {c.id: c.buyer_id for c in campaigns}
    return ScenarioTotals(
        scenario=scenario,
        campaigns=len(campaigns),
        campaign_days_recorded=len(rows.days),
        campaign_days_expected=sum(_flight_days(c, spec.days) for c in campaigns),
        deliveries=len(deliveries),
        deliveries_without_impressions=sum(1 for d in deliveries if d.impressions == 0),
        spend_without_impressions_micros=sum(d.buyer_spend for d in deliveries if d.impressions == 0),
        buyer_spend_micros=spend,
        seller_revenue_micros=revenue,
        exchange_fee_micros=fee,
        intermediary_take_micros=spend - revenue,
        unaccounted_micros=spend - revenue - fee,
        take_rate=_ratio(fee, spend),
        impressions=impressions,
        paid_impressions=paid,
        clicks=sum(d.clicks for d in deliveries),
        conversions=sum(d.conversions for d in deliveries),
        viewable=sum(d.viewable for d in deliveries),
        cpm_paid_micros=_ratio(spend * 1000, paid),
        effective_cpm_micros=_ratio(spend * 1000, impressions),
        deals=len(deals),
        deals_by_type={t: by_type.get(t, 0) for t in sorted(set(DEAL_TYPES) | set(by_type))},
        deal_rounds_mean=statistics.fmean(rounds) if rounds else None,
        deal_rounds_median=float(statistics.median(rounds)) if rounds else None,
        negotiations=len(negotiations),
        negotiations_agreed=sum(1 for n in negotiations if n.get("agreed_cpm") is not None),
        auctions=len(auctions),
        # The campaign bids as its buyer; background bidders are "bg-NN".
        auctions_won=sum(1 for e in auctions if e.data.get("winner") == buyers.get(e.campaign_id)),
    )


def _campaign_outcomes(scenario: str, campaigns: Sequence[Campaign], rows: StudyRows) -> list[CampaignOutcome]:
    per_campaign = _group(rows.deliveries, lambda row: row.campaign_id)
    deal_count = Counter(d.campaign_id for d in rows.deals)
    outcomes = []
    for campaign in campaigns:
        served = per_campaign.get(campaign.id, [])
        spend = sum(r.buyer_spend for r in served)
        impressions = sum(r.impressions for r in served)
        value = sum(_kpi(campaign, r) for r in served)
        cpm = _ratio(spend * 1000, impressions)
        outcomes.append(
            CampaignOutcome(
                scenario=scenario,
                campaign_id=campaign.id,
                kpi=campaign.kpi,
                kpi_value=value,
                kpi_attainment=attainment(value, campaign.kpi_target),
                buyer_spend_micros=spend,
                impressions=impressions,
                paid_impressions=sum(r.reported for r in served),
                effective_cpm_micros=cpm,
                within_target_cpm=cpm is not None and cpm <= campaign.target_cpm,
                over_budget=spend > campaign.budget,
                deals=deal_count.get(campaign.id, 0),
            )
        )
    return outcomes


def _kpi(campaign: Campaign, delivery: RecordedDelivery) -> int:
    return kpi_value(campaign.kpi, delivery.impressions, delivery.clicks, delivery.conversions, delivery.viewable)


def _goals(scenario: str, campaigns: Sequence[Campaign], outcomes: Sequence[CampaignOutcome]) -> GoalTotals:
    targets = {c.id: c for c in campaigns}
    budgets = sum(c.budget for c in campaigns)
    return GoalTotals(
        scenario=scenario,
        campaigns=len(outcomes),
        campaigns_hit_kpi=sum(1 for o in outcomes if o.kpi_value >= targets[o.campaign_id].kpi_target),
        campaigns_hit_goal=sum(
            1 for o in outcomes if o.kpi_value >= targets[o.campaign_id].kpi_target and not o.over_budget
        ),
        mean_final_kpi_attainment=statistics.fmean(o.kpi_attainment for o in outcomes) if outcomes else None,
        campaigns_within_target_cpm=sum(1 for o in outcomes if o.within_target_cpm),
        campaigns_over_budget=sum(1 for o in outcomes if o.over_budget),
        over_budget_micros=sum(max(0, o.buyer_spend_micros - targets[o.campaign_id].budget) for o in outcomes),
        campaigns_without_delivery=sum(1 for o in outcomes if o.impressions == 0),
        budget_spent_share=_ratio(sum(o.buyer_spend_micros for o in outcomes), budgets),
    )


def _kpi_by_day(
    scenario: str, campaigns: Sequence[Campaign], deliveries: Sequence[RecordedDelivery], days: int
) -> list[KpiDay]:
    # Daily KPI per campaign, then running sums; a campaign counts from its first flight day, since
    # before it a pro-rated target is 0 and "attained" would mean nothing.
    daily: dict[tuple[str, int], int] = defaultdict(int)
    by_id = {c.id: c for c in campaigns}
    for row in deliveries:
        campaign = by_id.get(row.campaign_id)
        if campaign is not None:
            daily[(campaign.id, row.day)] += _kpi(campaign, row)
    cumulative = {c.id: 0 for c in campaigns}
    result = []
    for day in range(1, days + 1):
        values = []
        for campaign in campaigns:
            cumulative[campaign.id] += daily.get((campaign.id, day), 0)
            if day < campaign.start_day:
                continue
            flight = campaign.end_day - campaign.start_day + 1
            elapsed = min(1.0, (day - campaign.start_day + 1) / flight)
            values.append(attainment(cumulative[campaign.id], campaign.kpi_target * elapsed))
        result.append(
            KpiDay(
                scenario=scenario,
                day=day,
                campaigns=len(values),
                mean_attainment=statistics.fmean(values) if values else None,
            )
        )
    return result


def _context_sums(rows: Sequence[RecordedContextEvent]) -> dict[str, int]:
    return {
        "campaign_days": len(rows),
        "with_items": sum(1 for r in rows if r.items_before > 0),
        "items_before": sum(r.items_before for r in rows),
        "items_lost": sum(r.items_lost for r in rows),
        "restarts": sum(1 for r in rows if r.kind == "restart"),
        "items_recovered": sum(r.items_recovered for r in rows),
        "recovered_correctly": sum(r.recovered_correctly for r in rows),
    }


def _context_by_day(
    scenario: str, rows: Sequence[RecordedContextEvent], days: int, spec: ExperimentSpec
) -> list[ContextDay]:
    params = spec.params
    # An item survives a day when the agent does not restart and the item does not decay.
    reference_daily = params.context_survival * (1 - params.restart_probability)
    per_day = _group(rows, lambda row: row.day)
    # Days on which nobody remembered anything lose nothing: they leave the product unchanged.
    cumulative, observed = 1.0, False
    result = []
    for day in range(1, days + 1):
        sums = _context_sums(per_day.get(day, []))
        lost_ratio = _ratio(sums["items_lost"], sums["items_before"])
        survival = None if lost_ratio is None else 1 - lost_ratio
        if survival is not None:
            cumulative, observed = cumulative * survival, True
        result.append(
            ContextDay(
                scenario=scenario,
                day=day,
                **sums,
                survival=survival,
                cumulative_survival=cumulative if observed else None,
                recovery_fidelity=_ratio(sums["recovered_correctly"], sums["items_lost"]),
                reference_daily_survival=reference_daily,
                reference_cumulative_survival=expected_survival(day, reference_daily),
            )
        )
    return result


def _context_totals(scenario: str, rows: Sequence[RecordedContextEvent]) -> ContextTotals:
    sums = _context_sums(rows)
    lost_ratio = _ratio(sums["items_lost"], sums["items_before"])
    return ContextTotals(
        scenario=scenario,
        **sums,
        survival=None if lost_ratio is None else 1 - lost_ratio,
        recovery_fidelity=_ratio(sums["recovered_correctly"], sums["items_lost"]),
    )


def _hallucinations(scenarios: Sequence[str], claims: Sequence[RecordedClaim]) -> list[HallucinationRow]:
    agent_types = sorted({c.agent_type for c in claims}) or ["buyer", "seller"]
    groups = _group(claims, lambda c: (c.scenario, c.agent_type))
    rows = []
    for scenario in scenarios:
        for agent_type in agent_types:
            group = groups.get((scenario, agent_type), [])
            injected = sum(1 for c in group if c.injected)
            rows.append(
                HallucinationRow(
                    scenario=scenario,
                    agent_type=agent_type,
                    claims=len(group),
                    injected=injected,
                    injected_share=_ratio(injected, len(group)),
                    injected_unchecked=sum(1 for c in group if c.injected and not c.checked),
                )
            )
    return rows


def _detection(scenarios: Sequence[str], claims: Sequence[RecordedClaim], spec: ExperimentSpec) -> list[DetectionRow]:
    params = spec.params
    claim_types = sorted({c.claim_type for c in claims})
    groups = _group(claims, lambda c: c.scenario)
    rows = []
    for scenario in scenarios:
        group = groups.get(scenario, [])
        for claim_type in ["all", *claim_types]:
            subset = [c for c in group if claim_type == "all" or c.claim_type == claim_type]
            if not subset and claim_type != "all":
                continue
            verdicts = [detect(c.claimed, c.actual, params.detection_tolerance, params.major_severity) for c in subset]
            flagged = [v.flagged for v in verdicts]
            injected = [bool(c.injected) for c in subset]
            # precision_recall scores an empty denominator as perfect; the report shows None there
            # so that a scenario without claims is not presented as flawless detection.
            precision, recall = precision_recall(flagged, injected)
            severity = Counter(v.severity for v in verdicts)
            rows.append(
                DetectionRow(
                    scenario=scenario,
                    claim_type=claim_type,
                    claims=len(subset),
                    injected=sum(injected),
                    flagged=sum(flagged),
                    true_positives=sum(1 for f, i in zip(flagged, injected, strict=True) if f and i),
                    precision=precision if any(flagged) else None,
                    recall=recall if any(injected) else None,
                    severity={s: severity.get(s, 0) for s in SEVERITIES},
                    precision_ci=wilson(
                        sum(1 for f, i in zip(flagged, injected, strict=True) if f and i), sum(flagged)
                    ),
                    recall_ci=wilson(sum(1 for f, i in zip(flagged, injected, strict=True) if f and i), sum(injected)),
                )
            )
    return rows


CURVE_TOLERANCES = tuple(step / 100 for step in range(0, 31))  # 0% to 30% relative error, by 1%


def _detection_curve(scenarios: Sequence[str], claims: Sequence[RecordedClaim]) -> list[CurvePoint]:
    """Precision and recall of flagging at each tolerance in ``CURVE_TOLERANCES``, per scenario with claims."""
    groups = _group(claims, lambda c: c.scenario)
    points = []
    for scenario in scenarios:
        group = groups.get(scenario, [])
        if not group:
            continue
        errors = [(relative_error(c.claimed, c.actual), bool(c.injected)) for c in group]
        injected = sum(1 for _, i in errors if i)
        for tolerance in CURVE_TOLERANCES:
            flagged = [i for error, i in errors if error > tolerance]
            hits = sum(flagged)
            points.append(
                CurvePoint(
                    scenario=scenario,
                    tolerance=tolerance,
                    flagged=len(flagged),
                    true_positives=hits,
                    precision=hits / len(flagged) if flagged else None,
                    recall=hits / injected if injected else None,
                )
            )
    return points


def overpayment(delivery: RecordedDelivery) -> int:
    """Micros of this delivery's spend that paid for reported impressions never served (0 if none)."""
    reported, served = delivery.reported, delivery.impressions
    if reported <= served or reported <= 0:
        return 0
    return delivery.buyer_spend * (reported - served) // reported


def _discrepancy(scenario: str, campaigns: Sequence[Campaign], rows: StudyRows, spec: ExperimentSpec) -> DiscrepancyRow:
    deliveries = rows.deliveries
    agreed = agreed_cpms(rows.events)
    max_cpm = {c.id: c.max_cpm for c in campaigns}
    overbilled: dict[str, tuple[int, int]] = {}  # deal id -> (billed, agreed)
    for deal in rows.deals:
        price = agreed.get((deal.campaign_id, deal.created_day, deal.product_id))
        if price is not None and deal.cpm > price:
            overbilled[deal.deal_id] = (deal.cpm, price)
    billed_extra = 0
    for d in deliveries:
        if d.deal_id in overbilled:
            billed, price = overbilled[d.deal_id]
            billed_extra += d.buyer_spend * (billed - price) // billed
    spend = sum(d.buyer_spend for d in deliveries)
    over = sum(overpayment(d) for d in deliveries)
    per_campaign: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for d in deliveries:
        per_campaign[d.campaign_id][0] += d.reported
        per_campaign[d.campaign_id][1] += d.impressions
    tolerance = spec.params.detection_tolerance
    return DiscrepancyRow(
        scenario=scenario,
        deliveries=len(deliveries),
        misreported_deliveries=sum(1 for d in deliveries if d.reported != d.impressions),
        over_reported_impressions=sum(d.reported - d.impressions for d in deliveries),
        overpayment_micros=over,
        overpayment_share=_ratio(over, spend),
        campaigns=len(campaigns),
        campaigns_over_tolerance=sum(
            1 for reported, served in per_campaign.values() if abs(reported - served) / max(served, 1) > tolerance
        ),
        deals_billed_above_agreed=len(overbilled),
        billed_above_agreed_micros=billed_extra,
        deals_billed_above_max_cpm=sum(1 for d in rows.deals if d.cpm > max_cpm.get(d.campaign_id, d.cpm)),
    )


def _ledger(
    scenario: str, rows: Sequence[RecordedLedgerEntry], totals: ScenarioTotals, spec: ExperimentSpec
) -> LedgerRow:
    chains = _group(rows, lambda row: row.chain_id)
    costs: list[LedgerCost] = []
    types: Counter[str] = Counter()
    size = 0
    for chain_id in sorted(chains):
        # Each campaign's workflow writes its own chain, so records are batched per chain, in order.
        entries = sorted(chains[chain_id], key=lambda r: r.seq)
        sizes = [len(r.payload_json.encode()) for r in entries]
        size += sum(sizes)
        types.update(json.loads(r.payload_json).get("type", "other") for r in entries)
        costs.append(ledger_cost(sizes, spec.params))
    usd = sum(c.usd for c in costs)
    return LedgerRow(
        scenario=scenario,
        written_by_scenario=scenario == "C",
        chains=len(chains),
        entries=len(rows),
        entries_by_type=dict(sorted(types.items())),
        bytes=size,
        cost_records=sum(c.records for c in costs),
        cost_blobs=sum(c.blobs for c in costs),
        cost_sui_mist=sum(c.sui_mist for c in costs),
        cost_walrus_frost=sum(c.walrus_frost for c in costs),
        cost_usd=usd,
        impressions=totals.impressions,
        cost_per_1000_impressions_usd=cost_per_thousand(usd, totals.impressions),
        cost_share_of_spend=_ratio(usd, totals.buyer_spend_micros / MICROS),
    )


def _ledger_vs_fee(totals: Sequence[ScenarioTotals], ledger: Sequence[LedgerRow]) -> LedgerVsFee:
    a = next((t for t in totals if t.scenario == "A"), None)
    c = next((row for row in ledger if row.scenario == "C"), None)
    fee_usd = a.exchange_fee_micros / MICROS if a else None
    fee_per_1000 = cost_per_thousand(a.exchange_fee_micros / MICROS, a.impressions) if a and a.impressions else None
    ledger_per_1000 = c.cost_per_1000_impressions_usd if c and c.impressions else None
    return LedgerVsFee(
        exchange_fee_usd=fee_usd,
        exchange_fee_per_1000_impressions_usd=fee_per_1000,
        ledger_cost_usd=c.cost_usd if c else None,
        ledger_cost_per_1000_impressions_usd=ledger_per_1000,
        fee_to_ledger_ratio=_ratio(fee_per_1000, ledger_per_1000)
        if fee_per_1000 is not None and ledger_per_1000
        else None,
        exchange_fee_per_100k_spend_usd=a.take_rate * 100_000 if a and a.take_rate is not None else None,
        ledger_cost_per_100k_spend_usd=c.cost_share_of_spend * 100_000
        if c and c.cost_share_of_spend is not None
        else None,
    )


# --- checks -------------------------------------------------------------------------------------------


def sanity_checks(spec: ExperimentSpec, findings: Findings) -> list[str]:
    """Recorded figures that contradict the study's own rules or look incomplete, one line each.

    Pure and id-free like the findings; the report prints them so a reader sees them first.
    """
    params = spec.params
    checks: list[str] = []
    for t in findings.totals:
        s = t.scenario
        if t.campaign_days_recorded != t.campaign_days_expected:
            checks.append(
                f"Scenario {s}: {t.campaign_days_recorded} campaign-days recorded, "
                f"{t.campaign_days_expected} expected from the flights."
            )
        if t.deals == 0:
            checks.append(f"Scenario {s} recorded no deals.")
        if t.deliveries == 0:
            checks.append(f"Scenario {s} recorded no deliveries.")
        if t.unaccounted_micros:
            checks.append(
                f"Scenario {s}: spend − publisher revenue − exchange fee = {t.unaccounted_micros} micros, not 0."
            )
        if s == "A" and t.take_rate is not None and abs(t.take_rate - params.exchange_fee) > 1e-4:
            checks.append(
                f"Scenario A's take rate {t.take_rate:.4%} differs from the exchange_fee parameter "
                f"{params.exchange_fee:.2%}."
            )
        if s != "A" and t.exchange_fee_micros:
            checks.append(f"Scenario {s} has no exchange but recorded {t.exchange_fee_micros} micros of exchange fees.")
        if t.spend_without_impressions_micros:
            checks.append(
                f"Scenario {s}: {t.spend_without_impressions_micros} micros paid on delivery rows with no "
                "delivered impressions "
                f"({t.deliveries_without_impressions} rows record 0 impressions)."
            )
        if t.paid_impressions < t.impressions:
            checks.append(
                f"Scenario {s}: the buyer paid for fewer impressions ({t.paid_impressions}) than were delivered "
                f"({t.impressions})."
            )
    for g in findings.goals:
        if g.campaigns_over_budget:
            checks.append(
                f"Scenario {g.scenario}: {g.campaigns_over_budget} of {g.campaigns} campaigns spent more than "
                "their budget "
                f"(together {g.over_budget_micros / MICROS:,.2f} USD over)."
            )
        if g.campaigns_without_delivery:
            checks.append(f"Scenario {g.scenario}: {g.campaigns_without_delivery} campaigns had no delivery at all.")
    for h in findings.hallucinations:
        if h.claims and h.scenario not in params.hallucination_scenarios and h.injected:
            checks.append(
                f"Scenario {h.scenario} is not in hallucination_scenarios but has {h.injected} injected claims."
            )
    for d in findings.detection:
        if d.claim_type != "all":
            continue
        if d.flagged > d.true_positives:
            checks.append(
                f"Scenario {d.scenario}: {d.flagged - d.true_positives} claims flagged that were not injected "
                "(false alarms)."
            )
        if d.injected > d.true_positives:
            checks.append(
                f"Scenario {d.scenario}: {d.injected - d.true_positives} injected claims within the "
                f"{params.detection_tolerance:.0%} tolerance went undetected."
            )
    for c in findings.context:
        if c.scenario == "C" and c.recovery_fidelity is not None and c.recovery_fidelity < 1:
            checks.append(
                f"Scenario C recovered only {c.recovery_fidelity:.1%} of lost memory correctly from its ledger."
            )
        if c.scenario == "B" and c.items_recovered:
            checks.append(f"Scenario B has no ledger but recovered {c.items_recovered} memory items.")
    ledger = {row.scenario: row for row in findings.ledger}
    if "C" in ledger and ledger["C"].entries == 0 and any(t.scenario == "C" and t.deliveries for t in findings.totals):
        checks.append("Scenario C delivered but wrote no ledger entries.")
    return checks
