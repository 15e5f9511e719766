"""`simctl monero` as a user runs it: shadow-config's files, one-line errors with exit 2."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from simctl import app as cli
from tests.cli.helpers import ROOT, environment, simctl

EXAMPLE = ROOT / "examples" / "monero" / "config.yaml"


def test_shadow_config_writes_one_host_per_agent_in_the_seeds_layout(tmp_path: Path):
    result = simctl("monero", "shadow-config", "--config", str(EXAMPLE), "--out", str(tmp_path / "out"))
    assert result.returncode == 0, result.stderr
    shadow = yaml.safe_load((tmp_path / "out" / "shadow.yaml").read_text())
    hosts = shadow["hosts"]
    expected = {"user_0", "user_1", "user_2", "user_3", "marketplace_0", "marketplace_1"}
    expected |= {"pool_alpha", "pool_beta", "pool_gamma", "block_controller"}
    assert set(hosts) == expected
    assert shadow["general"]["stop_time"] == "3600s"
    for host, definition in hosts.items():
        [process] = definition["processes"]
        assert process["path"] == "/usr/bin/python3"
        assert process["args"].endswith(f"--config /configs/{host}.json")
        assert json.loads((tmp_path / "out" / "configs" / f"{host}.json").read_text())
    assert hosts["user_0"]["processes"][0]["args"].startswith("/simulation/agents/regular_user.py --id user_0")


BAD = {
    "network:\n  agents: {}\n": "simulation",
    "simulation: {duration: 10, sede: 3}\n": "simulation.sede",
    "simulation: {duration: 0}\nnetwork: {}\n": "simulation.duration",
    "simulation: {duration: 60}\nnetwork:\n  agents:\n"
    "    regular_users: {count: 1, config: {transaction_frequency: 2}}\n"
    "    marketplaces: {count: 1}\n    mining_pools: [{id: a, hashrate_share: 1}]\n": (
        "network.agents.regular_users.config.transaction_frequency"
    ),
    "simulation: {duration: 60}\nnetwork:\n  agents:\n    regular_users: {count: 1}\n    marketplaces: {count: 1}\n"
    "    mining_pools: []\n": "network.agents.mining_pools",
    "simulation: [unclosed\n": "line",
}


@pytest.mark.parametrize("command", ["run", "shadow-config"])
def test_a_malformed_config_is_one_line_naming_the_key_and_exit_2(
    tmp_path: Path, command: str, capsys: pytest.CaptureFixture[str]
):
    out = [] if command == "run" else ["--out", str(tmp_path / "out")]
    for number, (text, key) in enumerate(BAD.items()):
        path = tmp_path / f"bad{number}.yaml"
        path.write_text(text)
        assert cli.run(["--no-embedded", "monero", command, "--config", str(path), *out]) == 2, text
        stderr = capsys.readouterr().err
        assert stderr.count("\n") == 1 and key in stderr, (text, stderr)
    assert cli.run(["monero", command, "--config", str(tmp_path / "nope.yaml"), *out]) == 2
    assert capsys.readouterr().err.count("\n") == 1
    assert not (tmp_path / "out").exists()


def test_a_malformed_config_as_a_process(tmp_path: Path):
    path = tmp_path / "bad.yaml"
    path.write_text("simulation: {duration: 0}\nnetwork: {}\n")
    result = simctl("monero", "run", "--config", str(path))
    assert result.returncode == 2 and result.stderr.count("\n") == 1 and "simulation.duration" in result.stderr


def test_run_without_monerod_is_one_line_naming_the_package(tmp_path: Path):
    result = simctl("--no-embedded", "monero", "run", "--config", str(EXAMPLE), env=environment(PATH=str(tmp_path)))
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and "Debian package 'monero'" in result.stderr
