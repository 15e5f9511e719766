"""`simctl otto …`: OttoChain fiber lifecycles and identity."""

from __future__ import annotations

import json
import random
import uuid
from dataclasses import asdict
from pathlib import Path
from typing import Annotated

import httpx
import typer
from rich.console import Console
from rich.table import Table
from temporalio.client import WorkflowFailureError

from models.evolution import EvolutionSpec
from models.otto import AttestationResult, AttestationSpec, FiberOutcome, FiberSpec, OttoEndpoints, Party
from models.settings import Settings
from models.task_queues import TaskQueue
from sim.otto.fibers import fiber_kind
from sim.otto.reputation import reputation_of, to_dot, trust_graph
from simctl.commands import otto_status
from simctl.commands.otto_report import report as report_command
from simctl.durations import parse_duration
from simctl.errors import CliError, failure_message
from simctl.otto_evolve import evolve as evolve_run
from simctl.otto_session import otto_session, with_passphrase
from simctl.ottochain import ottochain
from simctl.runner import configure_logging, run_async
from simctl.wallet_access import create_pool, open_wallets, passphrase, read_public
from workflows.otto.fiber import FiberWorkflow
from workflows.otto.identity import AttestationWorkflow

app = typer.Typer(help="OttoChain traffic: fiber lifecycles, identity, reputation.", no_args_is_help=True)
app.command("status")(otto_status.status)
app.command("report")(report_command)

DEFAULT_POOL = 8


@app.command()
def fiber(
    ctx: typer.Context,
    fiber_type: Annotated[
        str,
        typer.Option(
            "--type", help="SimpleOrder, TicTacToe, TokenEscrow, Contract, Voting, ApprovalWorkflow or Auction"
        ),
    ],
    outcome: Annotated[
        str | None, typer.Option("--outcome", help="terminal outcome to play for (default: drawn from the seed)")
    ] = None,
    seed: Annotated[int, typer.Option("--seed", help="seeds the parties' choices and the plan")] = 0,
    parties: Annotated[str | None, typer.Option("--parties", help="comma-separated agent ids, initiator first")] = None,
    wallets: Annotated[Path | None, typer.Option("--wallets", help="wallet file [.simctl/wallets.json]")] = None,
    bridge_url: Annotated[
        str | None, typer.Option("--bridge-url", help="OttoChain bridge (default: an embedded node)")
    ] = None,
    timeout: Annotated[str, typer.Option("--timeout", help="give up (TIMEOUT) after this long, e.g. 90s, 10m")] = "10m",
    owners: Annotated[
        str, typer.Option("--owners", help="all (every party signs the create) or initiator (V1's bug)")
    ] = "all",
    as_json: Annotated[bool, typer.Option("--json", help="print the outcome as JSON")] = False,
) -> None:
    """Run one fiber lifecycle through both sides and print its outcome."""
    settings: Settings = ctx.obj
    configure_logging(settings)
    try:
        kind = fiber_kind(fiber_type)
        if outcome is not None:
            kind.outcome(outcome)
    except ValueError as err:
        raise CliError(str(err)) from None
    if owners not in ("all", "initiator"):
        raise CliError(f"--owners must be all or initiator, not {owners!r}")
    timeout_seconds = parse_duration(timeout)
    path = (wallets or settings.default_wallets).resolve()
    # Whatever the public part of an existing pool can refute is refuted before the passphrase is asked for.
    existing = path.exists()
    if existing:
        chosen = _choose_parties(read_public(path).agents, parties, kind.min_parties, seed)
    settings = with_passphrase(settings)
    if existing:
        open_wallets(settings, path)  # a wrong passphrase fails here, not in the worker
    else:
        Console(stderr=True).print(f"no wallet pool at {path}: generating {DEFAULT_POOL} agents")
        store = create_pool(path, passphrase(settings), count=DEFAULT_POOL, seed=seed)
        chosen = _choose_parties(store.agents, parties, kind.min_parties, seed)
    spec = FiberSpec(
        fiber_type=kind.name,
        parties=chosen,
        outcome=outcome,
        seed=seed,
        endpoints=OttoEndpoints.embedded("http://unset"),
        wallets=str(path),
        timeout_seconds=timeout_seconds,
        owners=owners,
    )
    result = run_async(run_fiber(settings, spec, bridge_url))
    if as_json:
        typer.echo(result.model_dump_json(indent=2))
    else:
        print_outcome(result)
    if result.status != "COMPLETED":
        raise typer.Exit(1)


