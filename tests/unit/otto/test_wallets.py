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


@pytest.mark.parametrize(
    ("damage", "problem"),
    [
        ({"kdf": {"salt": "not base64!"}}, "kdf.salt is not base64"),
        ({"kdf": {"salt": ""}}, "kdf.salt has 0 bytes, fewer than 16"),
        ({"kdf": {"n": 3}}, "kdf.n must be a power of two from 2 to 2**20, not 3"),
        ({"kdf": {"n": 2**40}}, "kdf.n must be a power of two from 2 to 2**20, not 1099511627776"),
        ({"kdf": {"n": -4}}, "kdf.n must be a power of two from 2 to 2**20, not -4"),
        ({"kdf": {"r": 0}}, "kdf.r must be 1 to 64 and kdf.p 1 to 16, not r=0, p=1"),
        ({"kdf": {"p": 0}}, "kdf.r must be 1 to 64 and kdf.p 1 to 16, not r=8, p=0"),
        ({"kdf": {"n": 2**20, "r": 64}}, "needs more than 256 MiB"),
        ({"check": {"nonce": "%%%"}}, "check is not base64"),
        ({"check": {"nonce": "AAAA"}}, "check has a 3-byte nonce"),
    ],
)
def test_malformed_key_derivation_is_a_corrupt_file_not_a_wrong_passphrase(tmp_path, damage: dict, problem: str):
    path = tmp_path / "wallets.json"
    make_pool(path, count=1)
    data = json.loads(path.read_text())
    for section, values in damage.items():
        data[section].update(values)
    path.write_text(json.dumps(data))
    with pytest.raises(WalletError) as raised:
        WalletStore.open(path, PASSPHRASE)
    message = str(raised.value)
    assert message.startswith(f"{path} is a corrupt wallet file (") and problem in message
    assert "passphrase" not in message
