"""Task queues and what runs on each: the one place that lists every workflow and activity."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

import httpx
from sqlalchemy.ext.asyncio import AsyncEngine

from activities.ads import AdsActivities
from activities.ledger import LedgerActivities
from activities.llm import NegotiationActivities
from activities.monero.host import HostActivities
from activities.monero.nodes import NodeActivities
from activities.monero.records import RecordActivities
from activities.monero.wallets import WalletActivities
from activities.otto.evolution import EvolutionActivities
from activities.otto.fibers import FiberActivities
from activities.otto.identity import IdentityActivities
from activities.otto.keyring import Keyring
from models.settings import Settings
from models.task_queues import TaskQueue, host_queue
from store.engine import open_store
from workflows.ads.campaign import CampaignWorkflow
from workflows.ads.experiment import ExperimentWorkflow
from workflows.monero.marketplace import MarketplaceWorkflow, ReconcileWorkflow
from workflows.monero.network import MoneroNetworkWorkflow
from workflows.monero.payment import PaymentWorkflow
from workflows.monero.round import MiningRoundWorkflow
from workflows.otto.evolution import EvolutionWorkflow
from workflows.otto.fiber import FiberWorkflow
from workflows.otto.generation import GenerationWorkflow
from workflows.otto.identity import AttestationWorkflow, FundAgentsWorkflow, IdentityWorkflow


@dataclass(frozen=True)
class WorkerResources:
    """Long-lived clients that activities share within one worker process."""

    settings: Settings
    engine: AsyncEngine
    http: httpx.AsyncClient
    keyring: Keyring
    # The otto activities' own client (None: they use ``http``).
    ottochain_http: httpx.AsyncClient | None = None


HTTP_TIMEOUT = httpx.Timeout(10.0, connect=5.0)
# On every request httpcore looks at each connection in its pool (two system calls each), so a pool sized for
# many slow peers (wallet-rpc, an LLM) makes each of the otto activities' short requests to one chain cost more
# than it need: they get a pool of their own, small enough to look through and wide enough for the chain.
# A connection idle for 2 s is closed by the client: servers close idle ones after about 5 s (uvicorn's and
# Node's default), and a client that kept them as long (httpx's default is 5 s too) could send on a connection
# the server was closing, which fails the request with a ReadError (seen a few times a run, then retried).
OTTOCHAIN_LIMITS = httpx.Limits(max_connections=16, max_keepalive_connections=16, keepalive_expiry=2.0)


def ottochain_client() -> httpx.AsyncClient:
    """An HTTP client for the otto activities (``WorkerResources.ottochain_http``)."""
    return httpx.AsyncClient(timeout=HTTP_TIMEOUT, limits=OTTOCHAIN_LIMITS)


@asynccontextmanager
async def open_resources(settings: Settings) -> AsyncIterator[WorkerResources]:
    passphrase = settings.wallet_passphrase.get_secret_value() if settings.wallet_passphrase else None
    limits = httpx.Limits(max_connections=200, max_keepalive_connections=50)
    async with (
        open_store(settings.store_url) as engine,
        httpx.AsyncClient(timeout=HTTP_TIMEOUT, limits=limits) as http,
        ottochain_client() as ottochain_http,
    ):
        yield WorkerResources(
            settings=settings, engine=engine, http=http, keyring=Keyring(passphrase), ottochain_http=ottochain_http
        )


@dataclass(frozen=True)
class QueueSpec:
    queue: TaskQueue
    workflows: Sequence[type] = ()
    activities: Callable[[WorkerResources], Sequence[Callable]] = field(default=lambda _: ())
    # Served also on this worker's own queue, `<queue>@<host id>`: work that must stay with a machine's processes.
    host_activities: Callable[[WorkerResources], Sequence[Callable]] | None = None


def platform_activities(resources: WorkerResources) -> Sequence[Callable]:
    return [LedgerActivities(resources.engine).append]


def otto_activities(resources: WorkerResources) -> Sequence[Callable]:
    http = resources.ottochain_http or resources.http
    fibers = FiberActivities(http, resources.keyring)
    identity = IdentityActivities(http, resources.keyring)
    evolution = EvolutionActivities(resources.engine, http, resources.keyring)
    return [
        *fibers.all(),
        *identity.all(),
        evolution.observe_agents,
        evolution.latest_ordinal,
        evolution.allocate_agents,
        evolution.begin_run,
        evolution.load_run,
        evolution.load_population,
        evolution.write_checkpoint,
    ]


def ads_activities(resources: WorkerResources) -> Sequence[Callable]:
    store = AdsActivities(resources.engine)
    return [
        store.register_experiment,
        store.record_day,
        store.read_ledger,
        store.read_ledger_view,
        NegotiationActivities(resources.http).negotiate,
    ]


def monero_activities(resources: WorkerResources) -> Sequence[Callable]:
    settings = resources.settings
    return monero_activity_methods(
        NodeActivities(settings.state_dir, resources.http),
        WalletActivities(resources.http),
        RecordActivities(resources.engine),
        HostActivities(settings.host_id, host_queue(TaskQueue.MONERO, settings.host_id)),
    )


def monero_host_activities(resources: WorkerResources) -> Sequence[Callable]:
    return monero_process_methods(
        NodeActivities(resources.settings.state_dir, resources.http), WalletActivities(resources.http)
    )


def monero_activity_methods(
    nodes: NodeActivities, wallets: WalletActivities, records: RecordActivities, host: HostActivities
) -> list[Callable]:
    """Every monero activity on the shared queue, from the objects that hold their clients (tests pass their own).

    The process activities stay here too: runs started before host queues schedule them on the shared queue."""
    return [host.claim_host, *monero_process_methods(nodes, wallets), *monero_record_methods(records)]


def monero_process_methods(nodes: NodeActivities, wallets: WalletActivities) -> list[Callable]:
    """The activities that start, stop or talk to this machine's monerod and wallet-rpc: a run's host queue."""
    return [
        nodes.plan_processes,
        nodes.prepare_genesis,
        nodes.start_node,
        nodes.start_wallet,
        nodes.stop_processes,
        nodes.await_network,
        nodes.supervise_nodes,
        nodes.generate_blocks,
        nodes.await_block,
        nodes.tx_status,
        nodes.await_in_pools,
        nodes.observe_in_pool,
        wallets.build_transfer,
        wallets.relay_transfer,
        wallets.create_vendors,
        wallets.received,
        wallets.balances,
    ]


def monero_record_methods(records: RecordActivities) -> list[Callable]:
    """The store's monero activities: any worker of the shared queue."""
    return [
        records.record_run,
        records.record_block,
        records.record_payment,
        records.record_balances,
        records.expected_payments,
        records.record_reconciliation,
        records.finish_run,
    ]


MONERO_WORKFLOWS = (
    MoneroNetworkWorkflow,
    MiningRoundWorkflow,
    PaymentWorkflow,
    MarketplaceWorkflow,
    ReconcileWorkflow,
)


QUEUES: tuple[QueueSpec, ...] = (
    QueueSpec(TaskQueue.PLATFORM, workflows=(), activities=platform_activities),
    QueueSpec(
        TaskQueue.OTTO,
        workflows=(
            FiberWorkflow,
            IdentityWorkflow,
            AttestationWorkflow,
            FundAgentsWorkflow,
            GenerationWorkflow,
            EvolutionWorkflow,
        ),
        activities=otto_activities,
    ),
    QueueSpec(TaskQueue.ADS, workflows=(ExperimentWorkflow, CampaignWorkflow), activities=ads_activities),
    QueueSpec(
        TaskQueue.MONERO,
        workflows=MONERO_WORKFLOWS,
        activities=monero_activities,
        host_activities=monero_host_activities,
    ),
)


def workflow_types() -> list[str]:
    """Registered workflow type names, for status and visibility queries."""
    return sorted(
        getattr(workflow_class, "__temporal_workflow_definition").name
        for spec in QUEUES
        for workflow_class in spec.workflows
    )
