"""Metakit signing and DAG addresses, via constellation-metagraph-sdk.

Updates are signed as DataUpdates: RFC 8785 JSON, base64, the "\\x19Constellation Signed Data" prefix,
SHA-256, then ECDSA (secp256k1) over the first 32 bytes of SHA-512 of the hash's hex text. A proof's
``id`` is the uncompressed public key without its ``04`` prefix; several proofs mean several signers.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from constellation_sdk import hash_data, sign_hash
from constellation_sdk.verify import verify_hash
from constellation_sdk.wallet import generate_key_pair, get_address, key_pair_from_private_key

from models.otto import SignatureProof, SignedUpdate


@dataclass(frozen=True)
class KeyPair:
    private_key: str
    public_key_id: str
    address: str

    def __repr__(self) -> str:  # a key pair must never print its secret
        return f"KeyPair(address={self.address!r})"


def new_keypair() -> KeyPair:
    return keypair_from_private_key(generate_key_pair().private_key)


def keypair_from_private_key(private_key: str) -> KeyPair:
    sdk = key_pair_from_private_key(private_key)
    key_id = sdk.public_key.removeprefix("04") if len(sdk.public_key) == 130 else sdk.public_key
    return KeyPair(private_key=private_key, public_key_id=key_id, address=dag_address(key_id))


def dag_address(public_key: str) -> str:
    """The DAG address of a public key given as a proof id (128 hex) or uncompressed (130 hex, 04…)."""
    # The SDK adds the 04 prefix only when the text lacks it, which misreads an id whose x coordinate
    # happens to begin with byte 0x04; the length says which form we have.
    if len(public_key) == 128:
        public_key = "04" + public_key
    if len(public_key) != 130 or not public_key.startswith("04"):
        raise ValueError("expected an uncompressed secp256k1 public key")
    address: str = get_address(public_key)  # the SDK is untyped: the annotation is our boundary
    return address


# "DAG", a parity digit, then the last 36 base58 characters of the key's hash (no 0, O, I or l).
_DAG_ADDRESS = re.compile("DAG[0-8][1-9A-HJ-NP-Za-km-z]{36}")


def is_dag_address(text: object) -> bool:
    """Whether ``text`` has a DAG address's form: its parity digit is the sum of the digits among the 36, mod 9."""
    if not isinstance(text, str) or not _DAG_ADDRESS.fullmatch(text):
        return False
    return sum(int(c) for c in text[4:] if c.isdigit()) % 9 == int(text[3])


def update_hash(value: dict[str, Any]) -> str:
    """The DataUpdate digest of ``value``: what every signer signs and what DL1 answers as its hash."""
    digest: str = hash_data(value, is_data_update=True).value
    return digest


def sign(value: dict[str, Any], private_keys: list[str], *, digest: str | None = None) -> SignedUpdate:
    """Sign ``value`` with every key: one proof per signer, in the order given.

    Canonicalising a large definition costs more than a signature, so the digest is computed once.
    """
    digest = digest or update_hash(value)
    proofs = [
        SignatureProof(id=keypair_from_private_key(key).public_key_id, signature=sign_hash(digest, key))
        for key in private_keys
    ]
    return SignedUpdate(value=value, proofs=proofs)


def proof_over(value: Any, private_key: str) -> SignatureProof:
    """One signer's proof over any JSON value (an object, an array, a string, null…), signed as a DataUpdate."""
    digest: str = hash_data(value, is_data_update=True).value
    return SignatureProof(
        id=keypair_from_private_key(private_key).public_key_id, signature=sign_hash(digest, private_key)
    )


def valid_signers(update: SignedUpdate, *, digest: str | None = None) -> list[str]:
    """Proof ids whose signature over the value verifies; raises if any proof does not."""
    digest = digest or update_hash(update.value)
    for proof in update.proofs:
        if not verify_hash(digest, proof.signature, proof.id):
            raise InvalidSignature(f"signature of {proof.id[:16]}… does not verify")
    return [proof.id for proof in update.proofs]


class InvalidSignature(ValueError):
    pass
