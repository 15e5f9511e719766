"""Fixtures of the monero unit tests."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest


@pytest.fixture
def listener(tmp_path: Path) -> Iterator[tuple[subprocess.Popen[bytes], int]]:
    """A process of its own listening on a loopback port the kernel picked: (the process, the port)."""
    ready = tmp_path / "port"
    process = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import socket, sys, time, pathlib\n"
            "s = socket.socket(); s.bind(('127.0.0.1', 0)); s.listen()\n"
            "pathlib.Path(sys.argv[1]).write_text(str(s.getsockname()[1])); time.sleep(60)",
            str(ready),
        ]
    )
    try:
        deadline = time.monotonic() + 20
        while not ready.exists() or not ready.read_text():
            assert time.monotonic() < deadline, "the listener did not start"
            time.sleep(0.05)
        yield process, int(ready.read_text())
    finally:
        process.kill()
        process.wait()
