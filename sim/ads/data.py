"""The study's world from a seed: sellers and their catalogues, buyers and their campaigns.

Calibrated to adtech.md: seller catalogues start from the IAB seller agent's default products
(base / floor USD CPM), buyers spread over the IAB identity tiers, campaigns follow the seed's
Gap 15 (budgets 10k-100k USD, 1-3 channels, 1-2 audience segments).
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

from models.ads import MICROS, Buyer, Campaign, Channel, DealType, Product, Seller, World
from sim.ads.kpi import CHANNELS, KPIS, blended_rate
from sim.ads.pricing import TIERS

CENT = MICROS // 100


@dataclass(frozen=True)
class ProductTemplate:
    name: str
    channel: Channel
    base_usd: float
    floor_usd: float
    pg_only: bool = False


# The IAB seller agent's default catalogue (base / floor USD CPM); CTV is sold PG only.
CATALOGUE: tuple[ProductTemplate, ...] = (
    ProductTemplate("Homepage display", "display", 15.0, 10.0),
    ProductTemplate("Run-of-site display", "display", 8.0, 5.0),
    ProductTemplate("Pre-roll video", "video", 25.0, 18.0),
    ProductTemplate("CTV premium", "ctv", 35.0, 28.0, pg_only=True),
    ProductTemplate("Mobile rewarded video", "mobile", 20.0, 15.0),
    ProductTemplate("Native in-feed", "native", 12.0, 8.0),
)

# Realistic CPM ranges (USD) per channel from adtech.md: display $2-6 up to premium homepage
# $10-15, native $4-12, online video $10-25, CTV $20-40. Mobile is not in the reference
# (assumption: rewarded in-app video $10-25, around the IAB default 20/15).
CPM_RANGE_USD: Mapping[Channel, tuple[float, float]] = MappingProxyType(
    {"display": (2.0, 15.0), "native": (4.0, 12.0), "video": (10.0, 25.0), "ctv": (20.0, 40.0), "mobile": (10.0, 25.0)}
)

# Audience segments, from the seed's Gap 15.
SEGMENTS: tuple[str, ...] = (
    "sports_enthusiasts",
    "tech_early_adopters",
    "luxury_shoppers",
    "auto_intenders",
    "travel_planners",
    "health_conscious",
)

SELLER_NAMES = (
    "Premium News Network",
    "Sports Media Group",
    "Entertainment Hub",
    "Tech Review Sites",
    "Lifestyle Network",
)
BUYER_NAMES = ("Northwind Brands", "Contoso Agency", "Globex Media", "Initech Direct", "Umbrella Advertising")

# Assumptions, each a knob of the generator:
STUDY_MONTH_DAYS = 30
PRICE_VARIATION = 0.15  # a seller's prices are the template's x U(0.85, 1.15), clamped to the channel range
PRODUCTS_PER_SELLER = (2, 4)
DAILY_AVAILS = (1_000_000, 10_000_000)
SEGMENTS_PER_PRODUCT = (2, 4)
PG_SHARE = 0.4  # share of non-CTV products that also sell PG (all sell PD and PA)
BUDGETS_USD = (10_000, 25_000, 50_000, 100_000)
LATEST_START_DAY = 3
CHANNELS_PER_CAMPAIGN = (1, 3)
SEGMENTS_PER_CAMPAIGN = (1, 2)
# target CPM ~ U(floor, base) of the campaign's anchor product: a deal is plausible
# (max CPM = 1.2 x target clears the floor) but not certain (the seller opens at list price).
TARGET_FROM_FLOOR = 1.0
MAX_CPM_MARKUP = 1.2


def _usd(amount: float) -> int:
    """USD to micros, rounded to the cent."""
    return round(amount * 100) * CENT


def _name(names: tuple[str, ...], i: int) -> str:
    base = names[i % len(names)]
    return base if i < len(names) else f"{base} {i // len(names) + 1}"


def _clamp(value: float, bounds: tuple[float, float]) -> float:
    return min(max(value, bounds[0]), bounds[1])


def _product(rng: random.Random, seller_id: str, index: int, template: ProductTemplate) -> Product:
    factor = rng.uniform(1 - PRICE_VARIATION, 1 + PRICE_VARIATION)
    bounds = CPM_RANGE_USD[template.channel]
    base = _clamp(template.base_usd * factor, bounds)
    floor = min(_clamp(template.floor_usd * factor, bounds), base)
    avails = rng.randint(*DAILY_AVAILS) // 1000 * 1000
    segments = tuple(sorted(rng.sample(SEGMENTS, rng.randint(*SEGMENTS_PER_PRODUCT))))
    with_pg = rng.random() < PG_SHARE
    deal_types: tuple[DealType, ...] = ("PG", "PD", "PA") if with_pg else ("PD", "PA")
    if template.pg_only:
        deal_types = ("PG",)
    return Product(
        id=f"{seller_id}-p{index}",
        seller_id=seller_id,
        name=template.name,
        channel=template.channel,
        base_cpm=_usd(base),
        floor_cpm=_usd(floor),
        daily_avails=avails,
        segments=segments,
        deal_types=deal_types,
    )


def _seller(rng: random.Random, index: int) -> Seller:
    seller_id = f"seller-{index + 1:02d}"
    count = rng.randint(*PRODUCTS_PER_SELLER)
    picks = sorted(rng.sample(range(len(CATALOGUE)), count))
    products = tuple(_product(rng, seller_id, n + 1, CATALOGUE[t]) for n, t in enumerate(picks))
    return Seller(id=seller_id, name=_name(SELLER_NAMES, index), products=products)


def _campaign(rng: random.Random, buyer: Buyer, index: int, products: list[Product], days: int) -> Campaign:
    # Anchor the campaign on one real product so at least one product matches by construction.
    anchor = rng.choice(products)
    others = [c for c in CHANNELS if c != anchor.channel]
    extra_channels = rng.sample(others, rng.randint(*CHANNELS_PER_CAMPAIGN) - 1)
    channels = tuple(c for c in CHANNELS if c == anchor.channel or c in extra_channels)
    first_segment = rng.choice(anchor.segments)
    extra_segments = rng.sample([s for s in SEGMENTS if s != first_segment], rng.randint(*SEGMENTS_PER_CAMPAIGN) - 1)
    segments = tuple(sorted((first_segment, *extra_segments)))

    monthly_budget = BUDGETS_USD[rng.randrange(len(BUDGETS_USD))]
    start_day = rng.randint(1, min(LATEST_START_DAY, days))
    flight_days = days - start_day + 1
    # The budget grid is for a 30-day month: a shorter flight gets its share, so a campaign's daily
    # spend (and the inventory it needs) is the same whatever the study's length.
    budget = _usd(monthly_budget * flight_days / STUDY_MONTH_DAYS)
    low = anchor.floor_cpm * TARGET_FROM_FLOOR / MICROS
    high = anchor.base_cpm / MICROS
    # Clamping to the channel's range must not push the target under the anchor's own floor, or the
    # campaign could never buy the product it was built around.
    target_cpm = max(_usd(_clamp(rng.uniform(low, high), CPM_RANGE_USD[anchor.channel])), anchor.floor_cpm)
    target_impressions = budget * 1000 // target_cpm
    kpi = KPIS[rng.randrange(len(KPIS))]
    kpi_target = max(1, round(target_impressions * blended_rate(kpi, channels)))
    return Campaign(
        id=f"{buyer.id}-c{index + 1:02d}",
        buyer_id=buyer.id,
        name=f"{buyer.name} campaign {index + 1}",
        budget=budget,
        daily_budget=budget // flight_days,
        kpi=kpi,
        kpi_target=kpi_target,
        target_impressions=target_impressions,
        target_cpm=target_cpm,
        max_cpm=round(target_cpm * MAX_CPM_MARKUP),
        channels=channels,
        segments=segments,
        start_day=start_day,
        end_day=days,
    )


def generate_world(
    seed: int, *, buyers: int = 5, sellers: int = 5, campaigns_per_buyer: int = 10, days: int = 30
) -> World:
    """Everything the study starts from, a pure function of ``seed`` and the sizes."""
    if days < 1:
        raise ValueError("a study lasts at least one day")
    if buyers < 0 or sellers < 0 or campaigns_per_buyer < 0:
        raise ValueError("sizes cannot be negative")
    if sellers == 0 and buyers * campaigns_per_buyer > 0:
        raise ValueError("campaigns need at least one seller to match")
    rng = random.Random(seed)
    seller_list = tuple(_seller(rng, i) for i in range(sellers))
    # Tiers spread evenly (round robin), then shuffled, so every tier appears once there are 4 buyers.
    tiers = [TIERS[i % len(TIERS)] for i in range(buyers)]
    rng.shuffle(tiers)
    buyer_list = tuple(
        Buyer(id=f"buyer-{i + 1:02d}", name=_name(BUYER_NAMES, i), tier=tier) for i, tier in enumerate(tiers)
    )
    products = [p for s in seller_list for p in s.products]
    campaigns = tuple(
        _campaign(rng, buyer, j, products, days) for buyer in buyer_list for j in range(campaigns_per_buyer)
    )
    return World(seed=seed, days=days, sellers=seller_list, buyers=buyer_list, campaigns=campaigns)
