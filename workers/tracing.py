"""OpenTelemetry: spans per workflow and activity through Temporal's tracing interceptor.

Spans are exported to a JSON-lines file (``SIMCTL_TRACE_FILE``), to an OTLP/HTTP collector
(``OTEL_EXPORTER_OTLP_ENDPOINT`` or ``SIMCTL_OTLP_ENDPOINT``, e.g. Jaeger or Tempo), to both, or
nowhere. Without an exporter they are still created and propagated through Temporal headers,
so a process that does export sees whole traces.
"""

from __future__ import annotations

from pathlib import Path

from opentelemetry import trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, ConsoleSpanExporter, SpanExporter

_configured = False


def configure_tracing(service_name: str, trace_file: Path | None = None, otlp_endpoint: str | None = None) -> None:
    """Install the process's tracer provider, once per process (OpenTelemetry allows one)."""
    global _configured
    if _configured:
        return
    provider = TracerProvider(resource=Resource.create({"service.name": service_name}))
    for exporter in _exporters(trace_file, otlp_endpoint):
        provider.add_span_processor(BatchSpanProcessor(exporter))
    trace.set_tracer_provider(provider)
    _configured = True


def _exporters(trace_file: Path | None, otlp_endpoint: str | None) -> list[SpanExporter]:
    exporters: list[SpanExporter] = []
    if trace_file is not None:
        trace_file.parent.mkdir(parents=True, exist_ok=True)
        stream = open(trace_file, "a", encoding="utf-8")  # noqa: SIM115 - lives as long as the provider
        exporters.append(ConsoleSpanExporter(out=stream, formatter=lambda span: span.to_json(indent=None) + "\n"))
    if otlp_endpoint:
        # Imported here: the exporter pulls in protobuf and requests, which a process without a
        # collector does not need to load.
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        # The variable names the collector's base URL; the trace signal has its own path under it.
        exporters.append(OTLPSpanExporter(endpoint=otlp_endpoint.rstrip("/") + "/v1/traces"))
    return exporters


def flush_tracing() -> None:
    """Export the spans still buffered; the provider keeps running (it shuts down at exit)."""
    provider = trace.get_tracer_provider()
    if isinstance(provider, TracerProvider):
        provider.force_flush()


def shutdown_tracing() -> None:
    provider = trace.get_tracer_provider()
    if isinstance(provider, TracerProvider):
        provider.shutdown()
