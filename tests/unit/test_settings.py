"""Configuration: environment names, CLI overrides, and one-line errors for bad values."""

from __future__ import annotations

from pathlib import Path

import pytest

from models.settings import SettingsError, load_settings


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
        ("sqlite:////tmp/x.db", "sqlite+aiosqlite:////tmp/x.db"),
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
    ],
)
def test_bad_values_are_one_line_errors(overrides: dict, named: str):
    with pytest.raises(SettingsError) as raised:
        load_settings(**overrides)
    message = str(raised.value)
    assert named in message and "\n" not in message
