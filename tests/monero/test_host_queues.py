"""Two `python -m workers.main` processes serve the monero queue as two hosts (two host ids, two state
directories, on this one machine): a run claims one of them, and every activity that starts, stops or talks to
a monerod or wallet-rpc, in the run and in its children, is scheduled on that host's queue and run by that
host's worker; store writes stay on the shared queues (issue 12, item 3)."""

from __future__ import annotations

import signal
import subprocess
import sys
import uuid
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import pytest
from temporalio.api.enums.v1 import TaskQueueType
from temporalio.api.history.v1 import HistoryEvent
from temporalio.client import Client

from activities.monero.nodes import NodeActivities
from activities.monero.wallets import WalletActivities
from localnet.monero import processes
from models.monero_run import NetworkInput, NetworkSummary, RunSpec
from models.task_queues import TaskQueue, host_queue
from tests.cli.helpers import ROOT, environment
from tests.monero.configs import small_config
from tests.polling import eventually
from workers.client import pollers
from workers.registry import monero_process_methods
from workflows.monero.network import MoneroNetworkWorkflow

pytestmark = [pytest.mark.monerod, pytest.mark.timeout(900)]

# What must run where the processes are: every activity the host queue serves.
PROCESS_ACTIVITIES = {
    getattr(method, "__temporal_activity_definition").name
    for method in monero_process_methods(NodeActivities(Path("."), None), WalletActivities(None))  # type: ignore[arg-type]
}


@dataclass
class Host:
    """One worker process standing for one machine: its own host id and state directory."""

    host_id: str
    state_dir: Path
    process: subprocess.Popen[bytes]
    log: Path

    @property
    def queue(self) -> str:
        return host_queue(TaskQueue.MONERO, self.host_id)

    @property
    def identity(self) -> str:
        return f"{self.process.pid}@"  # the SDK's default worker identity is "<pid>@<hostname>"

    def output(self) -> str:
        return self.log.read_text(errors="replace")


