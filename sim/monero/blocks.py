"""Who mines the next block, and when: the seed's block controller and monerosim's Poisson miners.

Controller mode (the seed): every ``block_time`` the controller picks one pool by weighted random choice on
the hashrate shares and has it mine. Poisson mode (monerosim's later design): each pool finds its next block
after an exponential wait with mean ``block_time / share``; the earliest wins. The network's block interval is
then exponential with mean ``block_time`` (the minimum of independent exponentials), and each pool wins in
proportion to its share, as proof of work does.
"""

from __future__ import annotations

import bisect
import itertools
import random
from collections.abc import Mapping
from dataclasses import dataclass


def choose_pool(shares: Mapping[str, float], rng: random.Random) -> str:
    """The controller's weighted choice; one ``rng.random()`` draw, pools in a fixed (sorted) order."""
    pools = sorted(shares)
    cumulative = list(itertools.accumulate(shares[pool] for pool in pools))
    point = rng.random() * cumulative[-1]
    return pools[min(bisect.bisect_right(cumulative, point), len(pools) - 1)]


@dataclass(frozen=True)
class NextBlock:
    pool: str
    wait_seconds: float


def next_block(shares: Mapping[str, float], block_time: float, rng: random.Random) -> NextBlock:
    """Poisson mode: every pool draws its wait (one draw each, sorted order); the earliest finds the block."""
    total = sum(shares.values())
    waits = {pool: rng.expovariate(shares[pool] / total / block_time) for pool in sorted(shares)}
    winner = min(waits, key=lambda pool: (waits[pool], pool))
    return NextBlock(pool=winner, wait_seconds=waits[winner])
