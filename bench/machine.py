"""What a benchmark ran on, for bench/RESULTS.md."""

from __future__ import annotations

import os
import platform
from datetime import date
from pathlib import Path


def describe_machine() -> str:
    cpu = "unknown CPU"
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    memory = ""
    meminfo = Path("/proc/meminfo")
    if meminfo.exists():
        kib = int(meminfo.read_text().split()[1])
        memory = f", {kib / 1024 / 1024:.0f} GiB"
    return (
        f"{date.today().isoformat()}, {platform.system()} {platform.machine()}, {cpu}, "
        f"{os.cpu_count()} cores{memory}, Python {platform.python_version()}"
    )
