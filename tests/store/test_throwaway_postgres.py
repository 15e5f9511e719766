"""The session's throwaway PostgreSQL does not outlive a test run that is killed outright."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

from tests.polling import eventually

# Starts a server the way the session does, prints its postmaster's PID and data directory, then waits to be killed.
_HOLDER = textwrap.dedent(
    """
    import sys, time
    from tests.throwaway_postgres import throwaway_postgres
    with throwaway_postgres() as server:
        pid = int((server.data_dir / "postmaster.pid").read_text().split()[0])
        print(pid, server.data_dir, flush=True)
        time.sleep(600)
    """
)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie (not yet reaped by init) has exited too.
    stat = Path(f"/proc/{pid}/stat")
    return not (stat.exists() and stat.read_text().split(") ", 1)[1].startswith("Z"))


async def test_a_killed_test_session_takes_its_server_with_it() -> None:
    repo = Path(__file__).resolve().parents[2]
    holder = subprocess.Popen(
        [sys.executable, "-c", _HOLDER], cwd=repo, stdout=subprocess.PIPE, text=True, start_new_session=True
    )
    try:
        assert holder.stdout is not None
        line = holder.stdout.readline().split()
        assert line, f"the holder exited with {holder.wait()} before starting a server"
        postmaster = int(line[0])
        assert _alive(postmaster)
        holder.send_signal(signal.SIGKILL)
        holder.wait()
        await eventually(lambda: not _alive(postmaster), timeout=30, what="the orphaned postmaster to shut down")
    finally:
        if holder.poll() is None:
            holder.kill()
            holder.wait()
