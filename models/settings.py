"""Configuration shared by the CLI and the worker: environment (``SIMCTL_*``) plus CLI flags."""

from __future__ import annotations

import ipaddress
import re
import socket
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import AliasChoices, Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from models.task_queues import TaskQueue

LogLevel = Literal["debug", "info", "warning", "error"]
# What a worker process runs of its queues: both halves, or one, so that workflow tasks and activities (a workflow
# task holds the process's event loop, an activity waits on HTTP) can each have processes, and cores, of their own.
WorkerRole = Literal["all", "workflows", "activities"]

LOOPBACK = "127.0.0.1"
# Part of a task queue name: kept to characters that read unambiguously in logs and the Web UI.
_HOST_ID = re.compile(r"[A-Za-z0-9._:-]{1,200}")
_HOST_NAME = re.compile(r"(?!-)[A-Za-z0-9-]{1,63}(?<!-)(\.(?!-)[A-Za-z0-9-]{1,63}(?<!-))*")


class Settings(BaseSettings):
    """Everything a process needs to find Temporal, the store and its own ports.

    Field names double as keyword arguments, so CLI flags override the environment by
    passing ``Settings(**flags)``.
    """

    model_config = SettingsConfigDict(env_prefix="SIMCTL_", extra="ignore", populate_by_name=True)

    # Temporal's own variable names are honoured too, so `temporal` CLI users need no new habits.
    temporal_address: str = Field(
        "localhost:7233",
        validation_alias=AliasChoices("SIMCTL_TEMPORAL_ADDRESS", "TEMPORAL_ADDRESS", "temporal_address"),
    )
    namespace: str = Field(
        "default",
        validation_alias=AliasChoices("SIMCTL_NAMESPACE", "TEMPORAL_NAMESPACE", "namespace"),
        min_length=1,
    )
    embedded: bool = True
    state_dir: Path = Path(".simctl")
    database_url: str | None = None
    metrics_port: int = Field(9464, ge=0, le=65535)
    # Where /metrics listens: loopback unless a scraper on another machine or container must reach it.
    metrics_host: str = LOOPBACK
    # The task queues a worker polls (`python -m workers.main`, `simctl up`): all of them when unset.
    task_queues: Annotated[tuple[TaskQueue, ...] | None, NoDecode] = None
    # This worker's host, named in its own task queue (`simctl-monero@<host id>`): a monero run's processes live on
    # one machine, so workers on the same machine share the id and workers elsewhere must not.
    host_id: str = Field(default_factory=socket.gethostname)
    worker_role: WorkerRole = "all"
    ui_port: int | None = Field(None, ge=1, le=65535)
    log_level: LogLevel = "info"
    trace_file: Path | None = None
    # OpenTelemetry's own variable is honoured too: a collector already configured for other services works.
    otlp_endpoint: str | None = Field(
        None,
        validation_alias=AliasChoices("SIMCTL_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_ENDPOINT", "otlp_endpoint"),
    )
    wallet_passphrase: SecretStr | None = None
    # OttoChain layers; with none set, simctl runs an embedded node (state in the state directory).
    otto_bridge_url: str | None = None
    otto_dl1_url: str | None = None
    otto_ml0_url: str | None = None
    otto_cl1_url: str | None = None
    otto_indexer_url: str | None = None
    # Where `simctl localnet ottochain` listens: loopback unless other machines or containers use the node.
    otto_node_host: str = LOOPBACK

    @field_validator("temporal_address")
    @classmethod
    def _host_and_port(cls, value: str) -> str:
        host, sep, port = value.rpartition(":")
        if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
            raise ValueError(f"expected HOST:PORT, got {value!r}")
        return value

    @field_validator("metrics_host", "otto_node_host")
    @classmethod
    def _bind_host(cls, value: str) -> str:
        return bind_host(value)

    @field_validator("host_id")
    @classmethod
    def _queue_safe_host_id(cls, value: str) -> str:
        if not _HOST_ID.fullmatch(value):
            raise ValueError(f"expected 1-200 letters, digits and . _ : - (the machine's name, say), got {value!r}")
        return value

    @field_validator("task_queues", mode="before")
    @classmethod
    def _known_queues(cls, value: Any) -> Any:
        """``otto,ads`` or ``simctl-otto,simctl-ads`` (also a list): the named queues, each once, in order."""
        if value is None:
            return None
        names = [part.strip() for part in value.split(",")] if isinstance(value, str) else list(value)
        if not any(names):
            return None
        known = {queue.value: queue for queue in TaskQueue} | {
            queue.value.removeprefix("simctl-"): queue for queue in TaskQueue
        }
        queues: list[TaskQueue] = []
        for name in names:
            queue = known.get(str(name))
            if queue is None:
                choices = ", ".join(queue.value.removeprefix("simctl-") for queue in TaskQueue)
                raise ValueError(f"unknown task queue {name!r}: expected a comma-separated list of {choices}")
            if queue not in queues:
                queues.append(queue)
        return tuple(queues)

    @field_validator("otlp_endpoint")
    @classmethod
    def _collector_url(cls, value: str | None) -> str | None:
        if not value:
            return None
        scheme, sep, rest = value.partition("://")
        if scheme not in ("http", "https") or not sep or not rest.split("/", 1)[0]:
            raise ValueError(f"expected an OTLP/HTTP collector URL such as http://127.0.0.1:4318, got {value!r}")
        return value

    @field_validator("database_url")
    @classmethod
    def _supported_database(cls, value: str | None) -> str | None:
        if value is None or value == "":
            return None
        scheme = value.split("://", 1)[0]
        if scheme in ("postgresql", "postgres", "postgresql+asyncpg"):
            return "postgresql+asyncpg://" + value.split("://", 1)[1]
        if scheme in ("sqlite", "sqlite+aiosqlite"):
            return "sqlite+aiosqlite://" + value.split("://", 1)[1]
        raise ValueError(f"unsupported database {scheme!r}: use postgresql://… or sqlite:///…")

    @property
    def temporal_host(self) -> str:
        return self.temporal_address.rpartition(":")[0]

    @property
    def temporal_port(self) -> int:
        return int(self.temporal_address.rpartition(":")[2])

    @property
    def web_ui_url(self) -> str:
        return f"http://{self.temporal_host}:{self.ui_port or self.temporal_port + 1000}"

    @property
    def default_wallets(self) -> Path:
        return self.state_dir / "wallets.json"

    @property
    def store_url(self) -> str:
        """The database URL to use: the configured one, else a SQLite file in the state directory."""
        if self.database_url:
            return self.database_url
        return f"sqlite+aiosqlite:///{(self.state_dir / 'simctl.db').resolve()}"


