"""Running the identity workflows for a whole pool, with a progress bar."""

from __future__ import annotations

import asyncio
import uuid

from rich.console import Console
from rich.progress import Progress
from temporalio.common import WorkflowIDConflictPolicy

from models.otto import FundSpec, IdentityResult, IdentitySpec, Party, TopUpResult
from models.settings import Settings
from models.task_queues import TaskQueue
from simctl.otto_session import otto_session
from simctl.runner import configure_logging, run_async
from store.wallets import WalletStore
from workflows.otto.identity import FundAgentsWorkflow, IdentityWorkflow

CONCURRENCY = 32


def ensure_identities(
    settings: Settings, store: WalletStore, bridge_url: str | None, *, activate: bool
) -> list[IdentityResult]:
    configure_logging(settings)
    return run_async(_ensure(settings, store, bridge_url, activate))


async def _ensure(
    settings: Settings, store: WalletStore, bridge_url: str | None, activate: bool
) -> list[IdentityResult]:
    limit = asyncio.Semaphore(CONCURRENCY)
    async with otto_session(settings, bridge_url) as (endpoints, stack):
        with Progress(console=Console(stderr=True), transient=True) as progress:
            task = progress.add_task("registering" if not activate else "activating", total=len(store.agents))

            async def one(agent) -> IdentityResult:
                async with limit:
                    spec = IdentitySpec(
                        endpoints=endpoints,
                        wallets=str(store.path),
                        agent_id=agent.id,
                        address=agent.address,
                        display_name=agent.display_name,
                        platform=agent.platform,
                        platform_user_id=agent.platform_user_id,
                        activate=activate,
                    )
                    # One workflow id per agent: a second simctl running the same pool joins it instead
                    # of registering the agent twice.
                    handle = await stack.client.start_workflow(
                        IdentityWorkflow.run,
                        spec,
                        id=f"identity-{agent.address}",
                        task_queue=TaskQueue.OTTO,
                        id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
                    )
                    result = await handle.result()
                    progress.advance(task)
                    return result

            return list(await asyncio.gather(*(one(agent) for agent in store.agents)))


def fund_agents(
    settings: Settings, store: WalletStore, target: int, funder: str | None, bridge_url: str | None
) -> list[TopUpResult]:
    configure_logging(settings)

    async def run() -> list[TopUpResult]:
        async with otto_session(settings, bridge_url) as (endpoints, stack):
            recipients = [Party(agent_id=a.id, address=a.address) for a in store.agents if a.id != funder]
            spec = FundSpec(
                endpoints=endpoints,
                wallets=str(store.path),
                recipients=recipients,
                target_balance=target,
                funder=funder,
            )
            return await stack.client.execute_workflow(
                FundAgentsWorkflow.run, spec, id=f"fund-{uuid.uuid4().hex[:12]}", task_queue=TaskQueue.OTTO
            )

    return run_async(run())
