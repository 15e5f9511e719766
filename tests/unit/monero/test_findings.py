"""The report's figures from hand-made rows: what each one counts, and the checks that catch rows disagreeing."""

from __future__ import annotations

import json
import math

import pytest

from models.monero_report import (
    RecordedBalance,
    RecordedBlock,
    RecordedPropagation,
    RecordedReconciliation,
    RecordedRun,
    RecordedTransaction,
    RecordedVendor,
    RunRows,
)
from sim.monero.findings import compute_findings
from tests.monero.configs import small_config

XMR = 10**12
POOLS = ["pool_alpha", "pool_beta", "pool_alpha", "pool_gamma", "pool_alpha", "pool_beta"]


def block(
    height: int, pool: str, phase: str, sim_time: int, mined_at_ms: int, txs: tuple[str, ...] = ()
) -> RecordedBlock:
    return RecordedBlock(
        height=height,
        hash=f"{height:064x}",
        pool=pool,
        node="node_0",
        round=height,
        phase=phase,
        sim_time=sim_time,
        timestamp=0,
        mined_at_ms=mined_at_ms,
        took_ms=5,
        mempool_size=len(txs),
        tx_count=len(txs),
        tx_hashes_json=json.dumps(list(txs)),
    )


def payment(
    name: str,
    market: str,
    amount: int,
    *,
    sent_height: int,
    mined: int | None,
    sim_time: int = 0,
    status: str = "mined",
) -> RecordedTransaction:
    return RecordedTransaction(
        payment_id=f"run/pay/{name}",
        tx_hash=None if status == "skipped" else name,
        kind="payment",
        payer="user_0" if name < "m" else "user_1",
        marketplace=market,
        vendor_index=1,
        amount=amount,
        fee=0 if status == "skipped" else 1000,
        status=status,
        sim_time=sim_time,
        sent_at_ms=10_000,
        sent_height=sent_height,
        in_pool_at_ms=None if status == "skipped" else 10_050,
        mined_height=mined,
        mined_at_ms=None,
        confirmations=None if mined is None else 120 - mined,
    )


