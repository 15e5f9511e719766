"""Context rot: a constant per-day survival, not a compounding exponent."""

from __future__ import annotations

import math
import random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from models.ads import AdsParams
from sim.ads.context import decay, expected_survival, restart_hazard, restarted

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


# --- the restart hazard -----------------------------------------------------------------------------------


def test_the_default_restart_hazard_is_the_seeds_constant_half_percent():
    # The seed's ContextRotSimulator.trigger_restart: base_probability = 0.005, never raised in its code.
    params = AdsParams()
    assert (params.restart_probability, params.restart_hazard_growth) == (0.005, 0.0)
    assert {restart_hazard(d, params.restart_probability, params.restart_hazard_growth) for d in range(60)} == {0.005}


@given(
    st.integers(min_value=0, max_value=400),
    st.integers(min_value=0, max_value=400),
    st.floats(min_value=0, max_value=1),
    st.floats(min_value=0, max_value=1),
)
def test_restart_hazard_never_falls_with_days_since_the_restart_and_stays_a_probability(a, b, base, growth):
    early, late = sorted((a, b))
    assert 0 <= restart_hazard(early, base, growth) <= restart_hazard(late, base, growth) <= 1


def test_restart_hazard_rises_by_its_growth_per_day_and_caps_at_certainty():
    assert restart_hazard(0, 0.005, 0.001) == 0.005
    assert restart_hazard(10, 0.005, 0.001) == pytest.approx(0.015)
    assert restart_hazard(10, 0.005, 0.001) > restart_hazard(9, 0.005, 0.001)
    assert restart_hazard(10_000, 0.005, 0.001) == 1.0
    with pytest.raises(ValueError):
        restart_hazard(-1, 0.005, 0.001)
