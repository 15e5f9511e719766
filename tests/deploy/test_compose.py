"""docker-compose.yml, its Dockerfile and deploy/ checked without a Docker daemon (issue 12, items 1 and 4):
the file parses under the Compose Specification, images are pinned, long-running services have health
checks, dependencies have conditions, data lives in named volumes, secrets come from .env, Prometheus finds
every worker replica by service discovery, and the namespace job registers simctl's search attributes."""

from __future__ import annotations

import json
import re
import shlex
from collections import Counter
from typing import Any

import pytest
import yaml

from models import search_attributes
from tests.deploy.compose import (
    COMPOSE_FILE,
    ROOT,
    UnsetVariable,
    interpolate,
    load_compose,
    read_env_file,
    unset_required,
)

SECRETS = {"POSTGRES_PASSWORD", "SIMCTL_DB_PASSWORD", "SIMCTL_WALLET_PASSPHRASE", "GRAFANA_ADMIN_PASSWORD"}
SERVICES = {
    "postgresql",
    "temporal-schema",
    "temporal",
    "temporal-namespace",
    "temporal-ui",
    "ottochain",
    "worker",
    "simctl",
    "prometheus",
    "grafana",
}
# One-shot jobs (they exit when done) and the on-demand CLI: no health check, others wait for their exit code.
JOBS = {"temporal-schema", "temporal-namespace"}
ON_DEMAND = {"simctl"}
CONDITIONS = {"service_healthy", "service_completed_successfully"}
README = (ROOT / "README.md").read_text()


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    env = read_env_file()
    return load_compose({name: value or f"test-{name.lower()}" for name, value in env.items()})


