"""Metakit signing and DAG addresses against the published cross-language vectors."""

from __future__ import annotations

import base64
import hashlib
import json
from pathlib import Path

import pytest
from constellation_sdk.wallet import get_address as sdk_get_address

from models.otto import SignedUpdate
from sim.canonical import canonical_json
from sim.otto.messages import create_state_machine
from sim.otto.signing import InvalidSignature, dag_address, keypair_from_private_key, new_keypair, sign, valid_signers

VECTORS = json.loads((Path(__file__).parents[2] / "data" / "metakit-signing-vectors.json").read_text())
PREFIX = b"\x19Constellation Signed Data:\n"


@pytest.mark.parametrize("vector", VECTORS, ids=[f"{v['source']}-{v['type']}-{v['data']['id']}" for v in VECTORS])
def test_vector(vector: dict) -> None:
    canonical = canonical_json(vector["data"])
    assert canonical == vector["canonical_json"]

    if vector["type"] == "TestDataUpdate":
        encoded = base64.b64encode(canonical.encode())
        signed_bytes = PREFIX + str(len(encoded)).encode() + b"\n" + encoded
    else:
        signed_bytes = canonical.encode()
    assert signed_bytes.hex() == vector["utf8_bytes_hex"]
    assert hashlib.sha256(signed_bytes).hexdigest() == vector["sha256_hash_hex"]

    if vector["type"] == "TestDataUpdate":
        update = SignedUpdate(
            value=vector["data"],
            proofs=[{"id": vector["public_key_hex"].removeprefix("04"), "signature": vector["signature_hex"]}],
        )
        assert valid_signers(update) == [vector["public_key_hex"][2:]]


def test_every_language_signed_the_update_vectors():
    sources = {v["source"] for v in VECTORS if v["type"] == "TestDataUpdate"}
    assert sources == {"python", "javascript", "rust", "go"}


def test_address_of_a_known_key():
    """dag4.js keystore test data: private key -> public key -> DAG address."""
    pair = keypair_from_private_key("114d7d51019c7f704388e03fb5c74174f27e2fc68ac88c82832ec9b1174b17fd")
    assert pair.public_key_id == (
        "315d2c7182cac157d9dcc7f5fd2a4b5101df86568a4313470cbab06f672b9db3"
        "02816e45218641828fef633c770079293e3db8f8a20c787f95944bbe6ea71c0a"
    )
    assert pair.address == "DAG5WtmeekZLUS4vxCDhe9safyE6wFQ94EaczotN"
    assert dag_address("04" + pair.public_key_id) == pair.address


def test_address_check_digit_is_the_digit_sum_mod_9():
    for _ in range(20):
        address = new_keypair().address
        assert address.startswith("DAG") and len(address) == 40
        assert int(address[3]) == sum(int(c) for c in address[4:] if c.isdigit()) % 9


def test_key_id_beginning_with_04_gets_the_right_address():
    """An id whose x coordinate starts with byte 0x04 must not be mistaken for a prefixed key."""
    private = 1
    while True:
        pair = keypair_from_private_key(f"{private:064x}")
        if pair.public_key_id.startswith("04"):
            break
        private += 1
    assert dag_address(pair.public_key_id) == dag_address("04" + pair.public_key_id)
    # The SDK's own helper takes the id's leading "04" for the prefix and derives another address.
    assert sdk_get_address(pair.public_key_id) != pair.address


def test_multi_signer_update_names_every_signer():
    alice, bob = new_keypair(), new_keypair()
    update = sign(create_state_machine("f", {}, {}), [alice.private_key, bob.private_key])
    assert valid_signers(update) == [alice.public_key_id, bob.public_key_id]


def test_tampered_value_fails_verification():
    alice = new_keypair()
    update = sign({"n": 1}, [alice.private_key])
    forged = SignedUpdate(value={"n": 2}, proofs=update.proofs)
    with pytest.raises(InvalidSignature):
        valid_signers(forged)


def test_key_pair_repr_hides_the_private_key():
    pair = new_keypair()
    assert pair.private_key not in repr(pair)


# --- libsecp256k1 (coincurve) against the SDK's pure-Python ECDSA ----------------------------------------

SECP256K1_ORDER = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141


def _der_integers(signature_hex: str) -> tuple[int, int]:
    from ecdsa.util import sigdecode_der

    r, s = sigdecode_der(bytes.fromhex(signature_hex), SECP256K1_ORDER)
    return r, s


def _der(r: int, s: int) -> str:
    from ecdsa.util import sigencode_der

    return sigencode_der(r, s, SECP256K1_ORDER).hex()


def test_sdk_signatures_verify_natively_and_tampered_ones_do_not():
    from constellation_sdk import sign_hash
    from constellation_sdk.verify import verify_hash

    from sim.otto.signing import update_hash, verify_digest

    pair = new_keypair()
    value = create_state_machine("f-native", {"states": {}}, {"n": 1})
    digest = update_hash(value)
    high_s_seen = False
    for _ in range(12):  # the SDK draws k at random and leaves S as it falls: both halves occur
        signature = sign_hash(digest, pair.private_key)
        r, s = _der_integers(signature)
        high_s_seen |= s > SECP256K1_ORDER // 2
        assert verify_digest(digest, signature, pair.public_key_id)
        # The same signature with S mirrored is as valid to the SDK, so it must be here.
        mirrored = _der(r, SECP256K1_ORDER - s)
        assert verify_hash(digest, mirrored, pair.public_key_id)
        assert verify_digest(digest, mirrored, pair.public_key_id)
        assert not verify_digest(update_hash({**value, "n": 2}), signature, pair.public_key_id)
        assert not verify_digest(digest, _der(r, s ^ 1), pair.public_key_id)
        assert not verify_digest(digest, signature, new_keypair().public_key_id)
    assert high_s_seen
    assert not verify_digest(digest, "3006020101020101", pair.public_key_id)  # r = s = 1
    assert not verify_digest(digest, "not hex", pair.public_key_id)
    assert not verify_digest(digest, signature + "00", pair.public_key_id)  # trailing bytes after the DER
    assert not verify_digest(digest, signature, "00" * 64)  # not a point on the curve


def test_native_signatures_verify_with_the_sdk_and_are_deterministic_low_s_der():
    from constellation_sdk.verify import verify_hash
    from constellation_sdk.wallet import key_pair_from_private_key

    from sim.otto.signing import sign_digest, update_hash

    pair = new_keypair()
    assert key_pair_from_private_key(pair.private_key).public_key == "04" + pair.public_key_id
    digest = update_hash({"any": ["json", 1]})
    signature = sign_digest(digest, pair.private_key)
    assert verify_hash(digest, signature, pair.public_key_id)
    assert sign_digest(digest, pair.private_key) == signature  # RFC 6979
    assert _der(*_der_integers(signature)) == signature  # strict DER
    assert _der_integers(signature)[1] <= SECP256K1_ORDER // 2
