"""Sui and Walrus costs against the reference's worked example; batching."""

from __future__ import annotations

import pytest

from models.ads import AdsParams
from sim.ads.costs import (
    FROST_PER_WAL,
    MIST_PER_SUI,
    LedgerCost,
    cost_per_thousand,
    ledger_cost,
    sui_computation_mist,
    sui_storage_mist,
    sui_storage_rebate_mist,
    walrus_frost,
    walrus_units,
)

PARAMS = AdsParams()
MIB = 1_048_576


def test_reference_worked_example_for_a_500_byte_object():
    # ~0.004 SUI of storage plus >= 0.001 SUI of computation.
    assert sui_storage_mist(500, PARAMS) / MIST_PER_SUI == pytest.approx(0.0038038)
    assert sui_computation_mist(PARAMS) / MIST_PER_SUI == pytest.approx(0.001)


def test_rebate_is_the_refundable_per_byte_share_only():
    assert sui_storage_rebate_mist(500, PARAMS) == int(500 * 100 * 76 * 0.99)
    assert sui_storage_rebate_mist(500, PARAMS) < sui_storage_mist(500, PARAMS)


def test_walrus_rounds_encoded_size_up_to_whole_units():
    assert walrus_units(0, PARAMS) == 0
    assert walrus_units(1, PARAMS) == 1
    assert walrus_units(MIB // 5, PARAMS) == 1  # 5 x 209,715 bytes is just under one unit
    assert walrus_units(MIB // 5 + 1, PARAMS) == 2
    assert walrus_units(MIB, PARAMS) == 5
    per_unit = 100_000 * 2 + 20_000
    assert walrus_frost(1, PARAMS) == per_unit
    assert walrus_frost(MIB, PARAMS) == 5 * per_unit


def test_ledger_cost_counts_objects_and_blobs():
    sizes = [500] * 120
    cost = ledger_cost(sizes, PARAMS)
    assert (cost.records, cost.blobs) == (120, 3)  # 50 + 50 + 20
    assert cost.sui_mist == 120 * (1_000_000 + sui_storage_mist(500, PARAMS))  # no rebate: records are kept
    assert cost.walrus_frost == 3 * walrus_frost(1, PARAMS)
    assert cost.usd == pytest.approx(cost.sui_mist / MIST_PER_SUI * 1.5 + cost.walrus_frost / FROST_PER_WAL * 0.4)
    assert ledger_cost([], PARAMS) == LedgerCost(records=0, blobs=0, sui_mist=0, walrus_frost=0, usd=0.0)


def test_batching_reduces_walrus_cost_per_record():
    sizes = [600] * 1000
    per_record = [
        ledger_cost(sizes, PARAMS.model_copy(update={"ledger_batch_records": batch})).walrus_frost / len(sizes)
        for batch in (1, 10, 100)
    ]
    assert per_record[0] > per_record[1] > per_record[2]


def test_cost_per_thousand():
    assert cost_per_thousand(0.8, 1_000_000) == pytest.approx(0.0008)
    assert cost_per_thousand(5.0, 0) == 0.0