@pytest.fixture(scope="module")
def services(compose: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return compose["services"]


def cluster_section() -> str:
    match = re.search(r"^## Running on a cluster\n(.*?)(?=^## )", README, re.S | re.M)
    assert match, "the README has a section 'Running on a cluster'"
    return match[1]


def test_the_example_env_sets_no_secret_and_compose_refuses_to_start_without_them():
    env, text = read_env_file(), COMPOSE_FILE.read_text()
    assert set(env) >= SECRETS and not any(env[name] for name in SECRETS), "secrets are blank in .env.example"
    assert unset_required(text, env) == SECRETS
    with pytest.raises(UnsetVariable):
        interpolate(text, env)
    assert "/.env" in (ROOT / ".gitignore").read_text().split(), "a filled-in .env is never committed"


def test_no_secret_is_written_in_the_file():
    text = COMPOSE_FILE.read_text()
    for name in SECRETS:
        for match in re.finditer(rf"\$\{{{name}([^}}]*)\}}", text):
            assert match[1].startswith(":?"), f"${{{name}}} must be required, never defaulted: {match[0]}"
    for line in text.splitlines():
        key, sep, value = line.strip().partition(":")
        if sep and re.search(r"PASSWORD|PASSPHRASE|SECRET|TOKEN|PWD", key) and value.strip():
            assert value.strip().startswith("${"), f"a secret written in the file: {line.strip()}"
    assert not re.search(r"://[^:/@\s]+:[^$@\s]+@", text), "no password inside a URL"


def test_services_are_the_ones_the_readme_names(services: dict[str, Any]):
    assert set(services) == SERVICES
    section = cluster_section()
    named = {name for name in SERVICES if f"`{name}`" in section}
    assert named == SERVICES, f"services the README's cluster section does not name: {SERVICES - named}"


def test_pulled_images_are_pinned_and_temporal_is_the_current_upstream_pair(services: dict[str, Any]):
    for name, service in services.items():
        image = service.get("image", "")
        if "build" in service:
            continue
        repository, _, tag = image.rpartition(":")
        assert repository and re.fullmatch(r"v?\d+\.\d+(\.\d+)?([-.][\w.]+)?", tag), f"{name}: unpinned {image!r}"
    images = {service.get("image", "").rpartition(":")[0] for service in services.values()}
    assert {"temporalio/server", "temporalio/admin-tools", "temporalio/ui"} <= images
    assert "temporalio/auto-setup" not in images, "the deprecated auto-setup image is not used"
    server_tag = services["temporal"]["image"].rpartition(":")[2]
    assert services["temporal-schema"]["image"].endswith(f":{server_tag}"), "admin-tools matches the server"


def test_long_running_services_have_health_checks(services: dict[str, Any]):
    for name, service in services.items():
        if name in JOBS | ON_DEMAND:
            assert "restart" not in service, f"{name} runs once"
            continue
        test = service.get("healthcheck", {}).get("test")
        # The parser gives ["CMD", …] as a list and ["CMD-SHELL", "…"] as its shell string.
        assert (isinstance(test, str) and test) or (test and test[0] == "CMD"), f"{name} has no health check"
        assert service.get("restart") == "unless-stopped", f"{name} comes back after a crash or reboot"


def test_every_dependency_has_a_condition(services: dict[str, Any]):
    for name, service in services.items():
        depends = service.get("depends_on", {})
        assert isinstance(depends, dict), f"{name}: depends_on in the long form, with conditions"
        for other, how in depends.items():
            assert other in services, f"{name} depends on an unknown service {other}"
            condition = how.get("condition")
            assert condition in CONDITIONS, f"{name} -> {other}: condition {condition!r}"
            expected = "service_completed_successfully" if other in JOBS else "service_healthy"
            assert condition == expected, f"{name} -> {other}: {condition} (expected {expected})"
    assert services["temporal"]["depends_on"] == {"temporal-schema": {"condition": "service_completed_successfully"}}
    assert "temporal-namespace" in services["worker"]["depends_on"], "workers start once the namespace is ready"


def test_data_lives_in_named_volumes(compose: dict[str, Any], services: dict[str, Any]):
    named = set(compose["volumes"])
    for name, service in services.items():
        for mount in service.get("volumes", []):
            source, _, target = str(mount).partition(":")
            assert target, f"{name}: anonymous volume {mount!r}"
            if not source.startswith(("./", "/")):
                assert source in named, f"{name}: volume {source!r} is not declared"
            else:
                assert mount.endswith(":ro") and source.startswith("./deploy/"), f"{name}: {mount!r}"
                assert (ROOT / source).exists(), f"{name}: {source} is missing"

    def mounted(service: str) -> dict[str, str]:
        return {str(m).split(":")[1]: str(m).split(":")[0] for m in services[service].get("volumes", [])}

    assert mounted("postgresql")["/var/lib/postgresql/data"] in named
    assert mounted("prometheus")["/prometheus"] in named
    assert mounted("grafana")["/var/lib/grafana"] in named
    assert mounted("ottochain")["/var/lib/simctl"] in named
    assert mounted("worker")["/var/lib/simctl"] == mounted("simctl")["/var/lib/simctl"], (
        "workers and the CLI share the state volume: the wallet pool the CLI generates is the one workers sign with"
    )


def test_workers_scale_and_serve_metrics_to_prometheus(services: dict[str, Any]):
    worker = services["worker"]
    assert "container_name" not in worker and "ports" not in worker, "`--scale worker=N` needs neither"
    assert worker["command"] == ["python", "-m", "workers.main"]
    env = worker["environment"]
    assert env["SIMCTL_METRICS_HOST"] == "0.0.0.0" and env["TEMPORAL_ADDRESS"] == "temporal:7233"
    assert env["SIMCTL_EMBEDDED"] == "false" and env["SIMCTL_DATABASE_URL"].startswith("postgresql://simctl:")
    assert env["SIMCTL_DATABASE_URL"].endswith("@postgresql:5432/simctl"), "simctl's store in its own database"
    assert env["SIMCTL_OTTO_BRIDGE_URL"] == "http://ottochain:9200/bridge", "a URL other containers resolve"
    assert services["simctl"]["environment"]["SIMCTL_OTTO_BRIDGE_URL"] == env["SIMCTL_OTTO_BRIDGE_URL"]
    # One host id for every replica would put them all on one monero host queue, while a run's processes live in
    # the one container that claimed it: each replica keeps its own (its container's host name).
    assert "SIMCTL_HOST_ID" not in env and "hostname" not in worker

    config = yaml.safe_load((ROOT / "deploy/prometheus.yml").read_text())
    jobs = {job["job_name"]: job for job in config["scrape_configs"]}
    workers = jobs["simctl-workers"]
    assert "static_configs" not in workers, "replicas are discovered, not listed"
    [discovery] = workers["dns_sd_configs"]
    assert discovery["names"] == ["worker"] and discovery["type"] == "A"
    assert discovery["port"] == int(env["SIMCTL_METRICS_PORT"])
    assert jobs["temporal-server"]["static_configs"][0]["targets"] == [
        "temporal:" + services["temporal"]["environment"]["PROMETHEUS_ENDPOINT"].rpartition(":")[2]
    ]


def test_the_ottochain_node_listens_for_other_containers(services: dict[str, Any]):
    node = services["ottochain"]
    command = node["command"]
    assert command[:3] == ["simctl", "localnet", "ottochain"]
    assert command[command.index("--host") + 1] == "0.0.0.0" and command[command.index("--port") + 1] == "9200"
    assert "9200/bridge/health" in " ".join(node["healthcheck"]["test"])


def test_the_namespace_job_registers_simctls_search_attributes():
    script = (ROOT / "deploy/temporal/setup-namespace.sh").read_text()
    block = re.search(r'SEARCH_ATTRIBUTES="\n(.*?)"\n', script, re.S)
    assert block, "the search attribute block in setup-namespace.sh"
    registered = [tuple(line.split("=")) for line in block[1].split()]
    expected = [(attribute.name, attribute.type.value) for attribute in search_attributes.ALL]
    assert registered == expected, "update the SEARCH_ATTRIBUTES block in deploy/temporal/setup-namespace.sh"


# Temporal's SQL visibility (PostgreSQL) has a fixed number of columns for custom search attributes per type
# (schema postgresql/v12/visibility v1.2: Bool01-03, Datetime01-03, Double01-03, Int01-03, Keyword01-10, …).
SQL_VISIBILITY_SLOTS = {"Keyword": 10, "Int": 3, "Datetime": 3, "Double": 3, "Bool": 3, "Text": 3, "KeywordList": 3}


def test_simctls_search_attributes_fit_postgresql_visibility():
    used = Counter(attribute.type.value for attribute in search_attributes.ALL)
    over = {kind: count for kind, count in used.items() if count > SQL_VISIBILITY_SLOTS[kind]}
    assert not over, f"more custom search attributes than PostgreSQL visibility holds: {over}"


def test_the_schema_job_creates_both_temporal_databases():
    script = (ROOT / "deploy/temporal/setup-schema.sh").read_text()
    for database in ("temporal", "temporal_visibility"):
        assert f"--db {database} update-schema" in script or f"--db {database}\n" in script
    assert "for db in temporal temporal_visibility" in script
    init = (ROOT / "deploy/postgres/init-simctl-db.sh").read_text()
    assert "CREATE DATABASE simctl OWNER simctl" in init and "SIMCTL_DB_PASSWORD" in init


def dockerfile_instructions() -> list[tuple[str, str]]:
    text = (ROOT / "Dockerfile").read_text().replace("\\\n", " ")
    lines = [line.strip() for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]
    return [(line.split(None, 1)[0].upper(), line.split(None, 1)[1]) for line in lines]


def test_the_dockerfile_runs_the_commands_the_readme_documents(services: dict[str, Any]):
    instructions = dockerfile_instructions()
    [base] = [argument for kind, argument in instructions if kind == "FROM"]
    assert re.fullmatch(r"python:3\.11\.\d+-slim-\w+", base), f"a pinned Python 3.11 base image, not {base}"
    [cmd] = [json.loads(argument) for kind, argument in instructions if kind == "CMD"]
    assert cmd == ["python", "-m", "workers.main"]
    runs = " ".join(argument for kind, argument in instructions if kind == "RUN")
    assert re.search(r"apt-get install .*\bmonero\b", runs), "the monero domain's binaries in the image"
    assert "pip install --no-cache-dir ." in runs

    readme_commands = README.replace("\\\n", " ")
    assert "python -m workers.main" in readme_commands, "the image's default command is the README's worker"
    section = cluster_section()
    for name in ("ottochain", "worker"):
        assert shlex.join(services[name]["command"]) in section, f"the README shows how `{name}` runs"
    for command in ("docker compose up -d --build", "--scale worker=", "docker compose run --rm simctl"):
        assert command in section


def test_every_package_the_project_installs_is_in_the_image():
    import tomllib

    packages = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"]["find"]["include"]
    copied = {argument.split()[0] for kind, argument in dockerfile_instructions() if kind == "COPY"}
    allowed = (ROOT / ".dockerignore").read_text().split()
    for pattern in packages:
        package = pattern.rstrip("*")
        assert package in copied, f"the Dockerfile does not copy {package}/"
        assert f"!{package}" in allowed, f".dockerignore keeps {package}/ out of the build context"
