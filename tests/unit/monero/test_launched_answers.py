"""A launched monerod or wallet-rpc counts as started (or relaunched) only when *it* answers on its port: not
while it has exited, and not when another program holding the port answers in its place."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

import pytest
from temporalio.exceptions import ApplicationError

from activities.monero.nodes import launched_answers
from localnet.monero import processes
from localnet.ports import free_port


async def answered() -> None:
    """A probe that got an answer (from whoever holds the port)."""


async def test_an_answer_from_another_program_on_the_port_is_refused(listener: tuple[subprocess.Popen[bytes], int]):
    process, port = listener
    with pytest.raises(ApplicationError) as raised:
        await launched_answers("wallet-rpc user_0", os.getpid(), port, answered, gone=" on relaunch")
    assert raised.value.type == "PortTaken"
    assert raised.value.message == f"wallet-rpc user_0: port {port} answers, but not from PID {os.getpid()}"
    await launched_answers("wallet-rpc user_0", process.pid, port, answered, gone=" on relaunch")


async def test_a_launched_process_that_exited_is_reported_before_any_probe(tmp_path: Path):
    argv = [sys.executable, "-c", "import sys; sys.exit(3)", str(tmp_path)]
    launched = processes.launch(tmp_path, "node_0", argv, marker=str(tmp_path), log=tmp_path / "node_0.out")
    while processes.exited_early(launched.pid) is None:
        await asyncio.sleep(0.02)
    probed = []

    async def probe() -> None:
        probed.append(True)

    with pytest.raises(ApplicationError) as raised:
        await launched_answers("monerod node_0", launched.pid, free_port(), probe, gone=" on relaunch")
    assert raised.value.type == "ProcessExited"
    assert raised.value.message == "monerod node_0 exited with code 3 on relaunch"
    assert probed == []
