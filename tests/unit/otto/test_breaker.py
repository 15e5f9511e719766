"""The circuit breaker's rules: when it opens, how long it backs off, how it probes and closes."""

from __future__ import annotations

from sim.otto.breaker import MAX_BACKOFF_MS, Breaker, BreakerState, backoff_ms


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
