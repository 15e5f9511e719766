"""Block scheduling fits its model (chi-square, Kolmogorov-Smirnov), and the Shadow export has the seed's layout."""

from __future__ import annotations

import random
from collections import Counter

import yaml
from scipy import stats

from models.monero import parse_config
from sim.monero.blocks import choose_pool, next_block
from sim.monero.shadow import shadow_config
from tests.unit.monero.test_config import SEED_EXAMPLE

SHARES = {"pool_alpha": 0.4, "pool_beta": 0.3, "pool_gamma": 0.3}


def _fits(observed: Counter[str], shares: dict[str, float]) -> float:
    rounds = sum(observed.values())
    pools = sorted(shares)
    return float(stats.chisquare([observed[p] for p in pools], [shares[p] * rounds for p in pools]).pvalue)


def test_controller_choices_fit_the_configured_shares_over_300_rounds() -> None:
    for seed in range(5):
        rng = random.Random(seed)
        chosen = Counter(choose_pool(SHARES, rng) for _ in range(300))
        assert _fits(chosen, SHARES) > 0.01


def test_controller_choice_is_seeded_and_rejects_a_wrong_model() -> None:
    first = [choose_pool(SHARES, random.Random(11)) for _ in range(3)]
    assert first == [choose_pool(SHARES, random.Random(11)) for _ in range(3)]
    # The test has power: the same draws judged against other shares are rejected.
    chosen = Counter(choose_pool(SHARES, random.Random(1)) for _ in range(3000))
    assert _fits(chosen, {"pool_alpha": 0.6, "pool_beta": 0.2, "pool_gamma": 0.2}) < 0.01


def test_poisson_intervals_are_exponential_with_mean_block_time_and_winners_follow_shares() -> None:
    rng = random.Random(3)
    blocks = [next_block(SHARES, 120.0, rng) for _ in range(2000)]
    waits = [block.wait_seconds for block in blocks]
    assert stats.kstest(waits, "expon", args=(0, 120.0)).pvalue > 0.01
    assert stats.kstest(waits, "expon", args=(0, 60.0)).pvalue < 0.01  # and it can tell another mean apart
    assert _fits(Counter(block.pool for block in blocks), SHARES) > 0.01


def test_shadow_export_has_one_host_per_agent_with_the_seeds_process_layout() -> None:
    export = shadow_config(parse_config(SEED_EXAMPLE, "seed.yaml"))
    parsed = yaml.safe_load(yaml.safe_dump(export.shadow))
    hosts = parsed["hosts"]
    users = [h for h in hosts if h.startswith("user_")]
    markets = [h for h in hosts if h.startswith("marketplace_")]
    assert (len(users), len(markets)) == (100, 5)
    assert {"pool_alpha", "pool_beta", "pool_gamma", "block_controller"} <= set(hosts)
    assert len(hosts) == 100 + 5 + 3 + 1
    assert parsed["general"]["stop_time"] == "3600s"
    assert hosts["user_0"]["processes"] == [
        {
            "path": "/usr/bin/python3",
            "args": "/simulation/agents/regular_user.py --id user_0 --config /configs/user_0.json",
            "start_time": "0s",
        }
    ]
    assert hosts["pool_beta"]["processes"][0]["args"].startswith("/simulation/agents/mining_pool.py --id pool_beta")
    assert hosts["block_controller"]["processes"][0]["args"] == (
        "/simulation/agents/block_controller.py --config /configs/block_controller.json"
    )
    assert set(export.agent_configs) == set(hosts)
    assert export.agent_configs["pool_alpha"]["hashrate_share"] == 0.4
    assert export.agent_configs["user_3"]["transaction_frequency"] == 0.1
    assert export.agent_configs["marketplace_1"]["wallet_count"] == 20