def start_host(temporal_address: str, tmp_path: Path, host_id: str, database_url: str) -> Host:
    state_dir = tmp_path / host_id
    state_dir.mkdir()
    log = tmp_path / f"{host_id}.log"
    env = environment(
        TEMPORAL_ADDRESS=temporal_address,
        SIMCTL_STATE_DIR=str(state_dir),
        SIMCTL_DATABASE_URL=database_url,
        SIMCTL_METRICS_PORT="0",
        SIMCTL_HOST_ID=host_id,
        SIMCTL_LOG_LEVEL="info",
    )
    with log.open("ab") as out:
        # A file, not a pipe: nobody reads a pipe while the run goes on, and a full one would block the worker.
        process = subprocess.Popen(
            [sys.executable, "-m", "workers.main", "--queues", "monero,platform"],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    return Host(host_id=host_id, state_dir=state_dir, process=process, log=log)


async def polling(client: Client, host: Host) -> bool:
    if host.process.poll() is not None:
        raise AssertionError(f"worker {host.host_id} exited with {host.process.returncode}:\n{host.output()}")
    activity = TaskQueueType.TASK_QUEUE_TYPE_ACTIVITY
    shared = await pollers(client, TaskQueue.MONERO, activity)
    own = await pollers(client, host.queue, activity)
    return any(p.startswith(host.identity) for p in shared) and any(p.startswith(host.identity) for p in own)


@dataclass(frozen=True)
class Scheduled:
    workflow_id: str
    activity: str
    task_queue: str
    started_by: str


async def scheduled_activities(client: Client, workflow_id: str) -> tuple[list[Scheduled], list[str]]:
    """Every activity the workflow scheduled (type, task queue, the identity that started its last attempt), and
    the ids of the children it started."""
    history = await client.get_workflow_handle(workflow_id).fetch_history()
    events: list[HistoryEvent] = list(history.events)
    started = {
        e.activity_task_started_event_attributes.scheduled_event_id: e.activity_task_started_event_attributes.identity
        for e in events
        if e.HasField("activity_task_started_event_attributes")
    }
    scheduled = [
        Scheduled(
            workflow_id=workflow_id,
            activity=e.activity_task_scheduled_event_attributes.activity_type.name,
            task_queue=e.activity_task_scheduled_event_attributes.task_queue.name,
            started_by=started.get(e.event_id, ""),
        )
        for e in events
        if e.HasField("activity_task_scheduled_event_attributes")
    ]
    children = [
        e.start_child_workflow_execution_initiated_event_attributes.workflow_id
        for e in events
        if e.HasField("start_child_workflow_execution_initiated_event_attributes")
    ]
    return scheduled, children


async def test_a_run_keeps_its_process_activities_on_the_host_it_claimed(
    client: Client, temporal_address: str, genesis_snapshot: Path, tmp_path: Path
):
    tag = uuid.uuid4().hex[:6]
    database_url = f"sqlite:///{tmp_path / 'simctl.db'}"
    hosts = [start_host(temporal_address, tmp_path, f"host-{name}-{tag}", database_url) for name in ("a", "b")]
    run_id = f"hosts-{tag}"
    try:
        for host in hosts:
            await eventually(partial(polling, client, host), timeout=120, what=f"{host.host_id} polling")
        config = small_config(
            blocks=4, users=2, marketplaces=1, pools=(("pool_a", 0.6), ("pool_b", 0.4)), frequency=0.3, vendors=2
        )
        spec = RunSpec(run_id=run_id, config=config, genesis_dir=str(genesis_snapshot))
        handle = await client.start_workflow(
            MoneroNetworkWorkflow.run, NetworkInput(spec=spec), id=run_id, task_queue=TaskQueue.MONERO
        )

        async def host_in_progress() -> str | None:
            queue = (await handle.query(MoneroNetworkWorkflow.progress)).get("host_queue")
            return queue if isinstance(queue, str) else None

        # What `simctl monero status` shows: the host, once claimed.
        shown = await eventually(host_in_progress, timeout=120, what="the claimed host in the run's progress")
        summary: NetworkSummary = await handle.result()
        assert summary.rounds == 4 and summary.reconciled, summary

        scheduled: list[Scheduled] = []
        pending = [run_id]
        while pending:
            found, children = await scheduled_activities(client, pending.pop())
            scheduled += found
            pending += children
        claims = [s for s in scheduled if s.activity == "monero.claim_host"]
        assert len(claims) == 1 and claims[0].task_queue == TaskQueue.MONERO.value, claims
        by_queue = {host.queue: host for host in hosts}
        planned_on = next(s.task_queue for s in scheduled if s.activity == "monero.plan_processes")
        assert planned_on in by_queue, f"the processes were planned on {planned_on}, not on a host's queue"
        claimed = by_queue[planned_on]
        other = next(host for host in hosts if host is not claimed)
        assert shown == claimed.queue

        on_host = [s for s in scheduled if s.activity in PROCESS_ACTIVITIES]
        # Setup, rounds, payments, marketplaces and reconciliation all took part.
        assert {s.activity for s in on_host} >= {
            "monero.start_node",
            "monero.start_wallet",
            "monero.generate_blocks",
            "monero.build_transfer",
            "monero.create_vendors",
            "monero.received",
            "monero.stop_processes",
        }
        assert len({s.workflow_id for s in on_host}) > 5
        strays = [s for s in on_host if s.task_queue != claimed.queue or not s.started_by.startswith(claimed.identity)]
        assert not strays, f"process activities off {claimed.host_id}: {strays[:5]}"
        elsewhere = [s for s in scheduled if s.activity not in PROCESS_ACTIVITIES]
        assert {s.task_queue for s in elsewhere} <= {TaskQueue.MONERO.value, TaskQueue.PLATFORM.value}, elsewhere

        # The processes lived under the claimed host's state directory only, and were all stopped.
        run_dir = claimed.state_dir / "monero" / run_id
        assert (run_dir / "nodes").is_dir()
        assert not (other.state_dir / "monero" / run_id).exists()
        assert processes.recorded_all(run_dir) == {}

        for host in hosts:
            host.process.send_signal(signal.SIGTERM)
            assert host.process.wait(30) == 0, host.output()
            assert "Traceback" not in host.output(), host.output()
    finally:
        for host in hosts:
            if host.process.poll() is None:
                host.process.kill()
                host.process.wait(30)
            for leftover in (host.state_dir / "monero").glob("*"):
                for name in processes.recorded_all(leftover):
                    processes.stop_recorded(leftover, name, grace=5)
