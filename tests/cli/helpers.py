"""Running simctl and the worker as real processes, the way a user does."""

from __future__ import annotations

import asyncio
import os
import re
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[2]


def environment(**extra: str) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith(("SIMCTL_", "TEMPORAL_", "OTEL_"))}
    env.update(extra)
    return env


def simctl(*args: str, env: dict[str, str] | None = None, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "simctl", *args],
        capture_output=True,
        text=True,
        env=env or environment(),
        cwd=ROOT,
        timeout=timeout,
    )


@dataclass
class Service:
    """A long-running child process whose stderr we read line by line."""

    process: asyncio.subprocess.Process
    lines: list[str] = field(default_factory=list)

    @classmethod
    async def start(cls, *args: str, env: dict[str, str], cwd: Path = ROOT) -> Service:
        process = await asyncio.create_subprocess_exec(
            *args,
            cwd=cwd,
            env=env,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
        )
        return cls(process)

    async def wait_for(self, pattern: str, timeout: float = 60) -> re.Match[str]:
        regex = re.compile(pattern)
        for line in self.lines:
            if match := regex.search(line):
                return match

        async def scan() -> re.Match[str]:
            assert self.process.stdout is not None
            while raw := await self.process.stdout.readline():
                line = raw.decode(errors="replace")
                self.lines.append(line)
                if match := regex.search(line):
                    return match
            raise AssertionError(f"process exited before {pattern!r}; output:\n{''.join(self.lines)}")

        return await asyncio.wait_for(scan(), timeout)

    async def stop(self, sig: int, timeout: float = 30) -> int:
        self.process.send_signal(sig)
        assert self.process.stdout is not None
        rest = await asyncio.wait_for(self.process.stdout.read(), timeout)
        self.lines.extend(rest.decode(errors="replace").splitlines(keepends=True))
        return await asyncio.wait_for(self.process.wait(), timeout)

    def kill(self) -> None:
        if self.process.returncode is None:
            self.process.kill()

    @property
    def output(self) -> str:
        return "".join(self.lines)


async def scrape(url: str) -> str:
    async with httpx.AsyncClient() as http:
        response = await http.get(url, timeout=10)
        response.raise_for_status()
        return response.text