def _choose_parties(agents, requested: str | None, count: int, seed: int) -> list[Party]:
    by_id = {agent.id: agent for agent in agents}
    if requested:
        ids = [part.strip() for part in requested.split(",") if part.strip()]
        unknown = [agent_id for agent_id in ids if agent_id not in by_id]
        if unknown:
            raise CliError(f"no agent {unknown[0]!r} in the wallet file")
    else:
        if len(agents) < count:
            raise CliError(f"the wallet pool has {len(agents)} agents; this fiber type needs {count}")
        ids = [agent.id for agent in random.Random(seed).sample(agents, count)]
    return [Party(agent_id=agent_id, address=by_id[agent_id].address) for agent_id in ids]


async def run_fiber(settings: Settings, spec: FiberSpec, bridge_url: str | None) -> FiberOutcome:
    async with otto_session(settings, bridge_url) as (endpoints, stack):
        spec = spec.model_copy(update={"endpoints": endpoints})
        workflow_id = f"fiber-{spec.fiber_type}-{uuid.uuid4().hex[:12]}"
        handle = await stack.client.start_workflow(FiberWorkflow.run, spec, id=workflow_id, task_queue=TaskQueue.OTTO)
        try:
            return await handle.result()
        except WorkflowFailureError as err:
            raise CliError(f"{workflow_id} failed: {failure_message(err)}", exit_code=1) from None


def print_outcome(result: FiberOutcome) -> None:
    table = Table(show_header=False, title=f"{result.fiber_type} {result.fiber_id}", title_justify="left")
    status = (
        result.status
        if result.status != "COMPLETED"
        else ("[green]COMPLETED[/green]" if result.success else "[yellow]COMPLETED[/yellow]")
    )
    rows = {
        "status": status,
        "outcome": (
            f"{result.outcome} (planned {result.planned_outcome})"
            if result.planned_outcome is not None
            else f"{result.outcome} (decided by the parties, ended by {result.ended_by or '-'})"
        ),
        "terminal state": result.terminal_state or "-",
        "success": str(result.success),
        "parties": ", ".join(result.parties),
        "transitions": str(result.transitions),
        "guard failures": str(result.guard_failures),
        "snapshots elapsed": str(result.ordinals),
        "wall time": f"{result.wall_seconds:.2f} s",
    }
    for key, value in rows.items():
        table.add_row(key, value)
    Console().print(table)


@app.command()
def evolve(
    ctx: typer.Context,
    population: Annotated[
        int | None,
        typer.Option("--population", min=2, max=500, help="agents in the population [100; a resume keeps its own]"),
    ] = None,
    generations: Annotated[
        int | None, typer.Option("--generations", min=1, help="generations to run [10 unless --duration]")
    ] = None,
    duration: Annotated[
        str | None, typer.Option("--duration", help="run until this much time has passed, e.g. 24h (instead of N)")
    ] = None,
    seed: Annotated[
        int, typer.Option("--seed", min=0, help="seeds every choice of the run (a resume keeps its own)")
    ] = 0,
    bridge_url: Annotated[
        str | None, typer.Option("--bridge-url", help="OttoChain bridge (default: an embedded node)")
    ] = None,
    run_id: Annotated[str | None, typer.Option("--id", help="name the run (default: generated)")] = None,
    wait: Annotated[bool, typer.Option("--wait", help="show the run's progress until it ends")] = False,
    resume: Annotated[
        str | None, typer.Option("--resume", help="continue this run from its last checkpoint in the store")
    ] = None,
    wallets: Annotated[Path | None, typer.Option("--wallets", help="wallet file [.simctl/wallets.json]")] = None,
    concurrency: Annotated[int, typer.Option("--concurrency", min=1, help="lifecycles running at once")] = 32,
) -> None:
    """Run the evolving traffic simulator: generations of a population, checkpointed to the store."""
    settings: Settings = ctx.obj
    configure_logging(settings)
    if generations is not None and duration is not None:
        raise CliError("give --generations or --duration, not both")
    if resume is not None and run_id is not None and run_id != resume:
        raise CliError("--resume names the run: leave out --id")
    name = resume or run_id or f"evo-{seed}-{uuid.uuid4().hex[:6]}"
    if not 1 <= len(name) <= 100:
        raise CliError(f"a run id has 1 to 100 characters, not {len(name)}")
    duration_seconds = parse_duration(duration) if duration is not None else None
    path = (wallets or settings.default_wallets).resolve()
    settings = with_passphrase(settings)
    if path.exists():
        open_wallets(settings, path)  # a wrong passphrase fails here, not in the worker
    else:
        size = population or 100
        Console(stderr=True).print(f"no wallet pool at {path}: generating {size} agents")
        create_pool(path, passphrase(settings), count=size, seed=seed)
    spec = EvolutionSpec(
        run_id=name,
        seed=seed,
        population=population,
        generations=generations if generations is not None or duration_seconds is not None else 10,
        duration_seconds=duration_seconds,
        endpoints=OttoEndpoints.embedded("http://unset"),
        wallets=str(path),
        resume=resume is not None,
        concurrency=concurrency,
    )
    run_async(evolve_run(settings, spec, bridge_url, wait=wait))


