"""/health beside /metrics on the worker's one HTTP port: JSON from the source the worker sets, a clear 503
before it has one or when the source fails, and /metrics unchanged."""

from __future__ import annotations

import json
import urllib.error
import urllib.request

import pytest

from localnet.ports import free_port
from workers.metrics import serve_metrics


def get(url: str) -> tuple[int, str, str]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status, response.headers["Content-Type"], response.read().decode()
    except urllib.error.HTTPError as err:
        return err.code, err.headers["Content-Type"], err.read().decode()


@pytest.fixture
def endpoint():
    served = serve_metrics(free_port())
    yield served
    served.close()


def test_health_answers_json_from_its_source(endpoint):
    status, kind, body = get(endpoint.health_url)
    assert (status, kind, json.loads(body)) == (503, "application/json", {"status": "starting", "runs": []})

    endpoint.health.source = lambda: {"status": "ok", "runs": [{"run_id": "r", "breaker": "closed"}]}
    status, kind, body = get(endpoint.health_url)
    assert (status, kind) == (200, "application/json")
    assert json.loads(body)["runs"] == [{"run_id": "r", "breaker": "closed"}]

    def unreachable() -> dict:
        raise TimeoutError("Temporal did not answer")

    endpoint.health.source = unreachable
    status, _, body = get(endpoint.health_url)
    answer = json.loads(body)
    assert status == 503 and answer["status"] == "unknown" and "Temporal did not answer" in answer["error"]


def test_metrics_are_still_served_on_the_same_port(endpoint):
    status, kind, body = get(endpoint.url)
    assert status == 200 and kind.startswith("text/plain")
    assert "# TYPE python_gc_objects_collected_total counter" in body
