"""Inventory truth by day: what each product really offers, and how much of a booking it fills, on each day.

The seed's ground-truth table ``inventory_reality`` holds actual avails and an actual fill rate per
publisher, channel and date: inventory is not one constant. A product's typical daily avails come from the
world (``Product.daily_avails``, the seed's 1M-10M); each day's truth varies around it. Both draws come from
a stream named by (seed, product, day) alone, so every campaign and every scenario meets the same day's
inventory, and a replay or a rerun re-derives it exactly.

This is ground truth: the world (delivery, the exchange) and the report read it, agents never do; a
seller's quote of its avails is a claim about it, with noise or fabrication (``sim.ads.campaign.observe``).
"""

from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass

from models.ads import AdsParams, Product


@dataclass(frozen=True)
class InventoryDay:
    avails: int  # impressions the product really has on the day
    fill_rate: float  # share of a non-guaranteed booking it really serves on the day


def inventory_stream(seed: int, product_id: str, day: int) -> random.Random:
    """The random stream of one product's day; named apart from the campaign streams ("inventory/")."""
    digest = hashlib.sha256(f"{seed}/inventory/{product_id}/{day}".encode()).digest()
    return random.Random(int.from_bytes(digest[:8], "big"))


def true_inventory(seed: int, product: Product, day: int, params: AdsParams) -> InventoryDay:
    """The product's avails and fill rate on ``day``: typical avails x U(1 - v, 1 + v), fill U(low, high).

    Two draws, always in this order, whatever the parameters.
    """
    rng = inventory_stream(seed, product.id, day)
    v = params.avails_daily_variation
    factor = rng.uniform(1 - v, 1 + v)
    fill_rate = rng.uniform(params.fill_rate_low, params.fill_rate_high)
    return InventoryDay(avails=max(0, round(product.daily_avails * factor)), fill_rate=fill_rate)
