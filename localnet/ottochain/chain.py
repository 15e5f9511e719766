"""The embedded chain: a DL1 queue, ML0 snapshots, currency balances, and an optional state file (SQLite,
written incrementally off the event loop: see persist.py).

Updates accepted by DL1 become visible on ML0 only at the next snapshot, so clients must handle
"accepted, not yet on chain" exactly as on a real network. Everything runs on one event loop, so the
state needs no locks.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any

from constellation_sdk.currency_transaction import hash_currency_transaction, verify_currency_transaction
from constellation_sdk.currency_types import CurrencyTransactionValue
from constellation_sdk.currency_types import TransactionReference as SdkReference
from constellation_sdk.types import SignatureProof as SdkProof
from constellation_sdk.types import Signed
from pydantic import BaseModel, ConfigDict, Field, StrictInt, ValidationError, field_validator

from localnet.ottochain.engine import (
    ChainState,
    PendingUpdate,
    Proof,
    UpdateRejected,
    combine,
    validate_against_chain,
    validate_message,
)
from localnet.ottochain.genesis import read_genesis
from localnet.ottochain.limits import MAX_LONG, clip
from localnet.ottochain.persist import ChainStore
from models.otto import SignedUpdate
from sim.otto.messages import CREATE_STATE_MACHINE
from sim.otto.signing import InvalidSignature, dag_address, is_dag_address, update_hash, valid_signers

log = logging.getLogger(__name__)

GENESIS_REFERENCE = {"hash": "0" * 64, "ordinal": 0}
MIN_SNAPSHOT_INTERVAL = 0.01  # seconds: the loop never spins, whatever the knob says


class TransactionReference(BaseModel):
    model_config = ConfigDict(extra="forbid")

    hash: str = Field(pattern="^[0-9a-fA-F]{64}$")
    ordinal: StrictInt = Field(ge=0, le=MAX_LONG)


class TransactionValue(BaseModel):
    """A currency transaction's value as CL1 reads it: Tessellation's PosLong amount, NonNegLong fee."""

    model_config = ConfigDict(extra="forbid")

    source: str
    destination: str
    amount: StrictInt = Field(ge=1, le=MAX_LONG)
    fee: StrictInt = Field(ge=0, le=MAX_LONG)
    parent: TransactionReference
    salt: StrictInt | Annotated[str, Field(pattern="^-?[0-9]{1,20}$")]

    @field_validator("source", "destination")
    @classmethod
    def _address(cls, address: str) -> str:
        if not is_dag_address(address):
            raise ValueError("not a DAG address")
        return address

    @field_validator("salt")
    @classmethod
    def _long(cls, salt: int | str) -> int | str:
        if not -(2**63) <= int(salt) <= MAX_LONG:
            raise ValueError("salt must fit a Long")
        return salt


class TransactionProof(BaseModel):
    id: str = Field(pattern="^[0-9a-fA-F]{128}$")
    signature: str = Field(pattern="^[0-9a-fA-F]{2,200}$")


class TransactionBody(BaseModel):
    value: TransactionValue
    proofs: list[TransactionProof] = Field(min_length=1, max_length=10)


def _first_problem(err: ValidationError) -> str:
    first = err.errors()[0]
    where = ".".join(str(part) for part in first["loc"]) or "body"
    return f"{where}: {first['msg']}"


@dataclass
class Faults:
    """Knobs for misbehaviour: what later tests and benchmarks use to prove the clients cope."""

    error_rate: float = 0.0  # share of requests answered with a 5xx
    latency: float = 0.0  # seconds added to every request
    snapshot_interval: float = 0.2  # seconds between snapshots
    snapshot_stall: bool = False  # no snapshots at all while set
    # Every n-th valid data update (0: none) DL1 acknowledges and then loses, as a node that dies before its
    # next snapshot does: the client holds a hash that is never applied nor rejected.
    forget_every: int = 0
    seed: int = 0


@dataclass
class PendingTransfer:
    hash: str
    source: str
    destination: str
    amount: int
    fee: int
    parent_ordinal: int


@dataclass
class Chain:
    faults: Faults = field(default_factory=Faults)
    state_file: Path | None = None
    state: ChainState = field(default_factory=ChainState)
    pending: list[PendingUpdate] = field(default_factory=list)
    transfers: list[PendingTransfer] = field(default_factory=list)
    last_references: dict[str, dict[str, Any]] = field(default_factory=dict)
    injected: Counter[str] = field(default_factory=Counter)
    accepted_updates: int = 0  # valid data updates DL1 acknowledged, lost ones included
    # The snapshot loop: a failed snapshot is logged and counted, and the loop goes on; `loop_ended`
    # is set once it stops (cancelled, or killed by what it could not catch), which /health reports.
    snapshot_failures: int = 0
    last_snapshot_error: str | None = None
    loop_ended: str | None = None
    last_snapshot_seconds: float = 0.0  # the last snapshot's time on the event loop (the file is written apart)
    _snapshot_event: asyncio.Event | None = None

    def __post_init__(self) -> None:
        self.rng = random.Random(self.faults.seed)
        self.store: ChainStore | None = None
        if self.state_file is not None:
            self.store = ChainStore(self.state_file)
            try:
                self.state = self.store.load()
            except BaseException:
                self.store.close()
                raise
            if self.state.ordinal:
                log.info("OttoChain state restored from %s at ordinal %d", self.state_file, self.state.ordinal)

    def close(self) -> None:
        """Write what is still queued and close the state file."""
        if self.store is not None:
            self.store.close()

    # --- genesis and currency ------------------------------------------------------------------

    def load_genesis(self, path: Path) -> int:
        """`address,balance` lines (balance in 1e-8 units), as the metagraph's genesis.csv."""
        rows = read_genesis(path)  # a malformed file is refused even by a chain that would not use it
        if self.state.ordinal > 0:
            return 0  # a chain that already ran keeps its balances
        for address, amount in rows:
            self.state.balances[address] = self.state.balances.get(address, 0) + amount
            self.state.dirty_balances.add(address)
        return len(rows)

    def balance(self, address: str) -> int:
        return self.state.balances.get(address, 0)

    def faucet(self, address: str, amount: int) -> None:
        self.state.balances[address] = self.balance(address) + amount
        self.state.dirty_balances.add(address)

    def last_reference(self, address: str) -> dict[str, Any]:
        return self.last_references.get(address, GENESIS_REFERENCE)

    def submit_transfer(self, body: Any) -> str:
        """CL1: verify a signed currency transaction and queue it for the next snapshot.

        Amounts are positive Longs and fees non-negative ones: a negative amount, signed by its source,
        would otherwise move funds from the destination without the destination's signature.
        """
        try:
            parsed = TransactionBody.model_validate(body)
        except ValidationError as err:
            raise UpdateRejected("InvalidTransaction", f"malformed transaction: {_first_problem(err)}") from None
        value = parsed.value
        if value.source == value.destination:
            raise UpdateRejected("SameSourceAndDestinationAddress", "a transaction cannot pay its own source")
        transaction = Signed(
            value=CurrencyTransactionValue(
                source=value.source,
                destination=value.destination,
                amount=value.amount,
                fee=value.fee,
                parent=SdkReference(hash=value.parent.hash, ordinal=value.parent.ordinal),
                salt=str(value.salt),
            ),
            proofs=[SdkProof(id=p.id, signature=p.signature) for p in parsed.proofs],
        )
        try:
            verified = verify_currency_transaction(transaction).is_valid
        except Exception:  # the SDK raises on signatures that are not DER at all
            verified = False
        if not verified:
            raise UpdateRejected("InvalidSignature", "transaction signature does not verify")
        source = transaction.value.source
        if dag_address(transaction.proofs[0].id) != source:
            raise UpdateRejected("InvalidSigner", "transaction is not signed by its source")
        if transaction.value.parent.hash != self.last_reference(source)["hash"]:
            raise UpdateRejected("ParentMismatch", "transaction parent is not the source's last reference")
        spent = sum(t.amount + t.fee for t in self.transfers if t.source == source)
        if self.balance(source) - spent < transaction.value.amount + transaction.value.fee:
            raise UpdateRejected("InsufficientBalance", f"{source} cannot cover {transaction.value.amount}")
        tx_hash = hash_currency_transaction(transaction).value
        self.transfers.append(
            PendingTransfer(
                hash=tx_hash,
                source=source,
                destination=transaction.value.destination,
                amount=transaction.value.amount,
                fee=transaction.value.fee,
                parent_ordinal=transaction.value.parent.ordinal,
            )
        )
        self.last_references[source] = {"hash": tx_hash, "ordinal": transaction.value.parent.ordinal + 1}
        return tx_hash

    # --- data updates (DL1) ----------------------------------------------------------------------

    def submit(self, signed: SignedUpdate) -> str:
        """DL1 `POST /data`: validate, verify signatures, validate against the chain, queue. Returns the hash.

        A value already queued is accepted again with the same hash instead of being queued twice, but
        only with valid signatures: a forged proof over a queued value is refused like any other.
        """
        validate_message(signed.value)  # first: a value the chain could not hash has no digest
        digest = update_hash(signed.value)
        if not signed.proofs:
            raise UpdateRejected("NoProofsProvided", "an update needs at least one signature")
        try:
            signer_ids = valid_signers(signed, digest=digest)
            addresses = [dag_address(key_id) for key_id in signer_ids]
        except (InvalidSignature, ValueError) as err:
            raise UpdateRejected("InvalidSignature", clip(str(err))) from None
        if any(update.hash == digest for update in self.pending):
            return digest
        proofs = tuple(
            Proof(address=address, id=key_id, signature=proof.signature)
            for address, key_id, proof in zip(addresses, signer_ids, signed.proofs, strict=True)
        )
        update = PendingUpdate(message=dict(signed.value), proofs=proofs, hash=digest)
        # Queued creates passed this same validation, so each has a string fiberId.
        pending_creates = [u.body["fiberId"] for u in self.pending if u.kind == CREATE_STATE_MACHINE]
        validate_against_chain(self.state, update, pending_creates)
        self.accepted_updates += 1
        if self.faults.forget_every and self.accepted_updates % self.faults.forget_every == 0:
            self.injected["forgotten"] += 1
            return digest
        self.pending.append(update)
        return digest

    # --- snapshots (ML0) -------------------------------------------------------------------------

    def snapshot(self) -> int:
        started = time.perf_counter()
        updates, self.pending = self.pending, []
        transfers, self.transfers = self.transfers, []
        combine(self.state, updates)
        for transfer in transfers:
            if self.balance(transfer.source) >= transfer.amount + transfer.fee:
                self.state.balances[transfer.source] -= transfer.amount + transfer.fee
                self.state.dirty_balances.add(transfer.source)
                self.faucet(transfer.destination, transfer.amount)
        try:
            if self.store is not None:
                self.store.save(self.state)
        finally:  # the snapshot happened in memory: whoever waits for it is told, even if the file was not written
            self.last_snapshot_seconds = time.perf_counter() - started
            if self._snapshot_event is not None:
                self._snapshot_event.set()
                self._snapshot_event = asyncio.Event()
        return self.state.ordinal

    async def produce_snapshots(self) -> None:
        """Snapshot at the configured interval until cancelled; a stall pauses it.

        A snapshot that raises is logged and counted and the next one is tried: one bad update, or a
        full disk, must not stop the chain while /health still says ok.
        """
        self._snapshot_event = asyncio.Event()
        self.loop_ended = None
        try:
            while True:
                await asyncio.sleep(max(MIN_SNAPSHOT_INTERVAL, self.faults.snapshot_interval))
                if self.faults.snapshot_stall:
                    continue
                try:
                    self.snapshot()
                except Exception as err:
                    self.snapshot_failures += 1
                    self.last_snapshot_error = clip(f"{type(err).__name__}: {err}")
                    log.exception("snapshot %d failed (%d so far)", self.state.ordinal, self.snapshot_failures)
        except asyncio.CancelledError:
            self.loop_ended = "stopped"
            raise
        except BaseException as err:
            self.loop_ended = clip(f"died: {type(err).__name__}: {err}")
            log.critical("the snapshot loop died: no more snapshots", exc_info=True)
            raise

    def snapshot_health(self) -> dict[str, Any]:
        """The snapshot loop as /health reports it: running unless it has ended."""
        return {
            "running": self.loop_ended is None,
            "ended": self.loop_ended,
            "ordinal": self.state.ordinal,
            "failures": self.snapshot_failures,
            "lastError": self.last_snapshot_error or (self.store.last_error if self.store else None),
            "lastSeconds": round(self.last_snapshot_seconds, 6),
        }

    async def next_snapshot(self, timeout: float) -> None:
        """Wait until the next snapshot (used by the bridge's wait-for-sync)."""
        if self._snapshot_event is None:
            await asyncio.sleep(timeout)
            return
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._snapshot_event.wait(), timeout)

    # --- faults ----------------------------------------------------------------------------------

    def draw_fault(self) -> str | None:
        """None, or when to fail this request: 'before' it is handled, or 'after' (reply lost)."""
        if self.faults.error_rate and self.rng.random() < self.faults.error_rate:
            when = self.rng.choice(("before", "after"))
            self.injected[when] += 1
            return when
        return None
