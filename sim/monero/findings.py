"""The monero report's figures, each computed from a run's recorded rows (``models.monero_report``).

Inputs (the config) appear only where a figure is compared against them, and a figure that equals an input by
construction says so in its ``note``: the configured shares, and controller mode's block interval (the workflow
schedules a block every ``block_time`` simulated seconds, so the simulated intervals cannot differ from it).
"""

from __future__ import annotations

import itertools
import json
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from typing import Any

from pydantic import BaseModel, ConfigDict

from models.monero import MoneroConfig
from models.monero_report import RecordedBlock, RecordedTransaction, RunRows
from sim.monero import stats

JSON_DECIMALS = 6


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Summary(_Model):
    """Descriptive statistics of one sample; every field None when it is empty."""

    count: int
    mean: float | None
    median: float | None
    p90: float | None
    min: float | None
    max: float | None

    @classmethod
    def of(cls, values: Sequence[float]) -> Summary:
        if not values:
            return cls(count=0, mean=None, median=None, p90=None, min=None, max=None)
        return cls(
            count=len(values),
            mean=sum(values) / len(values),
            median=stats.quantile(values, 0.5),
            p90=stats.quantile(values, 0.9),
            min=min(values),
            max=max(values),
        )


class PoolBlocks(_Model):
    pool: str
    share: float  # the config's hashrate_share, normalised: an input
    expected: float  # scheduled blocks x share
    observed: int
    observed_share: float | None


class FitTest(_Model):
    test: str  # "chi-square" or "kolmogorov-smirnov"
    statistic: float
    degrees_of_freedom: int | None = None
    samples: int
    p_value: float


class BlocksFindings(_Model):
    total: int
    by_phase: dict[str, int]
    scheduled: int  # phase "run": the controller's or the Poisson miners' blocks; the ones tested
    pools: list[PoolBlocks]
    fit: FitTest | None
    note: str


class IntervalFindings(_Model):
    mode: str
    expected: str  # the distribution the intervals are tested against
    expected_mean_s: float
    sim_intervals_s: list[int]  # between scheduled blocks, the first from the run's start
    sim: Summary
    off_schedule: int | None  # controller mode: intervals that are not block_time (0 by construction)
    fit: FitTest | None
    wall_intervals_ms: list[int]
    wall: Summary
    note: str


class ConfirmationFindings(_Model):
    payments: int  # decided: sent or skipped
    sent: int
    skipped: int
    seen_in_pool: int
    mined: int
    unmined: list[str]
    latency_blocks: Summary  # the block that holds it, counting from the first block after sending (1 = next)
    latency_blocks_histogram: dict[str, int]
    latency_sim_s: Summary  # simulated: the holding block's sim_time - the payment's sim_time
    latency_wall_ms: Summary  # wall clock: the block mined - the relay's reply
    to_pool_wall_ms: Summary  # wall clock: the relay's reply - first seen in the sender's node's pool
    confirmations_at_end: Summary
    note: str


class PropagationStep(_Model):
    nodes: int  # the block is on this many nodes (the miner's included)
    blocks: int
    delay_ms: Summary


class NodePropagation(_Model):
    node: str
    delay_ms: Summary


class PropagationFindings(_Model):
    nodes: int
    blocks_measured: int
    by_node_count: list[PropagationStep]
    by_node: list[NodePropagation]
    note: str


class MarketplaceBalance(_Model):
    marketplace: str
    payments: int  # sent by users to this marketplace (transaction rows)
    sent: int  # atomic units the users' rows say they sent
    reconciled: bool  # the marketplace has recorded its reconciliation (at the run's end); None below until then
    expected: int | None  # what the marketplace's reconciliation expected (from the same rows, per vendor)
    received: int | None  # what its wallet received, mined, by vendor
    difference: int | None  # received - sent
    balance_change: int | None  # its wallet's balance at the end - at the start
    missing: int | None
    unexpected: int | None
    ok: bool


class UserBalance(_Model):
    user: str
    payments: int
    sent: int
    fees: int
    balance_change: int | None  # end - start; a user that only pays loses sent + fees
    difference: int | None  # balance_change + sent + fees


class ReconciliationFindings(_Model):
    pending: bool  # some marketplace has not reconciled yet (the run has not finished)
    marketplaces: list[MarketplaceBalance]
    users: list[UserBalance]
    sent_total: int
    received_total: int
    reconciled: bool  # every marketplace ok and, in sum, received == sent to the atomic unit


