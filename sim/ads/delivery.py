"""Ground truth of one deal-day: what was really served, clicked, converted and viewable.

Agents never read this; their claims are compared with it.
"""

from __future__ import annotations

import math
import random

from models.ads import Campaign, Deal, Product
from sim.ads.kpi import CHANNEL_RATES

# Non-guaranteed deals fill U(0.85, 1.0) of the booked daily impressions (assumption: a PD
# deal has first look but the buyer's targeting and pacing leave some unfilled); PG is
# guaranteed volume, fill 1.0.
FILL_RANGE: tuple[float, float] = (0.85, 1.0)

_EXACT_BELOW = 64  # trials: sum Bernoulli draws exactly
_POISSON_BELOW = 30.0  # expected successes: Poisson approximation below, normal above


def binomial(rng: random.Random, n: int, p: float) -> int:
    """A seeded Binomial(n, p) draw in [0, n]: exact for small n, Poisson for rare events,
    normal approximation otherwise (Python 3.11 has no random.binomialvariate)."""
    if n <= 0 or p <= 0:
        return 0
    if p >= 1:
        return n
    if p > 0.5:
        return n - binomial(rng, n, 1 - p)
    if n < _EXACT_BELOW:
        return sum(1 for _ in range(n) if rng.random() < p)
    mean = n * p
    if mean < _POISSON_BELOW:
        # Knuth's multiplication method; the expected number of draws is mean + 1.
        limit, k, product = math.exp(-mean), 0, rng.random()
        while product > limit:
            k += 1
            product *= rng.random()
        return min(k, n)
    draw = round(rng.gauss(mean, math.sqrt(mean * (1 - p))))
    return min(max(draw, 0), n)


def deliver(
    deal: Deal,
    product: Product,
    campaign: Campaign,
    day: int,
    rng: random.Random,
    *,
    fill_rate: float | None = None,
) -> tuple[int, int, int, int]:
    """(impressions, clicks, conversions, viewable) served on ``day`` for this deal.

    Nothing is served outside the deal's flight or the campaign's. Impressions are the booked
    daily impressions x fill, capped by the product's daily avails (the seller cannot serve
    inventory it does not have, guaranteed or not). ``fill_rate`` is the product's fill that day
    (``sim.ads.inventory``); without it (studies before ``ads-world-fidelity``) each deal-day draws
    its own from FILL_RANGE.
    """
    if not (deal.start_day <= day <= deal.end_day and campaign.start_day <= day <= campaign.end_day):
        return 0, 0, 0, 0
    # Drawn for PG too, so PG and PD consume the stream alike; none drawn when the day's fill is given.
    fill = rng.uniform(*FILL_RANGE) if fill_rate is None else fill_rate
    if deal.deal_type == "PG":
        fill = 1.0
    impressions = min(int(deal.daily_impressions * fill), product.daily_avails)
    rates = CHANNEL_RATES[product.channel]
    clicks = binomial(rng, impressions, rates.ctr)
    conversions = binomial(rng, clicks, rates.cvr)
    viewable = binomial(rng, impressions, rates.viewability)
    return impressions, clicks, conversions, viewable
