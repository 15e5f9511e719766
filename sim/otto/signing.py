"""Metakit signing and DAG addresses, via constellation-metagraph-sdk.

Updates are signed as DataUpdates: RFC 8785 JSON, base64, the "\\x19Constellation Signed Data" prefix,
SHA-256, then ECDSA (secp256k1) over the first 32 bytes of SHA-512 of the hash's hex text. A proof's
``id`` is the uncompressed public key without its ``04`` prefix; several proofs mean several signers.

The SDK's hashing and addresses are used as they are; the curve arithmetic is libsecp256k1's (coincurve),
about a hundred times faster than the SDK's pure-Python ECDSA. Signatures stay DER, as the SDK writes
them; ours are low-S (RFC 6979), which every verifier accepts. The SDK and Tessellation accept high-S
signatures too, which libsecp256k1 refuses, so a signature is normalised to low-S before it is verified:
what verifies here is what verifies there.
"""

from __future__ import annotations

import functools
import hashlib
import re
import secrets
from dataclasses import dataclass
from typing import Any

from coincurve import PrivateKey, PublicKey
from coincurve.ecdsa import cdata_to_der, der_to_cdata, signature_normalize
from constellation_sdk import hash_data
from constellation_sdk.wallet import get_address

from models.otto import SignatureProof, SignedUpdate


@dataclass(frozen=True)
class KeyPair:
    private_key: str
    public_key_id: str
    address: str

    def __repr__(self) -> str:  # a key pair must never print its secret
        return f"KeyPair(address={self.address!r})"


def new_keypair() -> KeyPair:
    return keypair_from_private_key(PrivateKey(secrets.token_bytes(32)).to_hex())


@functools.lru_cache(maxsize=4096)
def keypair_from_private_key(private_key: str) -> KeyPair:
    """The key pair of a 64-hex private key (cached: a client signs with the same few keys all day)."""
    public = _private(private_key).public_key.format(compressed=False).hex()
    key_id = public.removeprefix("04")
    return KeyPair(private_key=private_key, public_key_id=key_id, address=dag_address(key_id))


def _private(private_key: str) -> PrivateKey:
    return PrivateKey(bytes.fromhex(private_key))


def _signed_digest(digest: str) -> bytes:
    # What the SDK signs: SHA-512 of the SHA-256 digest's hex text, truncated to 32 bytes.
    return hashlib.sha512(digest.encode("utf-8")).digest()[:32]


def sign_digest(digest: str, private_key: str) -> str:
    """A DER signature (hex) over a DataUpdate digest, as the SDK's ``sign_hash`` makes it (but low-S)."""
    signature: bytes = _private(private_key).sign(_signed_digest(digest), hasher=None)
    return signature.hex()


@functools.lru_cache(maxsize=4096)
def _public(key_id: str) -> PublicKey:
    return PublicKey(bytes.fromhex("04" + key_id if len(key_id) == 128 else key_id))


def verify_digest(digest: str, signature: str, key_id: str) -> bool:
    """Whether ``signature`` (DER hex) by ``key_id`` is valid over ``digest``; malformed input is just invalid."""
    try:
        normalised = cdata_to_der(signature_normalize(der_to_cdata(bytes.fromhex(signature)))[1])
        return bool(_public(key_id).verify(normalised, _signed_digest(digest), hasher=None))
    except (ValueError, TypeError):
        return False


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
        SignatureProof(id=keypair_from_private_key(key).public_key_id, signature=sign_digest(digest, key))
        for key in private_keys
    ]
    return SignedUpdate(value=value, proofs=proofs)


def proof_over(value: Any, private_key: str) -> SignatureProof:
    """One signer's proof over any JSON value (an object, an array, a string, null…), signed as a DataUpdate."""
    digest: str = hash_data(value, is_data_update=True).value
    return SignatureProof(
        id=keypair_from_private_key(private_key).public_key_id, signature=sign_digest(digest, private_key)
    )


def valid_signers(update: SignedUpdate, *, digest: str | None = None) -> list[str]:
    """Proof ids whose signature over the value verifies; raises if any proof does not."""
    digest = digest or update_hash(update.value)
    for proof in update.proofs:
        if not verify_digest(digest, proof.signature, proof.id):
            raise InvalidSignature(f"signature of {proof.id[:16]}… does not verify")
    return [proof.id for proof in update.proofs]


class InvalidSignature(ValueError):
    pass
