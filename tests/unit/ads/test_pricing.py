"""Tier and volume discounts, floors, and the tier negotiation limits (IAB seller agent)."""

from __future__ import annotations

import pytest

from sim.ads.pricing import GLOBAL_FLOOR_CPM, NEGOTIATION_LIMITS, TIERS, list_price, tier_discount, volume_discount
from tests.unit.ads.helpers import product, usd


@pytest.mark.parametrize(
    ("tier", "discount"), [("PUBLIC", 0.0), ("SEAT", 0.05), ("AGENCY", 0.10), ("ADVERTISER", 0.15)]
)
def test_tier_discounts(tier, discount):
    assert tier_discount(tier) == discount


@pytest.mark.parametrize(
    ("impressions", "discount"),
    [
        (0, 0.0),
        (4_999_999, 0.0),
        (5_000_000, 0.05),
        (9_999_999, 0.05),
        (10_000_000, 0.10),
        (20_000_000, 0.15),
        (49_999_999, 0.15),
        (50_000_000, 0.20),
        (10**9, 0.20),
    ],
)
def test_volume_discount_thresholds(impressions, discount):
    assert volume_discount(impressions) == discount


def test_list_price_applies_tier_then_volume_multiplicatively():
    p = product(base=20.0, floor=5.0)
    assert list_price(p, "PUBLIC", 0) == usd(20.0)
    assert list_price(p, "AGENCY", 0) == usd(18.0)
    assert list_price(p, "ADVERTISER", 10_000_000) == usd(20.0 * 0.85 * 0.90)


def test_list_price_never_below_the_product_floor_or_the_global_floor():
    assert list_price(product(base=25.0, floor=18.0), "ADVERTISER", 50_000_000) == usd(18.0)  # 25 x .85 x .8 = 17
    assert list_price(product(base=1.1, floor=0.5), "ADVERTISER", 50_000_000) == GLOBAL_FLOOR_CPM


def test_negotiation_limits_match_the_iab_table():
    table = {t: (lim.max_rounds, lim.per_round, lim.total, lim.buyer_share) for t, lim in NEGOTIATION_LIMITS.items()}
    assert table == {
        "PUBLIC": (3, 0.03, 0.08, 0.30),
        "SEAT": (4, 0.04, 0.12, 0.40),
        "AGENCY": (5, 0.05, 0.15, 0.50),
        "ADVERTISER": (6, 0.06, 0.20, 0.65),
    }
    assert tuple(NEGOTIATION_LIMITS) == TIERS
