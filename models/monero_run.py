"""What crosses the monero run's workflow and activity boundaries: the process plan, genesis, blocks,
payments, balances and reconciliation.

Amounts are atomic units (1 XMR = 10^12). Times named ``*_ms`` are wall-clock milliseconds since the Unix
epoch, measured by activities; ``sim_time`` is simulated seconds since the run's start.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from models.ledger import AppendBatch, ChainHead
from models.monero import MoneroConfig


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


# --- the run and its processes ------------------------------------------------------------------------------


class RunSpec(_Frozen):
    run_id: str = Field(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9._-]+$")
    config: MoneroConfig
    # A genesis snapshot prepared beforehand (tests pre-mine once per session); None: the run pre-mines its own.
    genesis_dir: str | None = None
    premine_blocks: int = Field(100, ge=80, le=1000, description="ring size 16 needs ~76+ blocks before a spend")
    # Outputs each user is funded with: change is locked for 10 blocks, so one big output allows one payment per 10.
    funding_outputs: int = Field(8, ge=1, le=15)
    rounds_per_run: int = Field(60, ge=1, description="mining rounds before continue-as-new")


class NodePlan(_Frozen):
    name: str
    host: str = "127.0.0.1"
    rpc_port: int
    p2p_port: int
    data_dir: str
    pool: str | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.rpc_port}"

    @property
    def p2p(self) -> str:
        return f"{self.host}:{self.p2p_port}"

    @property
    def rpc(self) -> str:
        return f"{self.host}:{self.rpc_port}"


WalletRole = Literal["bank", "user", "marketplace", "pool"]


class WalletPlan(_Frozen):
    name: str
    role: WalletRole
    node: str
    host: str = "127.0.0.1"
    rpc_port: int

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.rpc_port}"


class HostClaimRequest(_Frozen):
    run_id: str


class HostClaim(_Frozen):
    """The worker host that holds a run's processes, and the task queue only its workers poll."""

    host_id: str
    task_queue: str


class PlanRequest(_Frozen):
    run_id: str
    config: MoneroConfig


class ProcessPlan(_Frozen):
    run_dir: str
    difficulty: int
    nodes: tuple[NodePlan, ...]
    wallets: tuple[WalletPlan, ...]

    def node(self, name: str) -> NodePlan:
        return next(node for node in self.nodes if node.name == name)

    def wallet(self, name: str) -> WalletPlan:
        return next(wallet for wallet in self.wallets if wallet.name == name)

    def pool_node(self, pool: str) -> NodePlan:
        return next(node for node in self.nodes if node.pool == pool)

    def peers(self, name: str) -> tuple[str, ...]:
        return tuple(node.p2p for node in self.nodes if node.name != name)


class GenesisRequest(_Frozen):
    run_dir: str
    source: str | None = None
    blocks: int = 100
    difficulty: int = 1


class Genesis(_Frozen):
    dir: str
    height: int = Field(description="the chain's height (block count) in the snapshot")
    bank_address: str


class NodeStart(_Frozen):
    run_dir: str
    node: NodePlan
    peers: tuple[str, ...]
    genesis_dir: str
    difficulty: int


class WalletStart(_Frozen):
    run_dir: str
    wallet: WalletPlan
    daemon: str = Field(description="host:port of the node's RPC")
    genesis_dir: str


class Started(_Frozen):
    name: str
    pid: int
    reused: bool
    address: str | None = Field(None, description="a wallet's primary address")


class StopRequest(_Frozen):
    run_dir: str
    names: tuple[str, ...]
    waves: tuple[tuple[str, ...], ...] = Field(
        (), description="the names again, in groups stopped one after the other, each all at once; () = one by one"
    )


class NetworkWait(_Frozen):
    nodes: tuple[NodePlan, ...]
    height: int
    timeout_s: float = 120.0


class SuperviseRequest(_Frozen):
    """A run's nodes to keep running: checked every ``every_s``; one found dead is relaunched and caught up."""

    run_dir: str
    nodes: tuple[NodePlan, ...]
    wallets: tuple[WalletPlan, ...] = ()
    every_s: float = 1.0
    catch_up_s: float = 120.0


class NodeReady(_Frozen):
    name: str
    height: int
    connections: int


# --- blocks ------------------------------------------------------------------------------------------------


class MineRequest(_Frozen):
    node: NodePlan
    address: str
    expected_height: int = Field(description="the height the new block gets: a retry finds it instead of mining")
    count: int = Field(1, ge=1)
    propagate_to: tuple[NodePlan, ...] = Field(
        (), description="then wait until these nodes have the last block, measuring when each got it"
    )


