"""The chain's SQLite state file: a restart sees the same chain, a snapshot writes only what it changed,
definitions are stored once, and an old JSON state file is migrated (or a foreign file refused)."""

from __future__ import annotations

import contextlib
import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from localnet.ottochain.chain import Chain
from localnet.ottochain.persist import ChainStore, StateFileError
from sim.otto.messages import ARCHIVE_STATE_MACHINE, create_state_machine, transition_state_machine
from sim.otto.signing import KeyPair, new_keypair, sign

OWNER = new_keypair()


def counter(name: str, spawn: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    effect: dict[str, Any] = {"n": {"+": [{"var": "state.n"}, 1]}}
    if spawn:
        effect["_spawn"] = spawn
    return {
        "states": {"open": {"id": "open", "isFinal": False, "metadata": None}},
        "initialState": "open",
        "transitions": [
            {"from": "open", "to": "open", "eventName": "go", "guard": True, "effect": effect, "dependencies": []}
        ],
        "metadata": {"name": name},
    }


def submit(chain: Chain, message: dict[str, Any], key: KeyPair = OWNER) -> None:
    chain.submit(sign(message, [key.private_key]))


def go(chain: Chain, fiber_id: str) -> None:
    submit(chain, transition_state_machine(fiber_id, "go", {}, chain.state.fibers[fiber_id].sequence_number))


def busy_chain(path: Path) -> Chain:
    """A chain with creates, moves, a spawned child, an archive, a rejection and balances."""
    chain = Chain(state_file=path)
    for index in range(3):
        submit(chain, create_state_machine(f"same-{index}", counter("Shared"), {"n": index}))
    child = {"childId": "child-1", "definition": counter("Child"), "initialData": {"n": 0}}
    submit(chain, create_state_machine("parent", counter("Parent", [child]), {"n": 0}))
    chain.faucet(OWNER.address, 500)
    chain.snapshot()
    go(chain, "same-0")
    go(chain, "parent")
    # Both target sequence 0 of same-1: DL1 takes both, the snapshot applies one and rejects the other.
    submit(chain, transition_state_machine("same-1", "go", {}, 0))
    submit(chain, transition_state_machine("same-1", "go", {"again": True}, 0))
    chain.snapshot()
    submit(chain, {ARCHIVE_STATE_MACHINE: {"fiberId": "same-2", "targetSequenceNumber": 0}})
    chain.snapshot()
    return chain


def test_a_restart_sees_the_same_chain(tmp_path: Path):
    path = tmp_path / "chain.db"
    chain = busy_chain(path)
    assert "child-1" in chain.state.fibers and chain.state.fibers["same-2"].status == "Archived"
    assert len(chain.state.rejections) == 1
    before = chain.state.to_json()
    chain.close()

    again = Chain(state_file=path)
    try:
        assert again.state.to_json() == before
        assert again.state.fibers["parent"].child_fiber_ids == ["child-1"]
        assert again.balance(OWNER.address) == 500
        go(again, "same-0")  # and it goes on from there
        again.snapshot()
        assert again.state.fibers["same-0"].state_data["n"] == 2
    finally:
        again.close()
    assert json.loads(Chain(state_file=path).state.to_json())["ordinal"] == 4


def test_definitions_are_stored_once_and_a_snapshot_writes_only_what_it_changed(tmp_path: Path):
    path = tmp_path / "chain.db"
    chain = Chain(state_file=path)
    store = chain.store
    assert store is not None
    for index in range(60):
        submit(chain, create_state_machine(f"f-{index}", counter("Shared"), {"n": 0}))
    chain.snapshot()
    go(chain, "f-7")
    writes: list[Any] = []
    real_save = store.save

    def recorded(state: Any, **options: Any) -> Any:
        batch = real_save(state, **options)
        writes.append(batch)
        return batch

    store.save = recorded  # type: ignore[method-assign]
    chain.snapshot()
    chain.snapshot()  # nothing changed
    chain.close()
    moved, idle = writes
    assert [row[0] for row in moved.fibers] == ["f-7"] and moved.definitions == [] and len(moved.applied) == 1
    assert idle.fibers == [] and idle.applied == [] and idle.balances == []
    with contextlib.closing(sqlite3.connect(path)) as db:
        assert db.execute("SELECT count(*) FROM definitions").fetchone() == (1,)
        assert db.execute("SELECT count(*) FROM fibers").fetchone() == (60,)
        record = json.loads(db.execute("SELECT record FROM fibers WHERE id = 'f-7'").fetchone()[0])
    assert "definition" not in record and record["stateData"] == {"n": 1}


def test_an_old_json_state_file_is_migrated_once(tmp_path: Path):
    old = busy_chain(tmp_path / "scratch.db")
    old.close()
    (tmp_path / "chain.json").write_text(old.state.to_json())

    migrated = Chain(state_file=tmp_path / "chain.db")
    migrated.close()
    assert migrated.state.to_json() == old.state.to_json()
    assert not (tmp_path / "chain.json").exists() and (tmp_path / "chain.json.migrated").exists()
    assert Chain(state_file=tmp_path / "chain.db").state.to_json() == old.state.to_json()


def test_a_file_that_is_not_a_state_database_is_refused_in_one_line(tmp_path: Path):
    path = tmp_path / "chain.db"
    path.write_text('{"ordinal": 3}')
    with pytest.raises(StateFileError) as refused:
        Chain(state_file=path)
    assert "is not an OttoChain state database" in str(refused.value) and "\n" not in str(refused.value)
    (tmp_path / "other.json").write_text("not json")
    with pytest.raises(StateFileError, match="not a readable OttoChain JSON state file"):
        ChainStore(tmp_path / "other.db").load()
    assert not (tmp_path / "other.db").exists()


def test_fibers_with_the_same_definition_share_one_object_before_and_after_a_restart(tmp_path: Path):
    path = tmp_path / "chain.db"
    chain = busy_chain(path)
    fibers = chain.state.fibers
    assert fibers["same-0"].definition is fibers["same-1"].definition is fibers["same-2"].definition
    assert fibers["parent"].definition is not fibers["same-0"].definition
    chain.close()
    again = Chain(state_file=path)
    submit(again, create_state_machine("same-3", counter("Shared"), {"n": 9}))
    again.snapshot()
    again.close()
    shared = again.state.fibers["same-0"].definition
    assert all(again.state.fibers[f"same-{index}"].definition is shared for index in range(4))
