"""Grafana's provisioning and dashboards parse, their PromQL parses, and every metric a dashboard queries is
one that simctl serves: scraped from a real worker's /metrics after a small ads study and otto fibers, or,
for what such runs do not produce, found in the source or in the Temporal SDK (issue 12, item 4)."""

from __future__ import annotations

import json
import re
import sys
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import promql_parser
import pytest
import temporalio.bridge
import yaml
from prometheus_client.parser import text_string_to_metric_families
from temporalio.client import Client, WorkflowFailureError

from localnet.ottochain.chain import Faults
from localnet.ottochain.server import OttoChainServer
from localnet.ports import free_port
from models.ads import ExperimentSpec
from models.otto import FiberSpec
from models.task_queues import TaskQueue
from tests.cli.helpers import Service, environment, scrape
from tests.deploy.compose import ROOT
from tests.otto.conftest import PASSPHRASE, Pool
from tests.unit.test_metric_names import all_metrics
from workflows.ads.experiment import ExperimentWorkflow
from workflows.otto.fiber import FiberWorkflow

GRAFANA = ROOT / "deploy" / "grafana"
DASHBOARDS = {"otto", "ads", "monero", "temporal-sdk"}
# Grafana's own variables, replaced by a duration before parsing, as Grafana does before querying.
GRAFANA_INTERVALS = re.compile(r"\$__(rate_interval|interval|range)\b")
# Series Prometheus makes itself, not a worker.
PROMETHEUS_OWN = {"up"}

# Names the small runs below cannot produce, each with why; they are checked against the source instead.
NOT_FROM_SMALL_RUNS = {
    # otto evolution (issue 9): EvolutionWorkflow and GenerationWorkflow runs, not one fiber lifecycle.
    "traffic_simulator_population_size": "evolution",
    "traffic_simulator_generation": "evolution",
    "traffic_simulator_fitness_avg": "evolution",
    "traffic_simulator_fitness_max": "evolution",
    "traffic_simulator_fitness_min": "evolution",
    "traffic_simulator_reputation_queries_total": "evolution",
    "traffic_simulator_attestations_created_total": "evolution (attestation fibers)",
    "traffic_simulator_bridge_backoff_ms": "evolution (a generation's chain gate)",
    "traffic_simulator_breaker_state": "evolution (a generation's chain gate)",
    "traffic_simulator_ml0_lag_ms": "evolution (a generation's chain gate)",
    # monero (issue 10): a run on real monerod.
    "monerosim_blocks_mined_total": "monero",
    "monerosim_transactions_sent_total": "monero",
    "monerosim_transactions_confirmed_total": "monero",
    "monerosim_payments_skipped_total": "monero",
    "monerosim_confirmation_latency_blocks_bucket": "monero",
    "monerosim_block_propagation_seconds_bucket": "monero",
    "monerosim_mempool_size": "monero",
    "monerosim_node_height": "monero",
    # The Temporal SDK counts these only when a workflow task fails (nondeterminism, a panic).
    "temporal_workflow_task_execution_failed_total": "sdk",
}


def dashboards() -> dict[str, dict[str, Any]]:
    return {path.stem: json.loads(path.read_text()) for path in sorted((GRAFANA / "dashboards").glob("*.json"))}


def panels(board: dict[str, Any]) -> list[dict[str, Any]]:
    found = []
    for panel in board["panels"]:
        found.append(panel)
        found.extend(panel.get("panels", []))
    return found


def queries(board: dict[str, Any]) -> list[str]:
    return [target["expr"] for panel in panels(board) for target in panel.get("targets", [])]


def metric_names(expr: str) -> set[str]:
    names: set[str] = set()

    def visit(node: promql_parser.Expr) -> None:
        if isinstance(node, promql_parser.VectorSelector) and node.name:
            names.add(node.name)

    promql_parser.walk(promql_parser.parse(GRAFANA_INTERVALS.sub("5m", expr)), visit)
    return names


def queried() -> dict[str, set[str]]:
    """Every metric each dashboard queries."""
    return {name: {m for expr in queries(board) for m in metric_names(expr)} for name, board in dashboards().items()}


def served_names(exposition: str) -> set[str]:
    """Series names an exposition serves, and those it declares (a labelled metric before its first sample)."""
    names: set[str] = set()
    for family in text_string_to_metric_families(exposition):
        names.update(sample.name for sample in family.samples)
        suffixes = {"counter": ["_total"], "histogram": ["_bucket", "_sum", "_count"], "summary": ["_sum", "_count"]}
        names.update(family.name + suffix for suffix in suffixes.get(family.type, [""]))
    return names


def base_name(series: str) -> str:
    return re.sub(r"_(total|bucket|sum|count)$", "", series)


def test_provisioning_points_grafana_at_the_stacks_prometheus():
    datasources = yaml.safe_load((GRAFANA / "provisioning/datasources/prometheus.yml").read_text())
    [source] = datasources["datasources"]
    assert (source["type"], source["uid"], source["url"]) == ("prometheus", "prometheus", "http://prometheus:9090")
    providers = yaml.safe_load((GRAFANA / "provisioning/dashboards/simctl.yml").read_text())
    [provider] = providers["providers"]
    assert provider["options"]["path"] == "/var/lib/grafana/dashboards"


def test_a_dashboard_per_domain_and_the_sdk_each_parsing_with_valid_promql():
    boards = dashboards()
    assert set(boards) == DASHBOARDS
    uids = [board["uid"] for board in boards.values()]
    assert len(set(uids)) == len(uids)
    for name, board in boards.items():
        assert board["title"] and panels(board), name
        for panel in panels(board):
            if panel["type"] == "row":
                continue
            assert panel["datasource"] == {"type": "prometheus", "uid": "prometheus"}, (name, panel["title"])
            assert panel["targets"], (name, panel["title"])
        for expr in queries(board):
            assert metric_names(expr), f"{name}: a query that reads no metric: {expr}"


