"""One /metrics endpoint per worker: the app's prometheus-client metrics and Temporal's SDK metrics.

The SDK (Rust core) serves its metrics on a private loopback port of its own; a collector re-exposes
them on the app's endpoint, so Prometheus scrapes one target per worker. The endpoint listens on loopback
unless told otherwise (SIMCTL_METRICS_HOST), e.g. 0.0.0.0 in a container that Prometheus scrapes; the SDK's
private port always stays on loopback.

The same server answers /health: JSON from a source the worker sets once it has a Temporal client (the
running evolution runs' breaker, ML0 lag, generation and last checkpoint: ``workers.health``).
"""

from __future__ import annotations

import json
import logging
import socket
import threading
import urllib.request
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from socketserver import ThreadingMixIn
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from prometheus_client import REGISTRY, make_wsgi_app
from prometheus_client.metrics_core import Metric
from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.registry import Collector
from temporalio.runtime import PrometheusConfig, Runtime

from localnet.ports import free_port
from workers.client import telemetry


class SdkMetricsCollector(Collector):
    """Scrapes the SDK's own Prometheus endpoint at collection time."""

    def __init__(self, url: str) -> None:
        self._url = url

    def collect(self) -> Iterator[Metric]:
        try:
            with urllib.request.urlopen(self._url, timeout=2) as response:
                text = response.read().decode("utf-8")
        except OSError:
            return
        yield from text_string_to_metric_families(text)


log = logging.getLogger(__name__)

# Called in the HTTP server's thread for each GET /health; returns the JSON body.
HealthSource = Callable[[], dict[str, Any]]


@dataclass
class HealthBoard:
    source: HealthSource | None = None

    def answer(self) -> tuple[str, dict[str, Any]]:
        if self.source is None:
            return "503 Service Unavailable", {"status": "starting", "runs": []}
        try:
            return "200 OK", self.source()
        except Exception as err:  # a health page says what went wrong instead of failing
            log.warning("/health could not be answered: %r", err)
            return "503 Service Unavailable", {"status": "unknown", "runs": [], "error": repr(err)}


class _ThreadingServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        """Scrapes every few seconds would flood the log."""


def _app(board: HealthBoard) -> Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]:
    metrics = make_wsgi_app(REGISTRY)

    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if environ.get("PATH_INFO") == "/health":
            status, body = board.answer()
            payload = json.dumps(body, sort_keys=True).encode()
            start_response(status, [("Content-Type", "application/json"), ("Content-Length", str(len(payload)))])
            return [payload]
        return metrics(environ, start_response)

    return app


@dataclass
class MetricsEndpoint:
    runtime: Runtime
    url: str
    _server: WSGIServer
    _collector: SdkMetricsCollector
    health: HealthBoard = field(default_factory=HealthBoard)

    @property
    def health_url(self) -> str:
        return self.url.removesuffix("/metrics") + "/health"

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        REGISTRY.unregister(self._collector)


def http_url(host: str, port: int, path: str = "") -> str:
    """``http://host:port/path``, an IPv6 address in brackets."""
    return f"http://[{host}]:{port}{path}" if ":" in host else f"http://{host}:{port}{path}"


def serve_metrics(port: int, host: str = "127.0.0.1") -> MetricsEndpoint:
    """Start /metrics on ``host``:``port`` and return the Temporal runtime that feeds it."""
    sdk_port = free_port()
    runtime = Runtime(telemetry=telemetry(PrometheusConfig(bind_address=f"127.0.0.1:{sdk_port}")))
    collector = SdkMetricsCollector(f"http://127.0.0.1:{sdk_port}/metrics")
    REGISTRY.register(collector)
    board = HealthBoard()
    try:
        # An IPv6 host needs an IPv6 socket; the server's default family is IPv4.
        family, _, _, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)[0]

        class Server(_ThreadingServer):
            address_family = family

        server = make_server(str(address[0]), port, _app(board), Server, handler_class=_QuietHandler)
    except BaseException:
        REGISTRY.unregister(collector)
        raise
    threading.Thread(target=server.serve_forever, name="metrics-http", daemon=True).start()
    return MetricsEndpoint(
        runtime=runtime, url=http_url(host, port, "/metrics"), _server=server, _collector=collector, health=board
    )
