"""Day 1 against the last day: how much each scenario's per-day figures moved over the flight, in
percentage points.

Every series is a per-day figure already computed from recorded rows (KPI attainment from deliveries,
memory survival and recovery fidelity from context events) or computed here per day from the claims
(detection recall and precision at the parameter tolerance). A figure is undefined on a day with
nothing to measure (no lost memory, no injected claim), so each row compares the first and the last
day on which it is defined, names both days and the count behind each value: a value over a handful of
items is a weak one, and the reader sees it.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

from pydantic import BaseModel, ConfigDict

from models.ads import AdsParams
from models.ads_report import RecordedClaim
from sim.ads.hallucination import detect

METRICS = ("kpi_attainment", "memory_survival", "recovery_fidelity", "detection_recall", "detection_precision")


class DayValue(BaseModel):
    """One day's value of a series and the count it is a share of (campaigns, items or claims)."""

    model_config = ConfigDict(frozen=True)

    day: int
    value: float | None
    n: int


class DegradationRow(BaseModel):
    model_config = ConfigDict(frozen=True)

    scenario: str
    metric: str
    first_day: int | None
    first_value: float | None
    first_n: int
    last_day: int | None
    last_value: float | None
    last_n: int
    change_pp: float | None  # (last − first) × 100: negative is a loss


def degradation(scenario: str, metric: str, series: Sequence[DayValue]) -> DegradationRow:
    """The first and last defined day of ``series`` and the change between them in percentage points."""
    defined = sorted((s for s in series if s.value is not None and s.n > 0), key=lambda s: s.day)
    if not defined:
        return DegradationRow(
            scenario=scenario,
            metric=metric,
            first_day=None,
            first_value=None,
            first_n=0,
            last_day=None,
            last_value=None,
            last_n=0,
            change_pp=None,
        )
    first, last = defined[0], defined[-1]
    assert first.value is not None and last.value is not None
    return DegradationRow(
        scenario=scenario,
        metric=metric,
        first_day=first.day,
        first_value=first.value,
        first_n=first.n,
        last_day=last.day,
        last_value=last.value,
        last_n=last.n,
        # One defined day only: nothing moved between two days, so no change rather than a made-up 0.
        change_pp=(last.value - first.value) * 100 if last.day != first.day else None,
    )


def detection_by_day(claims: Sequence[RecordedClaim], params: AdsParams) -> tuple[list[DayValue], list[DayValue]]:
    """(recall, precision) of flagging at the parameter tolerance, per day of one scenario's claims:
    recall over the day's injected claims, precision over the day's flagged ones."""
    per_day: dict[int, list[tuple[bool, bool]]] = defaultdict(list)
    for claim in claims:
        verdict = detect(claim.claimed, claim.actual, params.detection_tolerance, params.major_severity)
        per_day[claim.day].append((verdict.flagged, bool(claim.injected)))
    recall, precision = [], []
    for day in sorted(per_day):
        pairs = per_day[day]
        hits = sum(1 for f, i in pairs if f and i)
        injected = sum(1 for _, i in pairs if i)
        flagged = sum(1 for f, _ in pairs if f)
        recall.append(DayValue(day=day, value=hits / injected if injected else None, n=injected))
        precision.append(DayValue(day=day, value=hits / flagged if flagged else None, n=flagged))
    return recall, precision
