"""GenerationWorkflow: one generation of the traffic simulator's population.

The population is read from the store by reference (run, generation). Then: read every agent's reputation
and balance from the chain; plan the lifecycles from the agents' traits (``sim.otto.generation``: initiators
by activity level, types by fiber weights, counterparties by risk tolerance against reputation, everyone in
at least one); run them as FiberWorkflow children, at most ``concurrency`` at a time, a failed child
counting as a failed lifecycle; as each one ends, report its settled contract on the parties' AgentIdentity
fibers (a completion, or a violation on the party that caused a failure: ``sim.otto.social``), each a
ContractReport fiber created and filed by a counterparty, whose trigger records it on the identity;
issue the generation's attestations (at the rate the traits give, each by its issuer); read the
chain again and score each agent (``sim.otto.evolution``); select; give the newcomers their traits; and
write the checkpoint (stats, fitness, selection, next population) with the ledger entry that seals its
summary, in one activity. The newcomers' wallets are taken from the pool and registered once while the
lifecycles run: how many there will be is known from the start, only their traits wait for selection.

All randomness comes from streams named by (seed, generation, purpose), so a replay, a retry and a run
resumed from the previous checkpoint make the same choices.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable, Sequence
from datetime import timedelta
from typing import NamedTuple

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError, ChildWorkflowError

with workflow.unsafe.imports_passed_through():
    from activities.otto.evolution import EvolutionActivities
    from models.evolution import (
        AgentObservation,
        AllocateAgents,
        AllocatedAgent,
        ChainHealthView,
        Checkpoint,
        GenerationSpec,
        GenerationSummary,
        Lifecycle,
        LifecycleResult,
        Member,
        ObserveAgents,
        PopulationRef,
    )
    from models.otto import (
        AgentTraits,
        AttestationSpec,
        CreateFiber,
        FiberOutcome,
        FiberSpec,
        IdentitySpec,
        OttoEndpoints,
        Party,
    )
    from sim.canonical import canonical_json, sha256_hex
    from sim.otto.evolution import fitness, select
    from sim.otto.fibers.contract_report import REPORT_DEFINITION, report_initial_data
    from sim.otto.generation import (
        generation_stats,
        measure,
        newcomer_count,
        next_population,
        plan_generation,
        records,
        stream,
    )
    from sim.otto.social import (
        ContractReport,
        PlannedAttestation,
        attestation_counts,
        contract_reports,
        plan_attestations,
    )
    from workflows.common import search_attributes as sa
    from workflows.common.ledger import ChainWriter
    from workflows.otto.chain import Chain
    from workflows.otto.fiber import FiberWorkflow
    from workflows.otto.health import GATED_RETRY, ChainGate
    from workflows.otto.identity import AttestationWorkflow, IdentityWorkflow, issue_attestation

STORE_RETRY = RetryPolicy(initial_interval=timedelta(milliseconds=200), maximum_interval=timedelta(seconds=10))
STORE_TIMEOUT = timedelta(seconds=60)
CHAIN_READ_TIMEOUT = timedelta(seconds=120)
# A generation watches the chain while its work is in flight (ChainGate.watch); histories from before do not.
CHAIN_WATCH = "otto-chain-watch"
# A lifecycle's contract reports are filed when it ends; histories from before file them all after the last one.
REPORT_AS_LIFECYCLES_END = "otto-report-as-lifecycles-end"
# The generation issues its attestations itself, as it files reports; histories from before start an
# AttestationWorkflow child for each (a child costs a start, three workflow tasks and an end of its own).
ATTEST_IN_GENERATION = "otto-attest-in-generation"
# The newcomers' wallets are allocated and registered while the lifecycles run (their number is known at the
# start, only their traits wait for selection); histories from before register them after selection.
ENROL_WHILE_LIVING = "otto-enrol-newcomers-early"
# Names fiber ids: a replayed, retried or resumed generation drives the same fibers, never new copies.
FIBER_NAMESPACE = uuid.UUID("5f0c2a8e-77a4-4c55-9d1e-0b7a6c3e2d41")


def fiber_id(run_id: str, generation: int, lifecycle: Lifecycle) -> str:
    """Named by the run, the generation and everything the lifecycle is: a re-run that plans the same
    lifecycle drives the fiber already on chain, one that plans another gets a fiber of its own."""
    name = (
        f"{run_id}/{generation}/{lifecycle.index}/{lifecycle.fiber_type}/{','.join(lifecycle.parties)}/{lifecycle.seed}"
    )
    return str(uuid.uuid5(FIBER_NAMESPACE, name))


def report_id(report: ContractReport) -> str:
    """A report's fiber, named by what it reports: one per (contract, kind, subject), whoever files it."""
    return str(uuid.uuid5(FIBER_NAMESPACE, f"report/{report.contract_id}/{report.kind}/{report.subject}"))


