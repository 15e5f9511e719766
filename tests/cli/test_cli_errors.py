"""Bad input and unusable environments: one line on stderr, exit code 2, no traceback."""

from __future__ import annotations

import json
import socket

import pytest

from store.wallets import generate_pool
from tests.cli.helpers import environment, simctl
from workers.metrics import free_port

PASSPHRASE = "correct horse"


def assert_one_line_failure(result, code: int = 2) -> str:
    assert result.returncode == code, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.stderr
    assert lines[0].startswith("simctl: ")
    return lines[0]


def test_no_embedded_with_nothing_listening_exits_2():
    port = free_port()
    line = assert_one_line_failure(simctl("--no-embedded", "--address", f"127.0.0.1:{port}", "status"))
    assert f"no Temporal server answers at 127.0.0.1:{port}" in line


def test_no_embedded_from_the_environment_exits_2():
    env = environment(SIMCTL_EMBEDDED="false", TEMPORAL_ADDRESS=f"localhost:{free_port()}")
    assert_one_line_failure(simctl("status", env=env))


def test_unknown_command_exits_2():
    line = assert_one_line_failure(simctl("frobnicate"))
    assert "frobnicate" in line


def test_malformed_address_exits_2():
    line = assert_one_line_failure(simctl("--address", "no-port-here", "status"))
    assert "temporal_address" in line and "HOST:PORT" in line


def test_malformed_environment_value_exits_2():
    line = assert_one_line_failure(simctl("status", env=environment(SIMCTL_METRICS_PORT="lots")))
    assert "SIMCTL_METRICS_PORT" in line


def test_unsupported_database_exits_2():
    line = assert_one_line_failure(simctl("--database-url", "mysql://x/y", "audit"))
    assert "unsupported database" in line


def test_bad_option_value_exits_2():
    assert_one_line_failure(simctl("--log-level", "loud", "status"))


def test_embedding_on_a_remote_address_is_refused(tmp_path):
    line = assert_one_line_failure(simctl("--address", "192.0.2.1:7233", "--state-dir", str(tmp_path), "status"))
    assert "only run on this machine" in line


def test_port_held_by_something_else_is_reported(tmp_path):
    """A port that accepts TCP but is not Temporal must not hang the CLI."""
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", 0))
        squatter.listen()
        port = squatter.getsockname()[1]
        result = simctl("--address", f"127.0.0.1:{port}", "--state-dir", str(tmp_path), "status", timeout=120)
    assert_one_line_failure(result)


def make_wallets(path, count: int = 2):
    generate_pool(path, PASSPHRASE, count=count, seed=1)
    return path


def test_malformed_key_derivation_is_reported_as_a_corrupt_file(tmp_path):
    wallets = make_wallets(tmp_path / "wallets.json")
    data = json.loads(wallets.read_text())
    data["kdf"]["salt"] = "not base64!"
    wallets.write_text(json.dumps(data))
    wallets.chmod(0o600)
    result = simctl("wallet", "list", "--wallets", str(wallets), env=environment(SIMCTL_WALLET_PASSPHRASE=PASSPHRASE))
    line = assert_one_line_failure(result)
    assert line == f"simctl: {wallets} is a corrupt wallet file (kdf.salt is not base64)"


def test_a_wallet_file_open_to_others_is_warned_about_once(tmp_path):
    wallets = make_wallets(tmp_path / "wallets.json")
    env = environment(SIMCTL_WALLET_PASSPHRASE=PASSPHRASE)
    private = simctl("wallet", "list", "--wallets", str(wallets), env=env)
    assert private.returncode == 0 and private.stderr == ""
    wallets.chmod(0o644)
    shared = simctl("wallet", "list", "--wallets", str(wallets), env=env)
    assert shared.returncode == 0, shared.stderr
    assert shared.stderr.splitlines() == [
        f"simctl: warning: {wallets} is open to other users (mode 0644); "
        f"a wallet file should be 0600 (chmod 600 {wallets})"
    ]


@pytest.mark.parametrize(
    ("command", "refusal"),
    [
        (["otto", "attest", "--kind", "bogus", "--issuer", "agent_000"], "--kind must be skill, vouch or verification"),
        (["otto", "attest", "--kind", "vouch", "--issuer", "nobody"], "no agent 'nobody' in the wallet file"),
        (["otto", "attest", "--kind", "skill", "--issuer", "agent_000"], "agent_000 has no identity yet"),
        (["otto", "fiber", "--type", "Bogus"], "Bogus"),
        (["otto", "fiber", "--type", "TicTacToe", "--parties", "agent_000,nobody"], "no agent 'nobody'"),
        (["otto", "fiber", "--type", "Voting"], "the wallet pool has 2 agents; this fiber type needs"),
        (["wallet", "fund", "--from", "nobody"], "no agent 'nobody' in the wallet file"),
    ],
)
def test_options_are_refused_before_the_passphrase_is_asked_for(tmp_path, command: list[str], refusal: str):
    """Without a terminal or SIMCTL_WALLET_PASSPHRASE, asking for the passphrase would fail instead."""
    state = tmp_path / "state"
    make_wallets(state / "wallets.json")
    line = assert_one_line_failure(simctl("--state-dir", str(state), *command))
    assert refusal in line
    assert [path.name for path in state.iterdir()] == ["wallets.json"], "no server or node was started"


def test_a_report_of_an_unknown_experiment_leaves_no_store_behind(tmp_path):
    state, out = tmp_path / "state", tmp_path / "out"
    line = assert_one_line_failure(simctl("--state-dir", str(state), "report", "nope", "--out", str(out)))
    assert line == f"simctl: no experiment 'nope': no results store at {(state / 'simctl.db').resolve()}"
    assert list(tmp_path.iterdir()) == [], "neither a store nor a state directory nor a report"


def test_an_audit_without_a_store_says_so_and_creates_none(tmp_path):
    state = tmp_path / "state"
    line = assert_one_line_failure(simctl("--state-dir", str(state), "audit", "--no-history"))
    assert line == f"simctl: nothing to audit: no results store at {(state / 'simctl.db').resolve()}"
    assert not (state / "simctl.db").exists()
