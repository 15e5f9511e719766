"""The report end to end on a tiny recorded study, on SQLite and PostgreSQL: load, compute, write."""

from __future__ import annotations

import json
from dataclasses import fields
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from models.ads import (
    AdsParams,
    Buyer,
    Claim,
    ContextEvent,
    DayRecord,
    Deal,
    Delivery,
    Event,
    ExperimentSpec,
    Product,
    Seller,
    World,
)
from models.ads_report import RecordedClaim, RecordedEvent, RecordedLedgerEntry
from models.ledger import AppendBatch
from report import CHARTS, load_study, write_report
from sim.ads.findings import compute_findings
from sim.hashchain import GENESIS_HASH, make_entry
from store import ads as ads_store
from store import ads_report as report_store
from tests.unit.ads.helpers import campaign, usd

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
PRODUCT = Product(
    id="seller-01-p1",
    seller_id="seller-01",
    name="Homepage display",
    channel="display",
    base_cpm=usd(10),
    floor_cpm=usd(6),
    daily_avails=500_000,
    segments=("sports_enthusiasts",),
    deal_types=("PD", "PA"),
)
CAMPAIGN = campaign(impressions=20_000, budget=500, target=10.0, start_day=1, end_day=2)
WORLD = World(
    seed=3,
    days=2,
    sellers=(Seller(id="seller-01", name="Seller One", products=(PRODUCT,)),),
    buyers=(Buyer(id="buyer-01", name="Buyer One", tier="AGENCY"),),
    campaigns=(CAMPAIGN,),
)


def spec(experiment_id: str) -> ExperimentSpec:
    return ExperimentSpec(
        id=experiment_id,
        scenarios=("A", "C"),
        days=2,
        buyers=1,
        sellers=1,
        campaigns_per_buyer=1,
        seed=3,
        params=AdsParams(),
    )


def _deal(scenario: str, cpm: int, rounds: int) -> Deal:
    return Deal(
        id=f"{CAMPAIGN.id}-{scenario}-d001",
        scenario=scenario,
        campaign_id=CAMPAIGN.id,
        buyer_id="buyer-01",
        seller_id="seller-01",
        product_id=PRODUCT.id,
        deal_type="PA" if scenario == "A" else "PD",
        cpm=cpm,
        daily_impressions=5000,
        start_day=1,
        end_day=2,
        rounds=rounds,
        created_day=1,
    )


def _delivery(scenario: str, day: int, impressions: int, cpm: int, fee_share: float) -> Delivery:
    spend = impressions * cpm // 1000
    fee = round(spend * fee_share)
    return Delivery(
        deal_id=f"{CAMPAIGN.id}-{scenario}-d001",
        campaign_id=CAMPAIGN.id,
        seller_id="seller-01",
        day=day,
        impressions=impressions,
        reported=impressions,
        clicks=5,
        conversions=0,
        viewable=2500,
        buyer_spend=spend,
        seller_revenue=spend - fee,
        exchange_fee=fee,
    )


