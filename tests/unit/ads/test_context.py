"""Context rot: a constant per-day survival, not a compounding exponent."""

from __future__ import annotations

import math
import random

import pytest

from sim.ads.context import decay, expected_survival, restarted

N = 20_000


@pytest.mark.parametrize("days", [1, 10, 30])
def test_surviving_fraction_after_d_days_is_survival_to_the_d(days):
    rng = random.Random(days)
    memory = {f"k{i}": i for i in range(N)}
    for _ in range(days):
        memory, _ = decay(memory, rng, 0.98)
    p = 0.98**days
    standard_error = math.sqrt(p * (1 - p) / N)
    assert abs(len(memory) / N - p) < 4 * standard_error
    # The seed's compounding rule would leave ~0.98 ** (d(d+1)/2): at d=30, ~0.0009.
    if days == 30:
        assert len(memory) / N > 0.5


def test_decay_reports_lost_keys_and_keeps_values_and_order():
    memory = {f"k{i}": i * 10 for i in range(1000)}
    kept, lost = decay(memory, random.Random(1), 0.7)
    assert set(kept) | set(lost) == set(memory) and not set(kept) & set(lost)
    assert all(kept[k] == memory[k] for k in kept)
    assert list(kept) == [k for k in memory if k in kept]
    assert lost == [k for k in memory if k not in kept]


def test_decay_is_deterministic_and_bounded():
    memory = {str(i): i for i in range(500)}
    assert decay(memory, random.Random(7), 0.9) == decay(memory, random.Random(7), 0.9)
    assert decay(memory, random.Random(7), 1.0) == (memory, [])
    assert decay(memory, random.Random(7), 0.0) == ({}, list(memory))


def test_expected_survival():
    assert expected_survival(30, 0.98) == pytest.approx(0.5455, abs=5e-4)
    assert expected_survival(0, 0.98) == 1.0


def test_restart_frequency_matches_probability():
    rng = random.Random(3)
    n, p = 100_000, 0.01
    hits = sum(restarted(rng, p) for _ in range(n))
    assert abs(hits / n - p) < 4 * math.sqrt(p * (1 - p) / n)
    assert not any(restarted(rng, 0.0) for _ in range(1000))
    assert all(restarted(rng, 1.0) for _ in range(1000))
