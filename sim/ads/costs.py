"""What scenario C's ledger costs: Sui objects plus Walrus blobs (reference: adtech.md).

Sui (MIST, 1 SUI = 1e9 MIST):
    computation = computation units x reference gas price
    storage     = (bytes x units per byte + per-object units) x storage price
    rebate      = refundable share of the per-byte storage, paid only when the object is deleted;
                  ledger records are kept, so ``ledger_cost`` charges no rebate.
Walrus (FROST, 1 WAL = 1e9 FROST):
    encoded = bytes x erasure-coding expansion
    units   = ceil(encoded / storage unit bytes)
    cost    = units x (price per unit per epoch x epochs + write fee per unit)
Every price comes from AdsParams; token prices in USD are inputs, not findings.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from models.ads import AdsParams

MIST_PER_SUI = 1_000_000_000
FROST_PER_WAL = 1_000_000_000


def sui_computation_mist(params: AdsParams) -> int:
    """One transaction's computation fee."""
    return params.sui_computation_units * params.sui_reference_gas_price_mist


def sui_storage_mist(size_bytes: int, params: AdsParams) -> int:
    """Storage fee for one object of ``size_bytes`` bytes."""
    units = size_bytes * params.sui_storage_units_per_byte + params.sui_object_overhead_units
    return units * params.sui_storage_price_mist


def sui_storage_rebate_mist(size_bytes: int, params: AdsParams) -> int:
    """Refund on *deleting* the object: the rebate share of the per-byte storage (the per-object
    units are non-refundable). Kept ledger records never receive it."""
    refundable = size_bytes * params.sui_storage_units_per_byte * params.sui_storage_price_mist
    return int(refundable * params.sui_storage_rebate)


def walrus_units(size_bytes: int, params: AdsParams) -> int:
    """Storage units an encoded blob occupies (0 for an empty blob)."""
    encoded = math.ceil(size_bytes * params.walrus_encoding_expansion)
    return -(-encoded // params.walrus_unit_bytes)


def walrus_frost(size_bytes: int, params: AdsParams) -> int:
    """Cost of storing one blob of ``size_bytes`` for ``params.walrus_epochs`` epochs."""
    per_unit = params.walrus_price_per_unit_epoch_frost * params.walrus_epochs + params.walrus_write_fee_per_unit_frost
    return walrus_units(size_bytes, params) * per_unit


def to_usd(sui_mist: int, walrus_frost_: int, params: AdsParams) -> float:
    return sui_mist / MIST_PER_SUI * params.sui_usd + walrus_frost_ / FROST_PER_WAL * params.wal_usd


@dataclass(frozen=True)
class LedgerCost:
    records: int
    blobs: int
    sui_mist: int
    walrus_frost: int
    usd: float


def ledger_cost(record_sizes: Sequence[int], params: AdsParams) -> LedgerCost:
    """Cost of writing these records: each is one Sui object (one transaction's computation
    plus its storage) and records are packed ``params.ledger_batch_records`` at a time, in
    order, into Walrus blobs (Quilt-style batching)."""
    per_tx = sui_computation_mist(params)
    sui = sum(per_tx + sui_storage_mist(size, params) for size in record_sizes)
    batch = params.ledger_batch_records
    blobs = [record_sizes[i : i + batch] for i in range(0, len(record_sizes), batch)]
    walrus = sum(walrus_frost(sum(blob), params) for blob in blobs)
    return LedgerCost(
        records=len(record_sizes), blobs=len(blobs), sui_mist=sui, walrus_frost=walrus, usd=to_usd(sui, walrus, params)
    )


def cost_per_thousand(usd: float, impressions: int) -> float:
    """USD per 1000 impressions; 0.0 when nothing was delivered (no impressions to spread over)."""
    if impressions <= 0:
        return 0.0
    return usd / impressions * 1000