def _records(experiment_id: str) -> list[DayRecord]:
    """Two days of A (an auction won) and C (a negotiated deal, a fabricated quote, memory lost and recovered)."""
    a_deal, c_deal = _deal("A", usd(10.2), 0), _deal("C", usd(9.5), 2)
    chain = f"ads/{experiment_id}/C/{CAMPAIGN.id}"
    entries, prev = [], GENESIS_HASH
    for seq, payload in enumerate(
        [
            {"type": "deal", "deal": c_deal.model_dump(), "agreed_cpm": c_deal.cpm},
            {
                "type": "delivery",
                "deal_id": c_deal.id,
                "day": 1,
                "impressions": 4800,
                "paid": 4800,
                "buyer_spend": 45_600_000,
            },
        ]
    ):
        entry = make_entry(
            chain_id=chain,
            seq=seq,
            prev_hash=prev,
            payload=payload,
            author="seller-01",
            sim_time=0,
            idempotency_key=f"test/{chain}/{seq}",
        )
        entries.append(entry)
        prev = entry.entry_hash
    fabricated = Claim(
        id=f"{CAMPAIGN.id}/1/0",
        day=1,
        agent_id="seller-01",
        agent_type="seller",
        claim_type="price",
        subject=PRODUCT.id,
        claimed=usd(8),
        actual=usd(10),
        injected=True,
        checked=True,
    )
    honest = fabricated.model_copy(
        update={
            "id": f"{CAMPAIGN.id}/1/1",
            "claim_type": "inventory",
            "claimed": 10_000,
            "actual": 10_000,
            "injected": False,
        }
    )
    common = {"experiment_id": experiment_id, "campaign_id": CAMPAIGN.id}
    return [
        DayRecord(
            **common,
            scenario="A",
            day=1,
            deals=[a_deal],
            deliveries=[_delivery("A", 1, 5000, a_deal.cpm, 0.15)],
            events=[
                Event(
                    day=1,
                    kind="auction",
                    data={
                        "product": PRODUCT.id,
                        "floor": usd(6),
                        "clearing_cpm": a_deal.cpm,
                        "winner": "buyer-01",
                        "bids": [["buyer-01", a_deal.cpm], ["bg-01", usd(9)]],
                    },
                )
            ],
        ),
        DayRecord(**common, scenario="A", day=2, deliveries=[_delivery("A", 2, 4900, a_deal.cpm, 0.15)]),
        DayRecord(
            **common,
            scenario="C",
            day=1,
            deals=[c_deal],
            deliveries=[_delivery("C", 1, 4800, c_deal.cpm, 0)],
            claims=[fabricated, honest],
            context=[
                ContextEvent(
                    day=1,
                    agent_id="buyer-01",
                    kind="decay",
                    items_before=0,
                    items_lost=0,
                    items_recovered=0,
                    recovered_correctly=0,
                )
            ],
            events=[
                Event(
                    day=1,
                    kind="negotiation",
                    data={
                        "seller": "seller-01",
                        "product": PRODUCT.id,
                        "rounds": 2,
                        "agreed_cpm": c_deal.cpm,
                        "steps": [
                            [0, "seller", "propose", usd(10)],
                            [1, "buyer", "counter", usd(9)],
                            [2, "buyer", "accept", c_deal.cpm],
                        ],
                    },
                )
            ],
            ledger=AppendBatch(entries=entries),
        ),
        DayRecord(
            **common,
            scenario="C",
            day=2,
            deliveries=[_delivery("C", 2, 4700, c_deal.cpm, 0)],
            context=[
                ContextEvent(
                    day=2,
                    agent_id="buyer-01",
                    kind="restart",
                    items_before=4,
                    items_lost=4,
                    items_recovered=4,
                    recovered_correctly=4,
                )
            ],
            events=[
                Event(
                    day=2,
                    kind="context_lost",
                    data={"agent": "buyer-01", "cause": "restart", "lost": [f"deal:{c_deal.id}", "spend"]},
                ),
                Event(
                    day=2, kind="context_recovered", data={"agent": "buyer-01", "recovered": 4, "correct": 4, "lost": 4}
                ),
            ],
        ),
    ]


async def _record(engine: AsyncEngine, experiment_id: str) -> int:
    study = spec(experiment_id)
    await ads_store.register_experiment(
        engine,
        experiment_id=experiment_id,
        seed=study.seed,
        spec_json=study.model_dump_json(),
        world_json=WORLD.model_dump_json(),
        inventory=[],
    )
    rows = 0
    for record in _records(experiment_id):
        assert await ads_store.record_day(engine, record)
        rows += (
            len(record.deals) + len(record.deliveries) + len(record.claims) + len(record.context) + len(record.events)
        )
    return rows


async def _report(engine: AsyncEngine, experiment_id: str, out: Path) -> list[Path]:
    study, world, rows = await load_study(engine, experiment_id)
    return write_report(out, experiment_id, study, world, rows, compute_findings(study, world, rows))


