"""`simctl localnet ottochain` standalone: serves every layer, keeps its chain, stops on SIGTERM."""

from __future__ import annotations

import asyncio
import signal
import sys

import httpx

from localnet.temporal_dev import port_open
from tests.cli.helpers import Service, environment, simctl
from workers.metrics import free_port


async def test_standalone_node_serves_layers_and_refuses_a_second_instance(tmp_path):
    port = free_port()
    node = await Service.start(
        sys.executable,
        "-m",
        "simctl",
        "--state-dir",
        str(tmp_path),
        "localnet",
        "ottochain",
        "--port",
        str(port),
        "--snapshot-interval",
        "0.05",
        env=environment(),
    )
    try:
        await node.wait_for("Press Ctrl-C to stop", timeout=60)
        assert f"http://127.0.0.1:{port}/bridge" in node.output
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as http:
            assert (await http.get("/bridge/health")).json() == {"status": "ok", "service": "bridge"}
            wallet = (await http.post("/bridge/wallet/generate")).json()
            registered = await http.post(
                "/bridge/agent/register", json={"privateKey": wallet["privateKey"], "displayName": "x"}
            )
            assert registered.status_code == 201
            fiber_id = registered.json()["fiberId"]
            for _ in range(100):
                record = (await http.get(f"/ml0/data-application/v1/state-machines/{fiber_id}")).json()
                if record:
                    break
                await asyncio.sleep(0.05)
            assert record["currentState"] == "REGISTERED" and record["owners"] == [wallet["address"]]
            assert (
                await http.get("/ml0/data-application/v1/state-machines/00000000-0000-0000-0000-000000000000")
            ).json() is None

        second = await asyncio.to_thread(
            simctl, "--state-dir", str(tmp_path), "localnet", "ottochain", "--port", str(free_port())
        )
        assert second.returncode == 2 and "in use by pid" in second.stderr

        assert await node.stop(signal.SIGTERM) == 0
        assert not await port_open("127.0.0.1", port)
    finally:
        node.kill()
    assert fiber_id in (tmp_path / "ottochain.json").read_text(), "the chain persists in the state directory"
