"""Bad input and unusable environments: one line on stderr, exit code 2, no traceback."""

from __future__ import annotations

import socket

from tests.cli.helpers import environment, simctl
from workers.metrics import free_port


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