class PropagationSample(_Frozen):
    node: str
    delay_ms: int
    height: int


class MinedBlock(_Frozen):
    height: int
    hash: str
    timestamp: int
    reward: int
    tx_hashes: tuple[str, ...]


class Mined(_Frozen):
    blocks: tuple[MinedBlock, ...]
    mined_at_ms: int
    took_ms: int
    mempool_size: int = Field(description="transactions in the mining node's pool just before it mined")
    found_existing: bool = False
    propagation: tuple[PropagationSample, ...] = Field((), description="one per node of the request's propagate_to")


class PropagationRequest(_Frozen):
    nodes: tuple[NodePlan, ...]
    height: int
    hash: str
    mined_at_ms: int
    timeout_s: float = 120.0


class RoundSpec(_Frozen):
    run_id: str
    round: int
    sim_time: int
    phase: Literal["run", "funding", "settle"] = "run"
    seed: int
    shares: dict[str, float]
    pool: str | None = Field(None, description="the winner when it is already known (poisson); None: choose here")
    plan: ProcessPlan
    pool_addresses: dict[str, str]
    expected_height: int
    cursor: ChainHead
    count: int = 1
    pending: dict[str, int] = Field(default_factory=dict, description="sent, unmined transactions: height sent at")
    host_queue: str | None = Field(None, description="the run's host queue; None: the workflow's own (older runs)")


class BlockRow(_Frozen):
    height: int
    hash: str
    pool: str
    node: str
    round: int
    phase: str
    sim_time: int
    timestamp: int
    reward: int
    mined_at_ms: int
    took_ms: int
    mempool_size: int
    tx_hashes: tuple[str, ...]


class BlockRecord(_Frozen):
    run_id: str
    blocks: tuple[BlockRow, ...]
    propagation: tuple[PropagationSample, ...]
    ledger: AppendBatch | None = None
    latencies: tuple[int, ...] = Field((), description="blocks from sending to this block, per payment it mined")


class RoundResult(_Frozen):
    pool: str
    blocks: tuple[MinedBlock, ...]
    cursor: ChainHead
    max_delay_ms: int

    @property
    def height(self) -> int:
        return self.blocks[-1].height


# --- payments ----------------------------------------------------------------------------------------------


class Destination(_Frozen):
    address: str
    amount: int = Field(gt=0)


class BuildTransfer(_Frozen):
    payment_id: str
    wallet_url: str
    destinations: tuple[Destination, ...]
    daemon_url: str | None = Field(None, description="the wallet's node; None: build without waiting (older runs)")
    at_height: int | None = Field(
        None, description="the block count the wallet's node must have reached before the wallet refreshes and builds"
    )


class Built(_Frozen):
    status: Literal["built", "insufficient"]
    reason: str = ""
    tx_hash: str = ""
    fee: int = 0
    amount: int = 0
    tx_metadata: str = ""


class RelayTransfer(_Frozen):
    payment_id: str
    wallet_url: str
    daemon_url: str
    tx_hash: str
    tx_metadata: str
    observe: bool = Field(False, description="then watch the sender's node until it has the transaction in its pool")


class Relayed(_Frozen):
    tx_hash: str
    already: bool = Field(description="a previous attempt had relayed it: nothing was sent now")
    relayed_at_ms: int | None = Field(None, description="wall clock at the relay's reply (with observe)")
    in_pool_at_ms: int | None = Field(None, description="wall clock when the node first had it in its pool")


class PaymentSpec(_Frozen):
    run_id: str
    kind: Literal["payment", "funding"]
    payer: str
    wallet_url: str
    daemon_url: str
    destinations: tuple[Destination, ...]
    marketplace: str | None = None
    vendor_index: int | None = None
    sim_time: int
    height: int = Field(description="the chain's height when the payment was decided")
    host_queue: str | None = Field(None, description="the run's host queue; None: the workflow's own (older runs)")


class PaymentRow(_Frozen):
    run_id: str
    payment_id: str
    kind: str
    payer: str
    marketplace: str | None
    vendor_index: int | None
    address: str
    amount: int
    fee: int
    tx_hash: str | None
    status: Literal["sent", "in_pool", "skipped"]
    reason: str
    sim_time: int
    sent_at_ms: int
    sent_height: int
    in_pool_at_ms: int | None = Field(None, description="when the sender's node first had it in its pool")


class PaymentOutcome(_Frozen):
    payment_id: str
    status: Literal["sent", "skipped"]
    tx_hash: str | None = None
    amount: int = 0
    fee: int = 0
    reason: str = ""


