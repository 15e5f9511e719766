"""The study on the real dev server: deals in every scenario, A's take rate, detection, durability."""

from __future__ import annotations

import asyncio
import uuid

from sqlalchemy.ext.asyncio import AsyncEngine
from temporalio.client import Client

from activities.ads import AdsActivities
from activities.llm import NegotiationActivities
from models.ads import ExperimentSpec
from report import load_study
from sim.ads.findings import compute_findings
from store import ads as ads_store
from store.engine import open_store
from store.tables import AdsClaimRow, AdsDayRow, AdsDealRow, AdsDeliveryRow
from tests.ads.conftest import SMALL
from workflows.ads.campaign import CampaignWorkflow
from workflows.ads.experiment import ExperimentWorkflow


async def by_scenario(engine: AsyncEngine, table, experiment_id: str) -> dict[str, list[dict]]:
    grouped: dict[str, list[dict]] = {"A": [], "B": [], "C": []}
    for row in await ads_store.rows(engine, table, experiment_id):
        grouped[row["scenario"]].append(row)
    return grouped


async def test_small_study_deals_everywhere_and_the_exchange_takes_exactly_its_fee(study, engine: AsyncEngine):
    spec, summary = await study(engine, seed=5, **SMALL)
    assert summary.campaign_runs == 3 * 4
    assert [(t.scenario, t.campaigns) for t in summary.scenarios] == [("A", 4), ("B", 4), ("C", 4)]

    deals = await by_scenario(engine, AdsDealRow, spec.id)
    assert all(deals[scenario] for scenario in "ABC"), {s: len(d) for s, d in deals.items()}
    assert {d["deal_type"] for d in deals["A"]} == {"PA"}
    assert {d["deal_type"] for d in deals["B"] + deals["C"]} <= {"PG", "PD"}

    deliveries = await by_scenario(engine, AdsDeliveryRow, spec.id)
    spend_a = sum(d["buyer_spend"] for d in deliveries["A"])
    fee_a = sum(d["exchange_fee"] for d in deliveries["A"])
    assert spend_a > 0
    # Each delivery's fee is rounded to the micro: the take is the fee share within that rounding.
    assert abs(fee_a - spec.params.exchange_fee * spend_a) <= len(deliveries["A"])
    assert all(d["seller_revenue"] + d["exchange_fee"] == d["buyer_spend"] for d in deliveries["A"])
    for scenario in "BC":
        assert sum(d["buyer_spend"] for d in deliveries[scenario]) > 0
        assert sum(d["exchange_fee"] for d in deliveries[scenario]) == 0


async def test_detection_at_the_defaults_is_neither_perfect_nor_useless(study, sqlite_engine: AsyncEngine):
    """A default-size study of B and C: fabrications of every size meet honest reporting noise, so flagging
    at the default tolerance misses some fabrications and flags some honest claims, yet beats chance."""
    spec, _ = await study(sqlite_engine, seed=11, scenarios=("B", "C"))
    claims = await ads_store.rows(sqlite_engine, AdsClaimRow, spec.id)
    assert len(claims) > 5000
    injected = [bool(c["injected"]) for c in claims]
    share = sum(injected) / len(injected)
    assert 0.035 < share < 0.065, "the injection rate parameter is honoured"

    findings = compute_findings(*await load_study(sqlite_engine, spec.id))
    for row in (d for d in findings.detection if d.claim_type == "all"):
        assert row.precision is not None and row.recall is not None and row.precision_ci and row.recall_ci
        # Not perfect: the whole 95% interval stays below 1 for both.
        assert row.precision_ci[1] < 1.0 and row.recall_ci[1] < 1.0, row
        # Not useless: recall well above nothing, precision well above the injected share (flagging at random).
        assert row.recall_ci[0] > 0.3 and row.precision_ci[0] > 2 * share, row
        assert row.precision_ci[0] <= row.precision <= row.precision_ci[1]
    for scenario in ("B", "C"):
        curve = [p for p in findings.detection_curve if p.scenario == scenario]
        recalls = [p.recall or 0.0 for p in curve]
        assert recalls == sorted(recalls, reverse=True), "a higher tolerance never flags more"
        assert recalls[0] > recalls[-1]
        precisions = [p.precision for p in curve if p.precision is not None]
        assert precisions[0] < precisions[-1], "a higher tolerance trades recall for precision"


async def test_a_study_survives_losing_its_worker_midway(
    client: Client, run_worker, task_queue: str, ads_http, tmp_path
):
    """Stop the worker in the middle of simulated days, start another: same results as without a crash."""

    async def run(name: str, interrupt: bool) -> list[dict]:
        async with open_store(f"sqlite+aiosqlite:///{tmp_path / name}.db") as engine:
            # Two simulated days per real second: slow enough to stop the worker between days.
            spec = ExperimentSpec(id=f"crash-{name}-{uuid.uuid4().hex[:6]}", seed=3, acceleration=86_400 * 2, **SMALL)
            store = AdsActivities(engine)
            worker_kwargs = {
                "workflows": [ExperimentWorkflow, CampaignWorkflow],
                "activities": [
                    store.register_experiment,
                    store.record_day,
                    store.read_ledger,
                    store.read_ledger_view,
                    NegotiationActivities(ads_http).negotiate,
                ],
            }
            async with run_worker(**worker_kwargs):
                handle = await client.start_workflow(ExperimentWorkflow.run, spec, id=spec.id, task_queue=task_queue)
                if not interrupt:
                    await handle.result()
                else:
                    # Lose the worker as soon as the first campaign-days are recorded.
                    while not await ads_store.rows(engine, AdsDayRow, spec.id):
                        await asyncio.sleep(0.02)
                    recorded_before_crash = len(await ads_store.rows(engine, AdsDayRow, spec.id))
            if interrupt:
                async with run_worker(**worker_kwargs):
                    await handle.result()
                assert recorded_before_crash < len(await ads_store.rows(engine, AdsDayRow, spec.id)), (
                    "the crash came mid-study"
                )
            rows = await ads_store.rows(engine, AdsDeliveryRow, spec.id)
            return [{k: v for k, v in row.items() if k != "experiment_id"} for row in rows]

    assert await run("interrupted", interrupt=True) == await run("straight", interrupt=False)
