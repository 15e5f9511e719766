"""List prices and negotiation limits, after the IAB seller agent's pricing rules (v2.4.x).

The seller agent discounts its base CPM by the buyer's identity tier, then by the volume of the
buy (multiplicatively, tier first), and never quotes below the global floor. We also never quote
below the product's own floor: the negotiation rules treat the list price as "accept at once",
so a list price under the floor would let the seller accept what it must counter.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

from models.ads import MICROS, Product, Tier

TIERS: tuple[Tier, ...] = ("PUBLIC", "SEAT", "AGENCY", "ADVERTISER")

# IAB seller agent: revealing more identity unlocks a bigger discount off the base CPM.
TIER_DISCOUNT: Mapping[Tier, float] = MappingProxyType(
    {"PUBLIC": 0.0, "SEAT": 0.05, "AGENCY": 0.10, "ADVERTISER": 0.15}
)

# IAB seller agent's default volume tiers: (minimum impressions, discount), largest first.
VOLUME_DISCOUNTS: tuple[tuple[int, float], ...] = (
    (50_000_000, 0.20),
    (20_000_000, 0.15),
    (10_000_000, 0.10),
    (5_000_000, 0.05),
)

GLOBAL_FLOOR_CPM = 1 * MICROS  # IAB seller agent's global_floor_cpm ($1)


@dataclass(frozen=True)
class NegotiationLimits:
    """One tier's negotiation strategy. Concession caps are shares of the tier's list price."""

    max_rounds: int
    per_round: float  # most the seller's ask may drop in one round
    total: float  # most the ask may drop over the whole negotiation
    buyer_share: float  # share of the (ask - bid) gap the seller gives up per round


# IAB seller agent STRATEGY_LIMITS (PUBLIC aggressive ... ADVERTISER premium).
NEGOTIATION_LIMITS: Mapping[Tier, NegotiationLimits] = MappingProxyType(
    {
        "PUBLIC": NegotiationLimits(max_rounds=3, per_round=0.03, total=0.08, buyer_share=0.30),
        "SEAT": NegotiationLimits(max_rounds=4, per_round=0.04, total=0.12, buyer_share=0.40),
        "AGENCY": NegotiationLimits(max_rounds=5, per_round=0.05, total=0.15, buyer_share=0.50),
        "ADVERTISER": NegotiationLimits(max_rounds=6, per_round=0.06, total=0.20, buyer_share=0.65),
    }
)


def tier_discount(tier: Tier) -> float:
    return TIER_DISCOUNT[tier]


def volume_discount(impressions: int) -> float:
    for minimum, discount in VOLUME_DISCOUNTS:
        if impressions >= minimum:
            return discount
    return 0.0


def effective_floor(product: Product) -> int:
    """The lowest CPM the seller ever takes: its product floor, never under the global floor."""
    return max(product.floor_cpm, GLOBAL_FLOOR_CPM)


def list_price(product: Product, tier: Tier, impressions: int = 0) -> int:
    """The seller's quoted CPM for this buyer tier and buy volume (micros)."""
    price = round(product.base_cpm * (1 - tier_discount(tier)) * (1 - volume_discount(impressions)))
    return max(price, effective_floor(product))
