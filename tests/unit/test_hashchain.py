"""Hash-chain rules: an untouched chain verifies; any single tampering is named at the right position."""

from __future__ import annotations

import hashlib

from hypothesis import assume, given
from hypothesis import strategies as st

from models.ledger import ChainHead, LedgerEntry
from sim.canonical import canonical_json
from sim.hashchain import GENESIS_HASH, LinkFields, chain_intact, make_entry, verify_chain, verify_segment

CHAIN = "test-chain"

payloads = st.dictionaries(
    st.text(min_size=1, max_size=6),
    st.one_of(st.integers(-(2**40), 2**40), st.text(max_size=8), st.booleans(), st.none()),
    max_size=4,
)


def build_chain(items: list[dict], authors: list[str]) -> list[LedgerEntry]:
    chain: list[LedgerEntry] = []
    prev = GENESIS_HASH
    for seq, payload in enumerate(items):
        entry = make_entry(
            chain_id=CHAIN,
            seq=seq,
            prev_hash=prev,
            payload=payload,
            author=authors[seq % len(authors)],
            sim_time=seq * 86_400,
            idempotency_key=f"wf-1/{CHAIN}/{seq}",
        )
        chain.append(entry)
        prev = entry.entry_hash
    return chain


chains = st.builds(
    build_chain,
    st.lists(payloads, min_size=1, max_size=15),
    st.lists(st.sampled_from(["buyer-1", "seller-2", "exchange"]), min_size=1, max_size=3),
)


def head_of(chain: list[LedgerEntry]) -> ChainHead:
    return ChainHead(chain_id=CHAIN, length=len(chain), head_hash=chain[-1].entry_hash)


def first_difference(original: list[LedgerEntry], tampered: list[LedgerEntry]) -> int:
    for index, (a, b) in enumerate(zip(original, tampered, strict=False)):
        if a != b:
            return index
    return min(len(original), len(tampered))


def links(chain: list[LedgerEntry]) -> list[LinkFields]:
    fields = ("seq", "payload_json", "payload_hash", "prev_hash", "entry_hash", "author", "sim_time", "idempotency_key")
    return [tuple(getattr(entry, name) for name in fields) for entry in chain]


def verify(original: list[LedgerEntry], tampered: list[LedgerEntry]):
    verdict = verify_chain(tampered, chain_id=CHAIN, head=head_of(original))
    assert verdict.broken is not None, "tampering went unnoticed"
    assert not chain_intact(links(tampered), chain_id=CHAIN, head=head_of(original)), "the quick check missed it"
    assert verdict.broken.position == first_difference(original, tampered)
    return verdict.broken


@given(chains)
def test_untouched_chain_verifies(chain):
    verdict = verify_chain(chain, chain_id=CHAIN, head=head_of(chain))
    assert verdict.ok
    assert chain_intact(links(chain), chain_id=CHAIN, head=head_of(chain))
    assert chain_intact(links(chain), chain_id=CHAIN, head=None)
    assert verdict.length == len(chain)
    assert verdict.head_hash == chain[-1].entry_hash


@given(chains, st.data())
def test_modified_payload_is_named(chain, data):
    index = data.draw(st.integers(0, len(chain) - 1))
    new_payload = data.draw(payloads)
    assume(canonical_json(new_payload) != chain[index].payload_json)
    tampered = list(chain)
    tampered[index] = chain[index].model_copy(update={"payload_json": canonical_json(new_payload)})
    broken = verify(chain, tampered)
    assert broken.kind == "modified"


@given(chains, st.data())
def test_modified_field_is_named(chain, data):
    index = data.draw(st.integers(0, len(chain) - 1))
    field, value = data.draw(
        st.one_of(
            st.tuples(st.just("author"), st.text(max_size=8)),
            st.tuples(st.just("sim_time"), st.integers(0, 10**9)),
            st.tuples(st.just("idempotency_key"), st.text(min_size=1, max_size=8)),
        )
    )
    assume(getattr(chain[index], field) != value)
    tampered = list(chain)
    tampered[index] = chain[index].model_copy(update={field: value})
    broken = verify(chain, tampered)
    assert broken.kind == "modified"


@given(chains, st.data())
def test_rewritten_entry_with_fresh_hashes_is_named(chain, data):
    """An attacker who recomputes the row's own hashes is betrayed by the next link or the head."""
    index = data.draw(st.integers(0, len(chain) - 1))
    original = chain[index]
    new_payload = data.draw(payloads)
    assume(canonical_json(new_payload) != original.payload_json)
    tampered = list(chain)
    tampered[index] = make_entry(
        chain_id=CHAIN,
        seq=original.seq,
        prev_hash=original.prev_hash,
        payload=new_payload,
        author=original.author,
        sim_time=original.sim_time,
        idempotency_key=original.idempotency_key,
    )
    broken = verify(chain, tampered)
    assert broken.kind == "modified"


@given(chains, st.data())
def test_deleted_entry_is_named(chain, data):
    index = data.draw(st.integers(0, len(chain) - 1))
    tampered = chain[:index] + chain[index + 1 :]
    broken = verify(chain, tampered)
    assert broken.kind == "deleted"
    assert broken.seq == index