def attestation_id(run_id: str, generation: int, index: int, planned: PlannedAttestation) -> str:
    """Named like fibers: a replayed or resumed generation issues the same attestation, not a copy."""
    name = f"{run_id}/{generation}/attestation/{index}/{planned.kind}/{planned.issuer}/{planned.subject}"
    return str(uuid.uuid5(FIBER_NAMESPACE, name))


async def observe(endpoints: OttoEndpoints, members: Sequence[Member]) -> dict[str, AgentObservation]:
    """A few attempts only: the generation makes this read through its chain gate, which counts a read that
    still fails on the breaker and makes it again once the breaker lets it."""
    observed = await workflow.execute_activity_method(
        EvolutionActivities.observe_agents,
        ObserveAgents(endpoints=endpoints, agents=list(members)),
        start_to_close_timeout=CHAIN_READ_TIMEOUT,
        retry_policy=GATED_RETRY,
    )
    return {observation.agent_id: observation for observation in observed}


class Enrolled(NamedTuple):
    """A wallet of the pool with its registered identity: a newcomer waiting for its traits."""

    agent_id: str
    address: str
    identity_fiber_id: str


async def enrol(
    *, run_id: str, generation: int, count: int, endpoints: OttoEndpoints, wallets: str, concurrency: int
) -> list[Enrolled]:
    """New places in the run: wallets from the pool (allocated once per generation), each registered through
    an IdentityWorkflow child, which finds an existing identity instead of registering twice."""
    if count == 0:
        return []
    allocated = await workflow.execute_activity_method(
        EvolutionActivities.allocate_agents,
        AllocateAgents(run_id=run_id, generation=generation, count=count, wallets=wallets),
        start_to_close_timeout=STORE_TIMEOUT,
        retry_policy=STORE_RETRY,
    )
    if len(allocated) != count:
        raise RuntimeError(f"asked the pool for {count} agents, got {len(allocated)}")
    limit = asyncio.Semaphore(concurrency)

    async def register(agent: AllocatedAgent) -> Enrolled:
        async with limit:
            identity = await workflow.execute_child_workflow(
                IdentityWorkflow.run,
                IdentitySpec(
                    endpoints=endpoints,
                    wallets=wallets,
                    agent_id=agent.agent_id,
                    address=agent.address,
                    display_name=agent.display_name or agent.agent_id,
                    platform=agent.platform,
                    platform_user_id=agent.platform_user_id or agent.agent_id,
                ),
                id=f"{run_id}/g{generation}/identity/{agent.agent_id}",
            )
        return Enrolled(agent.agent_id, agent.address, identity.fiber_id)

    return list(await asyncio.gather(*(register(agent) for agent in allocated)))


def with_traits(enrolled: Sequence[Enrolled], traits: Sequence[AgentTraits]) -> list[Member]:
    if len(enrolled) != len(traits):
        raise RuntimeError(f"{len(enrolled)} newcomers registered for {len(traits)} places")
    return [
        Member(agent_id=agent.agent_id, address=agent.address, identity_fiber_id=agent.identity_fiber_id, traits=own)
        for agent, own in zip(enrolled, traits, strict=True)
    ]


