"""MoneroNetworkWorkflow: one run of the monero network, from genesis to reconciliation.

Setup (first run only): plan ports, take or pre-mine the genesis snapshot, start every monerod and wallet-rpc,
wait until the nodes peer, give each pool an account of the bank wallet, open the marketplaces (they publish
their vendor addresses to this workflow), fund every user with ``wallet_initial_balance`` from the bank and mine
until those outputs unlock. Then the simulated clock runs: every simulated minute each user pays a vendor with
probability ``transaction_frequency`` (a PaymentWorkflow each), and blocks come from MiningRoundWorkflows, every
``block_time`` (controller mode) or after the Poisson winner's wait. The workflow continues as new every
``rounds_per_run`` rounds, carrying only its state (pending transactions, counts, the ledger cursor). After the
last scheduled block, settle rounds mine until every sent transaction is in a block; then the marketplaces
reconcile, balances are recorded and every process is stopped. Processes are stopped on failure and
cancellation too, never on continue-as-new.

A run's processes all live on one machine (they listen on its loopback). Before anything else the run claims a
host on the shared monero queue and gets back that worker's own queue (``simctl-monero@<host id>``); every
activity that starts, stops or talks to a process, here and in the children, goes there. Store activities and
the workflows themselves stay on the shared queue, for any worker (a payment's and a block's rows are written by
local activities, in the worker that runs the child).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from datetime import datetime, timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():
    from activities.monero.host import HostActivities
    from activities.monero.nodes import NodeActivities
    from activities.monero.records import RecordActivities
    from activities.monero.wallets import WalletActivities
    from models.monero_run import (
        BalanceRecord,
        BalanceRequest,
        Destination,
        FinishRecord,
        Genesis,
        GenesisRequest,
        HostClaim,
        HostClaimRequest,
        MarketplaceSpec,
        NetworkInput,
        NetworkState,
        NetworkSummary,
        NetworkWait,
        NodeStart,
        PaymentOutcome,
        PaymentSpec,
        PlanRequest,
        ProcessPlan,
        ReconcileSpec,
        Reconciliation,
        RoundResult,
        RoundSpec,
        RunRecord,
        RunSpec,
        Started,
        StopRequest,
        SuperviseRequest,
        TxStatusRequest,
        Vendors,
        WalletBalance,
        WalletStart,
    )
    from sim.monero import agents
    from sim.monero.blocks import next_block
    from workflows.common import search_attributes as sa
    from workflows.common.clock import ClockState, SimClock
    from workflows.common.ledger import new_chain
    from workflows.monero import options
    from workflows.monero.marketplace import PUBLISH_SIGNAL, MarketplaceWorkflow, ReconcileWorkflow
    from workflows.monero.payment import PaymentWorkflow
    from workflows.monero.round import MiningRoundWorkflow

SETTLE_ROUNDS = 30
UNLOCK_BLOCKS = 10  # received outputs unlock after 10 blocks
# Patches: histories recorded before them replay the old commands.
MINUTE_WINDOWS = "monero-minute-windows"
SEARCH_HEIGHT = "monero-search-height"
HOST_QUEUE = "monero-host-queue"
RELAUNCH_NODE = "monero-relaunch-node"
PAY_WHILE_PROPAGATING = "monero-pay-while-propagating"
# The run's Height search attribute: each upsert is a visibility write, so at most one per this much workflow time.
HEIGHT_EVERY = timedelta(seconds=5)


@workflow.defn
class MoneroNetworkWorkflow:
    def __init__(self) -> None:
        self._vendors: dict[str, tuple[str, ...]] = {}
        self._marketplaces: set[str] = set()
        self._plan: ProcessPlan | None = None
        self._state: NetworkState | None = None
        self._phase = "starting"
        self._height_published: datetime | None = None
        # The run's host queue; None for runs started before host queues (everything on the workflow's queue).
        self._host: str | None = None
        # The node supervisor of this run segment (monero.supervise_nodes), from the end of the setup on.
        self._watch: workflow.ActivityHandle[None] | None = None

    # --- marketplaces publish here; anyone may read -----------------------------------------------------------

    @workflow.query
    def vendors(self) -> dict[str, list[str]]:
        """Every marketplace's vendor addresses (vendor i is the i-th, 1-based)."""
        return {market: list(addresses) for market, addresses in sorted(self._vendors.items())}

    @workflow.query
    def progress(self) -> dict[str, object]:
        state = self._state
        if state is None:
            return {"phase": self._phase, "host_queue": self._host}
        return {
            "phase": self._phase,
            "round": state.round,
            "height": state.height,
            "sim_time": state.sim_time,
            "blocks_by_pool": dict(state.blocks_by_pool),
            "payments_sent": state.payments_sent,
            "payments_skipped": state.payments_skipped,
            "payments_mined": state.payments_mined,
            "pending": len(state.pending),
            "host_queue": self._host,
        }

    @workflow.signal(name=PUBLISH_SIGNAL)
    def vendors_published(self, vendors: Vendors) -> None:
        """From this run's MarketplaceWorkflows."""
        if vendors.marketplace in self._marketplaces:
            self._vendors[vendors.marketplace] = vendors.addresses

    @workflow.update
    def publish_vendors(self, vendors: Vendors) -> int:
        """For a marketplace that runs elsewhere: publish (or replace) its vendor addresses; the vendor count."""
        self._vendors[vendors.marketplace] = vendors.addresses
        return len(vendors.addresses)

    @publish_vendors.validator
    def _check_vendors(self, vendors: Vendors) -> None:
        if vendors.marketplace not in self._marketplaces:
            raise ValueError(f"no marketplace {vendors.marketplace!r} in this run")

    # --- the run ----------------------------------------------------------------------------------------------

    @workflow.run
    async def run(self, given: NetworkInput) -> NetworkSummary:
        spec = given.spec
        workflow.upsert_search_attributes([sa.EXPERIMENT.value_set(spec.run_id)])
        self._marketplaces = set(agents.marketplaces(spec.config))
        try:
            if given.state is None:
                state = await self._setup(spec)
            else:
                state = given.state
                self._plan = state.plan
                self._host = state.host_queue
                self._vendors = dict(state.vendors)
            self._state = state
            if workflow.patched(RELAUNCH_NODE):
                self._supervise(state.plan)
            state = await self._simulate(spec, state)
            summary = await self._finish(spec, state)
            self._publish_height(summary.final_height, final=True)
        except workflow.ContinueAsNewError:
            await self._unsupervise()
            raise
        except BaseException:
            self._phase = "stopping"
            await self._unsupervise()
            await self._stop_processes()
            raise
        self._phase = "stopping"
        await self._unsupervise()
        await self._stop_processes()
        self._phase = "done"
        return summary

    async def _setup(self, spec: RunSpec) -> NetworkState:
        config = spec.config
        self._phase = "setup"
        if workflow.patched(HOST_QUEUE):
            # Any worker of the shared queue may take the claim; from here on the run's processes are on its host.
            claim: HostClaim = await workflow.execute_activity_method(
                HostActivities.claim_host, HostClaimRequest(run_id=spec.run_id), **options.rpc(30, 10)
            )
            self._host = claim.task_queue
        host = options.on(self._host)
        plan = await workflow.execute_activity_method(
            NodeActivities.plan_processes, PlanRequest(run_id=spec.run_id, config=config), **options.rpc(30, 3), **host
        )
        self._plan = plan
        await workflow.execute_activity_method(
            RecordActivities.record_run,
            RunRecord(
                run_id=spec.run_id,
                seed=config.simulation.seed,
                config_json=config.model_dump_json(),
                plan_json=plan.model_dump_json(),
            ),
            **options.store(),
        )
        genesis: Genesis = await workflow.execute_activity_method(
            NodeActivities.prepare_genesis,
            GenesisRequest(
                run_dir=plan.run_dir,
                source=spec.genesis_dir,
                blocks=spec.premine_blocks,
                difficulty=plan.difficulty,
            ),
            **options.waiting(900, attempts=3),
            **host,
        )
        await asyncio.gather(
            *(
                workflow.execute_activity_method(
                    NodeActivities.start_node,
                    NodeStart(
                        run_dir=plan.run_dir,
                        node=node,
                        peers=plan.peers(node.name),
                        genesis_dir=genesis.dir,
                        difficulty=plan.difficulty,
                    ),
                    **options.waiting(120),
                    **host,
                )
                for node in plan.nodes
            )
        )
        started: list[Started] = list(
            await asyncio.gather(
                *(
                    workflow.execute_activity_method(
                        NodeActivities.start_wallet,
                        WalletStart(
                            run_dir=plan.run_dir,
                            wallet=wallet,
                            daemon=plan.node(wallet.node).rpc,
                            genesis_dir=genesis.dir,
                        ),
                        **options.waiting(180),
                        **host,
                    )
                    for wallet in plan.wallets
                )
            )
        )
        addresses = {s.name: s.address or "" for s in started}
        await workflow.execute_activity_method(
            NodeActivities.await_network,
            NetworkWait(nodes=plan.nodes, height=genesis.height),
            **options.waiting(180, attempts=2),
            **host,
        )
        pools = agents.pools(config)
        pool_addresses = {pool: addresses[pool] for pool in pools}

        self._phase = "marketplaces"
        await asyncio.gather(
            *(
                workflow.execute_child_workflow(
                    MarketplaceWorkflow.run,
                    MarketplaceSpec(
                        run_id=spec.run_id,
                        name=market,
                        wallet_url=plan.wallet(market).url,
                        vendor_count=config.network.agents.marketplaces.config.wallet_count,
                        network_workflow_id=workflow.info().workflow_id,
                        host_queue=self._host,
                    ),
                    id=f"{spec.run_id}/market/{market}",
                )
                for market in sorted(self._marketplaces)
            )
        )
        await workflow.wait_condition(lambda: set(self._vendors) >= self._marketplaces)

        self._phase = "funding"
        bank = plan.wallet(agents.BANK)
        amounts = agents.funding_amounts(config, spec.funding_outputs)
        per_tx = max(1, 15 // len(amounts))
        users = agents.users(config)
        funding_txs = []
        for batch, start in enumerate(range(0, len(users), per_tx)):
            outcome = await workflow.execute_child_workflow(
                PaymentWorkflow.run,
                PaymentSpec(
                    run_id=spec.run_id,
                    kind="funding",
                    payer=agents.BANK,
                    wallet_url=bank.url,
                    daemon_url=plan.node(bank.node).url,
                    destinations=tuple(
                        Destination(address=addresses[user], amount=amount)
                        for user in users[start : start + per_tx]
                        for amount in amounts
                    ),
                    sim_time=0,
                    height=genesis.height,
                    host_queue=self._host,
                ),
                id=f"{spec.run_id}/fund/{batch}",
            )
            if outcome.status != "sent" or outcome.tx_hash is None:
                raise ApplicationError(f"the bank cannot fund the users: {outcome.reason}", non_retryable=True)
            funding_txs.append(outcome.tx_hash)
        state = NetworkState(
            plan=plan,
            genesis=genesis,
            pool_addresses=pool_addresses,
            vendors=dict(self._vendors),
            cursor=new_chain(f"monero/{spec.run_id}"),
            sim_time=0,
            next_minute=0,
            next_block_time=0,
            next_block_pool=None,
            round=0,
            height=genesis.height,
            pending=tuple(funding_txs),
            blocks_by_pool=dict.fromkeys(pools, 0),
            host_queue=self._host,
        )
        self._state = state
        # The funding is mined by the first pool, then the outputs unlock: blocks of the setup, not of the run.
        # Wait until Dandelion++ has fluffed it to every node: a transaction still in its stem is not mined.
        await asyncio.gather(
            *(
                workflow.execute_activity_method(
                    NodeActivities.await_in_pools,
                    TxStatusRequest(daemon_url=node.url, tx_hashes=tuple(funding_txs)),
                    **options.waiting(120),
                    **host,
                )
                for node in plan.nodes
            )
        )
        state = await self._mine(spec, state, phase="funding", pool=pools[0], count=UNLOCK_BLOCKS + 1)
        if state.pending:
            raise ApplicationError(f"funding transactions not mined: {list(state.pending)}", non_retryable=True)
        await self._balances(spec, state, "start")
        return self._schedule_next_block(
            spec, state.model_copy(update={"round": 0, "blocks_by_pool": dict.fromkeys(pools, 0)})
        )

    def _schedule_next_block(self, spec: RunSpec, state: NetworkState) -> NetworkState:
        config = spec.config
        block_time = config.network.consensus.block_time
        upcoming = state.round + 1
        if config.simulation.block_mode == "controller":
            return state.model_copy(update={"next_block_time": round(upcoming * block_time), "next_block_pool": None})
        drawn = next_block(config.pool_shares(), block_time, agents.stream(config.simulation.seed, "poisson", upcoming))
        return state.model_copy(
            update={
                "next_block_time": state.next_block_time + max(1, round(drawn.wait_seconds)),
                "next_block_pool": drawn.pool,
            }
        )

    async def _simulate(self, spec: RunSpec, state: NetworkState) -> NetworkState:
        self._phase = "running"
        duration = spec.config.simulation.duration
        clock = SimClock(ClockState(acceleration=spec.config.simulation.acceleration, now=state.sim_time))
        rounds_here = 0
        while True:
            minutes_first = self._minutes_first(spec, state)
            if not minutes_first and state.next_block_time > duration:
                return state
            if not minutes_first:
                await clock.advance_to(state.next_block_time)
                state = state.model_copy(update={"sim_time": clock.now})
                if spec.config.simulation.acceleration == 0 and workflow.patched(PAY_WHILE_PROPAGATING):
                    state = await self._mine_and_pay(spec, state, clock)
                else:
                    state = await self._mine(spec, state, phase="run", pool=state.next_block_pool)
                    state = self._schedule_next_block(spec, state)
                self._state = state
                rounds_here += 1
                if rounds_here >= spec.rounds_per_run or workflow.info().is_continue_as_new_suggested():
                    await workflow.wait_condition(workflow.all_handlers_finished)
                    workflow.continue_as_new(
                        NetworkInput(
                            spec=spec,
                            state=state.model_copy(
                                update={"vendors": dict(self._vendors), "run_segment": state.run_segment + 1}
                            ),
                        )
                    )
            elif spec.config.simulation.acceleration == 0 and workflow.patched(MINUTE_WINDOWS):
                # As fast as possible: the minutes up to the next block pay together (each user's in order), so a
                # run waits once per block for its payments, not once per simulated minute.
                window = self._window(spec, state)
                await clock.advance_to(window[-1] * 60)
                state = state.model_copy(update={"sim_time": clock.now})
                state = await self._minutes(spec, state, window)
                self._state = state
            else:
                await clock.advance_to(state.next_minute * 60)
                state = state.model_copy(update={"sim_time": clock.now})
                state = await self._minute(spec, state)
                self._state = state

    @staticmethod
    def _minutes_first(spec: RunSpec, state: NetworkState) -> bool:
        """Whether the next simulated minute comes before the next block and the end (a block due at a minute's own
        time comes first)."""
        minute_time = state.next_minute * 60
        block_due = state.next_block_time <= spec.config.simulation.duration
        return minute_time < spec.config.simulation.duration and not (
            block_due and state.next_block_time <= minute_time
        )

    @staticmethod
    def _window(spec: RunSpec, state: NetworkState) -> range:
        """The minutes from the next one that pay together: up to the next block, or to the end."""
        duration = spec.config.simulation.duration
        block_due = state.next_block_time <= duration
        return agents.payment_window(state.next_minute, duration, state.next_block_time if block_due else None)

    async def _minute(self, spec: RunSpec, state: NetworkState) -> NetworkState:
        plan = state.plan
        minute = state.next_minute
        decisions = [
            decision
            for user in agents.users(spec.config)
            if (decision := agents.decide_payment(spec.config, user, minute, self._vendors)) is not None
        ]
        outcomes: list[PaymentOutcome] = list(
            await asyncio.gather(
                *(
                    workflow.execute_child_workflow(
                        PaymentWorkflow.run,
                        PaymentSpec(
                            run_id=spec.run_id,
                            kind="payment",
                            payer=d.user,
                            wallet_url=plan.wallet(d.user).url,
                            daemon_url=plan.node(plan.wallet(d.user).node).url,
                            destinations=(Destination(address=d.address, amount=d.amount),),
                            marketplace=d.marketplace,
                            vendor_index=d.vendor_index,
                            sim_time=state.sim_time,
                            height=state.height,
                            host_queue=self._host,
                        ),
                        id=f"{spec.run_id}/pay/{d.user}/{minute}",
                    )
                    for d in decisions
                )
            )
        )
        sent = [o.tx_hash for o in outcomes if o.status == "sent" and o.tx_hash]
        return state.model_copy(
            update={
                "next_minute": minute + 1,
                "pending": (*state.pending, *sent),
                "sent_at_height": {**state.sent_at_height, **dict.fromkeys(sent, state.height)},
                "payments_sent": state.payments_sent + len(sent),
                "payments_skipped": state.payments_skipped + len(outcomes) - len(sent),
            }
        )

    async def _minutes(self, spec: RunSpec, state: NetworkState, minutes: range) -> NetworkState:
        """Every user's payments of ``minutes``: one user's in minute order (one wallet), users side by side."""
        return self._paid(state, minutes, await self._pay_window(spec, state, minutes))

    async def _pay_window(self, spec: RunSpec, state: NetworkState, minutes: range) -> list[PaymentOutcome]:
        plan = state.plan
        by_user: dict[str, list[tuple[int, agents.Decision]]] = {}
        for user in agents.users(spec.config):
            for minute in minutes:
                decision = agents.decide_payment(spec.config, user, minute, self._vendors)
                if decision is not None:
                    by_user.setdefault(user, []).append((minute, decision))

        async def in_turn(decisions: list[tuple[int, agents.Decision]]) -> list[PaymentOutcome]:
            outcomes = []
            for minute, d in decisions:
                wallet = plan.wallet(d.user)
                outcome: PaymentOutcome = await workflow.execute_child_workflow(
                    PaymentWorkflow.run,
                    PaymentSpec(
                        run_id=spec.run_id,
                        kind="payment",
                        payer=d.user,
                        wallet_url=wallet.url,
                        daemon_url=plan.node(wallet.node).url,
                        destinations=(Destination(address=d.address, amount=d.amount),),
                        marketplace=d.marketplace,
                        vendor_index=d.vendor_index,
                        sim_time=minute * 60,
                        height=state.height,
                        host_queue=self._host,
                    ),
                    id=f"{spec.run_id}/pay/{d.user}/{minute}",
                )
                outcomes.append(outcome)
            return outcomes

        chains = await asyncio.gather(*(in_turn(decisions) for decisions in by_user.values()))
        return [outcome for chain in chains for outcome in chain]

    @staticmethod
    def _paid(state: NetworkState, minutes: range, outcomes: list[PaymentOutcome]) -> NetworkState:
        sent = [o.tx_hash for o in outcomes if o.status == "sent" and o.tx_hash]
        return state.model_copy(
            update={
                "next_minute": minutes.stop,
                "pending": (*state.pending, *sent),
                "sent_at_height": {**state.sent_at_height, **dict.fromkeys(sent, state.height)},
                "payments_sent": state.payments_sent + len(sent),
                "payments_skipped": state.payments_skipped + len(outcomes) - len(sent),
            }
        )

    async def _mine_and_pay(self, spec: RunSpec, state: NetworkState, clock: SimClock) -> NetworkState:
        """A scheduled block and, while it propagates, the payments of the minutes up to the next one.

        Each payment waits only until its own wallet's node has the new block (monero.build_transfer's
        ``at_height``), not every node: the propagation to the last node, measured by the round, overlaps the
        payments. A payment is relayed only after its node has the block, so it cannot enter that block; the
        next block is mined only after both the round and the payments are done, as when they ran in turn."""
        number = state.round + 1
        round_ = await workflow.start_child_workflow(
            MiningRoundWorkflow.run,
            self._round_spec(spec, state, phase="run", pool=state.next_block_pool, count=1),
            id=f"{spec.run_id}/block/run-{number}",
        )
        mined_height = state.height + 1
        # The next block's time depends on the round number alone, so the window is known before the block is.
        ahead = self._schedule_next_block(spec, state.model_copy(update={"round": number}))
        window: range | None = None
        outcomes: list[PaymentOutcome] = []
        if self._minutes_first(spec, ahead):
            window = self._window(spec, ahead)
            await clock.advance_to(window[-1] * 60)
            paying = ahead.model_copy(update={"sim_time": clock.now, "height": mined_height})
            outcomes = await self._pay_window(spec, paying, window)
        result: RoundResult = await round_
        state = self._schedule_next_block(spec, self._take_round(state, result, phase="run"))
        if state.height != mined_height:
            raise ApplicationError(
                f"round {number} left the chain at {state.height} blocks, expected {mined_height}", non_retryable=True
            )
        if window is None:
            return state
        return self._paid(state.model_copy(update={"sim_time": clock.now}), window, outcomes)

    def _publish_height(self, height: int, *, final: bool = False) -> None:
        """The Height search attribute, the top block's (``height`` counts blocks), at most every HEIGHT_EVERY."""
        if not workflow.patched(SEARCH_HEIGHT):
            return
        now = workflow.now()
        if final or self._height_published is None or now - self._height_published >= HEIGHT_EVERY:
            workflow.upsert_search_attributes([sa.HEIGHT.value_set(height - 1)])
            self._height_published = now

    async def _mine(
        self, spec: RunSpec, state: NetworkState, *, phase: str, pool: str | None, count: int = 1
    ) -> NetworkState:
        result: RoundResult = await workflow.execute_child_workflow(
            MiningRoundWorkflow.run,
            self._round_spec(spec, state, phase=phase, pool=pool, count=count),
            id=f"{spec.run_id}/block/{phase}-{state.round + 1}",
        )
        return self._take_round(state, result, phase=phase)

    def _round_spec(self, spec: RunSpec, state: NetworkState, *, phase: str, pool: str | None, count: int) -> RoundSpec:
        config = spec.config
        return RoundSpec(
            run_id=spec.run_id,
            round=state.round + 1,
            sim_time=state.sim_time,
            phase=phase,
            seed=config.simulation.seed,
            shares=config.pool_shares(),
            pool=pool,
            plan=state.plan,
            pool_addresses=state.pool_addresses,
            expected_height=state.height,
            cursor=state.cursor,
            count=count,
            pending={tx: state.sent_at_height.get(tx, state.height) for tx in state.pending},
            host_queue=self._host,
        )

    def _take_round(self, state: NetworkState, result: RoundResult, *, phase: str) -> NetworkState:
        """The state after a round: its blocks, the pending transactions they mined, the pool's count."""
        self._publish_height(result.height + 1)
        mined = {tx for block in result.blocks for tx in block.tx_hashes}
        still = tuple(tx for tx in state.pending if tx not in mined)
        newly = len(state.pending) - len(still)
        # Blocks by pool and the pool sequence count the scheduled rounds only; payments count in settle rounds too.
        scheduled = phase == "run"
        return state.model_copy(
            update={
                "round": state.round + 1,
                "height": result.height + 1,
                "cursor": result.cursor,
                "pending": still,
                "sent_at_height": {tx: h for tx, h in state.sent_at_height.items() if tx in still},
                "payments_mined": state.payments_mined + (newly if phase != "funding" else 0),
                "blocks_by_pool": {
                    **state.blocks_by_pool,
                    result.pool: state.blocks_by_pool.get(result.pool, 0) + (len(result.blocks) if scheduled else 0),
                },
                "pool_digest": agents.pool_digest(state.pool_digest, result.pool) if scheduled else state.pool_digest,
            }
        )

    async def _finish(self, spec: RunSpec, state: NetworkState) -> NetworkSummary:
        self._phase = "settling"
        plan = state.plan
        scheduled_rounds = state.round
        for _ in range(SETTLE_ROUNDS):
            if not state.pending:
                break
            # Dandelion++ relays a transaction in seconds: wait until every pool's node has them, then mine.
            await asyncio.gather(
                *(
                    workflow.execute_activity_method(
                        NodeActivities.await_in_pools,
                        TxStatusRequest(daemon_url=plan.pool_node(pool).url, tx_hashes=state.pending),
                        **options.waiting(120),
                        **options.on(self._host),
                    )
                    for pool in agents.pools(spec.config)
                )
            )
            state = await self._mine(spec, state, phase="settle", pool=None)
            self._state = state

        self._phase = "reconciling"
        reconciliations: list[Reconciliation] = list(
            await asyncio.gather(
                *(
                    workflow.execute_child_workflow(
                        ReconcileWorkflow.run,
                        ReconcileSpec(
                            run_id=spec.run_id,
                            marketplace=market,
                            wallet_url=plan.wallet(market).url,
                            host_queue=self._host,
                        ),
                        id=f"{spec.run_id}/market/{market}/reconcile",
                    )
                    for market in sorted(self._marketplaces)
                )
            )
        )
        balances = await self._balances(spec, state, "end")
        summary = NetworkSummary(
            run_id=spec.run_id,
            rounds=scheduled_rounds,
            settle_blocks=state.round - scheduled_rounds,
            final_height=state.height,
            blocks_by_pool=state.blocks_by_pool,
            pool_sequence_digest=state.pool_digest,
            payments_sent=state.payments_sent,
            payments_skipped=state.payments_skipped,
            payments_mined=state.payments_mined,
            unmined=state.pending,
            reconciliations=tuple(reconciliations),
            balances=tuple(balances),
        )
        await workflow.execute_activity_method(
            RecordActivities.finish_run,
            FinishRecord(
                run_id=spec.run_id,
                final_height=state.height,
                summary_json=json.dumps(summary.model_dump(mode="json"), sort_keys=True),
            ),
            **options.store(),
        )
        return summary

    async def _balances(self, spec: RunSpec, state: NetworkState, phase: str) -> list[WalletBalance]:
        balances: list[WalletBalance] = await workflow.execute_activity_method(
            WalletActivities.balances,
            BalanceRequest(wallets=state.plan.wallets),
            **options.rpc(120),
            **options.on(self._host),
        )
        await workflow.execute_activity_method(
            RecordActivities.record_balances,
            BalanceRecord(
                run_id=spec.run_id, phase=phase, height=state.height, sim_time=state.sim_time, balances=tuple(balances)
            ),
            **options.store(),
        )
        return balances

    def _supervise(self, plan: ProcessPlan) -> None:
        """Keep the processes running while the rounds and payments go on: a monerod (or wallet-rpc) killed
        mid-run is relaunched and caught up within seconds, so the activities retrying against its port meet it
        again before their retries run out."""
        self._watch = workflow.start_activity_method(
            NodeActivities.supervise_nodes,
            SuperviseRequest(run_dir=plan.run_dir, nodes=plan.nodes, wallets=plan.wallets),
            # It runs until cancelled; the heartbeat notices a dead worker and the retry resumes on the next.
            start_to_close_timeout=timedelta(days=30),
            heartbeat_timeout=timedelta(seconds=10),
            retry_policy=RetryPolicy(initial_interval=timedelta(seconds=1), maximum_interval=timedelta(seconds=10)),
            # Wait until it has stopped: a supervisor still running would relaunch the nodes being stopped.
            cancellation_type=workflow.ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
            **options.on(self._host),
        )

    async def _unsupervise(self) -> None:
        watch, self._watch = self._watch, None
        if watch is None or watch.done():
            return
        watch.cancel()
        with contextlib.suppress(ActivityError, asyncio.CancelledError):  # cancelled, as asked
            await watch

    async def _stop_processes(self) -> None:
        plan = self._plan
        if plan is None:
            return
        # Wallets first (they save on SIGTERM), then nodes; each group all at once.
        wallets, nodes = tuple(w.name for w in plan.wallets), tuple(n.name for n in plan.nodes)
        await workflow.execute_activity_method(
            NodeActivities.stop_processes,
            StopRequest(run_dir=plan.run_dir, names=wallets + nodes, waves=(wallets, nodes)),
            start_to_close_timeout=timedelta(seconds=30 * len(wallets + nodes) + 30),
            heartbeat_timeout=timedelta(seconds=60),
            **options.on(self._host),
        )
