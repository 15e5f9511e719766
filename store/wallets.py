"""The wallet pool file: agents with private keys encrypted at rest (scrypt + AES-256-GCM), mode 0600.

Every private key is sealed with a key derived from the passphrase and bound to its agent (id and
address as associated data), so a wrong passphrase, an edited record or swapped ciphertexts all fail
to open instead of yielding a wrong key. Writes are atomic: a crash leaves the old file or the new.
"""

from __future__ import annotations

import base64
import fcntl
import random
import secrets
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt
from pydantic import BaseModel, Field, ValidationError

from models.otto import EncryptedKey, WalletAgent
from store.files import write_atomically

FORMAT = "simctl-wallets/1"
_CHECK = b"simctl wallet passphrase check"


class WalletError(Exception):
    """A wallet file that cannot be used, in one line."""


class KdfParams(BaseModel):
    name: str = "scrypt"
    salt: str
    n: int = 2**15
    r: int = 8
    p: int = 1


class WalletFile(BaseModel):
    format: str = FORMAT
    kdf: KdfParams
    check: EncryptedKey = Field(description="a known text sealed with the key: tells a wrong passphrase apart")
    agents: list[WalletAgent] = Field(default_factory=list)
    genesis_export: str | None = None


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.b64decode(text.encode("ascii"), validate=True)


def _derive(passphrase: str, kdf: KdfParams) -> AESGCM:
    if kdf.name != "scrypt":
        raise WalletError(f"unsupported key derivation {kdf.name!r}")
    key = Scrypt(salt=_unb64(kdf.salt), length=32, n=kdf.n, r=kdf.r, p=kdf.p).derive(passphrase.encode("utf-8"))
    return AESGCM(key)


def _kdf_problem(kdf: KdfParams) -> str | None:
    """What makes these scrypt parameters unusable, or None.

    The bounds leave room above what `create` writes (n 2**15, r 8, p 1, 16 bytes of salt) but keep a
    damaged file from asking for gigabytes of memory or minutes of work.
    """
    if kdf.name != "scrypt":
        return None  # `_derive` names the unsupported derivation
    try:
        salt = _unb64(kdf.salt)
    except ValueError:
        return "kdf.salt is not base64"
    if len(salt) < 16:
        return f"kdf.salt has {len(salt)} bytes, fewer than 16"
    if not 2 <= kdf.n <= 2**20 or kdf.n & (kdf.n - 1):
        return f"kdf.n must be a power of two from 2 to 2**20, not {kdf.n}"
    if not 1 <= kdf.r <= 64 or not 1 <= kdf.p <= 16:
        return f"kdf.r must be 1 to 64 and kdf.p 1 to 16, not r={kdf.r}, p={kdf.p}"
    if 128 * kdf.r * kdf.n > 2**28:
        return f"kdf.n={kdf.n} with kdf.r={kdf.r} needs more than 256 MiB"
    return None


def _sealed_problem(sealed: EncryptedKey, where: str) -> str | None:
    """What makes a sealed value unreadable (not base64, a nonce that is not 12 bytes, no tag), or None."""
    try:
        nonce, ciphertext = _unb64(sealed.nonce), _unb64(sealed.ciphertext)
    except ValueError:
        return f"{where} is not base64"
    if len(nonce) != 12 or len(ciphertext) < 16:
        return f"{where} has a {len(nonce)}-byte nonce and {len(ciphertext)} bytes of ciphertext"
    return None


def _seal(cipher: AESGCM, plaintext: bytes, associated: bytes) -> EncryptedKey:
    nonce = secrets.token_bytes(12)
    return EncryptedKey(nonce=_b64(nonce), ciphertext=_b64(cipher.encrypt(nonce, plaintext, associated)))


def _open(cipher: AESGCM, sealed: EncryptedKey, associated: bytes) -> bytes:
    return cipher.decrypt(_unb64(sealed.nonce), _unb64(sealed.ciphertext), associated)


def _binding(agent_id: str, address: str) -> bytes:
    return f"{agent_id}\n{address}".encode()


