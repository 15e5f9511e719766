"""monerod and monero-wallet-rpc as processes: their command lines, launch, PID records and stop.

Everything binds 127.0.0.0/8. Every process runs in its own session (a Ctrl-C meant for simctl does not reach
it, and a worker killed mid-run leaves it running for the restarted worker to find) and is recorded by PID in
``<run dir>/pids/<name>.json`` together with the marker that identifies it (its data or wallet directory), so a
stop never signals a PID that the system has since given to another program.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import shutil
import signal
import subprocess
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from localnet.ports import LOOPBACK
from store.files import write_atomically

PACKAGE = "monero"
MONEROD = "monerod"
WALLET_RPC = "monero-wallet-rpc"

# Popen objects of the processes this worker started, so a stopped one is reaped, not left a zombie.
_children: dict[int, subprocess.Popen[bytes]] = {}


class MoneroMissing(RuntimeError):
    """A monero binary that is not installed: one line that names the Debian package."""


def binary(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        raise MoneroMissing(
            f"{name} not found on PATH: install the Debian package '{PACKAGE}' (apt-get install -y {PACKAGE})"
        )
    return found


def require_binaries() -> None:
    binary(MONEROD)
    binary(WALLET_RPC)


def is_loopback(host: str) -> bool:
    return host.startswith("127.")


@dataclass(frozen=True)
class NodeProcess:
    """One monerod in regtest with a fixed difficulty, peering only with ``peers`` (host:port) on loopback."""

    name: str
    data_dir: Path
    rpc_port: int
    p2p_port: int
    difficulty: int = 1
    peers: tuple[str, ...] = ()
    offline: bool = False
    host: str = LOOPBACK

    def argv(self) -> list[str]:
        assert is_loopback(self.host), self.host
        args = [
            binary(MONEROD),
            "--regtest",
            "--fixed-difficulty",
            str(self.difficulty),
            "--data-dir",
            str(self.data_dir),
            "--log-file",
            str(self.data_dir / "monerod.log"),
            "--log-level",
            "0",
            "--rpc-bind-ip",
            self.host,
            "--rpc-bind-port",
            str(self.rpc_port),
            "--rpc-ssl",
            "disabled",
            "--no-zmq",
            "--p2p-bind-ip",
            self.host,
            "--p2p-bind-port",
            str(self.p2p_port),
            "--no-igd",
            "--hide-my-port",
            "--non-interactive",
            "--disable-dns-checkpoints",
            "--check-updates",
            "disabled",
            "--disable-rpc-ban",
            "--db-sync-mode",
            "fastest",
            "--keep-fakechain",
        ]
        if self.offline:
            return [*args, "--offline"]
        # The default of one connection per IP leaves most loopback peers unconnected.
        args += ["--allow-local-ip", "--max-connections-per-ip", "64"]
        for peer in self.peers:
            args += ["--add-exclusive-node", peer]
        return args

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.rpc_port}"


@dataclass(frozen=True)
class WalletProcess:
    """One monero-wallet-rpc with its own ring database, serving the wallets in ``wallet_dir``."""

    name: str
    wallet_dir: Path
    ringdb_dir: Path
    rpc_port: int
    daemon: str  # host:port of the node's RPC
    host: str = LOOPBACK
    log_file: Path = field(default=Path("wallet-rpc.log"))

    def argv(self) -> list[str]:
        assert is_loopback(self.host) and is_loopback(self.daemon), (self.host, self.daemon)
        return [
            binary(WALLET_RPC),
            "--daemon-address",
            self.daemon,
            "--trusted-daemon",
            "--daemon-ssl",
            "disabled",
            "--rpc-bind-ip",
            self.host,
            "--rpc-bind-port",
            str(self.rpc_port),
            "--disable-rpc-login",
            "--rpc-ssl",
            "disabled",
            "--wallet-dir",
            str(self.wallet_dir),
            "--shared-ringdb-dir",
            str(self.ringdb_dir),
            "--no-dns",
            "--non-interactive",
            "--log-file",
            str(self.log_file),
            "--log-level",
            "0",
        ]

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.rpc_port}"


@dataclass(frozen=True)
class Launched:
    pid: int
    marker: str
    reused: bool


def pid_file(run_dir: Path, name: str) -> Path:
    return run_dir / "pids" / f"{name}.json"


def recorded(run_dir: Path, name: str) -> tuple[int, str] | None:
    """The PID and marker recorded for ``name`` in this run, if any."""
    try:
        record = json.loads(pid_file(run_dir, name).read_text())
        return int(record["pid"]), str(record["marker"])
    except (OSError, ValueError, KeyError):
        return None


def recorded_all(run_dir: Path) -> dict[str, tuple[int, str]]:
    found = {}
    for path in sorted((run_dir / "pids").glob("*.json")):
        record = recorded(run_dir, path.stem)
        if record is not None:
            found[path.stem] = record
    return found


def alive(pid: int, marker: str) -> bool:
    """True if ``pid`` runs and is the process we started (its command line names ``marker``)."""
    child = _children.get(pid)
    if child is not None and child.poll() is not None:
        _children.pop(pid, None)
        return False
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace")
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state not in ("Z", "X") and marker in cmdline.split("\0")


def listens(pid: int, port: int) -> bool:
    """True if ``pid`` itself holds a listening TCP socket on ``port``.

    An answer on a planned port is not proof enough that the process we launched gave it: the port can have been
    taken meanwhile by another program (another run's wallet-rpc, say), and then ours exits on its failed bind
    while the other answers in its place.
    """
    try:
        fds = os.listdir(f"/proc/{pid}/fd")
    except OSError:
        return False
    inodes = set()
    for fd in fds:
        with contextlib.suppress(OSError):
            target = os.readlink(f"/proc/{pid}/fd/{fd}")
            if target.startswith("socket:["):
                inodes.add(target[len("socket:[") : -1])
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with contextlib.suppress(OSError):
            for line in Path(table).read_text().splitlines()[1:]:
                fields = line.split()
                listening = fields[3] == "0A"
                if listening and fields[9] in inodes and int(fields[1].rsplit(":", 1)[1], 16) == port:
                    return True
    return False


@contextlib.contextmanager
def _launching(run_dir: Path, name: str) -> Iterator[None]:
    """An exclusive lock on ``name``'s launches: a start and a supervisor's relaunch (or two workers' retries)
    that both find the process gone must not both start one on the same data directory and port."""
    lock = pid_file(run_dir, name).with_suffix(".lock")
    lock.parent.mkdir(parents=True, exist_ok=True)
    with lock.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def launch(run_dir: Path, name: str, argv: list[str], *, marker: str, log: Path) -> Launched:
    """Start ``argv`` unless the process recorded for ``name`` is still running; record its PID."""
    with _launching(run_dir, name):
        return _launch(run_dir, name, argv, marker=marker, log=log)


def relaunch(run_dir: Path, name: str, *, log: Path) -> Launched | None:
    """Start ``name`` again with the command line it was recorded with, unless it is running (``reused``).
    None if nothing was ever recorded for it (or it was stopped on purpose: a stop removes the record)."""
    try:
        record = json.loads(pid_file(run_dir, name).read_text())
        argv, marker = [str(arg) for arg in record["argv"]], str(record["marker"])
    except (OSError, ValueError, KeyError):
        return None
    return launch(run_dir, name, argv, marker=marker, log=log)


def _launch(run_dir: Path, name: str, argv: list[str], *, marker: str, log: Path) -> Launched:
    previous = recorded(run_dir, name)
    if previous is not None and alive(*previous):
        return Launched(pid=previous[0], marker=marker, reused=True)
    if marker not in argv:
        raise ValueError(f"the marker {marker!r} must be one of the arguments of {name}")
    # A worker killed between starting a process and recording it leaves it running unrecorded, holding its port:
    # a second one would exit on the bind. Adopt it instead.
    orphan = running_with(marker, argv[0])
    if orphan is not None:
        _record(run_dir, name, orphan, marker, argv)
        return Launched(pid=orphan, marker=marker, reused=True)
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("ab") as output:
        child = subprocess.Popen(
            argv, stdin=subprocess.DEVNULL, stdout=output, stderr=output, start_new_session=True, close_fds=True
        )
    _children[child.pid] = child
    _record(run_dir, name, child.pid, marker, argv)
    return Launched(pid=child.pid, marker=marker, reused=False)


def _record(run_dir: Path, name: str, pid: int, marker: str, argv: list[str]) -> None:
    record = {"pid": pid, "marker": marker, "argv": argv, "started": time.time()}
    write_atomically(pid_file(run_dir, name), json.dumps(record, indent=1).encode())


def running_with(marker: str, program: str) -> int | None:
    """A running process (not a zombie) of ``program`` whose command line names ``marker``, if there is one."""
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            args = (entry / "cmdline").read_bytes().decode(errors="replace").split("\0")
        except OSError:
            continue
        if args and args[0] == program and marker in args and alive(int(entry.name), marker):
            return int(entry.name)
    return None


def exited_early(pid: int) -> int | None:
    """The exit code of a child that has already ended, or None while it runs (or is not ours)."""
    child = _children.get(pid)
    return None if child is None else child.poll()


def stop(pid: int, marker: str, *, grace: float = 20.0) -> bool:
    """SIGTERM, wait up to ``grace`` seconds, then SIGKILL. False if it was not running (or not ours)."""
    return bool(_stop_all([(pid, marker)], grace=grace))


def stop_recorded(run_dir: Path, name: str, *, grace: float = 20.0) -> bool:
    return name in stop_recorded_all(run_dir, [name], grace=grace)


def stop_recorded_all(run_dir: Path, names: Iterable[str], *, grace: float = 20.0) -> list[str]:
    """Stop the recorded processes of ``names`` together: SIGTERM to each, then one grace period for all of them
    (not one each), then SIGKILL to any still running; their records removed. The names that were running."""
    records = {name: record for name in names if (record := recorded(run_dir, name)) is not None}
    stopped = _stop_all(list(records.values()), grace=grace)
    for name in records:
        pid_file(run_dir, name).unlink(missing_ok=True)
    return [name for name, record in records.items() if record in stopped]


def _stop_all(targets: list[tuple[int, str]], *, grace: float) -> list[tuple[int, str]]:
    running = []
    for pid, marker in targets:
        if not alive(pid, marker):
            _reap(pid)
            continue
        try:
            os.kill(pid, signal.SIGTERM)
        except ProcessLookupError:
            continue
        running.append((pid, marker))
    left = _wait_gone(running, grace)
    for pid, marker in left:
        if alive(pid, marker):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
    _wait_gone(left, 5)
    for pid, _ in running:
        _reap(pid)
    return running


def _wait_gone(targets: list[tuple[int, str]], seconds: float) -> list[tuple[int, str]]:
    """Wait up to ``seconds`` for ``targets`` to exit; those still running."""
    deadline = time.monotonic() + seconds
    left = list(targets)
    while left:
        for pid, _ in left:
            _reap(pid)
        left = [(pid, marker) for pid, marker in left if alive(pid, marker)]
        if not left or time.monotonic() >= deadline:
            break
        time.sleep(0.05)
    return left


def _reap(pid: int) -> None:
    child = _children.get(pid)
    if child is not None and child.poll() is not None:
        _children.pop(pid, None)


def copy_sparse(source: Path, target: Path) -> None:
    """Copy a file tree keeping holes: monerod's LMDB file is a 1 GiB sparse file with a few hundred KiB in it."""
    if source.is_dir():
        target.mkdir(parents=True, exist_ok=True)
        for child in sorted(source.iterdir()):
            copy_sparse(child, target / child.name)
        return
    size = source.stat().st_size
    with source.open("rb") as reader, target.open("wb") as writer:
        fd = reader.fileno()
        offset = 0
        while offset < size:
            try:
                data_start = os.lseek(fd, offset, os.SEEK_DATA)
            except OSError:  # no data past offset
                break
            hole = os.lseek(fd, data_start, os.SEEK_HOLE)
            reader.seek(data_start)
            writer.seek(data_start)
            remaining = hole - data_start
            while remaining > 0:
                chunk = reader.read(min(remaining, 1 << 20))
                if not chunk:
                    break
                writer.write(chunk)
                remaining -= len(chunk)
            offset = hole
        writer.truncate(size)
    shutil.copymode(source, target)
