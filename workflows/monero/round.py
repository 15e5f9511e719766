"""MiningRoundWorkflow: one block. The controller's seeded weighted choice of pool (or the Poisson winner the
network workflow drew), ``monero.generate_blocks`` on that pool's node, which also awaits and measures the
block's propagation to every node, the block recorded in the store and on the run's ledger chain."""

from __future__ import annotations

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from activities.monero.nodes import NodeActivities
    from activities.monero.records import RecordActivities
    from models.monero_run import (
        BlockRecord,
        BlockRow,
        MineRequest,
        PropagationRequest,
        RoundResult,
        RoundSpec,
    )
    from sim.monero.agents import stream
    from sim.monero.blocks import choose_pool
    from workflows.common import search_attributes as sa
    from workflows.common.ledger import ChainWriter
    from workflows.monero import options

# Histories recorded before rounds carried Pool and Height replay without that upsert.
SEARCH_POOL_HEIGHT = "monero-round-pool-height"
LOCAL_RECORDS = "monero-local-records"
MINE_AND_PROPAGATE = "monero-mine-and-propagate"


@workflow.defn
class MiningRoundWorkflow:
    @workflow.run
    async def run(self, spec: RoundSpec) -> RoundResult:
        pool = spec.pool or choose_pool(spec.shares, stream(spec.seed, "controller", spec.round))
        workflow.upsert_search_attributes([sa.EXPERIMENT.value_set(spec.run_id), sa.AGENT.value_set(pool)])
        node = spec.plan.pool_node(pool)
        # The mining activity also awaits the block on every node: one activity, not two. Histories recorded
        # before it mine, then schedule monero.await_block.
        propagating = workflow.patched(MINE_AND_PROPAGATE)
        mined = await workflow.execute_activity_method(
            NodeActivities.generate_blocks,
            MineRequest(
                node=node,
                address=spec.pool_addresses[pool],
                expected_height=spec.expected_height,
                count=spec.count,
                propagate_to=spec.plan.nodes if propagating else (),
            ),
            **(options.waiting(240, attempts=0) if propagating else options.rpc(60 + 2 * spec.count)),
            **options.on(spec.host_queue),
        )
        last = mined.blocks[-1]
        if workflow.patched(SEARCH_POOL_HEIGHT):
            workflow.upsert_search_attributes([sa.POOL.value_set(pool), sa.HEIGHT.value_set(last.height)])
        if propagating:
            samples = list(mined.propagation)
        else:
            samples = await workflow.execute_activity_method(
                NodeActivities.await_block,
                PropagationRequest(
                    nodes=spec.plan.nodes, height=last.height, hash=last.hash, mined_at_ms=mined.mined_at_ms
                ),
                **options.waiting(180),
                **options.on(spec.host_queue),
            )
        writer = ChainWriter(spec.cursor, author=pool)
        rows = []
        latencies = []
        for block in mined.blocks:
            writer.add(
                {
                    "run": spec.run_id,
                    "height": block.height,
                    "hash": block.hash,
                    "pool": pool,
                    "node": node.name,
                    "phase": spec.phase,
                    "sim_time": spec.sim_time,
                    "tx_ids": list(block.tx_hashes),
                },
                sim_time=spec.sim_time,
            )
            rows.append(
                BlockRow(
                    height=block.height,
                    hash=block.hash,
                    pool=pool,
                    node=node.name,
                    round=spec.round,
                    phase=spec.phase,
                    sim_time=spec.sim_time,
                    timestamp=block.timestamp,
                    reward=block.reward,
                    mined_at_ms=mined.mined_at_ms,
                    took_ms=mined.took_ms,
                    mempool_size=mined.mempool_size,
                    tx_hashes=block.tx_hashes,
                )
            )
            latencies += [block.height - spec.pending[tx] + 1 for tx in block.tx_hashes if tx in spec.pending]
        record = BlockRecord(
            run_id=spec.run_id,
            blocks=tuple(rows),
            propagation=tuple(samples),
            ledger=writer.take(),
            latencies=tuple(latencies),
        )
        # A store write, idempotent by height: run in the workflow's worker, not through a task queue. Histories
        # recorded before it schedule it as an activity.
        if workflow.patched(LOCAL_RECORDS):
            await workflow.execute_local_activity_method(RecordActivities.record_block, record, **options.store())
        else:
            await workflow.execute_activity_method(RecordActivities.record_block, record, **options.store())
        return RoundResult(
            pool=pool,
            blocks=mined.blocks,
            cursor=writer.cursor,
            max_delay_ms=max((s.delay_ms for s in samples), default=0),
        )