# --- marketplaces ------------------------------------------------------------------------------------------


class VendorRequest(_Frozen):
    marketplace: str
    wallet_url: str
    count: int = Field(ge=1)


class Vendors(_Frozen):
    marketplace: str
    addresses: tuple[str, ...] = Field(min_length=1, description="vendor i (1-based) is subaddress i")


class MarketplaceSpec(_Frozen):
    run_id: str
    name: str
    wallet_url: str
    vendor_count: int
    network_workflow_id: str
    host_queue: str | None = Field(None, description="the run's host queue; None: the workflow's own (older runs)")


class Incoming(_Frozen):
    tx_hash: str
    vendor_index: int
    amount: int
    height: int = Field(description="0 while in the pool")


class ExpectedPayment(_Frozen):
    tx_hash: str
    vendor_index: int
    amount: int


class VendorReconciliation(_Frozen):
    vendor_index: int
    expected: int
    received: int
    expected_count: int
    received_count: int


class Reconciliation(_Frozen):
    run_id: str
    marketplace: str
    vendors: tuple[VendorReconciliation, ...]
    missing: tuple[str, ...] = Field(description="sent to this marketplace, not (yet) received")
    unexpected: tuple[str, ...] = Field(description="received, but no user says it sent it")

    @property
    def ok(self) -> bool:
        return not self.missing and not self.unexpected and all(v.expected == v.received for v in self.vendors)


class ReconcileSpec(_Frozen):
    run_id: str
    marketplace: str
    wallet_url: str
    host_queue: str | None = Field(None, description="the run's host queue; None: the workflow's own (older runs)")


# --- balances and the end of a run -------------------------------------------------------------------------


class BalanceRequest(_Frozen):
    wallets: tuple[WalletPlan, ...]


class WalletBalance(_Frozen):
    wallet: str
    role: str
    balance: int
    unlocked: int


class BalanceRecord(_Frozen):
    run_id: str
    phase: str
    height: int
    sim_time: int
    balances: tuple[WalletBalance, ...]


class RunRecord(_Frozen):
    run_id: str
    seed: int
    config_json: str
    plan_json: str


class FinishRecord(_Frozen):
    run_id: str
    final_height: int
    summary_json: str


class TxStatusRequest(_Frozen):
    daemon_url: str
    tx_hashes: tuple[str, ...]


class TxStatus(_Frozen):
    tx_hash: str
    in_pool: bool
    height: int


class PoolWatch(_Frozen):
    daemon_url: str
    tx_hash: str
    timeout_s: float = 10.0


class PoolSighting(_Frozen):
    tx_hash: str
    in_pool_at_ms: int | None = Field(description="wall clock when the node first reported it in its pool")
    height: int = Field(0, description="the block holding it, when it was already mined; 0 otherwise")


# --- the network workflow ----------------------------------------------------------------------------------


class NetworkState(_Frozen):
    """What the network workflow carries across continue-as-new."""

    plan: ProcessPlan
    genesis: Genesis
    pool_addresses: dict[str, str]
    vendors: dict[str, tuple[str, ...]]
    cursor: ChainHead
    sim_time: int
    next_minute: int
    next_block_time: int
    next_block_pool: str | None
    round: int
    height: int
    pending: tuple[str, ...] = Field(description="sent transactions not yet seen in a block")
    sent_at_height: dict[str, int] = Field(default_factory=dict)
    blocks_by_pool: dict[str, int]
    pool_digest: str = Field("", description="sha256 chain over the pools in round order")
    payments_sent: int = 0
    payments_skipped: int = 0
    payments_mined: int = 0
    run_segment: int = 0
    host_queue: str | None = Field(None, description="the run's host queue; None: the workflow's own (older runs)")


class NetworkInput(_Frozen):
    spec: RunSpec
    state: NetworkState | None = None


class NetworkSummary(_Frozen):
    run_id: str
    rounds: int = Field(description="scheduled blocks: the controller's or the Poisson miners'")
    settle_blocks: int = Field(0, description="blocks mined after the last scheduled one until every payment was in")
    final_height: int
    blocks_by_pool: dict[str, int]
    pool_sequence_digest: str = Field(description="sha256 of the pools in round order (same seed, same digest)")
    payments_sent: int
    payments_skipped: int
    payments_mined: int
    unmined: tuple[str, ...]
    reconciliations: tuple[Reconciliation, ...]
    balances: tuple[WalletBalance, ...]

    @property
    def reconciled(self) -> bool:
        return all(r.ok for r in self.reconciliations)
