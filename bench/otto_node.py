"""The embedded OttoChain node's own costs, in CPU time of this process (so a loaded machine distorts them
less than wall time): verifying one signature, and persisting one snapshot as the chain grows.

    python -m bench.otto_node [--signatures 200] [--fibers 1000 10000]

Signatures: the constellation SDK's pure-Python ECDSA against libsecp256k1 (coincurve), both over the same
DataUpdate digests. Persistence: one snapshot that moves one fiber, on a chain of N fibers, written the old
way (the whole state as one JSON file) and the new way (SQLite, what changed); and the memory a fiber takes
(RSS growth while the chain is built, so only the first size's figure is clean of reused heap).
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from constellation_sdk import sign_hash
from constellation_sdk.verify import verify_hash

from bench.machine import describe_machine
from localnet.ottochain.engine import ChainState, PendingUpdate, Proof, combine
from localnet.ottochain.persist import ChainStore
from sim.otto.fibers import FIBER_KINDS
from sim.otto.messages import create_state_machine, transition_state_machine
from sim.otto.signing import new_keypair, update_hash, verify_digest
from store.files import write_atomically

OWNER = new_keypair()


def cpu(action: Callable[[], object], repeat: int = 1) -> float:
    """CPU seconds of this process per call."""
    started = time.process_time()
    for _ in range(repeat):
        action()
    return (time.process_time() - started) / repeat


def signatures(count: int) -> None:
    digests = [update_hash({"n": index}) for index in range(count)]
    signed = [(digest, sign_hash(digest, OWNER.private_key)) for digest in digests]
    sdk = cpu(lambda: [verify_hash(d, s, OWNER.public_key_id) for d, s in signed]) / count
    native = cpu(lambda: [verify_digest(d, s, OWNER.public_key_id) for d, s in signed]) / count
    print(f"verify one signature:  SDK (pure Python) {sdk * 1e6:,.0f} µs, coincurve {native * 1e6:,.0f} µs")


def update(message: dict, index: int) -> PendingUpdate:
    proof = Proof(address=OWNER.address, id=OWNER.public_key_id, signature="unchecked")
    return PendingUpdate(message=message, proofs=(proof,), hash=f"{index:064x}")


def grown_chain(fibers: int, kind_name: str) -> ChainState:
    """A chain of ``fibers`` fibers of one kind (its real definition), each created once."""
    kind = FIBER_KINDS[kind_name]
    definition = kind.definition()
    state = ChainState()
    batch = 500
    for start in range(0, fibers, batch):
        creates = [
            update(create_state_machine(f"f-{i}", definition, {"proposer": OWNER.address}), i)
            for i in range(start, min(fibers, start + batch))
        ]
        combine(state, creates)
    return state


def rss_kib() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def persistence(fibers: int, scratch: Path, kind: str) -> None:
    before = rss_kib()
    state = grown_chain(fibers, kind)
    per_fiber = (rss_kib() - before) / fibers
    old_file = scratch / f"old-{fibers}.json"
    whole = cpu(lambda: write_atomically(old_file, state.to_json().encode("utf-8")), repeat=3)
    store = ChainStore(scratch / f"new-{fibers}.db")
    store.load()
    store.save(state, everything=True)
    store.flush()
    moved = next(iter(state.fibers))
    event = {"eventName": "nothing"}

    def one_snapshot() -> None:
        # A rejected move still touches nothing; a receipt-only change marks the fiber as a real move would.
        fiber = state.fibers[moved]
        combine(state, [update(transition_state_machine(moved, "x", event, fiber.sequence_number), 10**9)])
        state.dirty_fibers[moved] = None
        store.save(state)
        store.flush()

    incremental = cpu(one_snapshot, repeat=20)
    store.close()
    print(
        f"one snapshot, {fibers:>7,} {kind} fibers: whole-state JSON {whole * 1000:8.1f} ms "
        f"({old_file.stat().st_size / 2**20:.1f} MiB a write), "
        f"SQLite incremental {incremental * 1000:6.2f} ms "
        f"(file {sum(p.stat().st_size for p in scratch.glob(f'new-{fibers}.db*')) / 2**20:.1f} MiB in all); "
        f"memory {per_fiber:.1f} KiB a fiber"
    )


def main(args: argparse.Namespace) -> None:
    print(f"machine: {describe_machine()}")
    signatures(args.signatures)
    with tempfile.TemporaryDirectory(prefix="simctl-bench-node-") as scratch:
        for fibers in args.fibers:
            persistence(fibers, Path(scratch), args.kind)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--signatures", type=int, default=200)
    parser.add_argument("--fibers", type=int, nargs="+", default=[1000, 10000])
    parser.add_argument("--kind", default="Contract", choices=sorted(FIBER_KINDS), help="the fibers' type")
    main(parser.parse_args())
