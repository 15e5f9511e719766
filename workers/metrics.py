"""One /metrics endpoint per worker: the app's prometheus-client metrics and Temporal's SDK metrics.

The SDK (Rust core) serves its metrics on a private loopback port of its own; a collector re-exposes
them on the app's endpoint, so Prometheus scrapes one target per worker. The endpoint listens on loopback
unless told otherwise (SIMCTL_METRICS_HOST), e.g. 0.0.0.0 in a container that Prometheus scrapes; the SDK's
private port always stays on loopback.
"""

from __future__ import annotations

import socket
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from wsgiref.simple_server import WSGIServer

from prometheus_client import REGISTRY, start_http_server
from prometheus_client.metrics_core import Metric
from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.registry import Collector
from temporalio.runtime import PrometheusConfig, Runtime, TelemetryConfig


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


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


@dataclass
class MetricsEndpoint:
    runtime: Runtime
    url: str
    _server: WSGIServer
    _collector: SdkMetricsCollector

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
    runtime = Runtime(telemetry=TelemetryConfig(metrics=PrometheusConfig(bind_address=f"127.0.0.1:{sdk_port}")))
    collector = SdkMetricsCollector(f"http://127.0.0.1:{sdk_port}/metrics")
    REGISTRY.register(collector)
    try:
        server, _thread = start_http_server(port, addr=host)
    except BaseException:
        REGISTRY.unregister(collector)
        raise
    return MetricsEndpoint(runtime=runtime, url=http_url(host, port, "/metrics"), _server=server, _collector=collector)
