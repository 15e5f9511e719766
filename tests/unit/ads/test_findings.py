"""compute_findings on small hand-built rows, every expected figure worked out by hand here."""

from __future__ import annotations

import json
import random
from typing import Any

import pytest

from models.ads import AdsParams, Buyer, ExperimentSpec, Product, Seller, World
from models.ads_report import (
    RecordedClaim,
    RecordedContextEvent,
    RecordedDay,
    RecordedDeal,
    RecordedDelivery,
    RecordedEvent,
    RecordedLedgerEntry,
    StudyRows,
)
from sim.ads.costs import ledger_cost
from sim.ads.findings import compute_findings, sanity_checks
from tests.unit.ads.helpers import campaign, usd

EXPERIMENT = "exp-secret-123"
C1 = campaign(impressions=1000, budget=100, target=10.0, start_day=1, end_day=4).model_copy(
    update={"id": "buyer-01-c01"}
)
C2 = campaign(kpi="clicks", impressions=100, budget=50, target=10.0, start_day=3, end_day=4).model_copy(
    update={"id": "buyer-01-c02"}
)
PRODUCT = Product(
    id="seller-01-p1",
    seller_id="seller-01",
    name="p",
    channel="display",
    base_cpm=usd(10),
    floor_cpm=usd(5),
    daily_avails=100_000,
    segments=("sports_enthusiasts",),
    deal_types=("PD", "PG"),
)
WORLD = World(
    seed=7,
    days=4,
    sellers=(Seller(id="seller-01", name="s", products=(PRODUCT,)),),
    buyers=(Buyer(id="buyer-01", name="b", tier="AGENCY"),),
    campaigns=(C1, C2),
)
SPEC = ExperimentSpec(id=EXPERIMENT, days=4, buyers=1, sellers=1, campaigns_per_buyer=2, seed=7, params=AdsParams())


def delivery(
    scenario: str,
    campaign_id: str,
    day: int,
    *,
    impressions: int = 0,
    reported: int | None = None,
    clicks: int = 0,
    spend: int = 0,
    fee: int = 0,
    deal: str = "d1",
) -> RecordedDelivery:
    return RecordedDelivery(
        scenario=scenario,
        deal_id=f"{campaign_id}-{deal}",
        day=day,
        campaign_id=campaign_id,
        seller_id="seller-01",
        impressions=impressions,
        reported=impressions if reported is None else reported,
        clicks=clicks,
        conversions=0,
        viewable=0,
        buyer_spend=spend,
        seller_revenue=spend - fee,
        exchange_fee=fee,
    )


def deal(
    scenario: str,
    campaign_id: str,
    *,
    deal_type: str = "PD",
    rounds: int = 1,
    cpm: int = usd(10),
    day: int = 1,
    name: str = "d1",
) -> RecordedDeal:
    return RecordedDeal(
        scenario=scenario,
        deal_id=f"{campaign_id}-{name}",
        campaign_id=campaign_id,
        buyer_id="buyer-01",
        seller_id="seller-01",
        product_id=PRODUCT.id,
        deal_type=deal_type,
        cpm=cpm,
        daily_impressions=100,
        start_day=day,
        end_day=4,
        rounds=rounds,
        created_day=day,
    )


def claim(
    scenario: str,
    n: int,
    *,
    claimed: int,
    actual: int,
    injected: bool,
    claim_type: str = "inventory",
    agent_type: str = "seller",
) -> RecordedClaim:
    return RecordedClaim(
        scenario=scenario,
        claim_id=f"buyer-01-c01/1/{n}",
        campaign_id="buyer-01-c01",
        day=1,
        agent_id="seller-01",
        agent_type=agent_type,
        claim_type=claim_type,
        subject=PRODUCT.id,
        claimed=claimed,
        actual=actual,
        injected=injected,
        checked=scenario == "C",
    )


def context(
    scenario: str,
    campaign_id: str,
    day: int,
    *,
    before: int,
    lost: int,
    kind: str = "decay",
    recovered: int = 0,
    correct: int = 0,
) -> RecordedContextEvent:
    return RecordedContextEvent(
        scenario=scenario,
        campaign_id=campaign_id,
        day=day,
        kind=kind,
        agent_id="buyer-01",
        items_before=before,
        items_lost=lost,
        items_recovered=recovered,
        recovered_correctly=correct,
    )


