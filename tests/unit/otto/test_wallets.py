"""The wallet file: encrypted keys, 0600, atomic writes, clear failures."""

from __future__ import annotations

import json
import random
import stat

import pytest

from sim.otto.agents import public_profile
from sim.otto.signing import new_keypair
from store.wallets import WalletError, WalletStore, generate_pool

PASSPHRASE = "correct horse battery staple"


def make_pool(path, count: int = 5) -> tuple[WalletStore, dict[str, str]]:
    store = generate_pool(path, PASSPHRASE, count=count, seed=7)
    return store, {agent.id: store.private_key(agent.id) for agent in store.agents}


def test_round_trip_keeps_keys_secret_on_disk(tmp_path):
    path = tmp_path / "wallets.json"
    _, keys = make_pool(path)
    text = path.read_text()
    for private in keys.values():
        assert private not in text and private.upper() not in text
    assert stat.S_IMODE(path.stat().st_mode) == 0o600

    reopened = WalletStore.open(path, PASSPHRASE)
    assert {agent.id: reopened.private_key(agent.id) for agent in reopened.agents} == keys


def test_wrong_passphrase_is_refused_and_file_untouched(tmp_path):
    path = tmp_path / "wallets.json"
    make_pool(path)
    before = path.read_bytes()
    with pytest.raises(WalletError, match="wrong passphrase"):
        WalletStore.open(path, "not it")
    assert path.read_bytes() == before


def test_corrupt_file_is_refused(tmp_path):
    path = tmp_path / "wallets.json"
    path.write_text('{"format": "simctl-wallets/1", "agents": [')
    with pytest.raises(WalletError, match="is not a wallet file"):
        WalletStore.open(path, PASSPHRASE)


def test_swapped_ciphertexts_do_not_open(tmp_path):
    path = tmp_path / "wallets.json"
    make_pool(path, count=2)
    data = json.loads(path.read_text())
    first, second = data["agents"]
    first["private_key"], second["private_key"] = second["private_key"], first["private_key"]
    path.write_text(json.dumps(data))
    store = WalletStore.open(path, PASSPHRASE)
    with pytest.raises(WalletError, match="does not open"):
        store.private_key(first["id"])


def test_failed_write_leaves_the_old_file(tmp_path, monkeypatch):
    path = tmp_path / "wallets.json"
    store, _ = make_pool(path, count=2)
    before = path.read_bytes()
    store.add(
        "extra", new_keypair().address, new_keypair().private_key, public_key="x", **public_profile(9, random.Random(1))
    )

    def crash(*_args):
        raise OSError("disk full")

    monkeypatch.setattr("os.replace", crash)
    with pytest.raises(OSError):
        store.save()
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["wallets.json"], "no temporary file left behind"
