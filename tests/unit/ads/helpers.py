"""Small builders for the ads rule tests."""

from __future__ import annotations

from models.ads import MICROS, Campaign, Channel, DealType, KpiType, Product


def usd(amount: float) -> int:
    return round(amount * MICROS)


def product(
    *,
    base: float = 15.0,
    floor: float = 10.0,
    channel: Channel = "display",
    avails: int = 5_000_000,
    segments: tuple[str, ...] = ("sports_enthusiasts",),
    deal_types: tuple[DealType, ...] = ("PD", "PA"),
    id: str = "seller-01-p1",
) -> Product:
    return Product(
        id=id,
        seller_id=id.rsplit("-", 1)[0],
        name="test",
        channel=channel,
        base_cpm=usd(base),
        floor_cpm=usd(floor),
        daily_avails=avails,
        segments=segments,
        deal_types=deal_types,
    )


def campaign(
    *,
    target: float = 12.0,
    max_cpm: float | None = None,
    kpi: KpiType = "impressions",
    channels: tuple[Channel, ...] = ("display",),
    segments: tuple[str, ...] = ("sports_enthusiasts",),
    budget: float = 50_000,
    impressions: int = 1_000_000,
    start_day: int = 1,
    end_day: int = 30,
) -> Campaign:
    target_cpm = usd(target)
    return Campaign(
        id="buyer-01-c01",
        buyer_id="buyer-01",
        name="test",
        budget=usd(budget),
        daily_budget=usd(budget) // (end_day - start_day + 1),
        kpi=kpi,
        kpi_target=impressions,
        target_impressions=impressions,
        target_cpm=target_cpm,
        max_cpm=usd(max_cpm) if max_cpm is not None else round(target_cpm * 1.2),
        channels=channels,
        segments=segments,
        start_day=start_day,
        end_day=end_day,
    )
