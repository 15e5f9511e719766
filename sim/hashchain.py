"""Hash-chain rules: how an entry is built and how a stored chain is verified.

An entry's hash covers every field but itself, and names its predecessor's hash, so any change to a
stored row breaks either its own hash or the next row's link. The recorded head (length and last
hash) makes a truncated tail visible too.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Sequence
from typing import Any

from models.ledger import BreakKind, ChainBreak, ChainHead, ChainVerdict, LedgerEntry
from sim.canonical import canonical_json, sha256_hex

GENESIS_HASH = "0" * 64


# A pure function of its fields, recomputed for every entry each time a chain is verified (scenario C's buyer
# verifies its whole chain every morning): remembered, so only entries not seen before cost a canonical encoding.
@functools.lru_cache(maxsize=1 << 16)
def entry_hash(
    *,
    chain_id: str,
    seq: int,
    payload_hash: str,
    prev_hash: str,
    author: str,
    sim_time: int,
    idempotency_key: str,
) -> str:
    return sha256_hex(
        canonical_json(
            {
                "author": author,
                "chain_id": chain_id,
                "idempotency_key": idempotency_key,
                "payload_hash": payload_hash,
                "prev_hash": prev_hash,
                "seq": seq,
                "sim_time": sim_time,
            }
        )
    )


def make_entry(
    *,
    chain_id: str,
    seq: int,
    prev_hash: str,
    payload: dict[str, Any],
    author: str,
    sim_time: int,
    idempotency_key: str,
) -> LedgerEntry:
    payload_json = canonical_json(payload)
    payload_hash = sha256_hex(payload_json)
    return LedgerEntry(
        chain_id=chain_id,
        seq=seq,
        payload_json=payload_json,
        payload_hash=payload_hash,
        prev_hash=prev_hash,
        entry_hash=entry_hash(
            chain_id=chain_id,
            seq=seq,
            payload_hash=payload_hash,
            prev_hash=prev_hash,
            author=author,
            sim_time=sim_time,
            idempotency_key=idempotency_key,
        ),
        author=author,
        sim_time=sim_time,
        idempotency_key=idempotency_key,
    )


@functools.lru_cache(maxsize=1 << 16)
def payload_digest(payload_json: str) -> str:
    """sha256 of a payload's text, remembered: a chain read again and again (C's buyer every morning) hashes
    only the payloads it has not seen; a payload edited in place is different text, so it is hashed anew."""
    return sha256_hex(payload_json)


# A stored link as `chain_intact` takes it: (seq, payload_json, payload_hash, prev_hash, entry_hash, author,
# sim_time, idempotency_key), the columns of a row without building a LedgerEntry for it.
LinkFields = tuple[int, str, str, str, str, str, int, str]


def chain_intact(links: Sequence[LinkFields], *, chain_id: str, head: ChainHead | None) -> bool:
    """Whether ``verify_chain`` finds no broken link in these links (stored order) and this head: the same
    checks, without naming a break. For a chain read often and nearly always intact; when this says False,
    ``verify_chain`` names the first broken link."""
    prev_hash = GENESIS_HASH
    if head is not None and len(links) != head.length:
        return False
    for pos, (seq, payload_json, payload_hash, link_prev, link_hash, author, sim_time, key) in enumerate(links):
        if (
            seq != pos
            or link_prev != prev_hash
            or payload_digest(payload_json) != payload_hash
            or entry_hash(
                chain_id=chain_id,
                seq=seq,
                payload_hash=payload_hash,
                prev_hash=link_prev,
                author=author,
                sim_time=sim_time,
                idempotency_key=key,
            )
            != link_hash
        ):
            return False
        prev_hash = link_hash
    return head is None or not links or prev_hash == head.head_hash


def payload_of(entry: LedgerEntry) -> dict[str, Any]:
    payload: dict[str, Any] = json.loads(entry.payload_json)
    return payload


def recompute_hash(entry: LedgerEntry, *, seq: int | None = None) -> str:
    return entry_hash(
        chain_id=entry.chain_id,
        seq=entry.seq if seq is None else seq,
        payload_hash=entry.payload_hash,
        prev_hash=entry.prev_hash,
        author=entry.author,
        sim_time=entry.sim_time,
        idempotency_key=entry.idempotency_key,
    )


def is_self_consistent(entry: LedgerEntry) -> bool:
    return sha256_hex(entry.payload_json) == entry.payload_hash and recompute_hash(entry) == entry.entry_hash


def verify_chain(entries: Sequence[LedgerEntry], *, chain_id: str, head: ChainHead | None = None) -> ChainVerdict:
    """Check ``entries`` (stored order) from genesis and name the first broken link, if any."""
    broken = _first_break(entries, head)
    last_hash = entries[-1].entry_hash if entries else GENESIS_HASH
    return ChainVerdict(chain_id=chain_id, length=len(entries), head_hash=last_hash, broken=broken)


def verify_segment(entries: Sequence[LedgerEntry], *, prev_hash: str) -> ChainBreak | None:
    """Check a batch before it is written: consecutive, self-consistent, linked from ``prev_hash``."""
    expected_prev = prev_hash
    first_seq = entries[0].seq if entries else 0
    for offset, entry in enumerate(entries):
        if entry.seq != first_seq + offset:
            return _break(offset, entry.seq, "reordered", "sequence numbers are not consecutive")
        if not is_self_consistent(entry):
            return _break(offset, entry.seq, "modified", "entry does not match its own hashes")
        if entry.prev_hash != expected_prev:
            return _break(offset, entry.seq, "modified", "entry does not link to its predecessor")
        expected_prev = entry.entry_hash
    return None


def _break(position: int, seq: int, kind: BreakKind, detail: str) -> ChainBreak:
    return ChainBreak(position=position, seq=seq, kind=kind, detail=detail)


def _first_break(entries: Sequence[LedgerEntry], head: ChainHead | None) -> ChainBreak | None:
    prev_hash = GENESIS_HASH
    for pos, entry in enumerate(entries):
        if entry.seq != pos:
            return _misplaced(entries, pos, head)
        if head is not None and pos >= head.length:
            return _inserted_before(entries, pos) or _break(
                pos, pos, "inserted", f"entry beyond the recorded head ({head.length} entries)"
            )
        if sha256_hex(entry.payload_json) != entry.payload_hash:
            return _break(pos, pos, "modified", "payload does not match its hash")
        if recompute_hash(entry) != entry.entry_hash:
            return _altered_fields(entries, pos)
        if entry.prev_hash != prev_hash:
            return _relinked(entries, pos, head)
        prev_hash = entry.entry_hash

    if head is not None:
        if len(entries) < head.length:
            missing = len(entries)
            return _break(missing, missing, "deleted", f"entry seq {missing} is missing (head records {head.length})")
        if entries and entries[-1].entry_hash != head.head_hash:
            last = len(entries) - 1
            return _break(last, last, "modified", "last entry no longer matches the recorded head hash")
    return None


def _misplaced(entries: Sequence[LedgerEntry], pos: int, head: ChainHead | None) -> ChainBreak:
    """The entry at ``pos`` carries another sequence number: deleted, inserted or reordered."""
    entry = entries[pos]
    later_seqs = {e.seq for e in entries[pos + 1 :]}
    if entry.seq > pos:
        if any(e.entry_hash == entry.entry_hash for e in entries[pos + 1 :]):
            # The same row again at its own place: this one is a copy put in ahead of it, not a move.
            return _break(pos, entry.seq, "inserted", f"a copy of entry seq {entry.seq} stored where seq {pos} belongs")
        if pos in later_seqs:
            return _break(pos, entry.seq, "reordered", f"entry seq {entry.seq} stored where seq {pos} belongs")
        return _break(pos, pos, "deleted", f"entry seq {pos} is missing")
    if entry.seq == pos - 1:
        return _fork(entries, pos, head)
    earlier_seqs = {e.seq for e in entries[:pos]}
    if entry.seq in earlier_seqs:
        return _break(pos, entry.seq, "inserted", f"a second entry with seq {entry.seq}")
    return _break(pos, entry.seq, "reordered", f"entry seq {entry.seq} stored where seq {pos} belongs")


def _fork(entries: Sequence[LedgerEntry], pos: int, head: ChainHead | None) -> ChainBreak:
    """Two entries claim the same seq; the genuine one is the one its successor (or the head) names."""
    accepted, entry = entries[pos - 1], entries[pos]
    if entry.entry_hash != accepted.entry_hash and _attested(entries, pos, head):
        return _break(pos - 1, accepted.seq, "inserted", f"entry not part of the chain: a second seq {accepted.seq}")
    return _break(pos, entry.seq, "inserted", f"a second entry with seq {entry.seq}")


def _inserted_before(entries: Sequence[LedgerEntry], pos: int) -> ChainBreak | None:
    """The entry before ``pos`` as an insertion, if ``entries[pos]`` was written one seq earlier and links past it.

    Such an entry still names the hash of the entry two places back: its predecessor was put in between
    (the later rows renumbered to make room), and that predecessor is the tampered row, not this one.
    """
    entry = entries[pos]
    skipped = entries[pos - 2].entry_hash if pos >= 2 else GENESIS_HASH
    if pos > 0 and entry.prev_hash == skipped and recompute_hash(entry, seq=pos - 1) == entry.entry_hash:
        detail = f"entry not part of the chain: the next one, written as seq {pos - 1}, links past it"
        return _break(pos - 1, pos - 1, "inserted", detail)
    return None


def _altered_fields(entries: Sequence[LedgerEntry], pos: int) -> ChainBreak:
    entry = entries[pos]
    inserted = _inserted_before(entries, pos)
    if inserted is not None:
        return inserted
    # A row whose hash is right for another seq was moved, not edited.
    for original_seq in range(len(entries) + 1):
        if original_seq != entry.seq and recompute_hash(entry, seq=original_seq) == entry.entry_hash:
            return _break(pos, pos, "reordered", f"entry written as seq {original_seq} stored as seq {pos}")
    return _break(pos, pos, "modified", "entry fields do not match its hash")


def _relinked(entries: Sequence[LedgerEntry], pos: int, head: ChainHead | None) -> ChainBreak:
    """``entries[pos]`` does not link to its self-consistent predecessor: which of the two changed?"""
    if pos > 0 and _attested(entries, pos, head):
        # The entry still names the original predecessor, so the predecessor was rewritten.
        return _break(pos - 1, pos - 1, "modified", "entry rewritten: its successor links to a different hash")
    return _break(pos, pos, "modified", "entry does not link to its predecessor")


def _attested(entries: Sequence[LedgerEntry], pos: int, head: ChainHead | None) -> bool:
    """Whether the rest of the chain vouches for ``entries[pos]``: its successor or the head names its hash."""
    entry_hash_ = entries[pos].entry_hash
    if pos + 1 < len(entries):
        return entries[pos + 1].prev_hash == entry_hash_
    return head is not None and head.head_hash == entry_hash_