def event(scenario: str, campaign_id: str, day: int, seq: int, kind: str, **data: Any) -> RecordedEvent:
    return RecordedEvent(scenario=scenario, campaign_id=campaign_id, day=day, seq=seq, kind=kind, data=data)


def ledger(scenario: str, campaign_id: str, seq: int, payload: dict[str, Any]) -> RecordedLedgerEntry:
    return RecordedLedgerEntry(
        chain_id=f"ads/{EXPERIMENT}/{scenario}/{campaign_id}",
        seq=seq,
        payload_json=json.dumps(payload, separators=(",", ":"), sort_keys=True),
    )


def by(items, scenario: str, **match: Any):
    return next(i for i in items if i.scenario == scenario and all(getattr(i, k) == v for k, v in match.items()))


def test_take_rate_and_cpms_from_recorded_fees() -> None:
    rows = StudyRows(
        deliveries=[
            delivery("A", "buyer-01-c01", 1, impressions=100, spend=1_000_000, fee=150_000),
            delivery("A", "buyer-01-c01", 2, impressions=300, spend=3_000_000, fee=450_000),
        ]
    )
    totals = by(compute_findings(SPEC, WORLD, rows).totals, "A")

    assert (totals.buyer_spend_micros, totals.seller_revenue_micros, totals.exchange_fee_micros) == (
        4_000_000,
        3_400_000,
        600_000,
    )
    assert totals.take_rate == pytest.approx(600_000 / 4_000_000)  # 0.15: a share of spend, not fee / (1 + fee)
    assert totals.intermediary_take_micros == 600_000 and totals.unaccounted_micros == 0
    assert totals.impressions == 400
    assert totals.cpm_paid_micros == pytest.approx(4_000_000 * 1000 / 400)  # $10 CPM
    assert by(compute_findings(SPEC, WORLD, rows).totals, "B").take_rate is None  # nothing spent: no rate, not 0


def test_deals_by_type_and_rounds() -> None:
    rows = StudyRows(
        deals=[
            deal("B", "buyer-01-c01", rounds=1, name="d1"),
            deal("B", "buyer-01-c01", rounds=2, name="d2"),
            deal("B", "buyer-01-c02", deal_type="PG", rounds=6, name="d1"),
        ]
    )
    totals = by(compute_findings(SPEC, WORLD, rows).totals, "B")

    assert totals.deals == 3
    assert totals.deals_by_type == {"PA": 0, "PD": 2, "PG": 1}
    assert totals.deal_rounds_mean == pytest.approx(3.0)  # (1 + 2 + 6) / 3
    assert totals.deal_rounds_median == 2.0


def test_precision_recall_and_severity_at_the_parameter_tolerance() -> None:
    claims = [
        claim("B", 0, claimed=110, actual=100, injected=True),  # 10% off: flagged, minor — a hit
        claim("B", 1, claimed=102, actual=100, injected=True),  # 2% off: within 5%, missed
        claim("B", 2, claimed=70, actual=100, injected=False),  # 30% off: flagged, major — a false alarm
        claim("B", 3, claimed=100, actual=100, injected=False),
    ]
    findings = compute_findings(SPEC, WORLD, StudyRows(claims=claims))
    detection = by(findings.detection, "B", claim_type="all")

    assert (detection.claims, detection.injected, detection.flagged, detection.true_positives) == (4, 2, 2, 1)
    assert detection.precision == pytest.approx(1 / 2)
    assert detection.recall == pytest.approx(1 / 2)
    assert detection.severity == {"none": 2, "minor": 1, "major": 1}
    seller = by(findings.hallucinations, "B", agent_type="seller")
    assert (seller.claims, seller.injected, seller.injected_share, seller.injected_unchecked) == (4, 2, 0.5, 2)
    # A recorded no claims: no score at all rather than a perfect one.
    assert by(findings.detection, "A", claim_type="all").precision is None


def test_checked_claims_are_not_counted_as_acted_on() -> None:
    findings = compute_findings(SPEC, WORLD, StudyRows(claims=[claim("C", 0, claimed=150, actual=100, injected=True)]))
    assert by(findings.hallucinations, "C", agent_type="seller").injected_unchecked == 0


