"""How the report prints money, shares, counts, tables and scenario names."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from typing import Any

from models.ads import MICROS

SCENARIO_NAMES = {"A": "exchange", "B": "agent-to-agent", "C": "agent-to-agent + ledger"}


def usd(micros: float | None, digits: int = 2) -> str:
    return "—" if micros is None else f"${micros / MICROS:,.{digits}f}"


def dollars(value: float | None, digits: int = 2) -> str:
    return "—" if value is None else f"${value:,.{digits}f}"


def price(value: float | None) -> str:
    """USD amounts that can be fractions of a cent: two significant digits below one cent."""
    if value is None:
        return "—"
    if 0 < abs(value) < 0.01:
        return f"${value:.{1 - math.floor(math.log10(abs(value)))}f}"
    return f"${value:,.4f}"


def plural(count: int, word: str) -> str:
    return f"{count:,} {word}{'' if count == 1 else 's'}"


def pct(value: float | None, digits: int = 1) -> str:
    return "—" if value is None else f"{value * 100:.{digits}f}%"


def num(value: float | None, digits: int = 0) -> str:
    return "—" if value is None else f"{value:,.{digits}f}"


def table(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return "\n".join(lines)


def label(scenario: str) -> str:
    return f"{scenario} ({SCENARIO_NAMES.get(scenario, scenario)})"
