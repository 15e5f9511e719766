"""Hallucination injection and detection.

Injection follows the seed's plan (Gap 5), one distortion per claim type:
- inventory: avails inflated x U(1.1, 1.5)
- price: CPM deflated x U(0.7, 0.9) (makes a deal look better than it is)
- history: past deals fabricated, actual + an integer in 1..5
- delivery: reported impressions inflated x U(1.1, 1.5)
Only injected fabrications count as hallucinations: API errors or rounding are never counted.

Graded sizes (``graded=True``, studies since the "ads-graded-fabrications" version): a fabrication of
those ranges is never less than 10% off, so with honest counts 1% off and a 5% tolerance detection was
perfect by construction. Graded fabrications are off by a relative size d = low + (high - low) x u^2
(u uniform), so small ones are common: about a third of them fall under a 5% tolerance
(docs/ads-calibration.md, "Fabrications and honest noise").
"""

from __future__ import annotations

import math
import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import Literal

from models.ads import ClaimType

Severity = Literal["none", "minor", "major"]

# Multiplicative distortion ranges (low, high) per claim type; history is additive.
MULTIPLIERS: Mapping[ClaimType, tuple[float, float]] = MappingProxyType(
    {"inventory": (1.1, 1.5), "price": (0.7, 0.9), "delivery": (1.1, 1.5)}
)
HISTORY_EXTRA: tuple[int, int] = (1, 5)  # fabricated past deals added to the true count
# Graded: relative size (low, high) of the distortion; price deflates by it, inventory and delivery inflate.
GRADED: Mapping[ClaimType, tuple[float, float]] = MappingProxyType(
    {"inventory": (0.01, 0.5), "price": (0.01, 0.3), "delivery": (0.01, 0.5)}
)


def inject(
    claim_type: ClaimType, actual: int, rng: random.Random, rate: float, *, graded: bool = False
) -> tuple[int, bool]:
    """(claimed value, injected?). Injects with probability ``rate``.

    Always makes exactly two ``rng.random()`` draws (whether to inject, how much), so the
    stream stays aligned across runs that differ only in the rate. The history offset is
    derived from ``random()`` rather than ``randint`` because randint's rejection sampling
    consumes a variable amount of the stream.
    """
    trigger = rng.random()
    u = rng.random()
    if claim_type == "history":
        low, high = HISTORY_EXTRA
        fabricated = actual + low + int(u * (high - low + 1))
    elif graded:
        low_g, high_g = GRADED[claim_type]
        size = low_g + (high_g - low_g) * u * u
        fabricated = round(actual * (1 - size if claim_type == "price" else 1 + size))
    else:
        low_f, high_f = MULTIPLIERS[claim_type]
        fabricated = round(actual * (low_f + (high_f - low_f) * u))
    if trigger < rate:
        return fabricated, True
    return actual, False


@dataclass(frozen=True)
class Detection:
    flagged: bool
    relative_error: float
    severity: Severity


def relative_error(claimed: int, actual: int) -> float:
    """|claimed - actual| / max(actual, 1): a claim about nothing is measured against 1."""
    return abs(claimed - actual) / max(actual, 1)


def detect(claimed: int, actual: int, tolerance: float, major: float) -> Detection:
    """Flag a claim whose relative error exceeds ``tolerance``; major from ``major`` upwards."""
    error = relative_error(claimed, actual)
    if error <= tolerance:
        return Detection(flagged=False, relative_error=error, severity="none")
    return Detection(flagged=True, relative_error=error, severity="major" if error >= major else "minor")


def wilson(successes: int, trials: int, z: float = 1.96) -> tuple[float, float] | None:
    """The Wilson score interval of a proportion (95% by default); None without trials."""
    if trials <= 0:
        return None
    p = successes / trials
    denominator = 1 + z * z / trials
    centre = (p + z * z / (2 * trials)) / denominator
    half = z * math.sqrt(p * (1 - p) / trials + z * z / (4 * trials * trials)) / denominator
    return max(0.0, centre - half), min(1.0, centre + half)


def precision_recall(flagged: Sequence[bool], injected: Sequence[bool]) -> tuple[float, float]:
    """(precision, recall) of flags against the injected set.

    Precision is 1.0 when nothing was flagged (no false alarms were raised) and recall is 1.0
    when nothing was injected (nothing was missed): a zero denominator means a perfect score,
    so clean runs are not reported as failures.
    """
    if len(flagged) != len(injected):
        raise ValueError(f"{len(flagged)} flags for {len(injected)} claims")
    true_positives = sum(1 for f, i in zip(flagged, injected, strict=True) if f and i)
    n_flagged = sum(1 for f in flagged if f)
    n_injected = sum(1 for i in injected if i)
    precision = true_positives / n_flagged if n_flagged else 1.0
    recall = true_positives / n_injected if n_injected else 1.0
    return precision, recall
