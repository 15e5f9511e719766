"""Marketplaces: MarketplaceWorkflow opens one (its vendors are subaddresses of its wallet) and publishes the
vendor addresses to the network workflow by signal, never through a file; ReconcileWorkflow is the marketplace
checking, at the end, what its wallet received against what the users say they sent, to the atomic unit."""

from __future__ import annotations

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from activities.monero.records import RecordActivities
    from activities.monero.wallets import WalletActivities
    from models.monero_run import MarketplaceSpec, ReconcileSpec, Reconciliation, VendorRequest, Vendors
    from sim.monero.reconcile import reconcile
    from workflows.common import search_attributes as sa
    from workflows.monero import options

PUBLISH_SIGNAL = "vendors_published"


@workflow.defn
class MarketplaceWorkflow:
    @workflow.run
    async def run(self, spec: MarketplaceSpec) -> Vendors:
        workflow.upsert_search_attributes([sa.EXPERIMENT.value_set(spec.run_id), sa.AGENT.value_set(spec.name)])
        vendors: Vendors = await workflow.execute_activity_method(
            WalletActivities.create_vendors,
            VendorRequest(marketplace=spec.name, wallet_url=spec.wallet_url, count=spec.vendor_count),
            **options.rpc(120),
            **options.on(spec.host_queue),
        )
        await workflow.get_external_workflow_handle(spec.network_workflow_id).signal(PUBLISH_SIGNAL, vendors)
        return vendors


@workflow.defn
class ReconcileWorkflow:
    @workflow.run
    async def run(self, spec: ReconcileSpec) -> Reconciliation:
        workflow.upsert_search_attributes([sa.EXPERIMENT.value_set(spec.run_id), sa.AGENT.value_set(spec.marketplace)])
        expected = await workflow.execute_activity_method(
            RecordActivities.expected_payments, (spec.run_id, spec.marketplace), **options.store()
        )
        received = await workflow.execute_activity_method(
            WalletActivities.received, spec.wallet_url, **options.rpc(120), **options.on(spec.host_queue)
        )
        report = reconcile(spec.run_id, spec.marketplace, expected, received)
        await workflow.execute_activity_method(RecordActivities.record_reconciliation, report, **options.store())
        return report