def test_each_dashboard_shows_what_its_domain_is_watched_by():
    names = queried()
    assert {"traffic_simulator_population_size", "traffic_simulator_fitness_avg"} <= names["otto"]
    assert {"traffic_simulator_fibers_completed_total", "traffic_simulator_bridge_failures_total"} <= names["otto"]
    assert {"rtb_deals_completed_total", "rtb_deal_rounds_bucket", "rtb_take_rate"} <= names["ads"]
    assert "rtb_context_rot_events_total" in names["ads"]
    assert {"monerosim_blocks_mined_total", "monerosim_transactions_sent_total"} <= names["monero"]
    assert "monerosim_block_propagation_seconds_bucket" in names["monero"]
    assert {
        "temporal_workflow_task_schedule_to_start_latency_bucket",
        "temporal_activity_schedule_to_start_latency_bucket",
        "temporal_worker_task_slots_used",
        "temporal_worker_task_slots_available",
        "temporal_activity_execution_failed_total",
        "temporal_workflow_task_execution_failed_total",
    } <= names["temporal-sdk"]
    prefixes = {"otto": ("traffic_simulator_",), "ads": ("rtb_", "simctl_"), "monero": ("monerosim_",)}
    for board, prefix in prefixes.items():
        assert all(name.startswith(prefix) for name in names[board]), (board, names[board])


@pytest.fixture(scope="module")
async def served(client: Client, temporal_address: str, pool: Pool, tmp_path_factory) -> AsyncIterator[set[str]]:
    """`python -m workers.main` runs a small study, fibers that complete (through transient node errors) and
    fail, and one the chain refuses; then its /metrics is scraped."""
    port = free_port()
    env = environment(
        TEMPORAL_ADDRESS=temporal_address,
        SIMCTL_STATE_DIR=str(tmp_path_factory.mktemp("worker")),
        SIMCTL_METRICS_PORT=str(port),
        SIMCTL_WALLET_PASSPHRASE=PASSPHRASE,
    )
    async with OttoChainServer(faults=Faults(snapshot_interval=0.05)) as node:
        worker = await Service.start(sys.executable, "-m", "workers.main", env=env)
        try:
            await worker.wait_for(r"worker polling task queues", timeout=90)
            study = ExperimentSpec(
                id=f"metrics-{uuid.uuid4().hex[:8]}", days=2, buyers=1, sellers=2, campaigns_per_buyer=1, seed=4
            )
            await client.execute_workflow(ExperimentWorkflow.run, study, id=study.id, task_queue=TaskQueue.ADS)

            def fiber(kind: str, outcome: str, offset: int, **extra: Any) -> FiberSpec:
                return FiberSpec(
                    fiber_type=kind,
                    parties=pool.take(2, offset=offset),
                    outcome=outcome,
                    seed=offset,
                    endpoints=node.endpoints,
                    wallets=str(pool.path),
                    timeout_seconds=120,
                    **extra,
                )

            async def run(spec: FiberSpec):
                workflow_id = f"metrics-{spec.fiber_type}-{uuid.uuid4().hex[:8]}"
                return await client.execute_workflow(FiberWorkflow.run, spec, id=workflow_id, task_queue=TaskQueue.OTTO)

            # Requests failing with 5xx: activities fail and are retried (the SDK's activity failures).
            node.chain.faults.error_rate = 0.3
            assert (await run(fiber("TicTacToe", "win", 4))).outcome == "win"
            node.chain.faults.error_rate = 0.0
            assert (await run(fiber("SimpleOrder", "cancelled", 6))).outcome == "cancelled"
            # V1's bug: only the initiator owns the fiber, so the counterparty's move is dropped and the
            # workflow fails (an activity failure, then a workflow failure, in the SDK's metrics).
            with pytest.raises(WorkflowFailureError):
                await run(fiber("SimpleOrder", "delivered", 8, owners="initiator"))
            yield served_names(await scrape(f"http://127.0.0.1:{port}/metrics"))
        finally:
            worker.kill()


async def test_every_metric_a_dashboard_queries_is_served_by_a_real_run(served: set[str]):
    wanted = set().union(*queried().values()) - PROMETHEUS_OWN - set(NOT_FROM_SMALL_RUNS)
    missing = wanted - served
    assert not missing, f"dashboards query metrics a worker does not serve: {sorted(missing)}"
    assert {"traffic_simulator_fibers_failed_total", "temporal_workflow_failed_total"} <= served


def test_dashboard_metrics_small_runs_do_not_produce_are_in_the_source():
    """Separate on purpose: otto-evolution and monero names are checked against the code that will serve them
    (tests/unit/test_metric_names.py's scan). A dashboard panel waits for the code that serves its metric."""
    wanted = set().union(*queried().values())
    assert set(NOT_FROM_SMALL_RUNS) <= wanted, "every exception is one a dashboard uses"
    in_source = set(all_metrics())
    missing = sorted(
        name for name, why in NOT_FROM_SMALL_RUNS.items() if why != "sdk" and base_name(name) not in in_source
    )
    assert not missing, f"dashboards query metrics no code defines yet: {missing}"


def test_sdk_metrics_a_healthy_run_does_not_produce_are_the_sdks():
    """The Temporal SDK's core names its metrics in its native library; the failure counters are there."""
    library = next(Path(temporalio.bridge.__file__).parent.glob("temporal_sdk_bridge*.so")).read_bytes()
    for name, why in NOT_FROM_SMALL_RUNS.items():
        if why == "sdk":
            core_name = base_name(name).removeprefix("temporal_").encode()
            assert core_name in library, f"{name} is not a Temporal SDK metric"
