"""`simctl start-campaign` and `simctl report`: run the advertising study and report on it."""

from __future__ import annotations

import asyncio
import contextlib
import math
import uuid
from pathlib import Path
from typing import Annotated
from urllib.parse import urlsplit

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from temporalio.client import Client, WorkflowFailureError
from temporalio.common import WorkflowIDReusePolicy
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.exceptions import WorkflowAlreadyStartedError

from models.ads import AdsParams, ExperimentSpec, LlmConfig
from models.settings import Settings
from models.status import ScenarioProgress, StudyStatus
from models.task_queues import TaskQueue
from simctl import visibility
from simctl.errors import CliError, failure_message
from simctl.runner import configure_logging, run_async
from workers.stack import open_stack
from workflows.ads.experiment import ExperimentWorkflow
from workflows.common import search_attributes as sa


def start_campaign(
    ctx: typer.Context,
    scenarios: Annotated[str, typer.Option("--scenarios", help="comma-separated subset of A,B,C")] = "A,B,C",
    days: Annotated[int, typer.Option("--days", min=1, max=365)] = 30,
    buyers: Annotated[int, typer.Option("--buyers", min=1)] = 5,
    sellers: Annotated[int, typer.Option("--sellers", min=1)] = 5,
    campaigns_per_buyer: Annotated[int, typer.Option("--campaigns-per-buyer", min=1)] = 10,
    seed: Annotated[int, typer.Option("--seed")] = 1,
    acceleration: Annotated[
        float, typer.Option("--acceleration", min=0, help="simulated seconds per real second; 0 = no waiting")
    ] = 0.0,
    experiment_id: Annotated[str | None, typer.Option("--id", help="name the experiment (default: generated)")] = None,
    wait: Annotated[bool, typer.Option("--wait", help="block with a progress bar until the study ends")] = False,
    exchange_fee: Annotated[
        float | None, typer.Option("--exchange-fee", min=0, max=0.99, help="scenario A's fee [0.15]")
    ] = None,
    auction: Annotated[str | None, typer.Option("--auction", help="first (with bid shading) or second [first]")] = None,
    hallucination_rate: Annotated[
        float | None, typer.Option("--hallucination-rate", min=0, max=1, help="[0.05]")
    ] = None,
    context_survival: Annotated[
        float | None, typer.Option("--context-survival", min=0, max=1, help="per-day memory survival [0.98]")
    ] = None,
    restart_probability: Annotated[
        float | None, typer.Option("--restart-probability", min=0, max=1, help="per-day [0.005]")
    ] = None,
    llm_url: Annotated[
        str | None, typer.Option("--llm-url", help="OpenAI-compatible endpoint, e.g. http://127.0.0.1:8000/v1")
    ] = None,
    llm_model: Annotated[str, typer.Option("--llm-model")] = "gpt-4o-mini",
    llm_budget: Annotated[int, typer.Option("--llm-budget", min=0, help="LLM calls per campaign")] = 20,
) -> None:
    """Start the three-scenario advertising study (an ExperimentWorkflow); print its id."""
    settings: Settings = ctx.obj
    configure_logging(settings)
    chosen = tuple(part.strip().upper() for part in scenarios.split(",") if part.strip())
    if not chosen or any(s not in ("A", "B", "C") for s in chosen) or len(set(chosen)) != len(chosen):
        raise CliError(f"--scenarios must be a subset of A,B,C, not {scenarios!r}")
    if auction not in (None, "first", "second"):
        raise CliError(f"--auction must be first or second, not {auction!r}")
    if not math.isfinite(acceleration):
        raise CliError(f"--acceleration must be a finite number of simulated seconds per second, not {acceleration}")
    if llm_url is not None and not _http_url(llm_url):
        raise CliError(f"--llm-url must be an http:// or https:// URL with a host, not {llm_url!r}")
    if experiment_id is not None and not visibility.matchable(experiment_id):
        # The campaigns are found by their Experiment search attribute, which SQLite visibility cannot match then.
        raise CliError(f"--id must not contain a double quote or a backslash, not {experiment_id!r}")
    overrides = {
        "exchange_fee": exchange_fee,
        "auction": auction,
        "hallucination_rate": hallucination_rate,
        "context_survival": context_survival,
        "restart_probability": restart_probability,
    }
    spec = ExperimentSpec(
        id=experiment_id or f"study-{seed}-{uuid.uuid4().hex[:6]}",
        scenarios=chosen,
        days=days,
        buyers=buyers,
        sellers=sellers,
        campaigns_per_buyer=campaigns_per_buyer,
        seed=seed,
        acceleration=acceleration,
        params=AdsParams(**{key: value for key, value in overrides.items() if value is not None}),
        llm=LlmConfig(url=llm_url, model=llm_model, calls_per_campaign=llm_budget) if llm_url else None,
    )
    run_async(_start(settings, spec, wait))


