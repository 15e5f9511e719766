"""A monero run's workflows are found in Temporal visibility by run, agent, pool and height."""

from __future__ import annotations

import functools

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine
from temporalio.client import Client

from simctl import visibility
from store import monero as monero_store
from store.tables import MoneroBlockRow, MoneroTransactionRow
from tests.monero.configs import small_config
from tests.polling import eventually
from workflows.common import search_attributes as sa

pytestmark = pytest.mark.monerod


async def listed(client: Client, query: str) -> list[str]:
    return sorted([execution.id async for execution in client.list_workflows(query)])


# A whole network (three nodes, six wallets) on two shared cores: allow more than the suite's default.
@pytest.mark.timeout(900)
async def test_a_visibility_query_by_pool_and_height_finds_the_mining_round(
    monero_network, monero_engine: AsyncEngine, client: Client
):
    run = await monero_network(
        small_config(blocks=4, users=2, marketplaces=1, frequency=0.5, pools=(("pool_alpha", 0.5), ("pool_beta", 0.5)))
    )
    run_id = run.summary.run_id
    blocks = sorted(await monero_store.rows(monero_engine, MoneroBlockRow, run_id), key=lambda b: b["height"])
    scheduled = [b for b in blocks if b["phase"] == "run"]
    assert len(scheduled) == 4
    for block in scheduled:
        query = visibility.monero_rounds(run_id, pool=block["pool"], height=block["height"])
        found = await eventually(functools.partial(listed, client, query), timeout=30, what=query)
        assert found == [f"{run_id}/block/run-{block['round']}"]
        other = next(pool for pool in ("pool_alpha", "pool_beta") if pool != block["pool"])
        assert await listed(client, visibility.monero_rounds(run_id, pool=other, height=block["height"])) == []

    # By pool alone: every round that pool mined, the funding round's included (its Height is its last block's).
    alpha = sorted({f"{run_id}/block/{b['phase']}-{b['round']}" for b in blocks if b["pool"] == "pool_alpha"})
    query = visibility.monero_rounds(run_id, pool="pool_alpha")

    async def all_of_alpha() -> list[str] | None:
        found = await listed(client, query)
        return found if len(found) >= len(alpha) else None

    assert await eventually(all_of_alpha, timeout=30, what=query) == alpha
    funding_top = max(b["height"] for b in blocks if b["phase"] == "funding")
    assert await listed(client, visibility.monero_rounds(run_id, height=funding_top)) == [f"{run_id}/block/funding-1"]

    # The run itself carries the height it has reached; a payment the user (Agent) and the height it was sent at.
    description = await client.get_workflow_handle(run_id).describe()
    assert description.typed_search_attributes.get(sa.HEIGHT) == blocks[-1]["height"]
    payments = [
        t
        for t in await monero_store.rows(monero_engine, MoneroTransactionRow, run_id)
        if t["kind"] == "payment" and t["status"] != "skipped"
    ]
    assert payments, "the run made no payment to look up"
    payment = payments[0]
    query = visibility.all_of(
        visibility.of_type("PaymentWorkflow"),
        visibility.equals(sa.EXPERIMENT, run_id),
        visibility.equals(sa.AGENT, payment["payer"]),
        visibility.equals(sa.HEIGHT, payment["sent_height"]),
    )
    found = await eventually(lambda: listed(client, query), timeout=30, what=query)
    assert payment["payment_id"] in found
