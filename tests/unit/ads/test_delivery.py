"""Ground-truth delivery: fill, avails cap, PG guarantee, plausible rates."""

from __future__ import annotations

import random
import statistics

import pytest

from models.ads import Deal
from sim.ads.delivery import binomial, deliver
from sim.ads.kpi import CHANNEL_RATES
from tests.unit.ads.helpers import campaign, product


def deal(deal_type="PD", daily=1_000_000, start=1, end=30) -> Deal:
    return Deal(
        id="d1",
        scenario="B",
        campaign_id="buyer-01-c01",
        buyer_id="buyer-01",
        seller_id="seller-01",
        product_id="seller-01-p1",
        deal_type=deal_type,
        cpm=12_000_000,
        daily_impressions=daily,
        start_day=start,
        end_day=end,
        rounds=2,
        created_day=1,
    )


def test_delivery_never_exceeds_avails_and_pg_fills_fully():
    rng = random.Random(1)
    small = product(avails=800_000)  # less than the 1M booked a day
    assert all(deliver(deal("PG"), small, campaign(), d, rng)[0] == 800_000 for d in range(1, 31))
    assert all(deliver(deal("PD"), small, campaign(), d, rng)[0] <= 800_000 for d in range(1, 31))
    big = product(avails=5_000_000)
    assert all(deliver(deal("PG"), big, campaign(), d, rng)[0] == 1_000_000 for d in range(1, 31))


def test_non_guaranteed_fill_is_between_85_and_100_percent():
    rng = random.Random(2)
    fills = [deliver(deal("PD"), product(), campaign(), d % 30 + 1, rng)[0] / 1_000_000 for d in range(3000)]
    assert all(0.85 <= f <= 1.0 for f in fills)
    assert statistics.mean(fills) == pytest.approx(0.925, abs=0.005)


@pytest.mark.parametrize("channel", ["display", "video", "ctv", "mobile", "native"])
def test_rates_are_plausible_on_average(channel):
    rng = random.Random(3)
    p = product(channel=channel)
    rows = [deliver(deal("PG", daily=200_000), p, campaign(channels=(channel,)), 5, rng) for _ in range(300)]
    impressions = sum(r[0] for r in rows)
    clicks, conversions, viewable = (sum(r[i] for r in rows) for i in (1, 2, 3))
    rates = CHANNEL_RATES[channel]
    assert clicks / impressions == pytest.approx(rates.ctr, rel=0.03)
    assert conversions / clicks == pytest.approx(rates.cvr, rel=0.15)
    assert viewable / impressions == pytest.approx(rates.viewability, rel=0.01)
    for imps, cl, conv, view in rows:
        assert 0 <= conv <= cl <= imps and 0 <= view <= imps


def test_no_delivery_outside_the_flight():
    rng = random.Random(4)
    assert deliver(deal(start=5, end=10), product(), campaign(), 4, rng) == (0, 0, 0, 0)
    assert deliver(deal(start=5, end=10), product(), campaign(), 11, rng) == (0, 0, 0, 0)
    assert deliver(deal(), product(), campaign(start_day=3), 2, rng) == (0, 0, 0, 0)


def test_delivery_is_deterministic():
    a = [deliver(deal(), product(), campaign(), d, random.Random(d)) for d in range(1, 31)]
    b = [deliver(deal(), product(), campaign(), d, random.Random(d)) for d in range(1, 31)]
    assert a == b


@pytest.mark.parametrize(("n", "p"), [(10, 0.3), (40, 0.02), (5_000, 0.001), (100_000, 0.004), (1_000, 0.9)])
def test_binomial_mean_and_bounds(n, p):
    rng = random.Random(5)
    draws = [binomial(rng, n, p) for _ in range(4000)]
    assert all(0 <= d <= n for d in draws)
    sd = (n * p * (1 - p)) ** 0.5
    assert abs(statistics.mean(draws) - n * p) < 5 * sd / 4000**0.5
    assert binomial(rng, 0, 0.5) == 0 and binomial(rng, 7, 0.0) == 0 and binomial(rng, 7, 1.0) == 7
