"""The self-healing rules: the circuit breaker (when it opens, backs off, probes, closes) and ML0 health."""

from __future__ import annotations

from sim.otto.breaker import MAX_BACKOFF_MS, Breaker, BreakerState, backoff_ms
from sim.otto.chain_health import ChainHealth


def test_backoff_is_the_seeds_doubling_capped_at_a_minute() -> None:
    assert [backoff_ms(n) for n in range(8)] == [1000, 2000, 4000, 8000, 16000, 32000, 60000, 60000]
    assert backoff_ms(10_000) == MAX_BACKOFF_MS


def test_opens_after_threshold_consecutive_failures_and_a_success_resets_the_count() -> None:
    breaker = Breaker(threshold=3).failed(0).failed(1)
    assert breaker.state is BreakerState.CLOSED and breaker.failures == 2
    assert breaker.succeeded().failed(2).failures == 1  # not consecutive any more
    opened = breaker.failed(2)
    assert opened.state is BreakerState.OPEN and opened.opened_at_ms == 2 and opened.openings == 1
    assert opened.backoff == backoff_ms(3) == 8000


def test_an_open_breaker_lets_one_probe_through_after_its_backoff() -> None:
    opened = Breaker(threshold=1).failed(10_000)
    assert opened.retry_at_ms() == 10_000 + backoff_ms(1)
    assert not opened.allows(10_000 + backoff_ms(1) - 1)
    assert opened.probing(10_000) is opened  # too early: still open
    probe = opened.probing(10_000 + backoff_ms(1))
    assert probe.state is BreakerState.HALF_OPEN and probe.allows(0)


def test_a_failed_probe_reopens_with_a_longer_backoff_and_a_good_one_closes() -> None:
    opened = Breaker(threshold=1).failed(0)
    reopened = opened.probing(backoff_ms(1)).failed(backoff_ms(1))
    assert reopened.state is BreakerState.OPEN and reopened.openings == 2
    assert reopened.backoff == 2 * opened.backoff
    closed = reopened.probing(reopened.retry_at_ms() or 0).succeeded()
    assert closed.state is BreakerState.CLOSED and closed.failures == 0 and closed.backoff == 0


def test_chain_health_stalls_when_the_ordinal_stops_and_recovers_when_it_moves() -> None:
    health = ChainHealth(stall_after_ms=5_000)
    assert health.producing(0) and health.lag_ms(0) is None
    health = health.observed(7, now_ms=1_000).observed(7, now_ms=4_000)  # no advance: the clock keeps running
    assert health.lag_ms(4_000) == 3_000 and health.producing(6_000)
    assert not health.producing(6_001)
    health = health.observed(6, now_ms=7_000)  # an older snapshot from a lagging node is no progress
    assert not health.producing(7_000)
    health = health.observed(8, now_ms=8_000)
    assert health.producing(8_000) and health.lag_ms(8_500) == 500
