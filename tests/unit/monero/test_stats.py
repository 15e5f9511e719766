"""The report's statistics against published table values and closed forms (no numerical library needed)."""

from __future__ import annotations

import itertools
import math
import random

import pytest

from sim.monero import stats

# Upper critical values of the chi-square distribution (NIST/SEMATECH e-Handbook, table 1.3.6.7.4):
# (degrees of freedom, statistic, upper-tail probability).
CHI_SQUARE_TABLE = [
    (1, 3.841, 0.05),
    (1, 6.635, 0.01),
    (1, 10.828, 0.001),
    (2, 5.991, 0.05),
    (2, 9.210, 0.01),
    (3, 7.815, 0.05),
    (3, 11.345, 0.01),
    (5, 11.070, 0.05),
    (10, 18.307, 0.05),
    (10, 23.209, 0.01),
    (20, 31.410, 0.05),
    (30, 43.773, 0.05),
    (100, 124.342, 0.05),
    (100, 135.807, 0.01),
    (1, 2.706, 0.10),
    (4, 7.779, 0.10),
    # Lower tail: P(X >= x) = 1 - 0.05 and 1 - 0.01.
    (5, 1.145, 0.95),
    (10, 2.558, 0.99),
]


@pytest.mark.parametrize(("dof", "statistic", "upper"), CHI_SQUARE_TABLE)
def test_chi_square_survival_matches_the_table(dof: int, statistic: float, upper: float) -> None:
    # The table prints three decimals: its values are within 0.1% relative of the exact quantile.
    assert stats.chi_square_sf(statistic, dof) == pytest.approx(upper, rel=2e-3)


def test_closed_forms_of_the_incomplete_gamma() -> None:
    for x in (0.01, 0.5, 1.0, 2.0, 7.5, 30.0, 200.0):
        # Q(1, x) = e^-x (chi-square with 2 df: e^(-s/2)), Q(1/2, x) = erfc(sqrt x), Q(2, x) = (1 + x) e^-x.
        assert stats.regularized_gamma_q(1, x) == pytest.approx(math.exp(-x), rel=1e-12, abs=1e-300)
        assert stats.regularized_gamma_q(0.5, x) == pytest.approx(math.erfc(math.sqrt(x)), rel=1e-10, abs=1e-300)
        assert stats.regularized_gamma_q(2, x) == pytest.approx((1 + x) * math.exp(-x), rel=1e-12, abs=1e-300)
        assert stats.chi_square_sf(2 * x, 2) == pytest.approx(math.exp(-x), rel=1e-12, abs=1e-300)


def test_edges_and_bad_arguments() -> None:
    assert stats.chi_square_sf(0, 3) == 1.0
    assert stats.chi_square_sf(-1, 3) == 1.0
    assert stats.chi_square_sf(1e4, 3) == pytest.approx(0.0, abs=1e-300)
    with pytest.raises(ValueError):
        stats.chi_square_sf(1, 0)
    with pytest.raises(ValueError):
        stats.regularized_gamma_q(0, 1)
    with pytest.raises(ValueError):
        stats.regularized_gamma_q(1, -1)
    # Monotone in the statistic, on both sides of the series / continued fraction switch (x = a + 1).
    values = [stats.regularized_gamma_q(3.5, x / 10) for x in range(0, 200)]
    assert all(a >= b for a, b in itertools.pairwise(values))


def test_chi_square_fit_of_counts_against_shares() -> None:
    # A worked example: 60/30/10 blocks against 0.5/0.3/0.2 shares of 100.
    fit = stats.chi_square_fit({"a": 60, "b": 30, "c": 10}, {"a": 5, "b": 3, "c": 2})
    assert fit is not None
    assert fit.expected == {"a": 50.0, "b": 30.0, "c": 20.0}
    assert fit.statistic == pytest.approx(100 / 50 + 0 + 100 / 20)
    assert fit.degrees_of_freedom == 2
    assert fit.p_value == pytest.approx(math.exp(-7 / 2))  # 2 df: e^(-x/2)
    # A pool with no block counts as zero; nothing to test with one pool or no blocks.
    assert stats.chi_square_fit({"a": 4}, {"a": 1, "b": 1}) is not None
    assert stats.chi_square_fit({"a": 4}, {"a": 1}) is None
    assert stats.chi_square_fit({}, {"a": 1, "b": 1}) is None
    with pytest.raises(ValueError):
        stats.chi_square_fit({"a": 1, "z": 1}, {"a": 1, "b": 1})


# Kolmogorov distribution: P(K > λ) for the classic critical values (Smirnov's table).
KOLMOGOROV_TABLE = [(1.224, 0.10), (1.358, 0.05), (1.480, 0.025), (1.628, 0.01), (1.949, 0.001)]


@pytest.mark.parametrize(("statistic", "upper"), KOLMOGOROV_TABLE)
def test_kolmogorov_survival_matches_the_table(statistic: float, upper: float) -> None:
    assert stats.kolmogorov_sf(statistic) == pytest.approx(upper, rel=1e-2)


def test_ks_test_accepts_its_distribution_and_rejects_another() -> None:
    rng = random.Random(5)
    waits = [rng.expovariate(1 / 120) for _ in range(500)]
    right = stats.ks_test(waits, stats.exponential_cdf(120))
    wrong = stats.ks_test(waits, stats.exponential_cdf(60))
    assert right is not None and wrong is not None
    assert right.p_value > 0.01 and wrong.p_value < 1e-6
    assert stats.ks_test([], stats.exponential_cdf(1)) is None


def test_ks_statistic_of_a_small_sample_by_hand() -> None:
    # Uniform(0, 1) CDF; sample 0.1, 0.4, 0.7: D = max(i/n - F, F - (i-1)/n) = max(1/3-0.1, 2/3-0.4, 1-0.7, ...).
    result = stats.ks_test([0.7, 0.1, 0.4], lambda x: min(1.0, max(0.0, x)))
    assert result is not None
    assert result.statistic == pytest.approx(0.3)
    assert result.samples == 3


def test_quantiles_interpolate_like_numpy() -> None:
    assert stats.quantile([], 0.5) is None
    assert stats.quantile([3, 1, 2], 0.5) == 2
    assert stats.quantile([1, 2, 3, 4], 0.5) == 2.5
    assert stats.quantile(list(range(11)), 0.9) == pytest.approx(9.0)
    assert stats.quantile([5], 0.9) == 5