def _http_url(url: str) -> bool:
    try:
        parts = urlsplit(url)
    except ValueError:
        return False
    return parts.scheme in ("http", "https") and bool(parts.hostname)


async def _start(settings: Settings, spec: ExperimentSpec, wait: bool) -> None:
    console = Console(stderr=True)
    async with open_stack(settings, worker="always" if wait else "if-embedded") as stack:
        try:
            handle = await stack.client.start_workflow(
                ExperimentWorkflow.run,
                spec,
                id=spec.id,
                task_queue=TaskQueue.ADS,
                id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
            )
        except WorkflowAlreadyStartedError:
            raise CliError(f"experiment {spec.id!r} already exists: choose another --id") from None
        typer.echo(spec.id)
        if not wait:
            if stack.embedded:
                console.print(
                    "the embedded server stops with this command; the study continues whenever a simctl "
                    "process runs (e.g. `simctl up`), or use --wait"
                )
            return
        finished = asyncio.Event()
        progress = asyncio.create_task(_show_progress(stack.client, spec, console, finished))
        try:
            summary = await handle.result()
        except WorkflowFailureError as err:
            progress.cancel()
            raise CliError(f"experiment {spec.id} failed: {failure_message(err)}", exit_code=1) from None
        finished.set()
        await progress
        console.print(
            f"{spec.id}: {summary.campaign_runs} campaign runs completed; `simctl report {spec.id} --out DIR`"
        )


async def study_progress(client: Client, experiment_id: str) -> dict[str, int]:
    """Per scenario, the simulated days its campaigns have reached, summed (visibility's SimDay)."""
    reached: dict[str, int] = {}
    async for execution in client.list_workflows(visibility.experiment_campaigns(experiment_id)):
        attributes = execution.typed_search_attributes
        scenario = attributes.get(sa.SCENARIO) or "?"
        reached[scenario] = reached.get(scenario, 0) + (attributes.get(sa.SIM_DAY) or 0)
    return dict(sorted(reached.items()))


async def running_studies(client: Client) -> list[StudyStatus]:
    """Progress of every running ExperimentWorkflow, from visibility and each study's own input."""
    studies = []
    async for execution in client.list_workflows(visibility.running_experiments()):
        history = await client.get_workflow_handle(execution.id, run_id=execution.run_id).fetch_history()
        started = history.events[0].workflow_execution_started_event_attributes
        # The spec is the first argument; a run continued as new carries its progress as a second.
        [spec] = pydantic_data_converter.payload_converter.from_payloads(started.input.payloads[:1], [ExperimentSpec])
        total = spec.days * spec.buyers * spec.campaigns_per_buyer
        reached = await study_progress(client, spec.id)
        studies.append(
            StudyStatus(
                experiment_id=spec.id,
                scenarios=[
                    ScenarioProgress(
                        scenario=s, campaign_days_reached=min(reached.get(s, 0), total), campaign_days=total
                    )
                    for s in spec.scenarios
                ],
            )
        )
    return studies


async def _show_progress(client: Client, spec: ExperimentSpec, console: Console, finished: asyncio.Event) -> None:
    total = spec.days * spec.buyers * spec.campaigns_per_buyer
    columns = (
        TextColumn("scenario {task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("campaign-days"),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=console) as progress:
        tasks = {scenario: progress.add_task(scenario, total=total) for scenario in spec.scenarios}
        while True:
            last = finished.is_set()
            for scenario, done in (await study_progress(client, spec.id)).items():
                if scenario in tasks:
                    progress.update(tasks[scenario], completed=min(done, total))
            if last:
                return
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(finished.wait(), timeout=1)


def report(
    ctx: typer.Context,
    experiment_id: Annotated[str, typer.Argument(help="the experiment's id (printed by start-campaign)")],
    out: Annotated[Path, typer.Option("--out", help="directory for report.md, report.json, charts and logs")],
) -> None:
    """Write the study's report; every figure is computed from the events recorded in the store."""
    from report import load_study, write_report
    from sim.ads.findings import compute_findings
    from simctl.store_reads import read_recorded

    settings: Settings = ctx.obj
    configure_logging(settings)
    spec, world, rows = read_recorded(
        settings, f"no experiment {experiment_id!r}", lambda engine: load_study(engine, experiment_id)
    )
    findings = compute_findings(spec, world, rows)
    written = write_report(out, experiment_id, spec, world, rows, findings)
    typer.echo(f"report of {experiment_id}: {len(written)} files in {out}")