@app.command()
def attest(
    ctx: typer.Context,
    kind: Annotated[
        str, typer.Option("--kind", help="skill (self-claim), vouch (peer) or verification (platform proof)")
    ],
    issuer: Annotated[str, typer.Option("--issuer", help="agent id that signs the attestation")],
    subject: Annotated[str | None, typer.Option("--subject", help="agent id it is about (default: the issuer)")] = None,
    claim: Annotated[
        str, typer.Option("--claim", help="what is attested, e.g. solidity-developer, trustworthy")
    ] = "trustworthy",
    evidence: Annotated[str, typer.Option("--evidence", help="a proof or link")] = "",
    wallets: Annotated[Path | None, typer.Option("--wallets", help="wallet file [.simctl/wallets.json]")] = None,
    bridge_url: Annotated[
        str | None, typer.Option("--bridge-url", help="OttoChain bridge (default: an embedded node)")
    ] = None,
) -> None:
    """Issue an attestation fiber; issuing it records the claim on the subject's identity."""
    settings: Settings = ctx.obj
    configure_logging(settings)
    if kind not in ("skill", "vouch", "verification"):
        raise CliError(f"--kind must be skill, vouch or verification, not {kind!r}")
    path = (wallets or settings.default_wallets).resolve()
    # The agents are checked against the file's public part before the passphrase is asked for.
    by_id = {agent.id: agent for agent in read_public(path).agents}
    subject = subject or issuer
    for agent_id in (issuer, subject):
        if agent_id not in by_id:
            raise CliError(f"no agent {agent_id!r} in the wallet file")
    identity = by_id[subject].identity_fiber_id
    if identity is None:
        raise CliError(f"{subject} has no identity yet: run `simctl wallet activate` first")
    settings = with_passphrase(settings)
    store = open_wallets(settings, path)
    spec = AttestationSpec(
        endpoints=OttoEndpoints.embedded("http://unset"),
        wallets=str(store.path),
        kind=kind,
        issuer=Party(agent_id=issuer, address=by_id[issuer].address),
        subject=Party(agent_id=subject, address=by_id[subject].address),
        subject_identity=identity,
        claim=claim,
        evidence=evidence,
    )

    async def run() -> AttestationResult:
        async with otto_session(settings, bridge_url) as (endpoints, stack):
            return await stack.client.execute_workflow(
                AttestationWorkflow.run,
                spec.model_copy(update={"endpoints": endpoints}),
                id=f"attest-{uuid.uuid4().hex[:12]}",
                task_queue=TaskQueue.OTTO,
            )

    result = run_async(run())
    if result.issued:
        typer.echo(f"{kind} attestation {result.fiber_id} issued by {issuer} about {subject}")
    else:
        raise CliError(f"the chain refused the {kind} attestation {result.fiber_id}: {result.refusal}", exit_code=1)


