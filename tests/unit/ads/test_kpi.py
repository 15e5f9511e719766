"""KPI arithmetic and the channel rate table."""

from __future__ import annotations

import pytest

from sim.ads.kpi import CHANNEL_RATES, CHANNELS, attainment, blended_rate, kpi_value, per_impression


def test_rate_table_is_complete_and_plausible():
    assert set(CHANNEL_RATES) == set(CHANNELS)
    for rates in CHANNEL_RATES.values():
        assert 0.0005 <= rates.ctr <= 0.01
        assert 0.001 <= rates.cvr <= 0.05
        assert 0.5 <= rates.viewability <= 0.95
    assert CHANNEL_RATES["video"].ctr > CHANNEL_RATES["display"].ctr
    assert CHANNEL_RATES["ctv"].viewability == max(r.viewability for r in CHANNEL_RATES.values())


def test_per_impression_and_blended_rates():
    assert per_impression("impressions", "ctv") == 1.0
    assert per_impression("clicks", "display") == 0.001
    assert per_impression("conversions", "display") == pytest.approx(0.001 * 0.02)
    assert per_impression("viewability", "ctv") == 0.9
    assert blended_rate("clicks", ("display", "video")) == pytest.approx(0.0025)
    with pytest.raises(ValueError):
        blended_rate("clicks", ())


def test_kpi_value_picks_the_kpi():
    args = (1000, 10, 2, 600)
    assert [kpi_value(k, *args) for k in ("impressions", "clicks", "conversions", "viewability")] == [1000, 10, 2, 600]


def test_attainment_is_capped_at_one():
    assert attainment(50, 200) == 0.25
    assert attainment(300, 200) == 1.0
    assert attainment(0, 200) == 0.0
    assert attainment(5, 0) == 1.0
