"""Metric names follow one policy (README, Observability): a domain's metrics carry its seed's prefix
(otto `traffic_simulator_`, ads `rtb_`, monero `monerosim_`) and the seed's exact name where it gives one; the
platform's carry `simctl_`. Found in the source: prometheus-client metrics and Temporal metric-meter instruments."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("activities", "workflows", "workers", "localnet", "store", "simctl", "report")
PROMETHEUS = {"Counter", "Gauge", "Histogram", "Summary", "Info", "Enum"}
METER = {
    "create_counter",
    "create_gauge",
    "create_gauge_float",
    "create_histogram",
    "create_histogram_float",
    "create_histogram_timedelta",
}

# monero: seed 002 names no metrics; `monerosim_`, after the peer project, keeps them apart from monerod exporters.
PREFIX = {"otto": "traffic_simulator_", "ads": "rtb_", "monero": "monerosim_", "platform": "simctl_"}
# Names the seeds fix (../shared/seeds/000_… "Metrics & Observability", 003_… Gap 27) that we export.
SEED_NAMES = {
    "traffic_simulator_fibers_initiated",
    "traffic_simulator_fibers_completed",
    "traffic_simulator_fibers_failed",
    "traffic_simulator_bridge_failures",
    "traffic_simulator_bridge_backoff_ms",
    "traffic_simulator_population_size",
    "traffic_simulator_generation",
    "traffic_simulator_fitness_avg",
    "traffic_simulator_fitness_max",
    "traffic_simulator_fitness_min",
    "traffic_simulator_reputation_queries",
    "traffic_simulator_attestations_created",
    "rtb_deals_completed",
    "rtb_deal_latency_seconds",
    "rtb_hallucinations",
    "rtb_context_rot_events",
}


def domain(path: Path) -> str:
    parts = set(path.relative_to(ROOT).with_suffix("").parts)
    if parts & {"otto", "ottochain"}:
        return "otto"
    if parts & {"ads", "llm"}:
        return "ads"
    if "monero" in parts:
        return "monero"
    return "platform"


def strings(node: ast.expr, assigned: dict[str, list[ast.expr]]) -> list[str]:
    """The string values an argument can take: a literal, a conditional of literals, or a name bound to them."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return [node.value]
    if isinstance(node, ast.IfExp):
        return strings(node.body, assigned) + strings(node.orelse, assigned)
    if isinstance(node, ast.Name) and node.id in assigned:
        return [value for bound in assigned[node.id] for value in strings(bound, assigned)]
    raise AssertionError(f"a metric name that is not a literal: {ast.unparse(node)}")


def metric_names(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    prometheus = {
        alias.asname or alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("prometheus_client")
        for alias in node.names
        if alias.name in PROMETHEUS
    }
    assigned: dict[str, list[ast.expr]] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign):
            for target in node.targets:
                if isinstance(target, ast.Name):
                    assigned.setdefault(target.id, []).append(node.value)
    names = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call) or not node.args:
            continue
        func = node.func
        called = func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else None
        if (called in prometheus and isinstance(func, ast.Name)) or called in METER:
            names.extend(strings(node.args[0], assigned))
    return names


def all_metrics() -> dict[str, Path]:
    found: dict[str, Path] = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            for name in metric_names(path):
                found[name] = path
    return found


def test_every_metric_carries_its_domains_prefix():
    found = all_metrics()
    assert {"rtb_deals_completed", "traffic_simulator_fibers_completed", "simctl_ledger_entries_written_total"} <= set(
        found
    ), "the scan finds the metrics it is meant to check"
    wrong = {
        name: str(path.relative_to(ROOT)) for name, path in found.items() if not name.startswith(PREFIX[domain(path)])
    }
    assert not wrong, f"metric names outside the policy: {wrong}"


def test_the_seeds_names_are_used_where_they_fix_one():
    missing = SEED_NAMES - set(all_metrics())
    assert not missing, f"seed names not exported: {missing}"