@app.command()
def reputation(
    ctx: typer.Context,
    agent: Annotated[str, typer.Argument(help="agent id from the wallet file, or a DAG address")],
    wallets: Annotated[Path | None, typer.Option("--wallets", help="wallet file [.simctl/wallets.json]")] = None,
    bridge_url: Annotated[
        str | None, typer.Option("--bridge-url", help="OttoChain bridge (default: an embedded node)")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="print as JSON")] = False,
) -> None:
    """An agent's reputation, from its on-chain identity and the attestations about it."""
    settings: Settings = ctx.obj
    configure_logging(settings)
    labels = _labels(settings, wallets)
    address = _address(agent, labels)
    report = reputation_of(address, run_async(_records(settings, bridge_url)))
    if report.identity_fiber_id is None:
        raise CliError(f"{agent} has no identity on chain")
    if as_json:
        typer.echo(
            json.dumps(
                {**asdict(report), "agent": labels.get(address), "identity_bonus": report.identity_bonus}, indent=2
            )
        )
        return
    table = Table(show_header=False, title=f"Reputation of {labels.get(address, address)}", title_justify="left")
    for key, value in {
        "address": address,
        "identity fiber": f"{report.identity_fiber_id} ({report.state})",
        "on-chain reputation": str(report.reputation),
        "vouches received / given": f"{report.vouches_received} / {report.vouches_given}",
        "skills claimed": ", ".join(report.skills) or "-",
        "verifications": str(report.verifications),
        "contracts completed / violations": f"{report.completed_contracts} / {report.violations}",
        "identity fitness bonus": f"{report.identity_bonus:.2f}",
    }.items():
        table.add_row(key, value)
    Console().print(table)


@app.command("trust-graph")
def trust_graph_command(
    ctx: typer.Context,
    agent: Annotated[str, typer.Argument(help="agent id from the wallet file, or a DAG address")],
    depth: Annotated[int, typer.Option("--depth", min=0, max=10, help="hops from the agent")] = 2,
    output_format: Annotated[str, typer.Option("--format", help="json or dot")] = "json",
    wallets: Annotated[Path | None, typer.Option("--wallets", help="wallet file [.simctl/wallets.json]")] = None,
    bridge_url: Annotated[
        str | None, typer.Option("--bridge-url", help="OttoChain bridge (default: an embedded node)")
    ] = None,
) -> None:
    """Who vouches for and verifies whom around an agent, from on-chain identity state."""
    settings: Settings = ctx.obj
    configure_logging(settings)
    if output_format not in ("json", "dot"):
        raise CliError(f"--format must be json or dot, not {output_format!r}")
    labels = _labels(settings, wallets)
    root = _address(agent, labels)
    nodes, edges = trust_graph(root, depth, run_async(_records(settings, bridge_url)))
    if output_format == "dot":
        typer.echo(to_dot(root, nodes, edges, labels), nl=False)
        return
    typer.echo(
        json.dumps(
            {
                "root": root,
                "depth": depth,
                "nodes": [{"address": node, "agent": labels.get(node)} for node in nodes],
                "edges": [{"from": e.source, "to": e.target, "kind": e.kind} for e in edges],
            },
            indent=2,
        )
    )


def _labels(settings: Settings, wallets: Path | None) -> dict[str, str]:
    """Address -> agent id, from the wallet file's public part (no passphrase needed)."""
    path = (wallets or settings.default_wallets).resolve()
    if not path.exists():
        return {}
    return {agent.address: agent.id for agent in read_public(path).agents}


def _address(agent: str, labels: dict[str, str]) -> str:
    if agent.startswith("DAG"):
        return agent
    for address, agent_id in labels.items():
        if agent_id == agent:
            return address
    raise CliError(f"no agent {agent!r} in the wallet file (give a DAG address instead)")


async def _records(settings: Settings, bridge_url: str | None) -> list[dict]:
    async with ottochain(settings, bridge_url) as endpoints, httpx.AsyncClient(timeout=30) as http:
        response = await http.get(f"{endpoints.ml0_url}/data-application/v1/state-machines")
        if response.status_code != 200:
            raise CliError(f"ML0 answered {response.status_code} for the state machines")
        return list(response.json().values())