@given(chains, st.data())
def test_inserted_forgery_is_named(chain, data):
    """A well-formed sibling (right seq, right predecessor, own hashes valid) is still caught."""
    index = data.draw(st.integers(0, len(chain)))
    prev = chain[index - 1].entry_hash if index > 0 else GENESIS_HASH
    forged = make_entry(
        chain_id=CHAIN,
        seq=index,
        prev_hash=prev,
        payload=data.draw(payloads) | {"forged": True},
        author="mallory",
        sim_time=0,
        idempotency_key=f"forged/{index}",
    )
    tampered = [*chain[:index], forged, *chain[index:]]
    broken = verify(chain, tampered)
    assert broken.kind == "inserted"


@given(chains, st.data())
def test_inserted_forgery_with_the_later_rows_renumbered_is_named(chain, data):
    """A consistent forgery linked to its predecessor, the rows after it moved up one seq to make room."""
    index = data.draw(st.integers(0, len(chain) - 1))
    prev = chain[index - 1].entry_hash if index > 0 else GENESIS_HASH
    forged = make_entry(
        chain_id=CHAIN,
        seq=index,
        prev_hash=prev,
        payload=data.draw(payloads) | {"forged": True},
        author="mallory",
        sim_time=0,
        idempotency_key=f"forged/{index}",
    )
    moved = [entry.model_copy(update={"seq": entry.seq + 1}) for entry in chain[index:]]
    broken = verify(chain, [*chain[:index], forged, *moved])
    assert (broken.kind, broken.seq) == ("inserted", index)


@given(chains, st.data())
def test_inserted_copy_is_named(chain, data):
    """A second copy of a genuine row, before or after the original, is an insertion, not a reorder."""
    index = data.draw(st.integers(0, len(chain)))
    copy = chain[data.draw(st.integers(0, len(chain) - 1))]
    tampered = [*chain[:index], copy, *chain[index:]]
    broken = verify(chain, tampered)
    assert broken.kind == "inserted"


@given(chains, st.data())
def test_swapped_entries_are_named(chain, data):
    assume(len(chain) >= 2)
    i = data.draw(st.integers(0, len(chain) - 2))
    j = data.draw(st.integers(i + 1, len(chain) - 1))
    tampered = list(chain)
    tampered[i], tampered[j] = tampered[j], tampered[i]
    broken = verify(chain, tampered)
    assert broken.kind == "reordered"


@given(chains, st.data())
def test_swapped_sequence_numbers_are_named(chain, data):
    """In the store rows come back in seq order, so a reorder shows as rows whose seq was exchanged."""
    assume(len(chain) >= 2)
    i = data.draw(st.integers(0, len(chain) - 2))
    j = data.draw(st.integers(i + 1, len(chain) - 1))
    tampered = list(chain)
    tampered[i] = chain[j].model_copy(update={"seq": i})
    tampered[j] = chain[i].model_copy(update={"seq": j})
    broken = verify(chain, tampered)
    assert broken.kind == "reordered"


def test_verification_without_head_cannot_see_a_truncated_tail():
    """Why the store keeps a head: a chain alone cannot tell a deleted last entry from none."""
    chain = build_chain([{"n": 1}, {"n": 2}, {"n": 3}], ["a"])
    assert verify_chain(chain[:-1], chain_id=CHAIN).ok
    broken = verify_chain(chain[:-1], chain_id=CHAIN, head=head_of(chain)).broken
    assert broken is not None and broken.kind == "deleted" and broken.seq == 2
    assert chain_intact(links(chain[:-1]), chain_id=CHAIN, head=None)
    assert not chain_intact(links(chain[:-1]), chain_id=CHAIN, head=head_of(chain))


@given(chains)
def test_segment_check_accepts_a_true_continuation_and_rejects_a_gap(chain):
    assert verify_segment(chain, prev_hash=GENESIS_HASH) is None
    if len(chain) >= 3:
        gapped = [chain[0], chain[2]]
        assert verify_segment(gapped, prev_hash=GENESIS_HASH) is not None
    assert verify_segment(chain[1:], prev_hash=GENESIS_HASH) is not None or len(chain) == 1


def test_hashes_are_sha256_of_canonical_json():
    """The hash is part of the stored format: spelled out here so a change to it cannot slip by."""
    entry = make_entry(
        chain_id="c",
        seq=0,
        prev_hash=GENESIS_HASH,
        payload={"b": 1, "a": [1, "x"]},
        author="me",
        sim_time=5,
        idempotency_key="k",
    )
    assert entry.payload_json == '{"a":[1,"x"],"b":1}'
    assert entry.payload_hash == hashlib.sha256(b'{"a":[1,"x"],"b":1}').hexdigest()
    header = (
        f'{{"author":"me","chain_id":"c","idempotency_key":"k","payload_hash":"{entry.payload_hash}",'
        f'"prev_hash":"{GENESIS_HASH}","seq":0,"sim_time":5}}'
    )
    assert entry.entry_hash == hashlib.sha256(header.encode()).hexdigest()
