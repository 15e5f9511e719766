"""SimpleOrder: a buyer orders, the seller confirms and ships, the buyer confirms delivery.

Either side may back out until the goods are shipped; after that only delivery ends the order.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from typing import Any

from sim.otto.fibers.base import FiberKind, FiberView, Move, Outcome, Plan, Wait
from sim.otto.fibers.expressions import ORDINAL, all_of, any_of, is_text, machine, signed_by, signer, transition, var

BUYER, SELLER = 0, 1
ITEMS = ("widget", "gadget", "sprocket", "gizmo", "doohickey")

# A shipment needs a tracking number the buyer can follow.
_SHIP = all_of(signed_by("state.seller"), is_text(var("event.trackingNumber")))
_EITHER_PARTY = any_of(signed_by("state.buyer"), signed_by("state.seller"))
_CANCEL = {"cancelledBy": signer(), "reason": var("event.reason"), "cancelledAt": ORDINAL}

DEFINITION = machine(
    "SimpleOrder",
    initial="pending",
    states=("pending", "confirmed", "shipped"),
    finals=("delivered", "cancelled"),
    transitions=(
        transition("pending", "confirmed", "confirm", signed_by("state.seller"), {"confirmedAt": ORDINAL}),
        transition(
            "confirmed", "shipped", "ship", _SHIP, {"trackingNumber": var("event.trackingNumber"), "shippedAt": ORDINAL}
        ),
        transition("shipped", "delivered", "deliver", signed_by("state.buyer"), {"deliveredAt": ORDINAL}),
        transition("pending", "cancelled", "cancel", _EITHER_PARTY, _CANCEL),
        transition("confirmed", "cancelled", "cancel", _EITHER_PARTY, _CANCEL),
    ),
)


class SimpleOrder(FiberKind):
    name = "SimpleOrder"
    outcomes = (Outcome("delivered", "delivered", True), Outcome("cancelled", "cancelled", False))
    state_machine = DEFINITION

    def initial_data(self, parties: Sequence[str], plan: Plan) -> dict[str, Any]:
        p = plan.params
        return {
            "buyer": parties[BUYER],
            "seller": parties[SELLER],
            "item": p["item"],
            "quantity": p["quantity"],
            "price": p["price"],
        }

    def plan(self, outcome: str, parties: Sequence[str], rng: random.Random) -> Plan:
        self.outcome(outcome)
        params: dict[str, Any] = {
            "item": rng.choice(ITEMS),
            "quantity": rng.randint(1, 10),
            "price": rng.randint(5, 500) * 100,
        }
        if outcome == "delivered":
            params["tracking_number"] = f"TRK{rng.randrange(10**9):09d}"
        else:
            params["cancel_in"] = rng.choice(("pending", "confirmed"))
            params["canceller"] = rng.choice((BUYER, SELLER))
            params["reason"] = rng.choice(("changed mind", "out of stock", "price dispute", "found elsewhere"))
        return Plan(outcome, params)

    def next_move(self, view: FiberView, parties: Sequence[str], plan: Plan, rng: random.Random) -> Move | Wait | None:
        p = plan.params
        if plan.outcome == "cancelled" and view.state == p["cancel_in"]:
            return Move(p["canceller"], "cancel", {"reason": p["reason"]})
        if view.state == "pending":
            return Move(SELLER, "confirm", {})
        if view.state == "confirmed":
            return Move(SELLER, "ship", {"trackingNumber": p["tracking_number"]})
        if view.state == "shipped":
            return Move(BUYER, "deliver", {})
        return None
