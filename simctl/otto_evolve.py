"""`simctl otto evolve`: start (or resume) an EvolutionWorkflow and follow it with a progress display."""

from __future__ import annotations

import asyncio
import contextlib

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from temporalio.client import WorkflowFailureError, WorkflowHandle
from temporalio.common import WorkflowIDReusePolicy
from temporalio.exceptions import WorkflowAlreadyStartedError
from temporalio.service import RPCError

from models.evolution import EvolutionProgress, EvolutionResult, EvolutionSpec
from models.settings import Settings
from models.task_queues import TaskQueue
from simctl.errors import CliError, failure_message
from simctl.otto_session import otto_session
from simctl.ottochain import configured_endpoints
from store import otto as otto_store
from workflows.otto.evolution import EvolutionWorkflow


def workflow_id(run_id: str) -> str:
    return f"otto-evolve-{run_id}"


async def evolve(settings: Settings, spec: EvolutionSpec, bridge_url: str | None, *, wait: bool) -> None:
    console = Console(stderr=True)
    embedded = configured_endpoints(settings, bridge_url) is None
    async with otto_session(settings, bridge_url) as (endpoints, stack):
        spec = spec.model_copy(update={"endpoints": endpoints})
        assert stack.engine is not None
        stored = await otto_store.run(stack.engine, spec.run_id)
        if spec.resume and stored is None:
            raise CliError(f"no run {spec.run_id!r} in the store to resume")
        if not spec.resume and stored is not None:
            raise CliError(f"run {spec.run_id!r} already exists: continue it with --resume {spec.run_id}")
        try:
            handle = await stack.client.start_workflow(
                EvolutionWorkflow.run,
                spec,
                id=workflow_id(spec.run_id),
                task_queue=TaskQueue.OTTO,
                # A resumed run takes the id of the one it continues, which must have ended.
                id_reuse_policy=WorkflowIDReusePolicy.ALLOW_DUPLICATE
                if spec.resume
                else WorkflowIDReusePolicy.REJECT_DUPLICATE,
            )
        except WorkflowAlreadyStartedError:
            if spec.resume:
                raise CliError(f"run {spec.run_id!r} is still running: nothing to resume") from None
            raise CliError(f"run {spec.run_id!r} already exists: choose another --id") from None
        typer.echo(spec.run_id)
        if not wait and not embedded:
            console.print("the run continues on any worker of this server (e.g. `simctl up`)")
            return
        if not wait:
            # The embedded node lives in this process: leaving would stall the run.
            console.print("the embedded OttoChain runs in this process: waiting for the run (Ctrl-C stops it)")
        result = await _follow(handle, spec, console if wait else None)
    console.print(_closing_line(result))


async def _follow(handle: WorkflowHandle, spec: EvolutionSpec, console: Console | None) -> EvolutionResult:
    finished = asyncio.Event()
    display = asyncio.create_task(_show_progress(handle, spec, console, finished)) if console else None
    try:
        return await handle.result()
    except WorkflowFailureError as err:
        raise CliError(f"run {spec.run_id} failed: {failure_message(err)}", exit_code=1) from None
    finally:
        finished.set()
        if display is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await display


async def _progress(handle: WorkflowHandle) -> EvolutionProgress | None:
    try:
        return await handle.query(EvolutionWorkflow.progress)
    except (RPCError, WorkflowFailureError):
        return None  # between runs of a continue-as-new, or not started yet


async def _show_progress(
    handle: WorkflowHandle, spec: EvolutionSpec, console: Console, finished: asyncio.Event
) -> None:
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("generations"),
        TimeElapsedColumn(),
        TextColumn("{task.fields[detail]}"),
    )
    with Progress(*columns, console=console) as progress:
        task = progress.add_task(f"run {spec.run_id}", total=spec.generations, detail="starting")
        while True:
            last = finished.is_set()
            state = await _progress(handle)
            if state is not None:
                progress.update(task, completed=state.generations_done, detail=_detail(state))
            if last:
                return
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(finished.wait(), timeout=1)


def _detail(state: EvolutionProgress) -> str:
    parts = [f"generation {state.next_generation}", f"population {state.population_size}"]
    if state.target_size != state.population_size:
        parts[-1] += f" → {state.target_size}"
    if state.last is not None:
        last = state.last
        parts.append(f"fitness {last.fitness_min:.2f}/{last.fitness_avg:.2f}/{last.fitness_max:.2f}")
        parts.append(f"completed {last.completed}/{last.lifecycles}")
    if state.paused:
        parts.append("[yellow]pausing[/yellow]" if state.running is not None else "[yellow]paused[/yellow]")
    if state.stopping:
        parts.append("stopping")
    return "  ".join(parts)


def _closing_line(result: EvolutionResult) -> str:
    line = f"{result.run_id}: {result.generations_done} generations, population {result.population_size}"
    if result.last is not None:
        line += (
            f", fitness min/avg/max {result.last.fitness_min:.3f}/{result.last.fitness_avg:.3f}/"
            f"{result.last.fitness_max:.3f}"
        )
    return line + f"; continue it with `simctl otto evolve --resume {result.run_id}`"