async def test_report_files_from_a_recorded_study(engine: AsyncEngine, tmp_path: Path) -> None:
    recorded = await _record(engine, "tiny-1")
    out = tmp_path / "report" / "nested"  # created when missing

    written = await _report(engine, "tiny-1", out)

    names = {"report.md", "report.json", "events.jsonl", "narrative.md", *CHARTS}
    assert {p.name for p in written} == names
    assert all((out / name).is_file() for name in names)
    assert not [p for p in out.iterdir() if p.name.endswith(".tmp")]  # atomic writes leave no temporaries

    document = json.loads((out / "report.json").read_text())
    assert set(document) == {"findings", "parameters", "statements", "checks"}
    assert document["parameters"]["params"]["exchange_fee"] == 0.15 and "id" not in document["parameters"]
    assert "exchange_fee" not in json.dumps(document["findings"]).replace("exchange_fee_", "")  # parameters stay out
    totals = {t["scenario"]: t for t in document["findings"]["totals"]}
    assert totals["A"]["take_rate"] == pytest.approx(0.15, abs=1e-6)
    assert totals["C"]["deals"] == 1 and totals["C"]["campaign_days_recorded"] == 2
    assert {row["scenario"]: row["entries"] for row in document["findings"]["ledger"]} == {"A": 0, "C": 2}

    for chart in CHARTS:
        content = (out / chart).read_bytes()
        assert content.startswith(PNG_MAGIC) and len(content) > 10_000, chart

    lines = (out / "events.jsonl").read_text().splitlines()
    assert len(lines) == recorded
    events = [json.loads(line) for line in lines]
    assert all({"scenario", "campaign", "day", "kind"} <= set(e) for e in events)
    assert [(e["scenario"], e["day"]) for e in events] == sorted((e["scenario"], e["day"]) for e in events)

    narrative = (out / "narrative.md").read_text()
    for heading in ("## Deal Completed: ", "## Hallucination Detected", "## Context Rot Event"):
        assert heading in narrative
    assert "at most **10 entries per scenario**" in narrative

    markdown = (out / "report.md").read_text()
    for section in (
        "## Executive summary",
        "## Fee extraction",
        "## Campaign goal achievement",
        "## KPI attainment over time",
        "## Context rot",
        "## Hallucination analysis",
        "## Ledger cost vs exchange fee",
        "## Findings",
        "## Total cost of trading",
        "## Day 1 versus the last day",
        "## Conclusion",
        "## Parameters",
        "## How each figure is computed",
    ):
        assert section in markdown
    assert all(f"`{name}`" in markdown for name in AdsParams.model_fields)


async def test_same_study_under_another_id_gives_the_same_report_json(
    engine: AsyncEngine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("report.render_charts", lambda findings: {})  # drawn in the test above; slow
    await _record(engine, "tiny-1")
    await _record(engine, "tiny-2")

    await _report(engine, "tiny-1", tmp_path / "one")
    await _report(engine, "tiny-2", tmp_path / "two")

    first = (tmp_path / "one" / "report.json").read_bytes()
    assert first == (tmp_path / "two" / "report.json").read_bytes()
    assert b"tiny-1" not in first


async def test_unknown_experiment_raises_lookup_error(engine: AsyncEngine) -> None:
    with pytest.raises(LookupError, match="no experiment 'missing'"):
        await load_study(engine, "missing")


async def test_study_rows_are_typed_and_hold_only_their_experiment(engine: AsyncEngine) -> None:
    # "_" is a LIKE wildcard: the ledger read must not take "tinyx1"'s chains for "tiny_1"'s.
    await _record(engine, "tiny_1")
    await _record(engine, "tinyx1")

    rows = await report_store.study_rows(engine, "tiny_1")

    assert (len(rows.deals), len(rows.deliveries), len(rows.claims), len(rows.context)) == (2, 4, 2, 2)
    assert (len(rows.events), len(rows.days)) == (4, 4)
    assert [(entry.chain_id, entry.seq) for entry in rows.ledger] == [
        (f"ads/tiny_1/C/{CAMPAIGN.id}", s) for s in (0, 1)
    ]
    assert all(isinstance(entry, RecordedLedgerEntry) for entry in rows.ledger)
    fabricated = rows.claims[0]
    assert isinstance(fabricated, RecordedClaim) and fabricated.injected is True and fabricated.checked is True
    auction = rows.events[0]
    assert isinstance(auction, RecordedEvent) and auction.kind == "auction" and auction.data["winner"] == "buyer-01"
    assert [(d.scenario, d.day) for d in rows.days] == [("A", 1), ("A", 2), ("C", 1), ("C", 2)]  # primary-key order
    unknown = await report_store.study_rows(engine, "unknown")
    assert not any(getattr(unknown, table.name) for table in fields(unknown))
