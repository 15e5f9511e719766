"""Scenario C rests on its ledger: a forged ledger changes C's decisions, and the audit names the forged row.

A reference study runs first; a second one with the same seed runs at a pace slow enough to forge its
ledger mid-study. The forger rewrites the seller's earlier delivery reports of one deal to the figure the
seller is about to fabricate, re-hashing the chain to its head so the chain alone still verifies. C's
buyer, which checks delivery claims only against the ledger, then pays the fabricated figure it rejected in
the reference run, and the audit's comparison with history names the first forged entry.
"""

from __future__ import annotations

import asyncio
import json
import uuid

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncEngine
from temporalio.client import Client

from activities.ads import AdsActivities
from activities.llm import NegotiationActivities
from models.ads import AdsParams, ExperimentSpec
from sim.hashchain import make_entry
from simctl.commands.audit import run_audit
from store import ads as ads_store
from store import ledger
from store.engine import open_store
from store.tables import AdsDeliveryRow, AdsEventRow, LedgerHeadRow, LedgerRow
from workflows.ads.campaign import CampaignWorkflow
from workflows.ads.experiment import ExperimentWorkflow

SIZE = {"scenarios": ("C",), "buyers": 1, "sellers": 2, "campaigns_per_buyer": 2, "days": 10, "seed": 5}
PARAMS = AdsParams(hallucination_rate=0.3, restart_probability=0.0, context_survival=1.0)
SECONDS_PER_DAY = 3.0


def spec(experiment_id: str, acceleration: float = 0.0) -> ExperimentSpec:
    return ExperimentSpec(id=experiment_id, acceleration=acceleration, params=PARAMS, **SIZE)


async def rejected_deliveries(engine: AsyncEngine, experiment_id: str) -> list[tuple[str, int, str, int]]:
    """(campaign, day, deal, claimed) of every delivery report C's buyer rejected against its ledger."""
    events = await ads_store.rows(engine, AdsEventRow, experiment_id)
    found = []
    for event in events:
        data = json.loads(event["data_json"])
        if event["kind"] == "claim_rejected" and data["claim_type"] == "delivery":
            found.append((event["campaign_id"], event["day"], data["subject"], data["claimed"]))
    return sorted(found)


async def paid(engine: AsyncEngine, experiment_id: str, deal_id: str, day: int) -> int:
    rows = await ads_store.rows(engine, AdsDeliveryRow, experiment_id)
    [row] = [r for r in rows if r["deal_id"] == deal_id and r["day"] == day]
    return int(row["reported"])


async def forge(engine: AsyncEngine, chain_id: str, deal_id: str, claimed: int) -> int | None:
    """Rewrite the deal's recorded reports to ``claimed`` and re-hash to the head; the first forged seq."""
    entries, row_ids, _ = await ledger.read_chain(engine, chain_id)
    first: int | None = None
    prev_hash = None
    async with engine.begin() as connection:
        for entry, row_id in zip(entries, row_ids, strict=True):
            payload = json.loads(entry.payload_json)
            if payload.get("type") == "delivery" and payload["deal_id"] == deal_id:
                payload["reported"] = claimed
                first = entry.seq if first is None else first
            if first is None:
                continue
            forged = make_entry(
                chain_id=chain_id,
                seq=entry.seq,
                prev_hash=prev_hash or entry.prev_hash,
                payload=payload,
                author=entry.author,
                sim_time=entry.sim_time,
                idempotency_key=entry.idempotency_key,
            )
            prev_hash = forged.entry_hash
            await connection.execute(update(LedgerRow).where(LedgerRow.id == row_id).values(**forged.model_dump()))
        if prev_hash is not None:
            await connection.execute(
                update(LedgerHeadRow).where(LedgerHeadRow.chain_id == chain_id).values(head_hash=prev_hash)
            )
    return first


async def delivery_days(engine: AsyncEngine, chain_id: str, deal_id: str) -> set[int]:
    entries, _, _ = await ledger.read_chain(engine, chain_id)
    payloads = [json.loads(entry.payload_json) for entry in entries]
    return {p["day"] for p in payloads if p.get("type") == "delivery" and p["deal_id"] == deal_id}


async def test_a_forged_ledger_changes_c_decisions_and_the_audit_names_the_row(
    client: Client, run_worker, task_queue: str, ads_http, tmp_path, settings_for, temporal_address
):
    url = f"sqlite+aiosqlite:///{tmp_path / 'tamper.db'}"
    suffix = uuid.uuid4().hex[:8]
    reference, tampered = spec(f"ref-{suffix}"), spec(f"forged-{suffix}", acceleration=86_400 / SECONDS_PER_DAY)
    async with open_store(url) as engine:
        store = AdsActivities(engine)
        async with run_worker(
            workflows=[ExperimentWorkflow, CampaignWorkflow],
            activities=[
                store.register_experiment,
                store.record_day,
                store.read_ledger,
                store.read_ledger_view,
                NegotiationActivities(ads_http).negotiate,
            ],
        ):
            await client.execute_workflow(ExperimentWorkflow.run, reference, id=reference.id, task_queue=task_queue)
            # A fabricated report rejected against at least two honest ones, late enough to forge before it.
            targets = [t for t in await rejected_deliveries(engine, reference.id) if t[1] >= 4]
            assert targets, "the reference study has no rejected delivery report to forge the ledger for"
            campaign_id, day, deal_id, claimed = targets[0]
            assert await paid(engine, reference.id, deal_id, day) < claimed

            chain_id = f"ads/{tampered.id}/C/{campaign_id}"
            handle = await client.start_workflow(
                ExperimentWorkflow.run, tampered, id=tampered.id, task_queue=task_queue
            )
            async with asyncio.timeout(SECONDS_PER_DAY * SIZE["days"] * 10):  # type: ignore[operator]
                while day - 1 not in await delivery_days(engine, chain_id, deal_id):
                    await asyncio.sleep(0.05)
            assert day not in await delivery_days(engine, chain_id, deal_id), "too late to forge"
            forged_seq = await forge(engine, chain_id, deal_id, claimed)
            assert forged_seq is not None
            await handle.result()

            # C believed its (forged) ledger: it paid the fabricated report it rejected in the reference run.
            assert await paid(engine, tampered.id, deal_id, day) == claimed
            assert (campaign_id, day, deal_id, claimed) not in await rejected_deliveries(engine, tampered.id)

    settings = settings_for(temporal_address=temporal_address, database_url=url, embedded=False)
    report = await run_audit(settings, chain=None, experiment=tampered.id, with_history=True)
    assert not report.ok and report.history is not None
    assert all(verdict.ok for verdict in report.verdicts), "the forger re-hashed the chain: (a) alone passes"
    named = [m.detail for m in report.history.mismatches if m.chain_id == chain_id]
    assert named and named[0].startswith(f"entry seq {forged_seq} differs from history"), named
    assert not report.history.replay_failures
    untouched = await run_audit(settings, chain=None, experiment=reference.id, with_history=True)
    assert untouched.ok
