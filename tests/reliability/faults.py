"""A PostgreSQL of a test's own that can be stopped and started again on the same port and data directory.

The session's server (tests/throwaway_postgres.py) is shared by every PostgreSQL test, so a restart test
must not touch it: this one is started from the same wheel's binaries, in the same way, for one test.
"""

from __future__ import annotations

import os
import pwd
import shutil
import signal
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from tests.throwaway_postgres import (
    _SERVER_SETTINGS,
    _free_port,
    _installation,
    _run_as,
    _stop,
    _stop_when_parent_dies,
    _wait_until_accepting,
    _wheel_bin_dir,
)


@dataclass
class RestartablePostgres:
    bin_dir: Path
    workdir: Path
    port: int
    user: str | None
    process: subprocess.Popen[bytes] | None = None
    starts: int = field(default=0)

    @property
    def data_dir(self) -> Path:
        return self.workdir / "data"

    @property
    def url(self) -> str:
        return f"postgresql+asyncpg://postgres@127.0.0.1:{self.port}/postgres"

    def start(self) -> None:
        assert self.process is None or self.process.poll() is not None, "PostgreSQL is already running"
        # A commit must survive the crash this server is here for: synchronous_commit on (the session server's
        # off would lose the last ~200 ms of acknowledged commits to an immediate shutdown, by design).
        wanted = [setting for setting in _SERVER_SETTINGS if not setting.startswith("synchronous_commit")]
        settings = [arg for setting in (*wanted, "synchronous_commit=on") for arg in ("-c", setting)]
        listen = ["-h", "127.0.0.1", "-p", str(self.port), "-k", str(self.workdir)]
        with open(self.workdir / "server.log", "ab") as log:
            self.process = subprocess.Popen(
                [str(self.bin_dir / "postgres"), "-D", str(self.data_dir), *listen, *settings],
                user=self.user,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                preexec_fn=_stop_when_parent_dies(),
            )
        self.starts += 1
        _wait_until_accepting(self.bin_dir, self.port, self.process, self.workdir / "server.log")

    def crash(self) -> None:
        """Immediate shutdown (SIGQUIT): every backend exits without a checkpoint, so the next start recovers
        from the WAL as after a crash, and clients see their connections cut mid-transaction."""
        assert self.process is not None and self.process.poll() is None, "PostgreSQL died before its crash"
        self.process.send_signal(signal.SIGQUIT)
        self.process.wait(30)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            _stop(self.process)


@contextmanager
def restartable_postgres() -> Iterator[RestartablePostgres]:
    wheel_bin, _ = _wheel_bin_dir()
    user = _run_as()
    workdir = Path(tempfile.mkdtemp(prefix="simctl-pg-restart-"))
    server: RestartablePostgres | None = None
    try:
        bin_dir = _installation(wheel_bin, workdir, user)
        if user is not None:
            entry = pwd.getpwnam(user)
            os.chown(workdir, entry.pw_uid, entry.pw_gid)
        subprocess.run(
            [str(bin_dir / "initdb"), "-D", str(workdir / "data"), "-U", "postgres", "--auth=trust", "-E", "UTF8",
             "--no-sync"],
            user=user,
            check=True,
            capture_output=True,
        )  # fmt: skip
        server = RestartablePostgres(bin_dir=bin_dir, workdir=workdir, port=_free_port(), user=user)
        server.start()
        yield server
    finally:
        if server is not None:
            server.stop()
        shutil.rmtree(workdir, ignore_errors=True)
