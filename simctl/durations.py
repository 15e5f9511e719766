"""Durations on the command line: 90s, 5m, 2h, 1d (a bare number is seconds)."""

from __future__ import annotations

import re

from simctl.errors import CliError

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
_PATTERN = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhd]?)\s*$")


def parse_duration(text: str) -> float:
    match = _PATTERN.match(text)
    if not match:
        raise CliError(f"bad duration {text!r}: use e.g. 90s, 5m, 2h")
    return float(match.group(1)) * _UNITS[match.group(2) or "s"]
