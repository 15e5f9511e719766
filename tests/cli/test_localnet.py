"""`simctl localnet ottochain` standalone: serves every layer, keeps its chain, stops on SIGTERM."""

from __future__ import annotations

import asyncio
import contextlib
import signal
import socket
import sqlite3
import subprocess
import sys

import httpx
import pytest

from localnet.temporal_dev import port_open
from tests.cli.helpers import Service, environment, simctl
from tests.cli.test_cli_errors import assert_one_line_failure
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
    with contextlib.closing(sqlite3.connect(tmp_path / "ottochain.db")) as db:
        stored = db.execute("SELECT id FROM fibers WHERE id = ?", (fiber_id,)).fetchall()
    assert stored == [(fiber_id,)], "the chain persists in the state directory"


@pytest.mark.parametrize(
    ("content", "named"),
    [
        ("DAGfirst,5\n\nDAGsecond,12x\n", "line 3: balance must be a whole number of 1e-8 units, not '12x'"),
        ("DAGonly\n", "line 1: expected address,balance, got 1 column(s)"),
    ],
)
def test_malformed_genesis_is_one_line_and_leaves_nothing(tmp_path, content: str, named: str):
    genesis, state = tmp_path / "genesis.csv", tmp_path / "fresh" / "state"
    genesis.write_text(content)
    result = simctl("--state-dir", str(state), "localnet", "ottochain", "--port", "0", "--genesis", str(genesis))
    assert assert_one_line_failure(result) == f"simctl: {genesis}, {named}"
    assert not (tmp_path / "fresh").exists(), "the state directory this start made is gone again"


def test_port_in_use_is_one_line_and_leaves_no_lock(tmp_path):
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", 0))
        squatter.listen()
        port = squatter.getsockname()[1]
        result = simctl("--state-dir", str(tmp_path), "localnet", "ottochain", "--port", str(port))
    line = assert_one_line_failure(result)
    assert f"127.0.0.1:{port}" in line and "in use" in line
    assert list(tmp_path.iterdir()) == [], "no lock file left behind"


async def test_a_dead_holders_lock_does_not_block_and_a_stop_removes_the_lock(tmp_path):
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    lock = tmp_path / "ottochain.lock"
    lock.write_text(dead.stdout.strip())
    node = await Service.start(
        sys.executable,
        "-m",
        "simctl",
        "--state-dir",
        str(tmp_path),
        "localnet",
        "ottochain",
        "--port",
        "0",
        env=environment(),
    )
    try:
        await node.wait_for("Press Ctrl-C to stop", timeout=60)
        assert lock.read_text() == str(node.process.pid)
        assert await node.stop(signal.SIGTERM) == 0
    finally:
        node.kill()
    assert not lock.exists()
