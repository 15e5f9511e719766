"""config.yaml: the seed's schema parses as it stands, so does the example; a bad file is one line naming its key."""

from __future__ import annotations

from pathlib import Path

import pytest

from models.monero import ConfigError, parse_config

EXAMPLE = Path(__file__).parents[3] / "examples" / "monero" / "config.yaml"

# The seed's own example, verbatim in substance: the optional keys are absent.
SEED_EXAMPLE = """
simulation:
  duration: 3600
network:
  agents:
    regular_users:
      count: 100
      config:
        transaction_frequency: 0.1
        wallet_initial_balance: 10.0
    marketplaces:
      count: 5
      config:
        wallet_count: 20
    mining_pools:
      - id: pool_alpha
        hashrate_share: 0.4
      - id: pool_beta
        hashrate_share: 0.3
      - id: pool_gamma
        hashrate_share: 0.3
  consensus:
    block_time: 120
    difficulty: 1000
"""


def test_the_seeds_example_is_a_valid_config_with_defaults_for_the_rest() -> None:
    config = parse_config(SEED_EXAMPLE, "seed.yaml")
    assert config.network.agents.regular_users.count == 100
    assert config.network.consensus.difficulty == 1000
    assert (config.simulation.block_mode, config.simulation.acceleration, config.simulation.seed) == (
        "controller",
        0,
        0,
    )
    assert config.network.node_count == 4  # one per pool plus one
    assert config.pool_shares() == pytest.approx({"pool_alpha": 0.4, "pool_beta": 0.3, "pool_gamma": 0.3})


def test_the_repositorys_example_parses() -> None:
    config = parse_config(EXAMPLE.read_text(), str(EXAMPLE))
    assert config.network.node_count == 4 and len(config.network.agents.mining_pools) == 3


def test_shares_are_normalised_whatever_their_scale() -> None:
    config = parse_config(SEED_EXAMPLE.replace("0.4", "40").replace("0.3", "30"), "x.yaml")
    assert config.pool_shares() == pytest.approx({"pool_alpha": 0.4, "pool_beta": 0.3, "pool_gamma": 0.3})


@pytest.mark.parametrize(
    ("change", "named"),
    [
        (("duration: 3600", "duration: -5"), "simulation.duration"),
        (("duration: 3600", "duration: an hour"), "simulation.duration"),
        (("count: 100", "count: -1"), "network.agents.regular_users.count"),
        (("transaction_frequency: 0.1", "transaction_frequency: 1.5"), "transaction_frequency"),
        (("hashrate_share: 0.4", "hashrate_share: 0"), "network.agents.mining_pools.0.hashrate_share"),
        (("id: pool_beta", "id: pool_alpha"), "network.agents.mining_pools"),
        (("id: pool_beta", "id: 'pool beta!'"), "network.agents.mining_pools.1.id"),
        (("block_time: 120", "block_time: 0"), "network.consensus.block_time"),
        (("difficulty: 1000", "dificulty: 1000"), "network.consensus.dificulty"),
        (("wallet_count: 20", "wallet_count: 0"), "network.agents.marketplaces.config.wallet_count"),
    ],
)
def test_a_bad_value_is_one_line_naming_the_key(change: tuple[str, str], named: str) -> None:
    with pytest.raises(ConfigError) as raised:
        parse_config(SEED_EXAMPLE.replace(*change), "bad.yaml")
    message = str(raised.value)
    assert message.startswith("bad.yaml: ") and named in message and "\n" not in message


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("simulation: [unclosed", "bad.yaml, line 1"),
        ("- just\n- a list\n", "expected a mapping"),
        ("", "expected a mapping"),
        ("simulation:\n  duration: 60\n", "bad.yaml: network: Field required"),
        (SEED_EXAMPLE + "  nodes:\n    count: 2\n", "nodes.count is 2 but each of the 3 mining pools needs a node"),
        (
            SEED_EXAMPLE.replace("duration: 3600", "duration: 3600\n  amount: {min_xmr: 3, max_xmr: 1}"),
            "min_xmr 3.0 is above max_xmr 1.0",
        ),
    ],
)
def test_malformed_files_are_one_line(text: str, expected: str) -> None:
    with pytest.raises(ConfigError) as raised:
        parse_config(text, "bad.yaml")
    assert expected in str(raised.value) and "\n" not in str(raised.value)
