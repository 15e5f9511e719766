"""`simctl wallet …` as a user runs it: 200 agents, genesis CSV, wrong passphrase, register twice."""

from __future__ import annotations

import asyncio
import contextlib
import json
import sqlite3
import stat

from temporalio.client import Client

from models.otto import FiberOutcome
from simctl import visibility
from store.wallets import WalletStore
from tests.cli.helpers import environment, simctl

PASSPHRASE = "correct horse"


def wallet_env(**extra: str) -> dict[str, str]:
    return environment(SIMCTL_WALLET_PASSPHRASE=PASSPHRASE, **extra)


def test_generate_200_and_export_genesis_byte_for_byte(tmp_path):
    wallets, csv = tmp_path / "wallets.json", tmp_path / "genesis-agents.csv"
    result = simctl("wallet", "generate", "--count", "200", "--output", str(wallets), "--seed", "4", env=wallet_env())
    assert result.returncode == 0, result.stderr
    assert stat.S_IMODE(wallets.stat().st_mode) == 0o600

    store = WalletStore.open(wallets, PASSPHRASE)
    assert len(store.agents) == 200 and len({a.address for a in store.agents}) == 200
    text = wallets.read_text()
    for agent in store.agents:
        key = store.private_key(agent.id)
        assert key not in text and key.upper() not in text

    exported = simctl(
        "wallet", "export-genesis", "--input", str(wallets), "--output", str(csv), "--balance", "1000", env=wallet_env()
    )
    assert exported.returncode == 0, exported.stderr
    expected = "".join(f"{agent.address},100000000000\n" for agent in store.agents).encode()
    assert csv.read_bytes() == expected


def test_wrong_passphrase_exits_2_and_leaves_the_file(tmp_path):
    wallets = tmp_path / "wallets.json"
    assert simctl("wallet", "generate", "--count", "3", "--output", str(wallets), env=wallet_env()).returncode == 0
    before = wallets.read_bytes()
    for command in (
        ["wallet", "list", "--wallets", str(wallets)],
        ["wallet", "export-genesis", "--input", str(wallets), "--output", str(tmp_path / "g.csv")],
    ):
        result = simctl(*command, env=environment(SIMCTL_WALLET_PASSPHRASE="wrong"))
        assert result.returncode == 2
        assert result.stderr.strip() == f"simctl: wrong passphrase for {wallets}"
    assert wallets.read_bytes() == before
    assert not (tmp_path / "g.csv").exists(), "nothing half-written"


def test_corrupt_wallet_file_exits_2(tmp_path):
    wallets = tmp_path / "wallets.json"
    wallets.write_text('{"format": "simctl-wallets/1", "kdf": 7}')
    result = simctl("wallet", "list", "--wallets", str(wallets), env=wallet_env())
    assert result.returncode == 2 and "is not a wallet file" in result.stderr and "Traceback" not in result.stderr


async def test_register_twice_reuses_every_identity_and_no_key_enters_history(
    tmp_path, temporal_address: str, client: Client
):
    state = tmp_path / "state"
    base = ["--address", temporal_address, "--no-embedded", "--state-dir", str(state)]
    env = wallet_env()

    def cli(*args: str):
        return simctl(*base, *args, env=env, timeout=300)

    assert (await asyncio.to_thread(cli, "wallet", "generate", "--count", "12", "--seed", "2")).returncode == 0
    first = await asyncio.to_thread(cli, "wallet", "register")
    assert first.returncode == 0, first.stderr
    assert "12 registered now, 0 already registered" in first.stdout
    second = await asyncio.to_thread(cli, "wallet", "activate")
    assert second.returncode == 0, second.stderr
    assert "0 registered now, 12 already registered (reused), 12 activated now" in second.stdout
    third = await asyncio.to_thread(cli, "wallet", "register")
    assert "0 registered now, 12 already registered (reused)" in third.stdout

    with contextlib.closing(sqlite3.connect(state / "ottochain.db")) as db:
        records = [json.loads(record) for (record,) in db.execute("SELECT record FROM fibers")]
    owners = [f["stateData"]["owner"] for f in records if f["stateData"].get("schema") == "AgentIdentity"]
    store = WalletStore.open(state / "wallets.json", PASSPHRASE)
    assert sorted(owners) == sorted(a.address for a in store.agents), "one identity per agent, after three runs"
    assert all(a.status == "active" and a.identity_fiber_id for a in store.agents)

    fiber = await asyncio.to_thread(cli, "otto", "fiber", "--type", "Contract", "--outcome", "complete", "--json")
    assert fiber.returncode == 0, fiber.stderr
    assert FiberOutcome.model_validate_json(fiber.stdout).success

    keys = [store.private_key(agent.id).encode() for agent in store.agents]
    addresses = {agent.address.encode() for agent in store.agents}
    histories = 0
    async for execution in client.list_workflows(
        visibility.any_of(visibility.of_type("IdentityWorkflow"), visibility.of_type("FiberWorkflow"))
    ):
        history = await client.get_workflow_handle(execution.id, run_id=execution.run_id).fetch_history()
        # Payloads sit in the serialised events as raw bytes: what the workflow carries is visible here.
        raw = b"".join(event.SerializeToString() for event in history.events)
        if any(address in raw for address in addresses):
            histories += 1
            assert not any(key in raw or key.upper() in raw for key in keys), f"a private key in {execution.id}"
    assert histories >= 12 * 3 + 1, "the search saw the pool's workflows (their addresses are in the payloads)"
