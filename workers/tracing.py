"""OpenTelemetry: spans per workflow and activity through Temporal's tracing interceptor."""

from __future__ import annotations

from pathlib import Path

from opentelemetry import trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, ConsoleSpanExporter

_configured = False


def configure_tracing(service_name: str, trace_file: Path | None) -> None:
    """Install the process's tracer provider; spans go to ``trace_file`` as JSON lines when set.

    Without a file, spans are still created (and propagated through Temporal headers) but not exported.
    """
    global _configured
    if _configured:
        return
    provider = TracerProvider(resource=Resource.create({"service.name": service_name}))
    if trace_file is not None:
        trace_file.parent.mkdir(parents=True, exist_ok=True)
        stream = open(trace_file, "a", encoding="utf-8")  # noqa: SIM115 - lives as long as the provider
        exporter = ConsoleSpanExporter(out=stream, formatter=lambda span: span.to_json(indent=None) + "\n")
        provider.add_span_processor(BatchSpanProcessor(exporter))
    trace.set_tracer_provider(provider)
    _configured = True


def shutdown_tracing() -> None:
    provider = trace.get_tracer_provider()
    if isinstance(provider, TracerProvider):
        provider.shutdown()
