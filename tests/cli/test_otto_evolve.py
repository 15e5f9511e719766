"""`simctl otto evolve` as a user runs it: a run with the embedded node, its resume, and bad input."""

from __future__ import annotations

import asyncio
import json
import sqlite3

import pytest

from tests.cli.helpers import environment, simctl

PASSPHRASE = "evolve passphrase"


def env() -> dict[str, str]:
    return environment(SIMCTL_WALLET_PASSPHRASE=PASSPHRASE, SIMCTL_METRICS_PORT="0")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--generations", "2", "--duration", "1h"], "give --generations or --duration, not both"),
        (["--resume", "a", "--id", "b"], "--resume names the run: leave out --id"),
        (["--duration", "soon"], "bad duration 'soon'"),
        (["--population", "1"], "--population"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(tmp_path, args: list[str], message: str):
    result = simctl("--state-dir", str(tmp_path), "otto", "evolve", *args, env=env())
    assert result.returncode == 2, result.stderr
    assert message in result.stderr and "Traceback" not in result.stderr


async def test_a_run_then_its_resume_from_the_store(tmp_path, temporal_address: str):
    state = tmp_path / "state"
    base = ["--address", temporal_address, "--no-embedded", "--state-dir", str(state)]

    def cli(*args: str):
        return simctl(*base, "otto", "evolve", *args, env=env(), timeout=300)

    first = await asyncio.to_thread(cli, "--population", "4", "--generations", "1", "--seed", "3", "--id", "cli-run")
    assert first.returncode == 0, first.stderr
    assert first.stdout.splitlines()[0] == "cli-run"
    assert "generating 4 agents" in first.stderr and "1 generations, population 4" in first.stderr

    again = await asyncio.to_thread(cli, "--population", "4", "--generations", "1", "--id", "cli-run")
    assert again.returncode == 2 and "already exists: continue it with --resume cli-run" in again.stderr

    resumed = await asyncio.to_thread(cli, "--resume", "cli-run", "--generations", "1", "--wait")
    assert resumed.returncode == 0, resumed.stderr

    missing = await asyncio.to_thread(cli, "--resume", "nope")
    assert missing.returncode == 2 and "no run 'nope' in the store" in missing.stderr

    with sqlite3.connect(state / "simctl.db") as store:
        generations = store.execute(
            "SELECT generation, stats_json FROM otto_generations WHERE run_id = 'cli-run' ORDER BY generation"
        ).fetchall()
        chain = store.execute("SELECT length FROM ledger_heads WHERE chain_id = 'otto/cli-run'").fetchone()
    assert [generation for generation, _ in generations] == [0, 1]
    assert all(json.loads(stats)["population_size"] == 4 for _, stats in generations)
    assert chain == (2,)
