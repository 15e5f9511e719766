"""Process and chain activities: plan, genesis, start/stop monerod and wallet-rpc, mine, await propagation.

Each activity does one thing against real processes. Start and stop heartbeat while they wait; a start finds
a process recorded for this run still running and reuses it, so a retried or resumed start never launches a
second one. Mining is idempotent by height: the request names the height its block will have, and a retry that
finds a block there returns it instead of mining another. While a run goes on, ``monero.supervise_nodes``
relaunches a monerod or wallet-rpc found dead (a relaunch takes the same lock as a start, so never two).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TypeVar

import httpx
from prometheus_client import Counter, Gauge, Histogram
from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.monero import genesis as snapshots
from activities.monero.genesis import wait_until
from activities.monero.rpc import DaemonClient, WalletClient
from localnet.monero import processes
from localnet.ports import free_ports
from models.monero_run import (
    Genesis,
    GenesisRequest,
    Mined,
    MinedBlock,
    MineRequest,
    NetworkWait,
    NodePlan,
    NodeReady,
    NodeStart,
    PlanRequest,
    PoolSighting,
    PoolWatch,
    ProcessPlan,
    PropagationRequest,
    PropagationSample,
    Started,
    StopRequest,
    SuperviseRequest,
    TxStatus,
    TxStatusRequest,
    WalletPlan,
    WalletStart,
)
from sim.monero import agents

PROPAGATION = Histogram(
    "monerosim_block_propagation_seconds",
    "Time from a block being mined to a node having it",
    buckets=(0.01, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30),
)
MEMPOOL = Gauge("monerosim_mempool_size", "Transactions in the mining node's pool before it mined", ["node"])
NODE_HEIGHT = Gauge("monerosim_node_height", "Chain height a node reports", ["node"])
IN_POOL = Counter("monerosim_transactions_in_pool", "Sent transactions seen in their node's pool before a block")
RELAUNCHED = Counter(
    "monerosim_processes_relaunched", "monerods and wallet-rpcs found dead mid-run and started again", ["name"]
)


T = TypeVar("T")


def _heartbeat() -> None:
    if activity.in_activity():
        activity.heartbeat()


async def beating(work: Awaitable[T]) -> T:
    """Await ``work`` (one long RPC: creating a wallet on a busy machine takes tens of seconds), heartbeating."""
    task = asyncio.ensure_future(work)
    while True:
        done, _ = await asyncio.wait({task}, timeout=5)
        if done:
            return task.result()
        _heartbeat()


def now_ms() -> int:
    return int(time.time() * 1000)


async def launched_answers(
    process: str, pid: int, port: int, probe: Callable[[], Awaitable[object]], *, gone: str
) -> None:
    """The process just launched (``process``: "monerod node_0") answers on ``port``: it has not exited (``gone``
    says where to look if it has), ``probe`` gets an answer, and that answer came from this PID, not from another
    program holding the port (its own start would then have failed on the bind)."""
    code = processes.exited_early(pid)
    if code is not None:
        raise ApplicationError(f"{process} exited with code {code}{gone}", type="ProcessExited")
    await probe()
    if not processes.listens(pid, port):
        raise ApplicationError(f"{process}: port {port} answers, but not from PID {pid}", type="PortTaken")


class NodeActivities:
    def __init__(self, state_dir: Path, http: httpx.AsyncClient) -> None:
        self._state_dir = state_dir
        self._http = http

    @activity.defn(name="monero.plan_processes")
    async def plan_processes(self, request: PlanRequest) -> ProcessPlan:
        """Ports (free now, on 127.0.0.1), data directories and which node each agent uses."""
        processes.require_binaries()
        config = request.config
        run_dir = (self._state_dir / "monero" / request.run_id).resolve()
        run_dir.mkdir(parents=True, exist_ok=True)
        placement = agents.place(config)
        pool_of = {node: pool for pool, node in placement.pool_node.items()}
        roles = {agents.BANK: "bank"} | dict.fromkeys(agents.users(config), "user")
        roles |= dict.fromkeys(agents.marketplaces(config), "marketplace")
        # One pick for all: ports chosen one at a time can repeat, and then a wallet-rpc and a node's P2P share one.
        ports = iter(free_ports(2 * len(placement.nodes) + len(roles) + len(agents.pools(config))))
        nodes = tuple(
            NodePlan(
                name=name,
                rpc_port=next(ports),
                p2p_port=next(ports),
                data_dir=str(run_dir / "nodes" / name),
                pool=pool_of.get(name),
            )
            for name in placement.nodes
        )
        clash = (set(roles) | set(placement.nodes)) & set(agents.pools(config))
        if clash:
            raise ApplicationError(
                f"mining pool ids must not name another agent or node: {sorted(clash)}",
                type="BadConfig",
                non_retryable=True,
            )
        # A pool's coinbase needs a standard address (monerod cannot mine to a subaddress): a wallet of its own.
        roles |= dict.fromkeys(agents.pools(config), "pool")
        where = placement.wallet_node | placement.pool_node
        wallets = tuple(
            WalletPlan(name=name, role=role, node=where[name], rpc_port=next(ports)) for name, role in roles.items()
        )
        return ProcessPlan(
            run_dir=str(run_dir), difficulty=config.network.consensus.difficulty, nodes=nodes, wallets=wallets
        )

    @activity.defn(name="monero.prepare_genesis")
    async def prepare_genesis(self, request: GenesisRequest) -> Genesis:
        """The snapshot the run's nodes start from: the one given, or one pre-mined now into the run dir."""
        processes.require_binaries()
        if request.source is not None:
            target = Path(request.source)
            record = snapshots.manifest(target)
            if record is None:
                raise ApplicationError(f"{target}: not a genesis snapshot", type="BadGenesis", non_retryable=True)
        else:
            target = Path(request.run_dir) / "genesis"
            record = await beating(
                snapshots.build_snapshot(target, blocks=request.blocks, difficulty=request.difficulty, tick=_heartbeat)
            )
        return Genesis(dir=str(target), height=int(record["height"]), bank_address=str(record["bank_address"]))

    @activity.defn(name="monero.start_node")
    async def start_node(self, request: NodeStart) -> Started:
        plan = request.node
        data_dir = Path(plan.data_dir)
        snapshots.copy_chain(Path(request.genesis_dir), data_dir)
        node = processes.NodeProcess(
            name=plan.name,
            data_dir=data_dir,
            rpc_port=plan.rpc_port,
            p2p_port=plan.p2p_port,
            difficulty=request.difficulty,
            peers=request.peers,
            host=plan.host,
        )
        run_dir = Path(request.run_dir)
        launched = processes.launch(run_dir, plan.name, node.argv(), marker=str(data_dir), log=data_dir / "stdout.log")
        daemon = DaemonClient(self._http, plan.url)

        async def ready() -> None:
            gone = f": see {data_dir / 'monerod.log'}"
            await launched_answers(f"monerod {plan.name}", launched.pid, plan.rpc_port, daemon.height, gone=gone)

        await wait_until(ready, timeout=60, tick=_heartbeat)
        return Started(name=plan.name, pid=launched.pid, reused=launched.reused)

    @activity.defn(name="monero.start_wallet")
    async def start_wallet(self, request: WalletStart) -> Started:
        plan = request.wallet
        run_dir = Path(request.run_dir)
        wallet_dir = run_dir / "wallets"
        wallet_dir.mkdir(parents=True, exist_ok=True)
        if plan.role == "bank":
            snapshots.copy_bank(Path(request.genesis_dir), wallet_dir)
        process = processes.WalletProcess(
            name=plan.name,
            wallet_dir=wallet_dir,
            ringdb_dir=run_dir / "ringdb" / plan.name,
            rpc_port=plan.rpc_port,
            daemon=request.daemon,
            host=plan.host,
            log_file=run_dir / "logs" / f"{plan.name}.log",
        )
        # The marker is the ring database: unique per wallet process, unlike the shared wallet directory.
        marker = str(process.ringdb_dir)
        launched = processes.launch(
            run_dir, plan.name, process.argv(), marker=marker, log=run_dir / "logs" / f"{plan.name}.out"
        )
        client = WalletClient(self._http, plan.url)

        async def ready() -> None:
            await launched_answers(f"wallet-rpc {plan.name}", launched.pid, plan.rpc_port, client.version, gone="")

        await wait_until(ready, timeout=60, tick=_heartbeat)
        try:
            address = (await client.addresses()).address  # already open (a reused process)
        except ApplicationError:
            if (wallet_dir / f"{plan.name}.keys").exists():
                await beating(client.open_wallet(plan.name))
            else:
                await beating(client.create_wallet(plan.name))
            address = (await client.addresses()).address
        return Started(name=plan.name, pid=launched.pid, reused=launched.reused, address=address)

    @activity.defn(name="monero.stop_processes")
    async def stop_processes(self, request: StopRequest) -> list[str]:
        """Stop the recorded processes wave by wave (``waves``; without them, one name after the other): SIGTERM to
        each of a wave, up to 20 s for all of them to exit, then SIGKILL. The names that were running, in order."""
        run_dir = Path(request.run_dir)
        stopped: set[str] = set()
        for wave in request.waves or tuple((name,) for name in request.names):
            _heartbeat()
            stopped.update(await beating(asyncio.to_thread(processes.stop_recorded_all, run_dir, wave)))
        return [name for name in request.names if name in stopped]

    @activity.defn(name="monero.supervise_nodes")
    async def supervise_nodes(self, request: SuperviseRequest) -> None:
        """Until cancelled: every ``every_s`` check each node's recorded process (its PID file, no RPC) and
        relaunch one found dead on its data directory and port, with the command line it was started with (so
        the same peers); monerod reopens its LMDB. Then wait until it answers, has a peer and is at the height of
        the other nodes, so the activities retrying against it meet a node that has caught up."""
        run_dir = Path(request.run_dir)
        while True:
            _heartbeat()
            for node in request.nodes:
                record = processes.recorded(run_dir, node.name)
                if record is None or processes.alive(*record):
                    continue  # running, or stopped on purpose (a stop removes the record)
                launched = await asyncio.to_thread(
                    processes.relaunch, run_dir, node.name, log=Path(node.data_dir) / "stdout.log"
                )
                if launched is None or launched.reused:
                    continue  # stopped meanwhile, or another attempt relaunched it first
                RELAUNCHED.labels(node.name).inc()
                activity.logger.warning("monerod %s was gone: relaunched as PID %d", node.name, launched.pid)
                await self._catch_up(node, request.nodes, launched.pid, request.catch_up_s)
            for wallet in request.wallets:
                await self._revive_wallet(run_dir, wallet)
            await asyncio.sleep(request.every_s)

    async def _revive_wallet(self, run_dir: Path, plan: WalletPlan) -> None:
        """A wallet-rpc found dead: relaunched with its command line, its wallet opened again (it rescans from
        the height it last saved; a payment in flight retries its build or relay against it)."""
        record = processes.recorded(run_dir, plan.name)
        if record is None or processes.alive(*record):
            return
        log = run_dir / "logs" / f"{plan.name}.out"
        launched = await asyncio.to_thread(processes.relaunch, run_dir, plan.name, log=log)
        if launched is None or launched.reused:
            return
        RELAUNCHED.labels(plan.name).inc()
        activity.logger.warning("wallet-rpc %s was gone: relaunched as PID %d", plan.name, launched.pid)
        client = WalletClient(self._http, plan.url)

        async def answering() -> None:
            await launched_answers(
                f"wallet-rpc {plan.name}", launched.pid, plan.rpc_port, client.version, gone=" on relaunch"
            )

        await wait_until(answering, timeout=60, tick=_heartbeat)
        await beating(client.open_wallet(plan.name))

    async def _catch_up(self, node: NodePlan, nodes: tuple[NodePlan, ...], pid: int, timeout: float) -> None:
        daemon = DaemonClient(self._http, node.url)
        others = [DaemonClient(self._http, other.url) for other in nodes if other.name != node.name]

        async def synced() -> None:
            info = await daemon.info()
            heights = []
            for other in others:
                with contextlib.suppress(ApplicationError):  # another one down too: relaunched in its turn
                    heights.append((await other.info()).height)
            if others and info.incoming_connections_count + info.outgoing_connections_count == 0:
                raise ApplicationError(f"{node.name} has no peer yet", type="NodeBehind")
            if info.height < max(heights, default=0):
                raise ApplicationError(f"{node.name} at {info.height}, behind {max(heights)}", type="NodeBehind")

        async def caught_up() -> None:
            await launched_answers(f"monerod {node.name}", pid, node.rpc_port, synced, gone=" on relaunch")

        await wait_until(caught_up, timeout=timeout, tick=_heartbeat, every=0.25)

    @activity.defn(name="monero.await_network")
    async def await_network(self, request: NetworkWait) -> list[NodeReady]:
        """Every node connected to a peer and at ``height`` at least (loopback peering takes seconds)."""
        deadline = time.monotonic() + request.timeout_s
        while True:
            _heartbeat()
            infos = await asyncio.gather(*(DaemonClient(self._http, node.url).info() for node in request.nodes))
            connected = [
                info.incoming_connections_count + info.outgoing_connections_count > 0 or len(request.nodes) == 1
                for info in infos
            ]
            if all(connected) and all(info.height >= request.height for info in infos):
                return [
                    NodeReady(
                        name=node.name,
                        height=info.height,
                        connections=info.incoming_connections_count + info.outgoing_connections_count,
                    )
                    for node, info in zip(request.nodes, infos, strict=True)
                ]
            if time.monotonic() > deadline:
                waiting = [node.name for node, ok in zip(request.nodes, connected, strict=True) if not ok]
                raise ApplicationError(f"nodes not connected or not synced: {waiting}", type="NetworkNotReady")
            await asyncio.sleep(0.25)

    @activity.defn(name="monero.generate_blocks")
    async def generate_blocks(self, request: MineRequest) -> Mined:
        daemon = DaemonClient(self._http, request.node.url)
        top = await daemon.height()
        if top.height > request.expected_height:
            # A previous attempt mined it and its reply was lost: return those blocks, mine nothing more.
            blocks = [
                await self._block_at(daemon, request.expected_height + i)
                for i in range(min(request.count, top.height - request.expected_height))
            ]
            found = Mined(blocks=tuple(blocks), mined_at_ms=now_ms(), took_ms=0, mempool_size=0, found_existing=True)
            return await self._propagated(found, request)
        if top.height < request.expected_height:
            raise ApplicationError(
                f"{request.node.name} is at height {top.height}, behind {request.expected_height}", type="NodeBehind"
            )
        mempool = len(await daemon.pool_hashes())
        started = time.monotonic()
        generated = await daemon.generate_blocks(request.count, request.address)
        mined_at, took = now_ms(), int((time.monotonic() - started) * 1000)
        blocks = [await self._block(daemon, block_hash) for block_hash in generated.blocks]
        MEMPOOL.labels(request.node.name).set(mempool)
        NODE_HEIGHT.labels(request.node.name).set(generated.height + 1)
        mined = Mined(blocks=tuple(blocks), mined_at_ms=mined_at, took_ms=took, mempool_size=mempool)
        return await self._propagated(mined, request)

    async def _propagated(self, mined: Mined, request: MineRequest) -> Mined:
        """``mined`` with the propagation of its last block to the request's ``propagate_to`` nodes, if any."""
        if not request.propagate_to:
            return mined
        last = mined.blocks[-1]
        samples = await self.await_block_arrival(
            PropagationRequest(
                nodes=request.propagate_to, height=last.height, hash=last.hash, mined_at_ms=mined.mined_at_ms
            )
        )
        return mined.model_copy(update={"propagation": tuple(samples)})

    async def _block_at(self, daemon: DaemonClient, height: int) -> MinedBlock:
        header = await daemon.header_at(height)
        return await self._block(daemon, header.hash)

    async def _block(self, daemon: DaemonClient, block_hash: str) -> MinedBlock:
        block = await daemon.block(block_hash)
        header = block.block_header
        return MinedBlock(
            height=header.height,
            hash=header.hash,
            timestamp=header.timestamp,
            reward=header.reward,
            tx_hashes=tuple(block.tx_hashes),
        )

    @activity.defn(name="monero.await_block")
    async def await_block(self, request: PropagationRequest) -> list[PropagationSample]:
        """Poll every node until it has the block at ``height`` with ``hash``; the delay from mining to each."""
        return await self.await_block_arrival(request)

    async def await_block_arrival(self, request: PropagationRequest) -> list[PropagationSample]:
        deadline = time.monotonic() + request.timeout_s

        async def arrival(node: NodePlan) -> PropagationSample:
            daemon = DaemonClient(self._http, node.url)
            pause = 0.02
            while True:
                try:
                    top = await daemon.height()
                    # get_height's height is the block count: the top block's height is one less.
                    if top.height - 1 == request.height and top.hash == request.hash:
                        seen = True
                    elif top.height - 1 > request.height:
                        seen = (await daemon.header_at(request.height)).hash == request.hash
                    else:
                        seen = False
                except ApplicationError:
                    seen = False
                if seen:
                    delay = max(0, now_ms() - request.mined_at_ms)
                    PROPAGATION.observe(delay / 1000)
                    NODE_HEIGHT.labels(node.name).set(request.height + 1)
                    return PropagationSample(node=node.name, delay_ms=delay, height=request.height)
                if time.monotonic() > deadline:
                    raise ApplicationError(
                        f"{node.name} has not got block {request.height} {request.hash[:12]}", type="NotPropagated"
                    )
                _heartbeat()
                # Every node asked every 20 ms is hundreds of requests a second on a 15-node network, CPU taken
                # from the nodes relaying the block: back off to 100 ms, the delay's resolution on a slow arrival.
                await asyncio.sleep(pause)
                pause = min(0.1, pause * 1.5)

        return list(await asyncio.gather(*(arrival(node) for node in request.nodes)))

    @activity.defn(name="monero.tx_status")
    async def tx_status(self, request: TxStatusRequest) -> list[TxStatus]:
        infos = await DaemonClient(self._http, request.daemon_url).transactions(list(request.tx_hashes))
        return [TxStatus(tx_hash=i.tx_hash, in_pool=i.in_pool, height=i.block_height) for i in infos]

    @activity.defn(name="monero.observe_in_pool")
    async def observe_in_pool(self, request: PoolWatch) -> PoolSighting:
        """Poll the node until it reports the transaction in its pool (its "in pool" time) or in a block."""
        return await watch_pool(DaemonClient(self._http, request.daemon_url), request)

    @activity.defn(name="monero.await_in_pools")
    async def await_in_pools(self, request: TxStatusRequest) -> bool:
        """Wait (up to 60 s) until the node's pool holds every transaction named or they are mined; True if so."""
        daemon = DaemonClient(self._http, request.daemon_url)
        deadline = time.monotonic() + 60
        while True:
            _heartbeat()
            infos = await daemon.transactions(list(request.tx_hashes))
            if len(infos) == len(request.tx_hashes):
                return True
            if time.monotonic() > deadline:
                return False
            await asyncio.sleep(0.25)


async def watch_pool(daemon: DaemonClient, request: PoolWatch) -> PoolSighting:
    """Poll the node until it reports the transaction in its pool (its "in pool" time) or in a block."""
    tx_hash = request.tx_hash
    deadline = time.monotonic() + request.timeout_s
    while True:
        _heartbeat()
        for info in await daemon.transactions([tx_hash]):
            if info.in_pool:
                IN_POOL.inc()
                return PoolSighting(tx_hash=tx_hash, in_pool_at_ms=now_ms())
            if info.block_height > 0:
                return PoolSighting(tx_hash=tx_hash, in_pool_at_ms=None, height=info.block_height)
        if time.monotonic() > deadline:
            return PoolSighting(tx_hash=tx_hash, in_pool_at_ms=None)
        await asyncio.sleep(0.1)


def plan_json(plan: ProcessPlan) -> str:
    return json.dumps(plan.model_dump(mode="json"), sort_keys=True)
