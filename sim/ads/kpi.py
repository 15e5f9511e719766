"""Channel ground-truth rates and campaign KPI arithmetic.

The rates are assumptions (parameters of the study, not findings), chosen from commonly quoted
industry ranges:
- CTR: display 0.10% (the usual banner benchmark), native 0.20%, video 0.40% (the seed's
  ordering: video above display), CTV 0.20% (few clickable surfaces), mobile 0.50% (rewarded
  in-app units are interacted with more).
- Conversion per click: 0.5%-2%, lowest on CTV where a click is rarely the path to purchase.
- Viewability (MRC): display 55% (industry display averages sit around 55-70%), native 65%,
  video 70%, mobile 75%, CTV 90% (full-screen, lean-back).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from types import MappingProxyType

from models.ads import Channel, KpiType

CHANNELS: tuple[Channel, ...] = ("display", "native", "video", "ctv", "mobile")
KPIS: tuple[KpiType, ...] = ("impressions", "clicks", "conversions", "viewability")


@dataclass(frozen=True)
class ChannelRates:
    ctr: float  # clicks per impression
    cvr: float  # conversions per click
    viewability: float  # viewable impressions per impression


CHANNEL_RATES: Mapping[Channel, ChannelRates] = MappingProxyType(
    {
        "display": ChannelRates(ctr=0.0010, cvr=0.020, viewability=0.55),
        "native": ChannelRates(ctr=0.0020, cvr=0.015, viewability=0.65),
        "video": ChannelRates(ctr=0.0040, cvr=0.010, viewability=0.70),
        "ctv": ChannelRates(ctr=0.0020, cvr=0.005, viewability=0.90),
        "mobile": ChannelRates(ctr=0.0050, cvr=0.015, viewability=0.75),
    }
)


def per_impression(kpi: KpiType, channel: Channel) -> float:
    """Expected KPI units one impression yields on a channel."""
    rates = CHANNEL_RATES[channel]
    if kpi == "impressions":
        return 1.0
    if kpi == "clicks":
        return rates.ctr
    if kpi == "conversions":
        return rates.ctr * rates.cvr
    return rates.viewability


def blended_rate(kpi: KpiType, channels: Iterable[Channel]) -> float:
    """KPI units per impression for a campaign spread evenly over its channels."""
    rates = [per_impression(kpi, channel) for channel in channels]
    if not rates:
        raise ValueError("a campaign needs at least one channel")
    return sum(rates) / len(rates)


def kpi_value(kpi: KpiType, impressions: int, clicks: int, conversions: int, viewable: int) -> int:
    """The delivered amount of the campaign's KPI (viewability counts viewable impressions)."""
    return {"impressions": impressions, "clicks": clicks, "conversions": conversions, "viewability": viewable}[kpi]


def attainment(value: int | float, target: int | float) -> float:
    """value / target, capped at 1.0 so over-delivery on one campaign cannot mask another's
    shortfall when attainments are averaged. A target of 0 or less counts as met (1.0)."""
    if target <= 0:
        return 1.0
    return min(1.0, max(0.0, value / target))