class Findings(_Model):
    run_id: str
    recorded_rows: dict[str, int]
    final_height: int | None
    blocks: BlocksFindings
    intervals: IntervalFindings
    confirmation: ConfirmationFindings
    propagation: PropagationFindings
    reconciliation: ReconciliationFindings
    checks: list[str]  # recorded rows that disagree with each other; empty when they all agree

    def json_dict(self) -> dict[str, Any]:
        """The JSON form: floats rounded so float noise never changes the bytes."""
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


# --- computing them ------------------------------------------------------------------------------------------


def compute_findings(config: MoneroConfig, rows: RunRows) -> Findings:
    blocks = sorted(rows.blocks, key=lambda b: b.height)
    scheduled = [b for b in blocks if b.phase == "run"]
    findings = Findings(
        run_id=rows.run.run_id,
        recorded_rows={
            "blocks": len(rows.blocks),
            "transactions": len(rows.transactions),
            "propagation": len(rows.propagation),
            "balances": len(rows.balances),
            "reconciliations": len(rows.reconciliations),
        },
        final_height=rows.run.final_height,
        blocks=_blocks(config, blocks, scheduled),
        intervals=_intervals(config, scheduled),
        confirmation=_confirmation(blocks, [t for t in rows.transactions if t.kind == "payment"]),
        propagation=_propagation(rows),
        reconciliation=_reconciliation(rows),
        checks=[],
    )
    return findings.model_copy(update={"checks": _checks(findings, blocks, rows)})


def _blocks(
    config: MoneroConfig, blocks: Sequence[RecordedBlock], scheduled: Sequence[RecordedBlock]
) -> BlocksFindings:
    shares = config.pool_shares()
    observed = Counter(b.pool for b in scheduled)
    n = len(scheduled)
    # A pool outside the config would be a fault, reported by the checks; the test covers the configured pools.
    fit = stats.chi_square_fit({pool: observed.get(pool, 0) for pool in shares}, shares)
    mode = config.simulation.block_mode
    how = (
        "the block controller's seeded weighted choice each round"
        if mode == "controller"
        else "the earliest of the pools' seeded exponential waits each round"
    )
    return BlocksFindings(
        total=len(blocks),
        by_phase=dict(sorted(Counter(b.phase for b in blocks).items())),
        scheduled=n,
        pools=[
            PoolBlocks(
                pool=pool,
                share=share,
                expected=n * share,
                observed=observed.get(pool, 0),
                observed_share=observed.get(pool, 0) / n if n else None,
            )
            for pool, share in sorted(shares.items())
        ],
        fit=None
        if fit is None
        else FitTest(
            test="chi-square",
            statistic=fit.statistic,
            degrees_of_freedom=fit.degrees_of_freedom,
            samples=n,
            p_value=fit.p_value,
        ),
        note=(
            "share is the config's hashrate_share normalised to sum to 1 (an input, not a finding); expected = "
            f"scheduled blocks x share. Which pool mined is {how} (monerod mines on demand at fixed difficulty), "
            "so the test checks that schedule against the shares. Funding and settle blocks are left out."
            + (
                " Some expected counts are below 5, where the chi-square approximation of the statistic is rough."
                if fit is not None and min(fit.expected.values()) < 5
                else ""
            )
        ),
    )


