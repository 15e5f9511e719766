"""Every server the project starts listens on loopback only by default (issue 13, item 5).

The embedded stack as a user starts it, ``simctl up`` (the Temporal dev server with its UI, the worker
and its /metrics), the embedded OttoChain node, and a monerod with a monero-wallet-rpc as the monero
domain launches them: each listening socket of those processes (read from /proc by PID, children included) is
on 127.0.0.0/8 or ::1. The test also checks it saw the ports it expects, so an empty list cannot pass.
"""

from __future__ import annotations

import contextlib
import ipaddress
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from localnet.monero.processes import NodeProcess, WalletProcess, launch, stop
from localnet.ottochain.server import OttoChainServer
from localnet.ports import free_port
from tests.cli.helpers import ROOT, environment

pytestmark = pytest.mark.reliability

START_TIMEOUT = 240  # simctl up on a loaded 2-core machine: imports, the dev server, the worker


def socket_inodes(pid: int) -> set[str]:
    inodes: set[str] = set()
    try:
        descriptors = list(Path(f"/proc/{pid}/fd").iterdir())
    except OSError:
        return inodes  # gone, or not ours to read
    for descriptor in descriptors:
        try:
            target = os.readlink(descriptor)
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(target[len("socket:[") : -1])
    return inodes


def _address(hex_address: str) -> str:
    """/proc/net/tcp{,6} hold addresses as 32-bit words in host (little-endian) order."""
    raw = bytes.fromhex(hex_address)
    ordered = b"".join(raw[i : i + 4][::-1] for i in range(0, len(raw), 4))
    return str(ipaddress.ip_address(ordered))


def listening(pids: list[int]) -> set[tuple[str, int]]:
    """(address, port) of every listening TCP socket of these processes, from /proc (no extra dependency)."""
    inodes: set[str] = set().union(*(socket_inodes(pid) for pid in pids))
    found = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with contextlib.suppress(FileNotFoundError), open(table) as rows:
            next(rows)  # the header
            for row in rows:
                fields = row.split()
                local, state, inode = fields[1], fields[3], fields[9]
                if state == "0A" and inode in inodes:  # 0A: TCP_LISTEN
                    address, port = local.split(":")
                    found.add((_address(address), int(port, 16)))
    return found


def children(pid: int) -> list[int]:
    found = []
    for task in Path(f"/proc/{pid}/task").glob("*/children"):
        with contextlib.suppress(OSError):
            found += [int(child) for child in task.read_text().split()]
    return found


def tree(pid: int) -> list[int]:
    """``pid`` and all its descendants."""
    pids, todo = [], [pid]
    while todo:
        current = todo.pop()
        pids.append(current)
        todo += children(current)
    return pids


def not_loopback(sockets: set[tuple[str, int]]) -> list[tuple[str, int]]:
    return sorted((ip, port) for ip, port in sockets if not ipaddress.ip_address(ip.split("%")[0]).is_loopback)


@pytest.fixture
def simctl_up(tmp_path: Path) -> Iterator[tuple[subprocess.Popen[bytes], int, int, Path]]:
    port, metrics = free_port(), free_port()
    log = tmp_path / "up.log"
    argv = [sys.executable, "-m", "simctl", "--address", f"127.0.0.1:{port}", "--state-dir", str(tmp_path / "state")]
    with log.open("wb") as output:
        process = subprocess.Popen(
            [*argv, "up", "--metrics-port", str(metrics)],
            cwd=ROOT,
            env=environment(),
            stdin=subprocess.DEVNULL,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        yield process, port, metrics, log
    finally:
        # SIGTERM stops the worker, then the dev server it started; SIGKILL only if that hangs.
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            for pid in reversed(tree(process.pid)):
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
            process.wait(timeout=10)


def test_simctl_up_listens_on_loopback_only(simctl_up):
    process, port, metrics, log = simctl_up
    deadline = time.monotonic() + START_TIMEOUT
    while "Press Ctrl-C to stop." not in log.read_text(errors="replace"):
        assert process.poll() is None, f"simctl up ended: {log.read_text(errors='replace')[-2000:]}"
        assert time.monotonic() < deadline, f"simctl up did not come up: {log.read_text(errors='replace')[-2000:]}"
        time.sleep(0.5)
    pids = tree(process.pid)
    sockets = listening(pids)
    ports = {p for _, p in sockets}
    assert {port, metrics} <= ports, f"expected the frontend {port} and /metrics {metrics} among {sorted(sockets)}"
    assert len(pids) >= 2, "the embedded dev server runs as a child process"
    assert not not_loopback(sockets), f"listening beyond loopback: {not_loopback(sockets)}"


async def test_the_ottochain_node_listens_on_loopback_only():
    async with OttoChainServer() as node:
        port = int(node.base_url.rsplit(":", 1)[1])
        sockets = {s for s in listening([os.getpid()]) if s[1] == port}
        assert sockets, f"the node's port {port} is not listening"
        assert not not_loopback(sockets), sockets


@pytest.mark.monerod
def test_monerod_and_wallet_rpc_listen_on_loopback_only(tmp_path: Path):
    if not (shutil.which("monerod") and shutil.which("monero-wallet-rpc")):
        pytest.skip("monerod / monero-wallet-rpc not installed (Debian package monero)")
    node = NodeProcess(name="node", data_dir=tmp_path / "node", rpc_port=free_port(), p2p_port=free_port())
    node.data_dir.mkdir()
    wallet = WalletProcess(
        name="wallet",
        wallet_dir=tmp_path / "wallets",
        ringdb_dir=tmp_path / "ringdb",
        rpc_port=free_port(),
        daemon=f"{node.host}:{node.rpc_port}",
        log_file=tmp_path / "wallet-rpc.log",
    )
    wallet.wallet_dir.mkdir()
    wallet.ringdb_dir.mkdir()
    started = [
        launch(tmp_path, "node", node.argv(), marker=str(node.data_dir), log=tmp_path / "node.out"),
        launch(tmp_path, "wallet", wallet.argv(), marker=str(wallet.wallet_dir), log=tmp_path / "wallet.out"),
    ]
    try:
        expected = {node.rpc_port, node.p2p_port, wallet.rpc_port}
        deadline = time.monotonic() + 120
        while not expected <= {p for _, p in listening([s.pid for s in started])}:
            assert time.monotonic() < deadline, (
                f"not all of {expected} listening: {listening([s.pid for s in started])}"
            )
            time.sleep(0.5)
        sockets = listening([s.pid for s in started])
        assert not not_loopback(sockets), f"listening beyond loopback: {not_loopback(sockets)}"
    finally:
        for launched in reversed(started):
            stop(launched.pid, launched.marker)
