"""Injection ranges and rates, detection, precision and recall."""

from __future__ import annotations

import random

import pytest

from sim.ads.hallucination import GRADED, detect, inject, precision_recall, relative_error, wilson

ACTUAL = 1_000_000


@pytest.mark.parametrize(
    ("claim_type", "low", "high"), [("inventory", 1.1, 1.5), ("price", 0.7, 0.9), ("delivery", 1.1, 1.5)]
)
def test_injected_values_fall_in_the_documented_ranges(claim_type, low, high):
    rng = random.Random(1)
    for _ in range(2000):
        claimed, injected = inject(claim_type, ACTUAL, rng, 1.0)
        assert injected
        assert low * ACTUAL <= claimed <= high * ACTUAL


def test_history_fabricates_one_to_five_extra_deals():
    rng = random.Random(2)
    extras = set()
    for _ in range(2000):
        claimed, injected = inject("history", 3, rng, 1.0)
        assert injected
        extras.add(claimed - 3)
    assert extras == {1, 2, 3, 4, 5}


@pytest.mark.parametrize("claim_type", ["inventory", "price", "history", "delivery"])
def test_claims_not_injected_equal_actual(claim_type):
    rng = random.Random(3)
    for actual in range(0, 5000, 7):
        assert inject(claim_type, actual, rng, 0.0) == (actual, False)


def test_injection_rate_is_honoured():
    rng = random.Random(4)
    injected = sum(inject("price", ACTUAL, rng, 0.05)[1] for _ in range(10_000))
    assert 0.045 <= injected / 10_000 <= 0.055  # ~2.3 standard errors either side


def test_streams_stay_aligned_whatever_the_rate():
    a, b = random.Random(5), random.Random(5)
    for _ in range(100):
        inject("history", 2, a, 0.0)
        inject("history", 2, b, 1.0)
    assert a.random() == b.random()


@pytest.mark.parametrize("claim_type", ["inventory", "price", "delivery"])
def test_detect_flags_every_injected_value_and_no_exact_claim(claim_type):
    rng = random.Random(6)
    for _ in range(2000):
        actual = rng.randint(1000, 10_000_000)
        claimed, injected = inject(claim_type, actual, rng, 0.5)
        detection = detect(claimed, actual, 0.05, 0.20)
        assert detection.flagged == injected
        assert (detection.severity == "none") == (not injected)


def test_detect_flags_fabricated_history_on_small_counts():
    # +1 deal is >= 10% only when the true count is <= 10: history is a count of past deals.
    rng = random.Random(7)
    for actual in range(0, 11):
        claimed, _ = inject("history", actual, rng, 1.0)
        assert detect(claimed, actual, 0.05, 0.20).flagged


def test_detection_severity_and_relative_error():
    assert relative_error(110, 100) == pytest.approx(0.10)
    assert relative_error(3, 0) == 3.0  # measured against 1 when the truth is 0
    assert detect(104, 100, 0.05, 0.20).severity == "none"
    assert detect(110, 100, 0.05, 0.20).severity == "minor"
    assert detect(70, 100, 0.05, 0.20).severity == "major"
    assert detect(120, 100, 0.05, 0.20).severity == "major"


def test_precision_recall_arithmetic():
    flagged = [True, True, False, True, False]
    injected = [True, False, True, True, False]
    precision, recall = precision_recall(flagged, injected)
    assert precision == pytest.approx(2 / 3) and recall == pytest.approx(2 / 3)
    assert precision_recall([False, False], [False, False]) == (1.0, 1.0)
    assert precision_recall([True, False], [False, False]) == (0.0, 1.0)
    assert precision_recall([False, False], [True, False]) == (1.0, 0.0)
    with pytest.raises(ValueError):
        precision_recall([True], [True, False])


# --- graded fabrication sizes and intervals -------------------------------------------------------


@pytest.mark.parametrize("claim_type", ["inventory", "price", "delivery"])
def test_graded_fabrications_stay_in_range_and_include_small_ones(claim_type):
    low, high = GRADED[claim_type]
    rng = random.Random(7)
    sizes = []
    for _ in range(4000):
        claimed, injected = inject(claim_type, 100_000, rng, rate=1.0, graded=True)
        assert injected
        sizes.append(abs(claimed - 100_000) / 100_000)
    assert low - 1e-5 <= min(sizes) and max(sizes) <= high + 1e-5
    under_tolerance = sum(1 for size in sizes if size <= 0.05) / len(sizes)
    # P(low + (high - low) u^2 <= 0.05) = sqrt((0.05 - low) / (high - low))
    expected = ((0.05 - low) / (high - low)) ** 0.5
    assert abs(under_tolerance - expected) < 0.03, (under_tolerance, expected)


def test_graded_and_fixed_sizes_draw_the_same_randoms():
    fixed, graded = random.Random(3), random.Random(3)
    for _ in range(100):
        inject("delivery", 1000, fixed, 0.5)
        inject("delivery", 1000, graded, 0.5, graded=True)
    assert fixed.random() == graded.random()


def test_wilson_interval_matches_published_values():
    # 5 of 10: 0.5 -+ 1.96 sqrt(0.025 + 0.0096) / 1.384; 0 of 10: upper bound z^2 / (n + z^2) = 3.8416 / 13.8416.
    low, high = wilson(5, 10) or (0, 0)
    assert round(low, 4) == 0.2366 and round(high, 4) == 0.7634
    low, high = wilson(0, 10) or (1, 1)
    assert low == 0.0 and round(high, 4) == 0.2775
    assert wilson(0, 0) is None
