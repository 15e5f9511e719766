"""PaymentWorkflow: one payment (or one funding transaction), tied to its workflow id.

The transaction is built without relaying it, then exactly that transaction is relayed (see
activities/monero/wallets.py): a retry at either step, after a lost reply or a worker's crash, pays nothing twice.
The workflow id (``<run>/pay/<user>/<minute>``, ``<run>/fund/<batch>``) is the payment's identity everywhere:
the store's row, the transaction's note in the sender's wallet. After the relay the sender's node is watched until
it reports the transaction in its pool, so the row records sent, in pool and (with its block) mined at height.
"""

from __future__ import annotations

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from activities.monero.nodes import NodeActivities
    from activities.monero.records import RecordActivities
    from activities.monero.wallets import WalletActivities
    from models.monero_run import (
        BuildTransfer,
        PaymentOutcome,
        PaymentRow,
        PaymentSpec,
        PoolSighting,
        PoolWatch,
        Relayed,
        RelayTransfer,
    )
    from workflows.common import search_attributes as sa
    from workflows.monero import options

LOCAL_RECORDS = "monero-local-records"
RELAY_OBSERVES = "monero-relay-observes"


@workflow.defn
class PaymentWorkflow:
    @workflow.run
    async def run(self, spec: PaymentSpec) -> PaymentOutcome:
        payment_id = workflow.info().workflow_id
        # The height it is sent at too; histories recorded before Height was searchable replay without it.
        if workflow.patched("monero-payment-height"):
            workflow.upsert_search_attributes(
                [sa.EXPERIMENT.value_set(spec.run_id), sa.AGENT.value_set(spec.payer), sa.HEIGHT.value_set(spec.height)]
            )
        else:
            workflow.upsert_search_attributes([sa.EXPERIMENT.value_set(spec.run_id), sa.AGENT.value_set(spec.payer)])
        built = await workflow.execute_activity_method(
            WalletActivities.build_transfer,
            # Built on the chain the payment was decided at: the wallet's own node must have it, the others need not.
            BuildTransfer(
                payment_id=payment_id,
                wallet_url=spec.wallet_url,
                destinations=spec.destinations,
                daemon_url=spec.daemon_url,
                at_height=spec.height,
            ),
            **options.rpc(120, attempts=20),
            **options.on(spec.host_queue),
        )
        in_pool_at_ms: int | None = None
        sent_at_ms = int(workflow.now().timestamp() * 1000)
        if built.status == "built":
            # The relay also watches the sender's node's pool: one activity, not two. Histories recorded before it
            # relay, then schedule monero.observe_in_pool.
            observing = workflow.patched(RELAY_OBSERVES)
            relayed: Relayed = await workflow.execute_activity_method(
                WalletActivities.relay_transfer,
                RelayTransfer(
                    payment_id=payment_id,
                    wallet_url=spec.wallet_url,
                    daemon_url=spec.daemon_url,
                    tx_hash=built.tx_hash,
                    tx_metadata=built.tx_metadata,
                    observe=observing,
                ),
                **options.rpc(120, attempts=20),
                **options.on(spec.host_queue),
            )
            # Sent: the relay's reply, before the pool is watched (the time of the workflow task that saw it, or
            # the relay's own clock when the relay watched the pool too).
            sent_at_ms = relayed.relayed_at_ms or int(workflow.now().timestamp() * 1000)
            outcome = PaymentOutcome(
                payment_id=payment_id, status="sent", tx_hash=built.tx_hash, amount=built.amount, fee=built.fee
            )
            if observing:
                in_pool_at_ms = relayed.in_pool_at_ms
            # Histories recorded before the "in pool" state have no such activity: they replay without it.
            elif workflow.patched("payment-in-pool"):
                sighting: PoolSighting = await workflow.execute_activity_method(
                    NodeActivities.observe_in_pool,
                    PoolWatch(daemon_url=spec.daemon_url, tx_hash=built.tx_hash),
                    **options.rpc(30),
                    **options.on(spec.host_queue),
                )
                in_pool_at_ms = sighting.in_pool_at_ms
        else:
            outcome = PaymentOutcome(payment_id=payment_id, status="skipped", reason=built.reason)
        addresses = sorted({d.address for d in spec.destinations})
        row = PaymentRow(
            run_id=spec.run_id,
            payment_id=payment_id,
            kind=spec.kind,
            payer=spec.payer,
            marketplace=spec.marketplace,
            vendor_index=spec.vendor_index,
            address=addresses[0] if len(addresses) == 1 else f"{len(addresses)} addresses",
            amount=sum(d.amount for d in spec.destinations),
            fee=outcome.fee,
            tx_hash=outcome.tx_hash,
            status="in_pool" if in_pool_at_ms is not None else outcome.status,
            reason=outcome.reason,
            sim_time=spec.sim_time,
            sent_at_ms=sent_at_ms,
            sent_height=spec.height,
            in_pool_at_ms=in_pool_at_ms,
        )
        # A store write, idempotent by payment id: run in the workflow's worker, not through a task queue. Histories
        # recorded before it schedule it as an activity.
        if workflow.patched(LOCAL_RECORDS):
            await workflow.execute_local_activity_method(RecordActivities.record_payment, row, **options.store())
        else:
            await workflow.execute_activity_method(RecordActivities.record_payment, row, **options.store())
        return outcome
