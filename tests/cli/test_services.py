"""`python -m workers.main`, `simctl up` and `simctl status` as real processes."""

from __future__ import annotations

import asyncio
import json
import signal
import sys

from localnet.temporal_dev import port_open
from tests.cli.helpers import Service, environment, scrape, simctl
from workers.metrics import free_port


async def test_worker_logs_queues_serves_metrics_and_stops_on_sigterm(temporal_address: str, tmp_path):
    metrics_port = free_port()
    env = environment(
        TEMPORAL_ADDRESS=temporal_address, SIMCTL_METRICS_PORT=str(metrics_port), SIMCTL_STATE_DIR=str(tmp_path)
    )
    worker = await Service.start(sys.executable, "-m", "workers.main", env=env)
    try:
        await worker.wait_for(r"worker polling task queues: simctl-platform")
        await worker.wait_for(rf"metrics at http://127\.0\.0\.1:{metrics_port}/metrics")
        metrics = await scrape(f"http://127.0.0.1:{metrics_port}/metrics")
        assert "temporal_request_total" in metrics, "the SDK's metrics, re-exposed"
        assert "simctl_ledger_entries_written_total" in metrics, "the app's own metrics"

        assert await worker.stop(signal.SIGTERM) == 0
        assert "worker stopped" in worker.output
        assert "Traceback" not in worker.output
    finally:
        worker.kill()


async def test_worker_without_a_server_says_so_in_one_line(tmp_path):
    env = environment(TEMPORAL_ADDRESS=f"127.0.0.1:{free_port()}", SIMCTL_STATE_DIR=str(tmp_path))
    worker = await Service.start(sys.executable, "-m", "workers.main", env=env)
    assert await worker.process.wait() == 2
    assert worker.process.stdout is not None
    output = (await worker.process.stdout.read()).decode()
    assert output.count("\n") == 1 and "no Temporal server answers" in output


async def test_up_embeds_server_and_worker_and_stops_both(tmp_path):
    port, ui_port, metrics_port = free_port(), free_port(), free_port()
    env = environment(SIMCTL_UI_PORT=str(ui_port), SIMCTL_METRICS_PORT=str(metrics_port))
    up = await Service.start(
        sys.executable, "-m", "simctl", "--address", f"127.0.0.1:{port}", "--state-dir", str(tmp_path), "up", env=env
    )
    try:
        await up.wait_for("Press Ctrl-C to stop", timeout=90)
        assert f"http://127.0.0.1:{ui_port}" in up.output
        assert "embedded dev server" in up.output
        assert "polling simctl-platform" in up.output
        metrics = await scrape(f"http://127.0.0.1:{metrics_port}/metrics")
        assert "temporal_request_total" in metrics

        status = await asyncio.to_thread(simctl, "--address", f"127.0.0.1:{port}", "--no-embedded", "status", "--json")
        assert status.returncode == 0, status.stderr
        report = json.loads(status.stdout)
        assert report["embedded"] is False, "a second simctl uses the running server"
        assert report["task_queues"][0]["activity_pollers"] >= 1

        assert await up.stop(signal.SIGTERM) == 0
        assert not await port_open("127.0.0.1", port), "the embedded server stopped with simctl"
        assert (tmp_path / "temporal.db").exists()
    finally:
        up.kill()


async def test_up_stops_cleanly_on_ctrl_c(tmp_path):
    port = free_port()
    env = environment(SIMCTL_UI_PORT=str(free_port()), SIMCTL_METRICS_PORT="0")
    up = await Service.start(
        sys.executable, "-m", "simctl", "--address", f"127.0.0.1:{port}", "--state-dir", str(tmp_path), "up", env=env
    )
    try:
        await up.wait_for("Press Ctrl-C to stop", timeout=90)
        assert await up.stop(signal.SIGINT) == 0
        assert not await port_open("127.0.0.1", port)
    finally:
        up.kill()


async def test_status_embeds_a_server_reports_it_and_stops_it(tmp_path):
    port = free_port()
    env = environment(SIMCTL_UI_PORT=str(free_port()))
    result = await asyncio.to_thread(
        simctl, "--address", f"127.0.0.1:{port}", "--state-dir", str(tmp_path), "status", "--json", env=env
    )
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["embedded"] is True
    assert report["namespace"] == "default" and report["namespace_state"] == "registered"
    assert report["server_version"]
    [platform] = [queue for queue in report["task_queues"] if queue["name"] == "simctl-platform"]
    assert platform["activity_pollers"] >= 1, "the in-process worker polls"
    assert not await port_open("127.0.0.1", port), "the embedded server stopped with simctl"


def test_status_against_a_running_server(temporal_address: str):
    result = simctl("--address", temporal_address, "--no-embedded", "status")
    assert result.returncode == 0, result.stderr
    assert "external server" in result.stdout
    assert "simctl-platform" in result.stdout