def test_context_survival_restarts_and_recovery_fidelity() -> None:
    rows = StudyRows(
        context=[
            context("B", "buyer-01-c01", 1, before=0, lost=0),  # nothing remembered yet: no survival figure
            context("B", "buyer-01-c01", 2, before=10, lost=1),
            context("B", "buyer-01-c02", 2, before=0, lost=0),
            context("B", "buyer-01-c01", 3, before=10, lost=2),
            context("B", "buyer-01-c02", 3, before=5, lost=5, kind="restart"),
            context("C", "buyer-01-c01", 3, before=8, lost=4, recovered=4, correct=3),
        ]
    )
    findings = compute_findings(SPEC, WORLD, rows)
    b = {c.day: c for c in findings.context_by_day if c.scenario == "B"}
    params = SPEC.params

    assert b[1].survival is None and b[1].cumulative_survival is None
    assert b[2].survival == pytest.approx(1 - 1 / 10) and b[2].with_items == 1
    assert b[3].survival == pytest.approx(1 - 7 / 15) and b[3].restarts == 1
    assert b[3].cumulative_survival == pytest.approx(0.9 * 8 / 15)
    assert b[4].campaign_days == 0 and b[4].cumulative_survival == pytest.approx(0.9 * 8 / 15)
    assert b[3].recovery_fidelity == 0.0  # B lost 7 and recovered none
    # The reference is the parameters' own prediction, not a measurement.
    reference = params.context_survival * (1 - params.restart_probability)
    assert b[3].reference_cumulative_survival == pytest.approx(reference**3)

    c = by(findings.context, "C")
    assert c.recovery_fidelity == pytest.approx(3 / 4) and c.survival == pytest.approx(1 - 4 / 8)
    assert [t.scenario for t in findings.context] == ["B", "C"]  # A records no context events


def test_kpi_attainment_by_day_is_pro_rated_and_capped() -> None:
    rows = StudyRows(
        deliveries=[
            delivery("B", "buyer-01-c01", 1, impressions=200),
            delivery("B", "buyer-01-c01", 2, impressions=300),
            delivery("B", "buyer-01-c02", 3, impressions=20_000, clicks=60),
        ]
    )
    findings = compute_findings(SPEC, WORLD, rows)
    days = {k.day: k for k in findings.kpi_by_day if k.scenario == "B"}

    # c01: 1000 impressions over days 1-4; c02: 100 clicks over days 3-4, counted from day 3.
    assert days[1].campaigns == 1 and days[1].mean_attainment == pytest.approx(200 / 250)
    assert days[2].mean_attainment == pytest.approx(500 / 500)
    assert days[3].campaigns == 2 and days[3].mean_attainment == pytest.approx(
        (500 / 750 + 1.0) / 2
    )  # c02: 60 / 50, capped
    assert days[4].mean_attainment == pytest.approx((500 / 1000 + 60 / 100) / 2)
    goals = by(findings.goals, "B")
    assert goals.mean_final_kpi_attainment == pytest.approx(0.55)
    assert goals.campaigns_hit_kpi == 0


def test_goals_budget_and_target_cpm() -> None:
    # c01: budget $100, target CPM $10; c02: budget $50.
    rows = StudyRows(
        deliveries=[
            delivery("B", "buyer-01-c01", 1, impressions=1000, spend=usd(9)),  # $9 CPM, KPI met
            delivery("B", "buyer-01-c02", 3, impressions=1000, clicks=100, spend=usd(60)),  # $60 CPM, $10 over budget
        ]
    )
    goals = by(compute_findings(SPEC, WORLD, rows).goals, "B")

    assert goals.campaigns_hit_kpi == 2
    assert goals.campaigns_within_target_cpm == 1
    assert (goals.campaigns_over_budget, goals.over_budget_micros) == (1, usd(10))
    assert goals.budget_spent_share == pytest.approx(69 / 150)
    assert by(compute_findings(SPEC, WORLD, rows).goals, "C").campaigns_without_delivery == 2


def test_checks_name_what_contradicts_the_rules() -> None:
    rows = StudyRows(
        deliveries=[delivery("B", "buyer-01-c02", 3, impressions=1000, spend=usd(60))],  # budget $50
        days=[RecordedDay(scenario="B", campaign_id="buyer-01-c02", day=3)],
    )
    checks = sanity_checks(SPEC, compute_findings(SPEC, WORLD, rows))

    assert "Scenario B: 1 of 2 campaigns spent more than their budget (together 10.00 USD over)." in checks
    assert "Scenario B: 1 campaign-days recorded, 6 expected from the flights." in checks  # c01: 4 days, c02: 2
    assert "Scenario A recorded no deals." in checks


