"""Spans from a real run reach both exporters: the JSON-lines file and an OTLP/HTTP collector."""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)

from localnet.ports import free_port
from tests.cli.helpers import environment, simctl


@dataclass(frozen=True)
class ReceivedSpan:
    service: str
    name: str
    trace_id: str


@dataclass
class Collector:
    """The trace endpoint of an OTLP/HTTP collector, keeping what it receives."""

    url: str
    paths: list[str] = field(default_factory=list)
    spans: list[ReceivedSpan] = field(default_factory=list)


@pytest.fixture
def collector() -> Iterator[Collector]:
    received = Collector(url="")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            request = ExportTraceServiceRequest.FromString(body)
            received.paths.append(self.path)
            for resource_spans in request.resource_spans:
                attributes = {a.key: a.value.string_value for a in resource_spans.resource.attributes}
                for scope_spans in resource_spans.scope_spans:
                    received.spans += [
                        ReceivedSpan(attributes.get("service.name", ""), span.name, span.trace_id.hex())
                        for span in scope_spans.spans
                    ]
            reply = ExportTraceServiceResponse().SerializeToString()
            self.send_response(200)
            self.send_header("Content-Type", "application/x-protobuf")
            self.send_header("Content-Length", str(len(reply)))
            self.end_headers()
            self.wfile.write(reply)

        def log_message(self, *args: object) -> None:  # keep the test output clean
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    received.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield received
    finally:
        server.shutdown()
        server.server_close()


async def test_a_study_is_traced_to_the_file_and_the_collector(collector: Collector, tmp_path):
    trace_file = tmp_path / "spans.jsonl"
    env = environment(
        SIMCTL_UI_PORT=str(free_port()), SIMCTL_TRACE_FILE=str(trace_file), OTEL_EXPORTER_OTLP_ENDPOINT=collector.url
    )
    study = (
        "start-campaign",
        "--wait",
        "--scenarios",
        "A",
        "--days",
        "2",
        "--buyers",
        "1",
        "--sellers",
        "1",
        "--campaigns-per-buyer",
        "1",
        "--id",
        "traced",
    )
    result = await asyncio.to_thread(
        simctl, "--address", f"127.0.0.1:{free_port()}", "--state-dir", str(tmp_path), *study, env=env
    )
    assert result.returncode == 0, result.stderr

    spans = [json.loads(line) for line in trace_file.read_text().splitlines()]
    names = {span["name"] for span in spans}
    expected = {
        "StartWorkflow:ExperimentWorkflow",
        "RunWorkflow:ExperimentWorkflow",
        "StartChildWorkflow:CampaignWorkflow",
        "RunWorkflow:CampaignWorkflow",
        "StartActivity:ads.record_day",
        "RunActivity:ads.record_day",
    }
    assert expected <= names
    # One trace, carried through Temporal's headers from the client's start to the child's activities.
    [start] = [s for s in spans if s["name"] == "StartWorkflow:ExperimentWorkflow"]
    recorded = [s for s in spans if s["name"] == "RunActivity:ads.record_day"]
    assert len(recorded) == 2, "one record_day per campaign-day"
    assert {s["context"]["trace_id"] for s in recorded} == {start["context"]["trace_id"]}

    assert set(collector.paths) == {"/v1/traces"}
    assert {s.service for s in collector.spans} == {"simctl"}
    assert expected <= {s.name for s in collector.spans}
    assert {s.trace_id for s in collector.spans if s.name == "RunActivity:ads.record_day"} == {
        start["context"]["trace_id"].removeprefix("0x")
    }


def test_a_malformed_collector_url_is_one_line_and_exit_2(tmp_path):
    result = simctl(
        "--state-dir", str(tmp_path), "status", env=environment(OTEL_EXPORTER_OTLP_ENDPOINT="localhost:4318")
    )
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and "OTLP/HTTP collector URL" in result.stderr
