"""Day 1 against the last day on hand-built series and claims, each answer worked out here."""

from __future__ import annotations

import pytest

from models.ads import AdsParams
from models.ads_report import RecordedClaim
from sim.ads.degradation import DayValue, degradation, detection_by_day


def test_change_in_percentage_points_between_first_and_last_defined_day() -> None:
    series = [
        DayValue(day=1, value=None, n=0),  # nothing to measure on day 1
        DayValue(day=2, value=0.80, n=10),
        DayValue(day=3, value=0.10, n=1),
        DayValue(day=29, value=0.55, n=20),
        DayValue(day=30, value=None, n=0),
    ]
    row = degradation("B", "recovery_fidelity", list(reversed(series)))  # order of the input does not matter
    assert (row.first_day, row.first_value, row.first_n) == (2, 0.80, 10)
    assert (row.last_day, row.last_value, row.last_n) == (29, 0.55, 20)
    assert row.change_pp == pytest.approx(-25.0)


def test_a_value_with_no_count_behind_it_is_not_a_measurement() -> None:
    row = degradation("C", "kpi_attainment", [DayValue(day=1, value=0.5, n=0), DayValue(day=2, value=0.7, n=3)])
    assert (row.first_day, row.last_day, row.change_pp) == (2, 2, None), "one defined day: no change, not +0"
    empty = degradation("A", "memory_survival", [])
    assert (empty.first_day, empty.last_day, empty.change_pp) == (None, None, None)


def claim(day: int, claimed: int, *, injected: bool) -> RecordedClaim:
    return RecordedClaim(
        scenario="B",
        claim_id=f"c/{day}/{claimed}/{injected}",
        campaign_id="c",
        day=day,
        agent_id="seller-01",
        agent_type="seller",
        claim_type="inventory",
        subject="p",
        claimed=claimed,
        actual=1000,
        injected=injected,
        checked=False,
    )


def test_detection_recall_and_precision_per_day_at_the_parameter_tolerance() -> None:
    params = AdsParams(detection_tolerance=0.05)
    claims = [
        # Day 1: two injected, one caught (20% off) and one missed (2% off); one honest false alarm (10% off).
        claim(1, 1200, injected=True),
        claim(1, 1020, injected=True),
        claim(1, 1100, injected=False),
        claim(1, 1000, injected=False),
        # Day 2: nothing injected, nothing flagged: both undefined.
        claim(2, 1010, injected=False),
        # Day 3: one injected and caught, no false alarm.
        claim(3, 1500, injected=True),
    ]
    recall, precision = detection_by_day(claims, params)
    assert [(d.day, d.value, d.n) for d in recall] == [(1, 0.5, 2), (2, None, 0), (3, 1.0, 1)]
    assert [(d.day, d.value, d.n) for d in precision] == [(1, 0.5, 2), (2, None, 0), (3, 1.0, 1)]
    assert degradation("B", "detection_recall", recall).change_pp == pytest.approx(50.0)
