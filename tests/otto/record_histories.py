"""Record the histories that tests/otto/test_funding_and_replay.py replays.

    python -m tests.otto.record_histories TAG [NAME ...]   (needs nothing running: starts what it needs)

Record only on purpose, after an intended, versioned change to workflow code, under a new tag (``v2``
after ``v1``), so that the older files keep the older branches covered: each file is ``<tag>-<name>.json``.
Names (e.g. ``fiber-contract-decided``) record only those histories.

- ``v1``: before any patch (creates, transitions and waits as separate activities).
- ``v2``: ``otto-regular-chain-calls`` and ``otto-send-and-await`` (an update and its wait are one activity),
  ``otto-report-as-lifecycles-end`` (a generation files a lifecycle's contract reports as soon as it ends),
  ``otto-attest-in-generation`` (a generation issues its attestations itself, not through children).
- ``v3``: ``otto-document-in-one-activity`` (a document fiber's create and its one event are one activity);
  recorded for ``identity-activate`` (with ``attestation-skill``) and ``evolution-run`` (with ``generation-0``).
- ``v4``: ``otto-enrol-newcomers-early`` (a generation registers its newcomers while its lifecycles run);
  recorded for ``evolution-run`` (with ``generation-0``), with ten agents.
- ``v5``: ``otto-register-again-when-lost`` (a registration still off ML0 after a quiet spell is looked for, else
  made again); recorded for ``identity-activate`` (with ``attestation-skill``).
"""

from __future__ import annotations

import asyncio
import json
import sys
import tempfile
import uuid
from pathlib import Path
from typing import Any

import httpx
from temporalio.client import WorkflowHistory
from temporalio.worker import Worker

from activities.otto.evolution import EvolutionActivities
from activities.otto.fibers import FiberActivities
from activities.otto.identity import IdentityActivities
from activities.otto.keyring import Keyring
from bench.server import benchmark_client
from localnet.ottochain.chain import Faults
from localnet.ottochain.server import OttoChainServer
from models.evolution import EvolutionSpec
from models.otto import FIBER_TYPES, AgentTraits, AttestationSpec, FiberSpec, IdentitySpec, Party
from store.engine import open_store
from store.wallets import generate_pool
from workflows.otto.evolution import EvolutionWorkflow
from workflows.otto.fiber import FiberWorkflow
from workflows.otto.generation import GenerationWorkflow
from workflows.otto.identity import AttestationWorkflow, IdentityWorkflow

OUT = Path(__file__).parent / "histories"


def decided(party: Party, response_speed: float) -> Party:
    """A party that decides for itself (decision mode): cooperative, unafraid, quick."""
    traits = AgentTraits(
        fiber_weights={name: 1 / len(FIBER_TYPES) for name in FIBER_TYPES},
        activity_level=1.0,
        risk_tolerance=1.0,
        cooperativeness=1.0,
        response_speed=response_speed,
    )
    return party.model_copy(update={"traits": traits})


def save(tag: str, name: str, history: WorkflowHistory) -> None:
    (OUT / f"{tag}-{name}.json").write_text(json.dumps(json.loads(history.to_json()), indent=1))