def rows(*, received_b: int = 2 * XMR, summary: dict[str, object] | None = None) -> RunRows:
    blocks = [block(110, "pool_alpha", "funding", 0, 1_000)]
    blocks += [
        block(111 + i, pool, "run", 120 * (i + 1), 20_000 + 1_000 * i, ("a",) if i == 0 else ("b",) if i == 2 else ())
        for i, pool in enumerate(POOLS)
    ]
    blocks.append(block(117, "pool_beta", "settle", 720, 30_000, ("n",)))
    transactions = (
        payment("a", "marketplace_0", 1 * XMR, sent_height=111, mined=111, sim_time=60),
        payment("b", "marketplace_1", 2 * XMR, sent_height=112, mined=113, sim_time=180),
        payment("n", "marketplace_1", 3 * XMR // 2, sent_height=117, mined=117, sim_time=660),
        payment("s", "marketplace_0", 5 * XMR, sent_height=112, mined=None, status="skipped"),
    )
    propagation = tuple(
        RecordedPropagation(height=h, node=node, delay_ms=delay)
        for h in range(111, 117)
        for node, delay in (("node_0", 1), ("node_1", 40 + h - 111), ("node_2", 90))
    )
    balances = (
        RecordedBalance("start", "user_0", "user", 111, 0, 10 * XMR, 10 * XMR),
        RecordedBalance("end", "user_0", "user", 118, 720, 10 * XMR - (1 * XMR + 1000) - (2 * XMR + 1000), 0),
        RecordedBalance("start", "marketplace_0", "marketplace", 111, 0, 0, 0),
        RecordedBalance("end", "marketplace_0", "marketplace", 118, 720, 1 * XMR, 0),
    )

    def vendors(expected: int, received: int) -> tuple[RecordedVendor, ...]:
        return (RecordedVendor(1, expected, received, 1, 1),)

    reconciliations = (
        RecordedReconciliation("marketplace_0", True, vendors(XMR, XMR), (), ()),
        RecordedReconciliation(
            "marketplace_1", received_b == 2 * XMR, vendors(7 * XMR // 2, received_b + 3 * XMR // 2), (), ()
        ),
    )
    summary = summary or {
        "blocks_by_pool": {"pool_alpha": 3, "pool_beta": 2, "pool_gamma": 1},
        "payments_sent": 3,
    }
    return RunRows(
        run=RecordedRun(run_id="run", seed=7, config_json="{}", final_height=118, summary_json=json.dumps(summary)),
        blocks=tuple(blocks),
        transactions=transactions,
        propagation=propagation,
        balances=balances,
        reconciliations=reconciliations,
    )


def test_blocks_per_pool_count_the_scheduled_blocks_against_the_shares() -> None:
    f = compute_findings(small_config(blocks=6), rows())
    assert f.blocks.total == 8 and f.blocks.by_phase == {"funding": 1, "run": 6, "settle": 1}
    assert [(p.pool, p.observed, p.expected) for p in f.blocks.pools] == [
        ("pool_alpha", 3, pytest.approx(3.0)),
        ("pool_beta", 2, pytest.approx(1.8)),
        ("pool_gamma", 1, pytest.approx(1.2)),
    ]
    assert f.blocks.fit is not None
    statistic = 0 + 0.2**2 / 1.8 + 0.2**2 / 1.2
    assert f.blocks.fit.statistic == pytest.approx(statistic)
    assert f.blocks.fit.p_value == pytest.approx(math.exp(-statistic / 2))
    assert "input" in f.blocks.note
    assert f.checks == []


def test_controller_intervals_are_the_input_and_say_so() -> None:
    f = compute_findings(small_config(blocks=6), rows())
    assert f.intervals.sim_intervals_s == [120] * 6
    assert f.intervals.off_schedule == 0 and f.intervals.fit is None
    assert "by construction" in f.intervals.note
    assert f.intervals.wall_intervals_ms == [1_000] * 5


def test_poisson_intervals_get_a_kolmogorov_smirnov_test_against_the_configured_mean() -> None:
    f = compute_findings(small_config(blocks=6, mode="poisson"), rows())
    assert f.intervals.mode == "poisson" and f.intervals.expected_mean_s == 120
    assert f.intervals.fit is not None and f.intervals.fit.samples == 6
    # Six equal intervals at the mean: the empirical CDF jumps from 0 to 1 at 120, where F(120) = 1 - e^-1; the
    # larger gap is below the jump (1 - e^-1 = 0.632 > e^-1).
    assert f.intervals.fit.statistic == pytest.approx(1 - math.exp(-1))


def test_confirmation_latency_in_blocks_simulated_and_wall_time() -> None:
    f = compute_findings(small_config(blocks=6), rows())
    c = f.confirmation
    assert (c.payments, c.sent, c.skipped, c.seen_in_pool, c.mined) == (4, 3, 1, 3, 3)
    assert c.latency_blocks_histogram == {"1": 2, "2": 1}
    # Simulated: the holding block's sim_time minus the payment's (120 - 60, 360 - 180, 720 - 660).
    assert c.latency_sim_s.min == 60 and c.latency_sim_s.max == 180
    assert c.latency_wall_ms.min == 20_000 - 10_000
    assert c.to_pool_wall_ms.median == 50


def test_propagation_by_node_count_orders_each_blocks_delays() -> None:
    f = compute_findings(small_config(blocks=6), rows())
    p = f.propagation
    assert (p.nodes, p.blocks_measured) == (3, 6)
    assert [(s.nodes, s.delay_ms.max) for s in p.by_node_count] == [(1, 1), (2, 45), (3, 90)]


def test_reconciliation_to_the_atomic_unit_and_a_mismatch_is_reported() -> None:
    f = compute_findings(small_config(blocks=6), rows())
    r = f.reconciliation
    assert [(m.marketplace, m.sent, m.received, m.difference, m.ok) for m in r.marketplaces] == [
        ("marketplace_0", XMR, XMR, 0, True),
        ("marketplace_1", 7 * XMR // 2, 7 * XMR // 2, 0, True),
    ]
    assert r.marketplaces[0].balance_change == XMR
    assert r.reconciled and r.sent_total == r.received_total == 9 * XMR // 2
    [user] = [u for u in r.users if u.user == "user_0"]
    assert (user.sent, user.fees, user.difference) == (3 * XMR, 2000, 0)

    short = compute_findings(small_config(blocks=6), rows(received_b=2 * XMR - 1))
    assert not short.reconciliation.reconciled
    assert short.reconciliation.marketplaces[1].difference == -1
    assert "the marketplaces do not reconcile to the atomic unit" in short.checks


def test_checks_catch_rows_that_disagree_with_the_summary() -> None:
    f = compute_findings(
        small_config(blocks=6), rows(summary={"blocks_by_pool": {"pool_alpha": 6}, "payments_sent": 2})
    )
    assert "blocks by pool differ from the run's summary" in f.checks
    assert "payments sent differ from the run's summary" in f.checks
    assert json.loads(json.dumps(f.json_dict()))["blocks"]["scheduled"] == 6


def test_a_run_still_going_is_not_yet_reconciled_rather_than_short() -> None:
    unfinished = rows()
    unfinished = RunRows(
        run=RecordedRun(run_id="run", seed=7, config_json="{}", final_height=None, summary_json=None),
        blocks=unfinished.blocks,
        transactions=unfinished.transactions,
        propagation=unfinished.propagation,
        balances=unfinished.balances,
        reconciliations=(),
    )
    f = compute_findings(small_config(blocks=6), unfinished)
    r = f.reconciliation
    assert r.pending and not r.reconciled
    assert [(m.sent, m.received, m.difference, m.reconciled) for m in r.marketplaces] == [
        (XMR, None, None, False),
        (7 * XMR // 2, None, None, False),
    ]
    assert "a marketplace has not reconciled yet" in f.checks
    assert "the run has not finished: no summary recorded" in f.checks
    assert "the marketplaces do not reconcile to the atomic unit" not in f.checks
    # Six blocks make expected counts below 5: the note says the approximation is rough there.
    assert "below 5" in f.blocks.note