def _intervals(config: MoneroConfig, scheduled: Sequence[RecordedBlock]) -> IntervalFindings:
    block_time = config.network.consensus.block_time
    # Shares are normalised, so the network's mean interval is block_time / 1 in either mode.
    mean = block_time / sum(config.pool_shares().values())
    times = [0, *(b.sim_time for b in scheduled)]
    sim = [later - earlier for earlier, later in itertools.pairwise(times)]
    walls = [b.mined_at_ms for b in scheduled]
    wall = [later - earlier for earlier, later in itertools.pairwise(walls)]
    acceleration = config.simulation.acceleration
    pace = "as fast as the machine goes" if acceleration == 0 else f"{acceleration:g} simulated seconds per second"
    wall_note = f"Wall-clock intervals are between the mining calls, at acceleration {acceleration:g} ({pace})."
    if config.simulation.block_mode == "controller":
        off = sum(1 for interval in sim if interval != round(block_time))
        return IntervalFindings(
            mode="controller",
            expected=f"fixed: every interval is block_time = {block_time:g} s",
            expected_mean_s=block_time,
            sim_intervals_s=sim,
            sim=Summary.of(sim),
            off_schedule=off,
            fit=None,
            wall_intervals_ms=wall,
            wall=Summary.of(wall),
            note=(
                "Controller mode schedules a block every block_time simulated seconds, so these intervals equal "
                "the input by construction; off_schedule counts any that do not (a fault, not a statistic). "
                + wall_note
            ),
        )
    ks = stats.ks_test(sim, stats.exponential_cdf(mean))
    return IntervalFindings(
        mode="poisson",
        expected=f"exponential with mean block_time / total share = {mean:g} s",
        expected_mean_s=mean,
        sim_intervals_s=sim,
        sim=Summary.of(sim),
        off_schedule=None,
        fit=None
        if ks is None
        else FitTest(test="kolmogorov-smirnov", statistic=ks.statistic, samples=ks.samples, p_value=ks.p_value),
        wall_intervals_ms=wall,
        wall=Summary.of(wall),
        note=(
            "Poisson mode draws each pool's wait from a seeded exponential and the earliest mines; the recorded "
            "simulated intervals are those draws rounded to whole seconds (at least 1), tested against the "
            "exponential the config implies (no parameter estimated from the data). " + wall_note
        ),
    )


def _confirmation(blocks: Sequence[RecordedBlock], payments: Sequence[RecordedTransaction]) -> ConfirmationFindings:
    by_height = {b.height: b for b in blocks}
    sent = [t for t in payments if t.status != "skipped"]
    mined = [t for t in sent if t.mined_height is not None]
    latency_blocks = [t.mined_height - t.sent_height + 1 for t in mined if t.mined_height is not None]
    holding = [(t, by_height.get(t.mined_height)) for t in mined if t.mined_height is not None]
    return ConfirmationFindings(
        payments=len(payments),
        sent=len(sent),
        skipped=len(payments) - len(sent),
        seen_in_pool=sum(1 for t in sent if t.in_pool_at_ms is not None),
        mined=len(mined),
        unmined=sorted(t.payment_id for t in sent if t.mined_height is None),
        latency_blocks=Summary.of(latency_blocks),
        latency_blocks_histogram={str(k): v for k, v in sorted(Counter(latency_blocks).items())},
        latency_sim_s=Summary.of([b.sim_time - t.sim_time for t, b in holding if b is not None]),
        latency_wall_ms=Summary.of([b.mined_at_ms - t.sent_at_ms for t, b in holding if b is not None]),
        to_pool_wall_ms=Summary.of([t.in_pool_at_ms - t.sent_at_ms for t in sent if t.in_pool_at_ms is not None]),
        confirmations_at_end=Summary.of([t.confirmations for t in mined if t.confirmations is not None]),
        note=(
            "Payments only (users' funding left out). Blocks: 1 = mined in the first block after it was sent. "
            "Simulated latency counts from the simulated minute it was sent; payments still pending after the "
            "last scheduled block are mined by settle blocks at the run's end time. Wall clock: sent is the "
            "relay's reply as the payment's workflow saw it, in pool is when the sender's node first listed it."
        ),
    )


def _propagation(rows: RunRows) -> PropagationFindings:
    by_height: dict[int, list[int]] = defaultdict(list)
    by_node: dict[str, list[int]] = defaultdict(list)
    for sample in rows.propagation:
        by_height[sample.height].append(sample.delay_ms)
        by_node[sample.node].append(sample.delay_ms)
    nodes = max((len(delays) for delays in by_height.values()), default=0)
    reached: dict[int, list[int]] = defaultdict(list)
    for delays in by_height.values():
        for k, delay in enumerate(sorted(delays), start=1):
            reached[k].append(delay)
    return PropagationFindings(
        nodes=nodes,
        blocks_measured=len(by_height),
        by_node_count=[
            PropagationStep(nodes=k, blocks=len(reached[k]), delay_ms=Summary.of(reached[k])) for k in sorted(reached)
        ],
        by_node=[NodePropagation(node=node, delay_ms=Summary.of(by_node[node])) for node in sorted(by_node)],
        note=(
            "For each block, the k-th smallest of its nodes' delays is when k nodes had it (the mining node "
            "counts: it is polled like the others). Delays are wall clock from the mining call's reply to the "
            "poll that saw the block; polls run every 20 ms, so that is the resolution."
        ),
    )