@workflow.defn
class GenerationWorkflow:
    def __init__(self) -> None:
        self._planned = 0
        self._ended = 0
        self._gate: ChainGate | None = None
        self._chain = Chain(local=False)
        self._in_flight = False  # lifecycles, reports or attestations under way: the gate's watch goes on

    @workflow.query
    def progress(self) -> list[int]:
        """[lifecycles ended, lifecycles planned]."""
        return [self._ended, self._planned]

    @workflow.query
    def health(self) -> ChainHealthView | None:
        """The chain gate's breaker and ML0 readings now (None before the population is loaded)."""
        return self._gate.view() if self._gate is not None else None

    @workflow.run
    async def run(self, spec: GenerationSpec) -> GenerationSummary:
        started = workflow.now()
        workflow.upsert_search_attributes([sa.GENERATION.value_set(spec.generation)])
        meter = workflow.metric_meter()
        population = await workflow.execute_activity_method(
            EvolutionActivities.load_population,
            PopulationRef(run_id=spec.run_id, generation=spec.generation),
            start_to_close_timeout=STORE_TIMEOUT,
            retry_policy=STORE_RETRY,
        )
        # New work on the chain starts only through the gate: breaker closed, ML0 producing.
        gate = self._gate = ChainGate(spec.endpoints, spec.health, run_id=spec.run_id)
        self._chain = Chain.patched()
        enrolling = (
            asyncio.create_task(self._enrol(spec, newcomer_count(len(population), spec.target_size)))
            if workflow.patched(ENROL_WHILE_LIVING)
            else None
        )

        # Every agent's reputation, read before anyone chooses a counterparty.
        before = await gate.call(lambda: observe(spec.endpoints, population))
        meter.create_counter("traffic_simulator_reputation_queries").add(len(before))
        plan = plan_generation(
            population,
            {agent: observation.reputation for agent, observation in before.items()},
            stream(spec.seed, spec.generation, "plan"),
        )
        self._planned = len(plan)
        self._in_flight = True
        watch = asyncio.create_task(gate.watch(lambda: self._in_flight)) if workflow.patched(CHAIN_WATCH) else None
        if workflow.patched(REPORT_AS_LIFECYCLES_END):
            # A lifecycle's reports are filed as soon as it ends, while the others still run.
            reporting = asyncio.Semaphore(spec.concurrency)

            async def report(result: LifecycleResult) -> None:
                await self._report_contracts(spec, population, contract_reports([result]), reporting)

            results = await self._run_lifecycles(spec, population, plan, before, then=report)
        else:
            results = await self._run_lifecycles(spec, population, plan, before)
            await self._report_contracts(spec, population, contract_reports(results))
        issued = await self._attest(
            spec, population, plan_attestations(population, results, stream(spec.seed, spec.generation, "attest"))
        )
        self._in_flight = False
        if watch is not None:
            await watch

        after = await gate.call(lambda: observe(spec.endpoints, population))
        measured = measure(population, results, before, after, attestation_counts(issued))
        scores = {agent: fitness(performance) for agent, (performance, _) in measured.items()}
        traits = {member.agent_id: member.traits for member in population}
        selection = select(list(scores.values()), traits, stream(spec.seed, spec.generation, "select"))
        kept, newcomer_traits, retired = next_population(
            population, selection, spec.target_size, stream(spec.seed, spec.generation, "grow")
        )
        if enrolling is not None:
            newcomers = with_traits(await enrolling, newcomer_traits)
        else:
            newcomers = with_traits(await self._enrol(spec, len(newcomer_traits)), newcomer_traits)
        following = kept + newcomers
        agents = records(population, measured, scores, selection, after, set(retired))
        stats = generation_stats(
            spec.generation,
            results,
            list(scores.values()),
            selection,
            population_size=len(population),
            next_population_size=len(following),
            newcomers=[member.agent_id for member in newcomers],
            retired=retired,
            reputation_queries=len(before),
        ).model_copy(update={"health_events": list(gate.events)})

        writer = ChainWriter(spec.ledger, author="GenerationWorkflow")
        writer.add(
            {
                "kind": "otto.generation",
                "run_id": spec.run_id,
                "generation": spec.generation,
                "stats": stats.model_dump(mode="json"),
                # The rows the checkpoint writes, sealed by their digest.
                "agents_sha256": sha256_hex(canonical_json([a.model_dump(mode="json") for a in agents])),
                "next_population_sha256": sha256_hex(canonical_json([m.model_dump(mode="json") for m in following])),
            },
            sim_time=spec.generation,
        )
        await workflow.execute_activity_method(
            EvolutionActivities.write_checkpoint,
            Checkpoint(
                run_id=spec.run_id,
                generation=spec.generation,
                stats=stats,
                agents=agents,
                lifecycles=results,
                next_population=following,
                ledger=writer.take(),
                started_at=started,
                finished_at=workflow.now(),
            ),
            start_to_close_timeout=STORE_TIMEOUT,
            retry_policy=RetryPolicy(
                initial_interval=timedelta(milliseconds=200),
                maximum_interval=timedelta(seconds=10),
                non_retryable_error_types=["LedgerConflict"],
            ),
        )
        return GenerationSummary(stats=stats, ledger=writer.cursor)

    async def _enrol(self, spec: GenerationSpec, count: int) -> list[Enrolled]:
        """The next generation's newcomers, registered on chain (new work on the chain too: through the gate)."""
        if count:
            await self._ready()
        return await enrol(
            run_id=spec.run_id,
            generation=spec.generation + 1,
            count=count,
            endpoints=spec.endpoints,
            wallets=spec.wallets,
            concurrency=spec.concurrency,
        )

    async def _ready(self) -> None:
        """Before each new initiation: wait while the breaker is open or ML0 is stalled (work in flight goes on)."""
        assert self._gate is not None
        await self._gate.ready()

    async def _report_contracts(
        self,
        spec: GenerationSpec,
        population: Sequence[Member],
        reports: Sequence[ContractReport],
        window: asyncio.Semaphore | None = None,
    ) -> None:
        """Every report as a ContractReport fiber of its reporter, at most ``spec.concurrency`` at once (in
        ``window``, when several calls share it)."""
        members = {member.agent_id: member for member in population}
        window = window or asyncio.Semaphore(spec.concurrency)

        async def one(report: ContractReport) -> None:
            identity = members[report.subject].identity_fiber_id
            if identity is None:
                return
            async with window:
                await self._ready()
                await self._report(spec, identity, members[report.reporter], members[report.subject], report)

        await asyncio.gather(
            *(one(report) for report in reports if report.subject in members and report.reporter in members)
        )

    async def _report(
        self, spec: GenerationSpec, identity: str, reporter: Member, subject: Member, report: ContractReport
    ) -> bool:
        """One report: the reporter creates its ContractReport fiber and files it, which fires the event on the
        subject's identity. Idempotent: the fiber is named by the contract, the kind and the subject, so a
        retry, a replay or a resume finds the one already created (and filed). A refusal is logged."""
        what = f"{report.kind} report on {report.subject} for {report.contract_id}"
        try:
            record, _ = await self._chain.create_and_fire(
                CreateFiber(
                    endpoints=spec.endpoints,
                    wallets=spec.wallets,
                    fiber_id=report_id(report),
                    definition=REPORT_DEFINITION,
                    initial_data=report_initial_data(
                        report.kind, reporter.address, subject.address, identity, report.contract_id, report.reason
                    ),
                    signers=[reporter.agent_id],
                ),
                "file",
                what,
            )
        except ApplicationError as err:
            workflow.logger.warning("%s not filed: %s", what, err)
            return False
        filed = record.current_state == "FILED"
        if not filed:
            workflow.logger.warning("%s refused by the subject's identity", what)
        return filed

    async def _attest(
        self, spec: GenerationSpec, population: Sequence[Member], planned: Sequence[PlannedAttestation]
    ) -> list[PlannedAttestation]:
        """Each planned attestation, issued here or (older histories) by an AttestationWorkflow child; returns
        those the chain issued."""
        members = {member.agent_id: member for member in population}
        window = asyncio.Semaphore(spec.concurrency)
        here = workflow.patched(ATTEST_IN_GENERATION)

        def party(agent: str) -> Party:
            return Party(agent_id=agent, address=members[agent].address)

        async def one(index: int, attestation: PlannedAttestation) -> bool:
            subject_identity = members[attestation.subject].identity_fiber_id
            if subject_identity is None:
                return False
            fiber = attestation_id(spec.run_id, spec.generation, index, attestation)
            issue = AttestationSpec(
                endpoints=spec.endpoints,
                wallets=spec.wallets,
                kind=attestation.kind,
                issuer=party(attestation.issuer),
                subject=party(attestation.subject),
                subject_identity=subject_identity,
                claim=attestation.claim,
                attestation_id=fiber,
            )
            async with window:
                await self._ready()
                try:
                    if here:
                        result = await issue_attestation(self._chain, issue, fiber)
                    else:
                        result = await workflow.execute_child_workflow(
                            AttestationWorkflow.run, issue, id=f"{spec.run_id}/g{spec.generation}/a{index}"
                        )
                except (ApplicationError, ActivityError, ChildWorkflowError) as err:
                    cause = err.cause if isinstance(err, ChildWorkflowError) and err.cause else err
                    workflow.logger.warning("attestation %s not issued: %s", attestation, cause)
                    return False
            return result.issued

        planned = [a for a in planned if a.issuer in members and a.subject in members]
        issued = await asyncio.gather(*(one(index, attestation) for index, attestation in enumerate(planned)))
        return [attestation for attestation, ok in zip(planned, issued, strict=True) if ok]

    async def _run_lifecycles(
        self,
        spec: GenerationSpec,
        population: Sequence[Member],
        plan: Sequence[Lifecycle],
        observed: dict[str, AgentObservation],
        *,
        then: Callable[[LifecycleResult], Awaitable[None]] | None = None,
    ) -> list[LifecycleResult]:
        """Every planned lifecycle as a FiberWorkflow child, at most ``spec.concurrency`` running at once, each
        followed by ``then`` (outside the window: a finished lifecycle makes room for the next).

        Decision mode: every party carries its traits and the reputation read before the plan, and decides
        its own moves; no outcome is drawn."""
        members = {
            member.agent_id: Party(
                agent_id=member.agent_id,
                address=member.address,
                traits=member.traits,
                reputation=observed[member.agent_id].reputation if member.agent_id in observed else None,
            )
            for member in population
        }
        window = asyncio.Semaphore(spec.concurrency)

        async def one(lifecycle: Lifecycle) -> LifecycleResult:
            async with window:
                await self._ready()
                result = await self._lifecycle(spec, members, lifecycle)
            self._ended += 1
            if then is not None:
                await then(result)
            return result

        return list(await asyncio.gather(*(one(lifecycle) for lifecycle in plan)))

    async def _lifecycle(
        self, spec: GenerationSpec, parties: dict[str, Party], lifecycle: Lifecycle
    ) -> LifecycleResult:
        fiber = fiber_id(spec.run_id, spec.generation, lifecycle)
        fiber_spec = FiberSpec(
            fiber_type=lifecycle.fiber_type,
            parties=[parties[agent] for agent in lifecycle.parties],
            outcome=None,
            seed=lifecycle.seed,
            endpoints=spec.endpoints,
            wallets=spec.wallets,
            fiber_id=fiber,
            timeout_seconds=spec.fiber_timeout_seconds,
            acceleration=spec.acceleration,
        )
        try:
            outcome: FiberOutcome = await workflow.execute_child_workflow(
                FiberWorkflow.run, fiber_spec, id=f"{spec.run_id}/g{spec.generation}/f{lifecycle.index}"
            )
        except ChildWorkflowError as err:
            return LifecycleResult(
                index=lifecycle.index,
                fiber_type=lifecycle.fiber_type,
                parties=lifecycle.parties,
                fiber_id=fiber,
                status="FAILED",
                success=False,
                error=str(err.cause or err),
            )
        return LifecycleResult(
            index=lifecycle.index,
            fiber_type=lifecycle.fiber_type,
            parties=lifecycle.parties,
            fiber_id=outcome.fiber_id,
            status=outcome.status,
            success=outcome.success,
            outcome=outcome.outcome,
            ended_by=outcome.ended_by,
        )
