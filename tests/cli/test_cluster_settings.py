"""The settings a cluster needs, on real processes: where /metrics and the OttoChain node listen, workers
that serve some task queues only, and one study spread over several worker processes (issue 12, item 2)."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys

import httpx
import pytest
from temporalio.api.enums.v1 import TaskQueueType
from temporalio.client import Client

from models.task_queues import TaskQueue
from tests.cli.helpers import ROOT, Service, environment, scrape, simctl
from tests.histories import activity_calls
from workers.client import pollers
from workers.metrics import free_port

# On this machine but not 127.0.0.1: only a process listening on every address (0.0.0.0) answers here.
OTHER_LOOPBACK = "127.0.0.2"


async def answers(host: str, port: int) -> bool:
    try:
        async with httpx.AsyncClient() as http:
            await http.get(f"http://{host}:{port}/", timeout=3)
    except httpx.ConnectError:
        return False
    return True


def worker_env(temporal_address: str, state_dir, **extra: str) -> dict[str, str]:
    return environment(TEMPORAL_ADDRESS=temporal_address, SIMCTL_STATE_DIR=str(state_dir), **extra)


async def test_worker_serves_the_queues_named_with_metrics_on_every_address(
    client: Client, temporal_address: str, tmp_path
):
    port = free_port()
    env = worker_env(temporal_address, tmp_path, SIMCTL_METRICS_HOST="0.0.0.0", SIMCTL_METRICS_PORT=str(port))
    worker = await Service.start(sys.executable, "-m", "workers.main", "--queues", "ads,otto", env=env)
    try:
        polled = await worker.wait_for(r"worker polling task queues: (.*)")
        assert polled[1].strip() == "simctl-otto, simctl-ads"
        await worker.wait_for(rf"metrics at http://0\.0\.0\.0:{port}/metrics")
        assert "temporal_request_total" in await scrape(f"http://{OTHER_LOOPBACK}:{port}/metrics")

        identity = f"{worker.process.pid}@"
        activity = TaskQueueType.TASK_QUEUE_TYPE_ACTIVITY
        assert any(p.startswith(identity) for p in await pollers(client, TaskQueue.ADS, activity))
        assert not any(p.startswith(identity) for p in await pollers(client, TaskQueue.PLATFORM, activity))

        assert await worker.stop(signal.SIGTERM) == 0
    finally:
        worker.kill()


async def test_metrics_listen_on_loopback_by_default(temporal_address: str, tmp_path):
    port = free_port()
    worker = await Service.start(
        sys.executable, "-m", "workers.main", env=worker_env(temporal_address, tmp_path, SIMCTL_METRICS_PORT=str(port))
    )
    try:
        await worker.wait_for(rf"metrics at http://127\.0\.0\.1:{port}/metrics")
        assert await answers("127.0.0.1", port)
        assert not await answers(OTHER_LOOPBACK, port)
        assert await worker.stop(signal.SIGTERM) == 0
    finally:
        worker.kill()


@pytest.mark.parametrize("host_from", ["flag", "environment"])
async def test_ottochain_node_listens_where_told(tmp_path, host_from: str):
    port = free_port()
    flag = ["--host", "0.0.0.0"] if host_from == "flag" else []
    env = environment(SIMCTL_OTTO_NODE_HOST="0.0.0.0") if host_from == "environment" else environment()
    node = await Service.start(
        sys.executable,
        *("-m", "simctl", "--state-dir", str(tmp_path), "localnet", "ottochain", "--port", str(port), *flag),
        env=env,
    )
    try:
        await node.wait_for("Press Ctrl-C to stop", timeout=60)
        assert f"listening on 0.0.0.0:{port}" in node.output
        assert f"bridge   http://127.0.0.1:{port}/bridge" in node.output, "printed URLs work on this machine"
        async with httpx.AsyncClient() as http:
            health = await http.get(f"http://{OTHER_LOOPBACK}:{port}/bridge/health", timeout=5)
        assert health.json()["status"] == "ok"
        assert await node.stop(signal.SIGTERM) == 0
    finally:
        node.kill()


async def test_ottochain_node_listens_on_loopback_by_default(tmp_path):
    port = free_port()
    node = await Service.start(
        sys.executable,
        *("-m", "simctl", "--state-dir", str(tmp_path), "localnet", "ottochain", "--port", str(port)),
        env=environment(),
    )
    try:
        await node.wait_for("Press Ctrl-C to stop", timeout=60)
        assert f"listening on 127.0.0.1:{port}" in node.output
        assert await answers("127.0.0.1", port) and not await answers(OTHER_LOOPBACK, port)
        assert await node.stop(signal.SIGTERM) == 0
    finally:
        node.kill()


def run(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, *args], capture_output=True, text=True, env=env, cwd=ROOT, timeout=60)


@pytest.mark.parametrize(
    ("args", "env", "says"),
    [
        (["-m", "workers.main", "--queues", "otto,nowhere"], {}, "unknown task queue 'nowhere'"),
        (["-m", "workers.main"], {"SIMCTL_TASK_QUEUES": "ads,"}, "SIMCTL_TASK_QUEUES"),
        (["-m", "workers.main", "--metrics-host", "not a host"], {}, "SIMCTL_METRICS_HOST"),
        (["-m", "workers.main"], {"SIMCTL_WORKER_ROLE": "both"}, "SIMCTL_WORKER_ROLE"),
        (["-m", "workers.main"], {"SIMCTL_METRICS_HOST": "bad_host"}, "SIMCTL_METRICS_HOST"),
        (["-m", "simctl", "up"], {"SIMCTL_TASK_QUEUES": "nowhere"}, "SIMCTL_TASK_QUEUES"),
        (["-m", "simctl", "localnet", "ottochain", "--host", "a b"], {}, "'--host'"),
        (["-m", "simctl", "localnet", "ottochain"], {"SIMCTL_OTTO_NODE_HOST": "-x"}, "SIMCTL_OTTO_NODE_HOST"),
    ],
)
def test_bad_cluster_settings_are_one_line_and_exit_2(tmp_path, args: list[str], env: dict[str, str], says: str):
    result = run(args, environment(SIMCTL_STATE_DIR=str(tmp_path), TEMPORAL_ADDRESS=f"127.0.0.1:{free_port()}", **env))
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and says in lines[0] and "Traceback" not in result.stderr, result.stderr


@pytest.mark.postgres
async def test_a_study_spread_over_three_worker_processes_completes_and_audits_clean(
    client: Client, temporal_address: str, postgres_url: str, tmp_path
):
    """Two workers on every queue and a third on the ads queue only, one server, one PostgreSQL store:
    the way a cluster runs (the issue's acceptance test)."""
    env = worker_env(temporal_address, tmp_path, SIMCTL_DATABASE_URL=postgres_url, SIMCTL_METRICS_PORT="0")
    workers = [
        await Service.start(sys.executable, "-m", "workers.main", *queues, env=env)
        for queues in ([], [], ["--queues", "ads"])
    ]
    try:
        for worker in workers:
            await worker.wait_for(r"worker polling task queues", timeout=90)
        started = await asyncio.to_thread(
            simctl,
            *("--no-embedded", "start-campaign", "--days", "2", "--buyers", "1", "--sellers", "2"),
            *("--campaigns-per-buyer", "1", "--seed", "12", "--id", f"cluster-{os.getpid()}-{free_port()}"),
            env=env,
        )
        assert started.returncode == 0, started.stderr
        experiment = started.stdout.strip().splitlines()[-1]
        await asyncio.wait_for(client.get_workflow_handle(experiment).result(), timeout=240)

        audit = await asyncio.to_thread(simctl, "--no-embedded", "audit", "--experiment", experiment, env=env)
        assert audit.returncode == 0, audit.stdout + audit.stderr
        for worker in workers:
            assert await worker.stop(signal.SIGTERM) == 0
            assert "Traceback" not in worker.output, worker.output
    finally:
        for worker in workers:
            worker.kill()


@pytest.mark.postgres
async def test_workflows_and_activities_in_processes_of_their_own_run_a_study(
    client: Client, temporal_address: str, postgres_url: str, tmp_path
):
    """`--role`: one process runs the ads queue's workflows, another its activities, and a study needs both (with
    the store a cluster uses: processes that write at once wait on no SQLite file lock)."""
    env = worker_env(temporal_address, tmp_path, SIMCTL_DATABASE_URL=postgres_url, SIMCTL_METRICS_PORT="0")
    roles = ("workflows", "activities")
    workers = [
        await Service.start(sys.executable, "-m", "workers.main", "--queues", "ads", "--role", role, env=env)
        for role in roles
    ]
    try:
        for worker, role in zip(workers, roles, strict=True):
            polled = await worker.wait_for(r"worker polling task queues \((\w+) only\): (.*)", timeout=90)
            assert (polled[1], polled[2].strip()) == (role, "simctl-ads")

        started = await asyncio.to_thread(
            simctl,
            *("--no-embedded", "start-campaign", "--days", "8", "--buyers", "1", "--sellers", "2"),
            *("--campaigns-per-buyer", "1", "--seed", "12", "--id", f"roles-{os.getpid()}-{free_port()}"),
            env=env,
        )
        assert started.returncode == 0, started.stderr
        experiment = started.stdout.strip().splitlines()[-1]
        await asyncio.wait_for(client.get_workflow_handle(experiment).result(), 240)
        # The campaigns' negotiations are local activities: they ran in the workflows' process.
        history = await client.get_workflow_handle(experiment).fetch_history()
        campaigns = [
            event.start_child_workflow_execution_initiated_event_attributes.workflow_id
            for event in history.events
            if event.HasField("start_child_workflow_execution_initiated_event_attributes")
        ]
        negotiations = [
            activity_calls(await client.get_workflow_handle(campaign).fetch_history(), "llm.negotiate")
            for campaign in campaigns
        ]
        assert campaigns and sum(negotiations) > 0, negotiations

        # Asked once the study is done, when both have long been polling (a poll just begun may not show yet).
        kinds = {
            "workflows": TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW,
            "activities": TaskQueueType.TASK_QUEUE_TYPE_ACTIVITY,
        }
        for worker, role in zip(workers, roles, strict=True):
            identity = f"{worker.process.pid}@"
            for kind_role, kind in kinds.items():
                polling = any(p.startswith(identity) for p in await pollers(client, TaskQueue.ADS, kind))
                assert polling == (kind_role == role), (role, kind_role)
        for worker in workers:
            assert await worker.stop(signal.SIGTERM) == 0
            assert "Traceback" not in worker.output, worker.output
    finally:
        for worker in workers:
            worker.kill()