def _reconciliation(rows: RunRows) -> ReconciliationFindings:
    payments = [t for t in rows.transactions if t.kind == "payment" and t.status != "skipped"]
    change = _balance_changes(rows)
    markets = sorted({r.marketplace for r in rows.reconciliations} | {t.marketplace for t in payments if t.marketplace})
    reconciliations = {r.marketplace: r for r in rows.reconciliations}
    marketplaces = []
    for market in markets:
        paid = [t for t in payments if t.marketplace == market]
        record = reconciliations.get(market)
        sent = sum(t.amount for t in paid)
        if record is None:
            marketplaces.append(
                MarketplaceBalance(
                    marketplace=market,
                    payments=len(paid),
                    sent=sent,
                    reconciled=False,
                    expected=None,
                    received=None,
                    difference=None,
                    balance_change=change.get(market),
                    missing=None,
                    unexpected=None,
                    ok=False,
                )
            )
            continue
        received = sum(v.received for v in record.vendors)
        marketplaces.append(
            MarketplaceBalance(
                marketplace=market,
                payments=len(paid),
                sent=sent,
                reconciled=True,
                expected=sum(v.expected for v in record.vendors),
                received=received,
                difference=received - sent,
                balance_change=change.get(market),
                missing=len(record.missing),
                unexpected=len(record.unexpected),
                ok=record.ok and received == sent,
            )
        )
    users = []
    for user in sorted({t.payer for t in payments} | {b.wallet for b in rows.balances if b.role == "user"}):
        paid = [t for t in payments if t.payer == user]
        amount, fees = sum(t.amount for t in paid), sum(t.fee for t in paid)
        delta = change.get(user)
        users.append(
            UserBalance(
                user=user,
                payments=len(paid),
                sent=amount,
                fees=fees,
                balance_change=delta,
                difference=None if delta is None else delta + amount + fees,
            )
        )
    sent_total = sum(m.sent for m in marketplaces)
    received_total = sum(m.received or 0 for m in marketplaces)
    return ReconciliationFindings(
        pending=not all(m.reconciled for m in marketplaces),
        marketplaces=marketplaces,
        users=users,
        sent_total=sent_total,
        received_total=received_total,
        reconciled=bool(marketplaces) and all(m.ok for m in marketplaces) and sent_total == received_total,
    )


def _balance_changes(rows: RunRows) -> dict[str, int]:
    start = {b.wallet: b.balance for b in rows.balances if b.phase == "start"}
    end = {b.wallet: b.balance for b in rows.balances if b.phase == "end"}
    return {wallet: end[wallet] - start[wallet] for wallet in sorted(start.keys() & end.keys())}


def _checks(f: Findings, blocks: Sequence[RecordedBlock], rows: RunRows) -> list[str]:
    """Where recorded rows disagree with each other or with the run's summary (empty: they agree)."""
    problems = []
    if sum(p.observed for p in f.blocks.pools) != f.blocks.scheduled:
        problems.append("scheduled blocks include pools that are not in the config")
    heights = [b.height for b in blocks]
    if heights and heights != list(range(heights[0], heights[0] + len(heights))):
        problems.append("the recorded block heights have gaps")
    if f.final_height is not None and heights and f.final_height != heights[-1] + 1:
        problems.append(f"final height {f.final_height} is not the last block {heights[-1]} + 1")
    if f.confirmation.unmined:
        problems.append(f"{len(f.confirmation.unmined)} sent payments never mined")
    if f.reconciliation.pending:
        problems.append("a marketplace has not reconciled yet")
    elif not f.reconciliation.reconciled:
        problems.append("the marketplaces do not reconcile to the atomic unit")
    mined = {tx for b in blocks for tx in _hashes(b)}
    lost = [t.payment_id for t in rows.transactions if t.mined_height is not None and t.tx_hash not in mined]
    if lost:
        problems.append(f"{len(lost)} transactions marked mined are in no recorded block")
    summary = json.loads(rows.run.summary_json) if rows.run.summary_json else None
    if summary is not None:
        by_pool = {p.pool: p.observed for p in f.blocks.pools if p.observed}
        if {k: v for k, v in summary.get("blocks_by_pool", {}).items() if v} != by_pool:
            problems.append("blocks by pool differ from the run's summary")
        if summary.get("payments_sent") != f.confirmation.sent:
            problems.append("payments sent differ from the run's summary")
    else:
        problems.append("the run has not finished: no summary recorded")
    return problems


def _hashes(block: RecordedBlock) -> Iterable[str]:
    hashes: list[str] = json.loads(block.tx_hashes_json)
    return hashes
