"""Configuration: environment names, CLI overrides, and one-line errors for bad values."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from models.settings import Settings, SettingsError, load_settings, variables
from models.task_queues import TaskQueue


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in (
        "TEMPORAL_ADDRESS",
        "TEMPORAL_NAMESPACE",
        "SIMCTL_TEMPORAL_ADDRESS",
        "SIMCTL_DATABASE_URL",
        "SIMCTL_EMBEDDED",
        "SIMCTL_STATE_DIR",
        "SIMCTL_METRICS_PORT",
        "SIMCTL_NAMESPACE",
        "SIMCTL_METRICS_HOST",
        "SIMCTL_OTTO_NODE_HOST",
        "SIMCTL_TASK_QUEUES",
        "SIMCTL_HOST_ID",
    ):
        monkeypatch.delenv(name, raising=False)


def test_defaults():
    settings = load_settings()
    assert settings.temporal_address == "localhost:7233"
    assert settings.namespace == "default"
    assert settings.embedded is True
    assert settings.store_url == f"sqlite+aiosqlite:///{Path('.simctl/simctl.db').resolve()}"
    assert settings.web_ui_url == "http://localhost:8233"


def test_temporal_variables_are_honoured(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("TEMPORAL_ADDRESS", "127.0.0.1:7300")
    monkeypatch.setenv("TEMPORAL_NAMESPACE", "sims")
    settings = load_settings()
    assert (settings.temporal_host, settings.temporal_port, settings.namespace) == ("127.0.0.1", 7300, "sims")


def test_flags_override_the_environment(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("SIMCTL_EMBEDDED", "false")
    monkeypatch.setenv("TEMPORAL_ADDRESS", "127.0.0.1:7300")
    settings = load_settings(embedded=True, temporal_address="127.0.0.1:7400", namespace=None)
    assert settings.embedded is True and settings.temporal_port == 7400


@pytest.mark.parametrize(
    ("given", "stored"),
    [
        ("postgresql://sim@127.0.0.1:5432/results", "postgresql+asyncpg://sim@127.0.0.1:5432/results"),
        ("postgres://sim@db/results", "postgresql+asyncpg://sim@db/results"),
        ("sqlite:///results/x.db", "sqlite+aiosqlite:///results/x.db"),
    ],
)
def test_database_urls_select_the_async_driver(given: str, stored: str):
    assert load_settings(database_url=given).store_url == stored


@pytest.mark.parametrize(
    ("overrides", "named"),
    [
        ({"temporal_address": "localhost"}, "SIMCTL_TEMPORAL_ADDRESS"),
        ({"temporal_address": "localhost:99999"}, "SIMCTL_TEMPORAL_ADDRESS"),
        ({"metrics_port": -1}, "SIMCTL_METRICS_PORT"),
        ({"database_url": "mysql://x/y"}, "SIMCTL_DATABASE_URL"),
        ({"log_level": "loud"}, "SIMCTL_LOG_LEVEL"),
        ({"metrics_host": "not a host"}, "SIMCTL_METRICS_HOST"),
        ({"otto_node_host": "-node"}, "SIMCTL_OTTO_NODE_HOST"),
        ({"task_queues": "otto,nowhere"}, "SIMCTL_TASK_QUEUES"),
        ({"task_queues": "otto,,ads"}, "SIMCTL_TASK_QUEUES"),
        ({"host_id": "two words"}, "SIMCTL_HOST_ID"),
        ({"host_id": "a@b"}, "SIMCTL_HOST_ID"),
        ({"host_id": ""}, "SIMCTL_HOST_ID"),
        ({"worker_role": "both"}, "SIMCTL_WORKER_ROLE"),
    ],
)
def test_bad_values_are_one_line_errors(overrides: dict, named: str):
    with pytest.raises(SettingsError) as raised:
        load_settings(**overrides)
    message = str(raised.value)
    assert named in message and "\n" not in message


@pytest.mark.parametrize(
    ("variable", "value", "named"),
    [
        (
            "OTEL_EXPORTER_OTLP_ENDPOINT",
            "ftp://collector",
            "otlp_endpoint (SIMCTL_OTLP_ENDPOINT or OTEL_EXPORTER_OTLP_ENDPOINT)",
        ),
        (
            "SIMCTL_OTLP_ENDPOINT",
            "ftp://collector",
            "otlp_endpoint (SIMCTL_OTLP_ENDPOINT or OTEL_EXPORTER_OTLP_ENDPOINT)",
        ),
        ("TEMPORAL_ADDRESS", "no-port", "temporal_address (SIMCTL_TEMPORAL_ADDRESS or TEMPORAL_ADDRESS)"),
        ("SIMCTL_TEMPORAL_ADDRESS", "no-port", "temporal_address (SIMCTL_TEMPORAL_ADDRESS or TEMPORAL_ADDRESS)"),
        ("TEMPORAL_NAMESPACE", "", "namespace (SIMCTL_NAMESPACE or TEMPORAL_NAMESPACE)"),
        ("SIMCTL_METRICS_PORT", "-1", "metrics_port (SIMCTL_METRICS_PORT)"),
    ],
)
def test_errors_from_the_environment_name_the_real_variables(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str, named: str
):
    monkeypatch.setenv(variable, value)
    with pytest.raises(SettingsError) as raised:
        load_settings()
    assert str(raised.value).startswith(f"invalid setting {named}: ")
    assert "SIMCTL_SIMCTL_" not in str(raised.value)


# A value each setting accepts and that differs from its default.
SAMPLES = {
    "temporal_address": "127.0.0.1:7999",
    "namespace": "sims",
    "embedded": "false",
    "state_dir": "elsewhere/state",
    "database_url": "sqlite:///elsewhere/simctl.db",
    "metrics_port": "9999",
    "metrics_host": "0.0.0.0",
    "task_queues": "otto,ads",
    "host_id": "worker-7.example",
    "worker_role": "activities",
    "otto_node_host": "0.0.0.0",
    "ui_port": "9998",
    "log_level": "debug",
    "trace_file": "elsewhere/trace.jsonl",
    "otlp_endpoint": "http://127.0.0.1:4318",
    "wallet_passphrase": "secret",
    "otto_bridge_url": "http://node/bridge",
    "otto_dl1_url": "http://node/dl1",
    "otto_ml0_url": "http://node/ml0",
    "otto_cl1_url": "http://node/cl1",
    "otto_indexer_url": "http://node/indexer",
}


def test_every_variable_an_error_names_sets_its_setting(monkeypatch: pytest.MonkeyPatch):
    assert set(SAMPLES) == set(Settings.model_fields), "a sample value for every setting"
    for field in Settings.model_fields:
        for name in variables(field):
            monkeypatch.delenv(name, raising=False)
    default = load_settings()
    for field, sample in SAMPLES.items():
        for name in variables(field):
            monkeypatch.setenv(name, sample)
            assert getattr(load_settings(), field) != getattr(default, field), f"{name} does not set {field}"
            monkeypatch.delenv(name)


def test_listening_addresses_default_to_loopback():
    settings = load_settings()
    assert (settings.metrics_host, settings.otto_node_host) == ("127.0.0.1", "127.0.0.1")
    assert settings.task_queues is None, "a worker serves every queue unless told otherwise"


def test_the_host_id_defaults_to_the_machine_name():
    """Workers on one machine share a host queue (a run's processes are on its loopback); elsewhere they differ."""
    assert load_settings().host_id == socket.gethostname()


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "10.1.2.3", "worker-1.internal", "localhost"])
def test_bind_hosts_take_addresses_and_host_names(host: str):
    assert load_settings(metrics_host=host, otto_node_host=host).metrics_host == host


@pytest.mark.parametrize(
    ("given", "queues"),
    [
        ("otto,ads", (TaskQueue.OTTO, TaskQueue.ADS)),
        (" simctl-ads , platform,ads", (TaskQueue.ADS, TaskQueue.PLATFORM)),
        ("", None),
    ],
)
def test_task_queues_by_short_or_full_name(monkeypatch: pytest.MonkeyPatch, given: str, queues):
    monkeypatch.setenv("SIMCTL_TASK_QUEUES", given)
    assert load_settings().task_queues == queues
    monkeypatch.delenv("SIMCTL_TASK_QUEUES")
    assert load_settings(task_queues=given).task_queues == queues, "the same from a command-line flag"