@dataclass
class WalletStore:
    """An opened wallet file: agents in the clear, keys sealed until asked for one."""

    path: Path
    data: WalletFile
    _cipher: AESGCM = field(repr=False)

    @classmethod
    def create(cls, path: Path, passphrase: str) -> WalletStore:
        if not passphrase:
            raise WalletError("an empty passphrase would leave the keys unprotected")
        kdf = KdfParams(salt=_b64(secrets.token_bytes(16)))
        cipher = _derive(passphrase, kdf)
        data = WalletFile(kdf=kdf, check=_seal(cipher, _CHECK, b"check"))
        return cls(path=path, data=data, _cipher=cipher)

    @classmethod
    def open(cls, path: Path, passphrase: str) -> WalletStore:
        try:
            raw = path.read_bytes()
        except FileNotFoundError:
            raise WalletError(f"{path}: no such wallet file") from None
        except OSError as err:
            raise WalletError(f"{path}: {err.strerror}") from None
        try:
            data = WalletFile.model_validate_json(raw)
        except ValidationError as err:
            raise WalletError(f"{path} is not a wallet file ({_first_error(err)})") from None
        if data.format != FORMAT:
            raise WalletError(f"{path}: unknown wallet format {data.format!r}")
        # Only a check that fails to open means a wrong passphrase: unusable parameters mean a damaged file.
        problem = _kdf_problem(data.kdf) or _sealed_problem(data.check, "check")
        if problem is not None:
            raise WalletError(f"{path} is a corrupt wallet file ({problem})")
        cipher = _derive(passphrase, data.kdf)
        try:
            if _open(cipher, data.check, b"check") != _CHECK:
                raise InvalidTag
        except InvalidTag:
            raise WalletError(f"wrong passphrase for {path}") from None
        return cls(path=path, data=data, _cipher=cipher)

    @staticmethod
    def read_public(path: Path) -> WalletFile:
        """The file without its keys opened: addresses and profiles are public, no passphrase needed."""
        try:
            return WalletFile.model_validate_json(path.read_bytes())
        except FileNotFoundError:
            raise WalletError(f"{path}: no such wallet file") from None
        except ValidationError as err:
            raise WalletError(f"{path} is not a wallet file ({_first_error(err)})") from None

    @property
    def agents(self) -> list[WalletAgent]:
        return self.data.agents

    def agent(self, agent_id: str) -> WalletAgent:
        for agent in self.data.agents:
            if agent.id == agent_id:
                return agent
        raise WalletError(f"no agent {agent_id!r} in {self.path}")

    def add(self, agent_id: str, address: str, private_key: str, **public: object) -> WalletAgent:
        if any(existing.id == agent_id for existing in self.data.agents):
            raise WalletError(f"agent {agent_id!r} already exists in {self.path}")
        sealed = _seal(self._cipher, bytes.fromhex(private_key), _binding(agent_id, address))
        agent = WalletAgent(id=agent_id, address=address, private_key=sealed, **public)
        self.data.agents.append(agent)
        return agent

    def private_key(self, agent_id: str) -> str:
        agent = self.agent(agent_id)
        try:
            return _open(self._cipher, agent.private_key, _binding(agent.id, agent.address)).hex()
        except (InvalidTag, ValueError):
            raise WalletError(f"the key of {agent_id!r} in {self.path} does not open: the record was altered") from None

    def replace(self, agent: WalletAgent) -> None:
        for index, existing in enumerate(self.data.agents):
            if existing.id == agent.id:
                self.data.agents[index] = agent
                return
        raise WalletError(f"no agent {agent.id!r} in {self.path}")

    def save(self) -> None:
        write_atomically(self.path, self.data.model_dump_json(indent=2).encode("utf-8") + b"\n", mode=0o600)


def generate_pool(
    path: Path,
    passphrase: str,
    *,
    count: int,
    seed: int | None = None,
    progress: Callable[[range], Iterable[int]] = iter,
) -> WalletStore:
    """A new wallet file of ``count`` agents: fresh keys (always random), profiles and traits drawn from ``seed``."""
    from sim.otto.agents import agent_id, public_profile
    from sim.otto.signing import new_keypair

    store = WalletStore.create(path, passphrase)
    rng = random.Random(seed)
    for index in progress(range(count)):
        pair = new_keypair()
        store.add(
            agent_id(index), pair.address, pair.private_key, public_key=pair.public_key_id, **public_profile(index, rng)
        )
    store.save()
    return store


def extend_pool(path: Path, passphrase: str, count: int) -> list[WalletAgent]:
    """Add ``count`` agents with fresh keys to an existing pool and return them.

    Under an exclusive lock on a file beside the pool, so two workers that both need more agents add
    theirs one after the other instead of overwriting each other's. Ids continue the pool's numbering;
    profiles are drawn from the agent's index (the keys, as always, are random).
    """
    from sim.otto.agents import agent_id, public_profile
    from sim.otto.signing import new_keypair

    lock_path = path.resolve().with_name(f".{path.name}.lock")
    with open(lock_path, "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            store = WalletStore.open(path, passphrase)
            taken = {agent.id for agent in store.agents}
            index = len(store.agents)
            added: list[WalletAgent] = []
            while len(added) < count:
                if agent_id(index) not in taken:
                    pair = new_keypair()
                    added.append(
                        store.add(
                            agent_id(index),
                            pair.address,
                            pair.private_key,
                            public_key=pair.public_key_id,
                            **public_profile(index, random.Random(index)),
                        )
                    )
                index += 1
            if added:
                store.save()
            return added
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _first_error(err: ValidationError) -> str:
    first = err.errors()[0]
    # A key of a damaged file may hold control characters: quoted, the error stays one line.
    where = ".".join(str(part) if str(part).isprintable() else repr(str(part)) for part in first["loc"])
    return f"{where}: {first['msg']}" if where else first["msg"]