async def main(tag: str, only: set[str]) -> None:
    with tempfile.TemporaryDirectory() as scratch:
        path = Path(scratch) / "wallets.json"
        store = generate_pool(path, "record", count=4, seed=3)
        parties = [Party(agent_id=a.id, address=a.address) for a in store.agents]
        async with (
            benchmark_client(None, in_memory=True) as (client, _),
            OttoChainServer(faults=Faults(snapshot_interval=0.05)) as node,
            httpx.AsyncClient() as http,
            open_store(f"sqlite+aiosqlite:///{Path(scratch) / 'store.db'}") as engine,
        ):
            fibers, identity = FiberActivities(http, Keyring("record")), IdentityActivities(http, Keyring("record"))
            evolution = EvolutionActivities(engine, http, Keyring("record"))
            queue = f"record-{uuid.uuid4().hex[:6]}"
            async with Worker(
                client,
                task_queue=queue,
                workflows=[FiberWorkflow, IdentityWorkflow, AttestationWorkflow, GenerationWorkflow, EvolutionWorkflow],
                activities=[
                    *fibers.all(),
                    *identity.all(),
                    evolution.observe_agents,
                    evolution.latest_ordinal,
                    evolution.allocate_agents,
                    evolution.begin_run,
                    evolution.load_run,
                    evolution.load_population,
                    evolution.write_checkpoint,
                ],
            ):
                # Each workflow with its own input type: the client checks each pair at run time.
                runs: dict[str, tuple[Any, Any]] = {
                    "fiber-tictactoe-win": (
                        FiberWorkflow.run,
                        FiberSpec(
                            fiber_type="TicTacToe",
                            parties=parties[:2],
                            outcome="win",
                            seed=1,
                            endpoints=node.endpoints,
                            wallets=str(path),
                        ),
                    ),
                    "fiber-voting-passed": (
                        FiberWorkflow.run,
                        FiberSpec(
                            fiber_type="Voting",
                            parties=parties[:4],
                            outcome="passed",
                            seed=2,
                            endpoints=node.endpoints,
                            wallets=str(path),
                        ),
                    ),
                    # Decision mode, thinking on durable timers (a day of thinking is 86400 simulated s).
                    "fiber-contract-decided": (
                        FiberWorkflow.run,
                        FiberSpec(
                            fiber_type="Contract",
                            parties=[decided(parties[0], 0.9), decided(parties[1], 0.8)],
                            seed=4,
                            endpoints=node.endpoints,
                            wallets=str(path),
                            acceleration=86400.0,
                        ),
                    ),
                    "identity-activate": (
                        IdentityWorkflow.run,
                        IdentitySpec(
                            endpoints=node.endpoints,
                            wallets=str(path),
                            agent_id=parties[0].agent_id,
                            address=parties[0].address,
                            display_name="a",
                            platform="github",
                            platform_user_id="a",
                        ),
                    ),
                    # A small run of the evolving simulator; its first generation is saved beside it. Ten agents,
                    # the fewest whose generation takes a newcomer on (v3 and before: four, none).
                    "evolution-run": (
                        EvolutionWorkflow.run,
                        EvolutionSpec(
                            run_id="evolution-run",
                            seed=5,
                            population=10,
                            generations=2,
                            endpoints=node.endpoints,
                            wallets=str(path),
                        ),
                    ),
                }
                if only - runs.keys():
                    raise SystemExit(
                        f"no history named {', '.join(sorted(only - runs.keys()))} (known: {', '.join(runs)})"
                    )
                for name, (run, spec) in runs.items():
                    if only and name not in only:
                        continue
                    handle = await client.start_workflow(run, spec, id=name, task_queue=queue)
                    result = await handle.result()
                    if name == "identity-activate":
                        attest = AttestationSpec(
                            endpoints=node.endpoints,
                            wallets=str(path),
                            kind="skill",
                            issuer=parties[0],
                            subject=parties[0],
                            subject_identity=result.fiber_id,
                            claim="python",
                        )
                        attest_handle = await client.start_workflow(
                            AttestationWorkflow.run, attest, id="attestation-skill", task_queue=queue
                        )
                        await attest_handle.result()
                        save(tag, "attestation-skill", await attest_handle.fetch_history())
                    if name == "evolution-run":
                        generation = client.get_workflow_handle("evolution-run/g0")
                        save(tag, "generation-0", await generation.fetch_history())
                    save(tag, name, await handle.fetch_history())
    print(f"histories written to {OUT}")


if __name__ == "__main__":
    if len(sys.argv) < 2 or not sys.argv[1].startswith("v"):
        raise SystemExit("usage: python -m tests.otto.record_histories TAG [NAME ...]   (TAG: v1, v2, ...)")
    asyncio.run(main(sys.argv[1], set(sys.argv[2:])))
