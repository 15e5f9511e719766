"""A campaign's slice of the world, derived from the seed instead of passed along.

The world is a pure function of the seed and the sizes, so a workflow may regenerate it as often as it
likes and draw the same one. Children of a study receive only the sizes and a campaign's index: their
inputs (and the experiment's first task, which starts many of them) stay the same size however large the
world is. The generated world is memoised per process, so thousands of children cost one generation.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from models.ads import Buyer, Campaign, Product, World, WorldSize
from sim.ads.data import generate_world
from sim.ads.negotiation import matches


@dataclass(frozen=True)
class CampaignSlice:
    campaign: Campaign
    buyer: Buyer
    products: tuple[Product, ...]


@dataclass(frozen=True)
class _Indexed:
    world: World
    buyers: dict[str, Buyer]
    products: tuple[Product, ...]


@lru_cache(maxsize=4)
def _indexed(seed: int, size: WorldSize, days: int) -> _Indexed:
    world = generate_world(
        seed, buyers=size.buyers, sellers=size.sellers, campaigns_per_buyer=size.campaigns_per_buyer, days=days
    )
    return _Indexed(world=world, buyers={b.id: b for b in world.buyers}, products=tuple(world.products()))


def world_of(seed: int, size: WorldSize, days: int) -> World:
    """The world ``generate_world`` draws for these inputs (the same object on every call in a process)."""
    return _indexed(seed, size, days).world


def campaign_slice(seed: int, size: WorldSize, days: int, index: int) -> CampaignSlice:
    """Campaign ``index`` of the world, its buyer, and the products its channels and segments can use."""
    indexed = _indexed(seed, size, days)
    campaign = indexed.world.campaigns[index]
    usable = tuple(product for product in indexed.products if matches(campaign, product))
    return CampaignSlice(campaign=campaign, buyer=indexed.buyers[campaign.buyer_id], products=usable)
