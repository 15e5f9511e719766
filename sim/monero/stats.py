"""Goodness-of-fit statistics for the monero report: chi-square on blocks per pool, Kolmogorov-Smirnov on block
intervals. Pure Python (math only), so the report needs no numerical library and the rules are unit-tested
against published table values.

The chi-square p-value is the survival function of the chi-square distribution, which is the regularized upper
incomplete gamma function Q(k/2, x/2): a power series below a + 1, a continued fraction above it (the series
converges slowly for large x, the fraction for small x). The Kolmogorov-Smirnov p-value is the asymptotic
Kolmogorov distribution with Stephens' small-sample correction of the statistic.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

_EPSILON = 1e-15
_TINY = 1e-300
_MAX_ITERATIONS = 10_000


def regularized_gamma_q(a: float, x: float) -> float:
    """Q(a, x) = Γ(a, x) / Γ(a), for a > 0 and x >= 0."""
    if a <= 0:
        raise ValueError(f"a must be positive, got {a}")
    if x < 0:
        raise ValueError(f"x must not be negative, got {x}")
    if x == 0:
        return 1.0
    if x < a + 1:
        return max(0.0, 1.0 - _lower_series(a, x))
    return _upper_fraction(a, x)


def _prefactor(a: float, x: float) -> float:
    # x^a e^-x / Γ(a), in logs: the terms overflow separately long before their quotient does.
    return math.exp(a * math.log(x) - x - math.lgamma(a))


def _lower_series(a: float, x: float) -> float:
    """P(a, x) by its power series: e^-x x^a / Γ(a) · Σ x^n / (a (a+1) … (a+n))."""
    term = 1.0 / a
    total = term
    denominator = a
    for _ in range(_MAX_ITERATIONS):
        denominator += 1
        term *= x / denominator
        total += term
        if abs(term) < abs(total) * _EPSILON:
            return total * _prefactor(a, x)
    raise ArithmeticError(f"the gamma series did not converge for a={a}, x={x}")


def _upper_fraction(a: float, x: float) -> float:
    """Q(a, x) by its continued fraction, evaluated with the modified Lentz method."""
    b = x + 1 - a
    c = 1 / _TINY
    d = 1 / b
    fraction = d
    for n in range(1, _MAX_ITERATIONS):
        an = -n * (n - a)
        b += 2
        d = an * d + b
        d = _TINY if abs(d) < _TINY else d
        c = b + an / c
        c = _TINY if abs(c) < _TINY else c
        d = 1 / d
        step = d * c
        fraction *= step
        if abs(step - 1) < _EPSILON:
            return fraction * _prefactor(a, x)
    raise ArithmeticError(f"the gamma continued fraction did not converge for a={a}, x={x}")


def chi_square_sf(statistic: float, degrees_of_freedom: int) -> float:
    """P(X >= statistic) for X chi-square distributed with the given degrees of freedom."""
    if degrees_of_freedom < 1:
        raise ValueError(f"degrees of freedom must be at least 1, got {degrees_of_freedom}")
    return regularized_gamma_q(degrees_of_freedom / 2, max(0.0, statistic) / 2)


@dataclass(frozen=True)
class ChiSquare:
    statistic: float
    degrees_of_freedom: int
    p_value: float
    expected: dict[str, float]


def chi_square_fit(observed: Mapping[str, int], shares: Mapping[str, float]) -> ChiSquare | None:
    """Pearson's goodness-of-fit of counts per category against shares (normalised here); None when there is
    nothing to test (fewer than two categories or no observations)."""
    total_share = sum(shares.values())
    count = sum(observed.get(key, 0) for key in shares)
    if len(shares) < 2 or count == 0 or total_share <= 0:
        return None
    unknown = set(observed) - set(shares)
    if unknown:
        raise ValueError(f"counts for categories without a share: {sorted(unknown)}")
    expected = {key: count * share / total_share for key, share in sorted(shares.items())}
    statistic = sum((observed.get(key, 0) - e) ** 2 / e for key, e in expected.items())
    dof = len(shares) - 1
    return ChiSquare(
        statistic=statistic, degrees_of_freedom=dof, p_value=chi_square_sf(statistic, dof), expected=expected
    )


def kolmogorov_sf(statistic: float) -> float:
    """P(K > statistic) for the Kolmogorov distribution: 2 Σ_{j≥1} (-1)^(j-1) exp(-2 j² λ²)."""
    if statistic <= 0:
        return 1.0
    if statistic < 0.2:
        # The alternating series converges slowly here and the probability is 1 to double precision.
        return 1.0
    total = 0.0
    for j in range(1, 101):
        term = math.exp(-2 * j * j * statistic * statistic)
        total += term if j % 2 else -term
        if term < _EPSILON * total:
            break
    return min(1.0, max(0.0, 2 * total))


@dataclass(frozen=True)
class KolmogorovSmirnov:
    statistic: float
    samples: int
    p_value: float


def ks_test(samples: Sequence[float], cdf: Callable[[float], float]) -> KolmogorovSmirnov | None:
    """One-sample Kolmogorov-Smirnov test of ``samples`` against a fully specified continuous ``cdf`` (no
    parameter estimated from the samples); None for no samples."""
    n = len(samples)
    if n == 0:
        return None
    distance = 0.0
    for i, value in enumerate(sorted(samples)):
        f = cdf(value)
        distance = max(distance, (i + 1) / n - f, f - i / n)
    root = math.sqrt(n)
    return KolmogorovSmirnov(
        statistic=distance, samples=n, p_value=kolmogorov_sf((root + 0.12 + 0.11 / root) * distance)
    )


def exponential_cdf(mean: float) -> Callable[[float], float]:
    if mean <= 0:
        raise ValueError(f"the mean must be positive, got {mean}")
    return lambda x: 0.0 if x <= 0 else -math.expm1(-x / mean)


def quantile(values: Sequence[float], q: float) -> float | None:
    """The q-quantile by linear interpolation between order statistics (numpy's default); None when empty."""
    if not values:
        return None
    ordered = sorted(values)
    position = q * (len(ordered) - 1)
    low = math.floor(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)
