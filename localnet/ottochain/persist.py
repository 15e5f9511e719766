"""The chain's state file: SQLite (WAL), written incrementally, one transaction per snapshot.

A snapshot writes only what it changed: the fibers it touched, the balances it moved, the rejections
and applied events it appended. A definition is stored once under its content hash, however many
fibers share it, so a snapshot's cost follows its own updates, not the size of the chain. Writes run
on one thread of their own, in order, so the event loop never waits on the disk.

A state file of the old format (the whole chain as one JSON document) beside an absent SQLite file is
migrated once and kept, renamed, as ``<name>.migrated``; a file at the SQLite path that is not SQLite is
refused.
"""

from __future__ import annotations

import concurrent.futures
import hashlib
import json
import logging
import sqlite3
import threading
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from localnet.ottochain.engine import Applied, ChainState, Fiber, Rejection

log = logging.getLogger(__name__)

SCHEMA_VERSION = 1
_SQLITE_MAGIC = b"SQLite format 3\x00"
_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS definitions (hash TEXT PRIMARY KEY, body TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS fibers (id TEXT PRIMARY KEY, definition TEXT NOT NULL, record TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS balances (address TEXT PRIMARY KEY, amount INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS rejections (seq INTEGER PRIMARY KEY, body TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS applied (seq INTEGER PRIMARY KEY, body TEXT NOT NULL);
"""


class StateFileError(Exception):
    """A state file this node cannot use, in one line."""


@dataclass
class Batch:
    """What one snapshot changed, already encoded: the writer thread only runs SQL."""

    ordinal: int
    snapshot_hash: str
    definitions: list[tuple[str, str]] = field(default_factory=list)
    fibers: list[tuple[str, str, str]] = field(default_factory=list)
    balances: list[tuple[str, int]] = field(default_factory=list)
    rejections: list[tuple[int, str]] = field(default_factory=list)
    applied: list[tuple[int, str]] = field(default_factory=list)


def definition_hash(definition: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(definition, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


def _record(fiber: Fiber) -> str:
    # The wire record less what is stored apart (the definition) or derived (the state data's hash).
    return json.dumps(
        {
            "fiberId": fiber.fiber_id,
            "creationOrdinal": fiber.creation_ordinal,
            "previousUpdateOrdinal": fiber.previous_update_ordinal,
            "latestUpdateOrdinal": fiber.latest_update_ordinal,
            "currentState": fiber.current_state,
            "stateData": fiber.state_data,
            "sequenceNumber": fiber.sequence_number,
            "owners": fiber.owners,
            "status": fiber.status,
            "lastReceipt": fiber.last_receipt,
            "parentFiberId": fiber.parent_fiber_id,
            "childFiberIds": fiber.child_fiber_ids,
        }
    )


class ChainStore:
    """One chain's SQLite file. ``load`` once, then ``save`` after each snapshot; ``close`` flushes."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._writer = concurrent.futures.ThreadPoolExecutor(max_workers=1, thread_name_prefix="ottochain-store")
        self._db: sqlite3.Connection | None = None
        self._definition_of: dict[str, str] = {}  # fiber id -> its definition's hash (a definition never changes)
        self._stored_definitions: set[str] = set()
        self._rejections = 0  # how many of each append-only list are stored
        self._applied = 0
        self._resync = False  # after a failed write: the next save writes everything
        self._lock = threading.Lock()
        self.last_error: str | None = None

    # --- opening ---------------------------------------------------------------------------------

    def load(self) -> ChainState:
        """The stored chain (empty if there is none yet), migrating an old JSON state file once."""
        legacy = self.path.with_suffix(".json")
        if self.path.exists():
            with self.path.open("rb") as head:
                if head.read(len(_SQLITE_MAGIC)) != _SQLITE_MAGIC:
                    raise StateFileError(
                        f"{self.path} is not an OttoChain state database (an old JSON state file belongs at "
                        f"{legacy.name}, from where it is migrated)"
                    )
            state = self._call(self._read)
        elif legacy.exists() and legacy != self.path:
            try:
                state = ChainState.from_json(legacy.read_text())
            except (ValueError, KeyError, TypeError) as err:
                raise StateFileError(f"{legacy} is not a readable OttoChain JSON state file: {err}") from None
            self._call(self._open)
            self.save(state, everything=True)
            self.flush()
            legacy.rename(legacy.with_name(legacy.name + ".migrated"))
            log.warning("migrated %s to %s at ordinal %d", legacy, self.path, state.ordinal)
        else:
            state = ChainState()  # the file is made by the first save: a start that fails leaves nothing
        self._rejections, self._applied = len(state.rejections), len(state.applied)
        return state

    def _call(self, function: Any) -> Any:
        return self._writer.submit(function).result()

    def _open(self) -> sqlite3.Connection:
        if self._db is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            try:
                db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
                db.execute("PRAGMA journal_mode=WAL")
                db.execute(
                    "PRAGMA synchronous=NORMAL"
                )  # WAL: a crash loses at most the last snapshots, never consistency
                db.executescript(_SCHEMA)
                version = db.execute("SELECT value FROM meta WHERE key = 'schema'").fetchone()
            except sqlite3.DatabaseError as err:
                raise StateFileError(f"{self.path} cannot be opened as the chain's state: {err}") from None
            if version is None:
                db.execute("INSERT INTO meta VALUES ('schema', ?)", (str(SCHEMA_VERSION),))
            elif int(version[0]) != SCHEMA_VERSION:
                raise StateFileError(f"{self.path} has state schema {version[0]}; this node reads {SCHEMA_VERSION}")
            self._db = db
        return self._db

    def _read(self) -> ChainState:
        db = self._open()
        meta = dict(db.execute("SELECT key, value FROM meta").fetchall())
        definitions: dict[str, dict[str, Any]] = {}
        for digest, body in db.execute("SELECT hash, body FROM definitions"):
            definitions[digest] = json.loads(body)  # one object per definition, shared by its fibers
        self._stored_definitions = set(definitions)
        fibers: dict[str, Fiber] = {}
        for fiber_id, digest, record in db.execute("SELECT id, definition, record FROM fibers ORDER BY rowid"):
            fibers[fiber_id] = Fiber.from_wire({**json.loads(record), "definition": definitions[digest]})
            self._definition_of[fiber_id] = digest
        state = ChainState(
            ordinal=int(meta.get("ordinal", 0)),
            last_snapshot_hash=meta.get("lastSnapshotHash", "0" * 64),
            fibers=fibers,
            balances=dict(db.execute("SELECT address, amount FROM balances ORDER BY rowid").fetchall()),
            rejections=[Rejection(**json.loads(b)) for (b,) in db.execute("SELECT body FROM rejections ORDER BY seq")],
            applied=[Applied(**json.loads(b)) for (b,) in db.execute("SELECT body FROM applied ORDER BY seq")],
        )
        for definition in definitions.values():  # later creates of a known definition share it too
            state.shared_definition(definition)
        return state

    # --- saving ----------------------------------------------------------------------------------

    def save(self, state: ChainState, *, everything: bool = False) -> Batch:
        """Queue what changed since the last save (``state.dirty_*``, appended list entries) for writing."""
        with self._lock:
            everything = everything or self._resync
            self._resync = False
        changed = state.fibers.keys() if everything else state.dirty_fibers
        batch = Batch(ordinal=state.ordinal, snapshot_hash=state.last_snapshot_hash)
        for fiber_id in changed:
            fiber = state.fibers.get(fiber_id)
            if fiber is None:
                continue
            digest = self._definition_of.get(fiber_id)
            if digest is None:
                digest = self._definition_of[fiber_id] = definition_hash(fiber.definition)
            if digest not in self._stored_definitions:
                self._stored_definitions.add(digest)
                batch.definitions.append((digest, json.dumps(fiber.definition)))
            batch.fibers.append((fiber_id, digest, _record(fiber)))
        addresses = state.balances.keys() if everything else state.dirty_balances
        batch.balances = [(address, state.balances[address]) for address in addresses if address in state.balances]
        first_rejection = 0 if everything else self._rejections
        batch.rejections = [
            (seq, json.dumps(asdict(r))) for seq, r in enumerate(state.rejections[first_rejection:], first_rejection)
        ]
        first_applied = 0 if everything else self._applied
        batch.applied = [
            (seq, json.dumps(asdict(a))) for seq, a in enumerate(state.applied[first_applied:], first_applied)
        ]
        self._rejections, self._applied = len(state.rejections), len(state.applied)
        state.dirty_fibers = {}
        state.dirty_balances = set()
        self._writer.submit(self._write, batch).add_done_callback(self._written)
        return batch

    def _write(self, batch: Batch) -> None:
        db = self._open()
        db.execute("BEGIN")
        try:
            db.executemany("INSERT OR IGNORE INTO definitions VALUES (?, ?)", batch.definitions)
            # An upsert keeps the row's rowid, so a restart lists the fibers in the order they were created.
            db.executemany(
                "INSERT INTO fibers VALUES (?, ?, ?) ON CONFLICT (id) DO UPDATE SET record = excluded.record",
                batch.fibers,
            )
            db.executemany(
                "INSERT INTO balances VALUES (?, ?) ON CONFLICT (address) DO UPDATE SET amount = excluded.amount",
                batch.balances,
            )
            db.executemany("INSERT OR REPLACE INTO rejections VALUES (?, ?)", batch.rejections)
            db.executemany("INSERT OR REPLACE INTO applied VALUES (?, ?)", batch.applied)
            db.executemany(
                "INSERT OR REPLACE INTO meta VALUES (?, ?)",
                [("ordinal", str(batch.ordinal)), ("lastSnapshotHash", batch.snapshot_hash)],
            )
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise

    def _written(self, future: concurrent.futures.Future[None]) -> None:
        error = future.exception()
        if error is None:
            return
        # The batch is lost, so the next save rewrites everything: the file never stays behind for good.
        with self._lock:
            self._resync = True
            self._stored_definitions = set()
        self.last_error = f"{type(error).__name__}: {error}"
        log.error("writing the chain state to %s failed: %s", self.path, self.last_error)

    def flush(self) -> None:
        """Wait until every queued save is written."""
        self._writer.submit(lambda: None).result()

    def close(self) -> None:
        self._writer.shutdown(wait=True)
        if self._db is not None:
            self._db.close()
            self._db = None
