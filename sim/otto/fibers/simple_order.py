"""SimpleOrder: a buyer orders, the seller confirms and ships, the buyer confirms delivery.

Either side may back out until the goods are shipped; after that only delivery ends the order.

Decision mode: the seller confirms an order if it goes along with the buyer (cooperativeness, the
buyer's reputation against its risk tolerance), then ships if cooperative, and cancels otherwise;
an uncooperative buyer may back out before shipment; a shipment is always taken delivery of.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from typing import Any

from sim.otto.fibers.base import FiberKind, FiberView, Move, Outcome, Plan, Wait
from sim.otto.fibers.decisions import Intent, Public, Seat
from sim.otto.fibers.expressions import ORDINAL, all_of, any_of, is_text, machine, signed_by, signer, transition, var

BUYER, SELLER = 0, 1
ITEMS = ("widget", "gadget", "sprocket", "gizmo", "doohickey")
SELLER_REASONS = ("out of stock", "cannot ship in time", "buyer unknown")
BUYER_REASONS = ("changed mind", "price dispute", "found elsewhere")
# The chance, at each state before shipment, that a wholly uncooperative buyer backs out.
BACK_OUT = 0.5

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
    max_think_seconds = 4 * 3600.0

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
        params = _terms(rng)
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

    def terms(self, parties: Sequence[str], rng: random.Random) -> Plan:
        return Plan(None, _terms(rng))

    def intent(self, me: Seat, view: FiberView, public: Public, rng: random.Random) -> Intent | Wait | None:
        think = me.think(self.max_think_seconds, view.state)
        if me.index == SELLER:
            if view.state == "pending":
                if me.goes_along("confirm", public.reputation(BUYER)):
                    return Intent("confirm", {}, think)
                return Intent("cancel", {"reason": rng.choice(SELLER_REASONS)}, think)
            if view.state == "confirmed":
                if me.chance("ship", me.traits.cooperativeness):
                    return Intent("ship", {"trackingNumber": f"TRK{rng.randrange(10**9):09d}"}, think)
                return Intent("cancel", {"reason": rng.choice(SELLER_REASONS)}, think)
            return None
        if me.index != BUYER:
            return None
        if view.state in ("pending", "confirmed"):
            if me.chance(f"back out/{view.state}", BACK_OUT * (1.0 - me.traits.cooperativeness)):
                return Intent("cancel", {"reason": rng.choice(BUYER_REASONS)}, think)
            return None
        if view.state == "shipped":
            return Intent("deliver", {}, think)
        return None


def _terms(rng: random.Random) -> dict[str, Any]:
    return {"item": rng.choice(ITEMS), "quantity": rng.randint(1, 10), "price": rng.randint(5, 500) * 100}
