"""A marketplace's reconciliation: what its users say they sent, against what its wallet received (mined)."""

from __future__ import annotations

from collections.abc import Iterable

from models.monero_run import ExpectedPayment, Incoming, Reconciliation, VendorReconciliation


def reconcile(
    run_id: str, marketplace: str, expected: Iterable[ExpectedPayment], received: Iterable[Incoming]
) -> Reconciliation:
    """Per vendor, amounts summed to the atomic unit; only mined transfers count as received.

    A transaction paying several of a marketplace's vendors appears once per vendor on both sides.
    """
    sent = {(p.tx_hash, p.vendor_index): p.amount for p in expected}
    got: dict[tuple[str, int], int] = {}
    for transfer in received:
        if transfer.height > 0:
            key = (transfer.tx_hash, transfer.vendor_index)
            got[key] = got.get(key, 0) + transfer.amount
    vendors = sorted({index for _, index in sent} | {index for _, index in got})
    rows = tuple(
        VendorReconciliation(
            vendor_index=index,
            expected=sum(amount for (_, i), amount in sent.items() if i == index),
            received=sum(amount for (_, i), amount in got.items() if i == index),
            expected_count=sum(1 for (_, i) in sent if i == index),
            received_count=sum(1 for (_, i) in got if i == index),
        )
        for index in vendors
    )
    return Reconciliation(
        run_id=run_id,
        marketplace=marketplace,
        vendors=rows,
        missing=tuple(sorted(tx for (tx, i), amount in sent.items() if got.get((tx, i)) != amount)),
        unexpected=tuple(sorted(tx for (tx, i) in got if (tx, i) not in sent)),
    )
