"""monerod and wallet-rpc command lines, PID records and stop, the sparse copy; no monerod needed."""

from __future__ import annotations

import itertools
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from localnet.monero import processes
from localnet.ports import free_port


@pytest.fixture
def fake_binaries(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for name in (processes.MONEROD, processes.WALLET_RPC):
        path = bin_dir / name
        path.write_text("#!/bin/sh\n")
        path.chmod(0o755)
    monkeypatch.setenv("PATH", str(bin_dir))
    return bin_dir


def test_a_node_peers_on_loopback_only(fake_binaries: Path, tmp_path: Path):
    node = processes.NodeProcess(
        name="node_0", data_dir=tmp_path / "n", rpc_port=1, p2p_port=2, difficulty=3, peers=("127.0.0.1:5",)
    )
    argv = node.argv()
    for flag in ("--regtest", "--keep-fakechain", "--no-zmq", "--allow-local-ip", "--non-interactive"):
        assert flag in argv
    pairs = dict(itertools.pairwise(argv))
    assert pairs["--fixed-difficulty"] == "3"
    assert pairs["--rpc-ssl"] == "disabled"
    assert pairs["--rpc-bind-ip"] == pairs["--p2p-bind-ip"] == "127.0.0.1"
    assert pairs["--max-connections-per-ip"] == "64"
    assert pairs["--add-exclusive-node"] == "127.0.0.1:5"
    assert "--offline" not in argv
    offline = processes.NodeProcess(name="g", data_dir=tmp_path, rpc_port=1, p2p_port=2, offline=True).argv()
    assert "--offline" in offline and "--add-exclusive-node" not in offline
    with pytest.raises(AssertionError):
        processes.NodeProcess(name="x", data_dir=tmp_path, rpc_port=1, p2p_port=2, host="0.0.0.0").argv()


def test_a_wallet_has_its_own_ring_database(fake_binaries: Path, tmp_path: Path):
    wallet = processes.WalletProcess(
        name="user_0", wallet_dir=tmp_path / "w", ringdb_dir=tmp_path / "r", rpc_port=7, daemon="127.0.0.1:1"
    )
    pairs = dict(itertools.pairwise(wallet.argv()))
    assert pairs["--shared-ringdb-dir"] == str(tmp_path / "r")
    assert pairs["--rpc-bind-ip"] == "127.0.0.1"
    assert "--disable-rpc-login" in wallet.argv()


def test_a_missing_binary_is_one_line_naming_the_package(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(processes.MoneroMissing) as missing:
        processes.require_binaries()
    message = str(missing.value)
    assert "\n" not in message and "monerod" in message and "Debian package 'monero'" in message


def test_a_process_is_recorded_reused_and_stopped(tmp_path: Path):
    marker = str(tmp_path / "marker")
    argv = [sys.executable, "-c", "import time; time.sleep(60)", marker]
    first = processes.launch(tmp_path, "sleeper", argv, marker=marker, log=tmp_path / "log")
    assert not first.reused and processes.alive(first.pid, marker)
    assert processes.recorded(tmp_path, "sleeper") == (first.pid, marker)
    again = processes.launch(tmp_path, "sleeper", argv, marker=marker, log=tmp_path / "log")
    assert again.reused and again.pid == first.pid
    # A PID whose command line does not name the marker is never signalled.
    assert not processes.alive(first.pid, "something else")
    assert processes.stop_recorded(tmp_path, "sleeper", grace=5)
    assert not processes.alive(first.pid, marker)
    assert processes.recorded_all(tmp_path) == {}


def test_a_process_started_but_never_recorded_is_adopted_not_started_twice(tmp_path: Path):
    """A worker killed between starting a process and writing its record leaves it running unrecorded (on its
    port): the retried start must take that one over, not launch a second that would exit on the bind."""
    marker = str(tmp_path / "marker")
    argv = [sys.executable, "-c", "import time; time.sleep(60)", marker]
    orphan = subprocess.Popen(argv, start_new_session=True)
    try:
        # Popen can return while the kernel is still finishing the exec, before /proc shows the new command line;
        # the orphan this test stands for has been running since before its worker died.
        deadline = time.monotonic() + 10
        while marker not in Path(f"/proc/{orphan.pid}/cmdline").read_bytes().decode().split("\0"):
            assert time.monotonic() < deadline, "the orphan never showed its command line"
            time.sleep(0.01)
        assert processes.recorded(tmp_path, "sleeper") is None
        adopted = processes.launch(tmp_path, "sleeper", argv, marker=marker, log=tmp_path / "log")
        assert adopted.reused and adopted.pid == orphan.pid
        assert processes.recorded(tmp_path, "sleeper") == (orphan.pid, marker)
        # Another run's process (another marker) of the same program is not taken.
        other = str(tmp_path / "other")
        fresh = processes.launch(tmp_path, "other", [*argv[:-1], other], marker=other, log=tmp_path / "log")
        assert not fresh.reused and fresh.pid != orphan.pid
        assert processes.stop_recorded_all(tmp_path, ["sleeper", "other"], grace=5) == ["sleeper", "other"]
        assert orphan.wait(timeout=10) is not None
    finally:
        orphan.kill()
        orphan.wait()


def test_the_sparse_copy_keeps_holes_and_bytes(tmp_path: Path):
    source = tmp_path / "src"
    source.mkdir()
    data = source / "data.mdb"
    with data.open("wb") as stream:
        stream.write(b"head")
        stream.seek(64 << 20)
        stream.write(b"tail")
    processes.copy_sparse(source, tmp_path / "dst")
    copied = tmp_path / "dst" / "data.mdb"
    assert copied.stat().st_size == data.stat().st_size
    assert copied.read_bytes()[:4] == b"head" and copied.read_bytes()[-4:] == b"tail"
    assert os.stat(copied).st_blocks * 512 < 1 << 20


def test_a_port_counts_as_ours_only_while_our_process_listens_on_it(listener: tuple[subprocess.Popen[bytes], int]):
    """A planned port answered by another program (ours failed to bind it) must not pass for our process."""
    process, port = listener
    assert processes.listens(process.pid, port)
    assert not processes.listens(process.pid, free_port())
    assert not processes.listens(os.getpid(), port), "a port another process holds is not ours"
    process.kill()
    process.wait()
    assert not processes.listens(process.pid, port), "a process that is gone listens on nothing"


def test_processes_stopped_together_share_one_grace_period(tmp_path: Path):
    """Each gets SIGTERM before any is waited for; ones that ignore it are killed after the one grace period."""
    script = (
        "import pathlib, signal, sys, time\n"
        "signal.signal(signal.SIGTERM, lambda *_: pathlib.Path(sys.argv[1]).write_text(repr(time.time())))\n"
        "pathlib.Path(sys.argv[1] + '.up').touch()\n"
        "while True: time.sleep(0.05)\n"
    )
    names = [f"stubborn_{i}" for i in range(3)]
    launched = {}
    for name in names:
        marker = str(tmp_path / name)
        launched[name] = processes.launch(
            tmp_path, name, [sys.executable, "-c", script, marker], marker=marker, log=tmp_path / f"{name}.log"
        )
    deadline = time.monotonic() + 20
    while not all((tmp_path / f"{name}.up").exists() for name in names):
        assert time.monotonic() < deadline, "the processes did not start"
        time.sleep(0.05)
    assert processes.stop_recorded_all(tmp_path, [*names, "never_started"], grace=1) == names
    terms = [float((tmp_path / name).read_text()) for name in names]
    assert max(terms) - min(terms) < 1, "one waited out its grace before the next got SIGTERM"
    assert not any(processes.alive(launched[name].pid, launched[name].marker) for name in names)
    assert processes.recorded_all(tmp_path) == {}
