"""Placement, payment decisions, funding and reconciliation: the pure rules of a run."""

from __future__ import annotations

import json

import pytest
from pydantic import ValidationError

from models.monero import ATOMIC_UNITS_PER_XMR, MoneroConfig, Nodes
from models.monero_run import ExpectedPayment, Incoming
from sim.monero import agents
from sim.monero.reconcile import reconcile
from tests.monero.configs import small_config

VENDORS: dict[str, tuple[str, ...]] = {"marketplace_0": ("a1", "a2", "a3"), "marketplace_1": ("b1", "b2", "b3")}


def test_each_pool_mines_on_its_own_node_and_agents_are_spread():
    placement = agents.place(small_config())
    assert placement.nodes == ("node_0", "node_1", "node_2")
    assert placement.pool_node == {"pool_alpha": "node_0", "pool_beta": "node_1", "pool_gamma": "node_2"}
    assert placement.wallet_node["bank"] == "node_0"
    assert [placement.wallet_node[f"user_{i}"] for i in range(4)] == ["node_0", "node_1", "node_2", "node_0"]


def test_per_agent_placement_gives_every_agent_its_own_node_as_the_seed_does():
    base = small_config(users=10, marketplaces=2)
    config = base.model_copy(
        update={"network": base.network.model_copy(update={"nodes": Nodes(placement="per_agent")})}
    )
    placement = agents.place(config)
    assert len(placement.nodes) == config.network.node_count == 15
    assert placement.pool_node == {"pool_alpha": "node_0", "pool_beta": "node_1", "pool_gamma": "node_2"}
    hosts = [placement.wallet_node[agent] for agent in [*agents.users(config), *agents.marketplaces(config)]]
    assert hosts == [f"node_{i}" for i in range(3, 15)]
    assert placement.wallet_node["bank"] == "node_0"


def test_per_agent_placement_refuses_a_node_count_that_is_not_one_per_agent():
    text = small_config(users=10, marketplaces=2).model_dump_json()
    document = json.loads(text)
    document["network"]["nodes"] = {"count": 4, "placement": "per_agent"}
    with pytest.raises(ValidationError, match="per_agent gives 15 agents a node each"):
        MoneroConfig.model_validate(document)


def test_payments_are_seeded_per_user_and_minute_and_within_the_range():
    config = small_config(frequency=0.5)
    decisions = [agents.decide_payment(config, f"user_{u}", m, VENDORS) for u in range(4) for m in range(200)]
    again = [agents.decide_payment(config, f"user_{u}", m, VENDORS) for u in range(4) for m in range(200)]
    assert decisions == again
    made = [d for d in decisions if d is not None]
    assert 300 < len(made) < 500  # p = 0.5 of 800
    assert all(0.1 * ATOMIC_UNITS_PER_XMR <= d.amount <= 1.5 * ATOMIC_UNITS_PER_XMR for d in made)
    assert all(VENDORS[d.marketplace][d.vendor_index - 1] == d.address for d in made)
    assert {d.marketplace for d in made} == set(VENDORS)
    other_seed = [agents.decide_payment(small_config(frequency=0.5, seed=8), "user_0", m, VENDORS) for m in range(200)]
    assert other_seed != decisions[:200]


def test_funding_splits_the_initial_balance_exactly():
    amounts = agents.funding_amounts(small_config(), 3)
    assert len(amounts) == 3 and sum(amounts) == 10 * ATOMIC_UNITS_PER_XMR


def test_reconciliation_to_the_atomic_unit():
    expected = [
        ExpectedPayment(tx_hash="t1", vendor_index=1, amount=5),
        ExpectedPayment(tx_hash="t2", vendor_index=2, amount=7),
    ]
    received = [
        Incoming(tx_hash="t1", vendor_index=1, amount=5, height=120),
        Incoming(tx_hash="t2", vendor_index=2, amount=7, height=121),
    ]
    assert reconcile("r", "m", expected, received).ok
    short = [received[0], Incoming(tx_hash="t2", vendor_index=2, amount=6, height=121)]
    report = reconcile("r", "m", expected, short)
    assert not report.ok and report.missing == ("t2",)
    in_pool = [received[0], Incoming(tx_hash="t2", vendor_index=2, amount=7, height=0)]
    assert reconcile("r", "m", expected, in_pool).missing == ("t2",)
    twice = [*received, Incoming(tx_hash="t3", vendor_index=1, amount=5, height=122)]
    assert reconcile("r", "m", expected, twice).unexpected == ("t3",)


def test_a_payment_window_holds_the_minutes_before_the_next_block():
    # A block at 120 s: minutes 0 and 1 pay before it, minute 2 (also at 120 s) after it.
    assert agents.payment_window(0, 3600, 120) == range(0, 2)
    assert agents.payment_window(2, 3600, 240) == range(2, 4)
    # A Poisson block at 61 s: minute 1 (60 s) still pays before it.
    assert agents.payment_window(0, 3600, 61) == range(0, 2)
    assert agents.payment_window(0, 3600, 60) == range(0, 1)
    # No block due before the end: every minute left, none at or past the duration.
    assert agents.payment_window(57, 3600, None) == range(57, 60)
    assert agents.payment_window(59, 3600, None) == range(59, 60)