def test_over_reporting_and_overbilling() -> None:
    rows = StudyRows(
        deliveries=[
            delivery("B", "buyer-01-c01", 1, impressions=1000, reported=1100, spend=11_000_000),
            delivery("B", "buyer-01-c01", 2, impressions=1000, spend=10_000_000),
        ],
        deals=[deal("B", "buyer-01-c01", cpm=usd(10))],
        events=[
            event(
                "B",
                "buyer-01-c01",
                1,
                0,
                "negotiation",
                product=PRODUCT.id,
                agreed_cpm=usd(8),
                rounds=1,
                seller="seller-01",
                steps=[],
            )
        ],
    )
    d = by(compute_findings(SPEC, WORLD, rows).discrepancy, "B")

    assert (d.misreported_deliveries, d.over_reported_impressions) == (1, 100)
    assert d.overpayment_micros == 11_000_000 * 100 // 1100  # $1 for 100 impressions never served
    assert d.overpayment_share == pytest.approx(1_000_000 / 21_000_000)
    assert d.campaigns_over_tolerance == 0  # 2100 reported for 2000 served is 5% off: not above the 5% tolerance
    assert d.deals_billed_above_agreed == 1
    assert d.billed_above_agreed_micros == (11_000_000 + 10_000_000) * 2 // 10  # agreed $8, billed $10


def test_ledger_entries_bytes_and_cost() -> None:
    deal_record = {"type": "deal", "deal": {"id": "d1"}, "agreed_cpm": 1}
    delivery_record = {"type": "delivery", "deal_id": "d1", "paid": 10}
    rows = StudyRows(
        ledger=[
            ledger("C", "buyer-01-c01", 0, deal_record),
            ledger("C", "buyer-01-c01", 1, delivery_record),
            ledger("C", "buyer-01-c02", 0, deal_record),
            ledger("A", "buyer-01-c01", 0, deal_record),
        ],
        deliveries=[
            delivery("A", "buyer-01-c01", 1, impressions=4000, spend=usd(40), fee=usd(6)),
            delivery("C", "buyer-01-c01", 1, impressions=2000, spend=usd(20)),
        ],
    )
    findings = compute_findings(SPEC, WORLD, rows)
    c = by(findings.ledger, "C")
    sizes = [len(json.dumps(p, separators=(",", ":"), sort_keys=True)) for p in (deal_record, delivery_record)]

    assert (c.chains, c.entries, c.entries_by_type) == (2, 3, {"deal": 2, "delivery": 1})
    assert c.bytes == sizes[0] * 2 + sizes[1]
    # One batch per campaign chain.
    expected = ledger_cost(sizes, SPEC.params).usd + ledger_cost(sizes[:1], SPEC.params).usd
    assert c.cost_usd == pytest.approx(expected)
    assert c.cost_per_1000_impressions_usd == pytest.approx(expected / 2000 * 1000)
    assert c.written_by_scenario and not by(findings.ledger, "A").written_by_scenario
    vs = findings.ledger_vs_fee
    assert vs.exchange_fee_per_1000_impressions_usd == pytest.approx(6 / 4000 * 1000)  # $1.50
    assert vs.fee_to_ledger_ratio == pytest.approx(1.5 / (expected / 2))


def test_identical_input_gives_identical_findings_without_the_experiment_id() -> None:
    rows = StudyRows(
        deliveries=[
            delivery("A", "buyer-01-c01", d, impressions=100 * d, spend=1_000_000 * d, fee=150_000 * d)
            for d in (1, 2, 3)
        ],
        claims=[claim("B", n, claimed=100 + n * 7, actual=100, injected=n % 2 == 0) for n in range(6)],
        context=[context("B", "buyer-01-c01", d, before=10, lost=d) for d in (1, 2, 3)],
        ledger=[ledger("C", "buyer-01-c01", s, {"type": "deal", "n": s}) for s in range(3)],
    )
    shuffled = StudyRows(
        **{
            name: random.Random(5).sample(list(getattr(rows, name)), len(getattr(rows, name)))
            for name in ("deliveries", "claims", "context", "ledger")
        }
    )
    first = json.dumps(compute_findings(SPEC, WORLD, rows).json_dict(), sort_keys=True)
    again = json.dumps(compute_findings(SPEC, WORLD, rows).json_dict(), sort_keys=True)
    reordered = json.dumps(compute_findings(SPEC, WORLD, shuffled).json_dict(), sort_keys=True)

    assert first == again == reordered
    assert EXPERIMENT not in first