def bind_host(value: str) -> str:
    """An address to listen on: an IP address (0.0.0.0 for all) or a host name; ValueError otherwise."""
    try:
        ipaddress.ip_address(value)
    except ValueError:
        if not _HOST_NAME.fullmatch(value) or len(value) > 253:
            raise ValueError(
                f"expected an address or host name to listen on, such as 127.0.0.1 or 0.0.0.0, got {value!r}"
            ) from None
    return value


class SettingsError(ValueError):
    """A configuration value that cannot be used, described in one line."""


def load_settings(**overrides: Any) -> Settings:
    """Settings from the environment, with ``overrides`` (CLI flags) on top; one-line errors."""
    try:
        return Settings(**{key: value for key, value in overrides.items() if value is not None})
    except ValidationError as err:
        first = err.errors()[0]
        field = _field_named(str(first["loc"][0])) if first["loc"] else None
        if field is None:
            raise SettingsError(f"invalid settings: {first['msg']}") from None
        raise SettingsError(f"invalid setting {field} ({' or '.join(variables(field))}): {first['msg']}") from None


def variables(field: str) -> list[str]:
    """The environment variables that set ``field``, in the order they take precedence."""
    alias = Settings.model_fields[field].validation_alias
    if isinstance(alias, AliasChoices):
        return [choice for choice in alias.choices if isinstance(choice, str) and choice.isupper()]
    return [f"{Settings.model_config.get('env_prefix', '')}{field}".upper()]


def _field_named(name: str) -> str | None:
    """The field an error location names: the field itself, or one of its environment variables."""
    if name in Settings.model_fields:
        return name
    for field in Settings.model_fields:
        if name.upper() in variables(field):
            return field
    return None
