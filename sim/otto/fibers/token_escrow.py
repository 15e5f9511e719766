"""TokenEscrow: a depositor locks an agreed amount for a beneficiary, then releases or takes it back.

The depositor releases once satisfied. A refund is either the beneficiary waiving the funds, or the
depositor reclaiming them after the lock period (counted in snapshots from funding) has run out.

Decision mode: the depositor funds, then releases if it goes along with the beneficiary
(cooperativeness, the beneficiary's reputation against its risk tolerance); otherwise it waits out the
lock period and reclaims. A beneficiary that will not do the work (an uncooperative one) hands the
deposit back instead; the quicker of a release and a waiver decides, and a waiver always comes before
a reclaim (the reclaim waits a full answer time), so the refund's author is the same however late the
lock period's end is observed.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from typing import Any

from sim.otto.fibers.base import FiberKind, FiberView, Move, Outcome, Plan, Wait
from sim.otto.fibers.decisions import Intent, Public, Seat
from sim.otto.fibers.expressions import ORDINAL, all_of, eq, gt, machine, plus, signed_by, signer, transition, var

DEPOSITOR, BENEFICIARY = 0, 1
PURPOSES = ("freelance work", "domain transfer", "hardware sale", "data delivery", "bounty")

_REFUND = {"refundedTo": var("state.depositor"), "refundedBy": signer(), "refundedAt": ORDINAL}

DEFINITION = machine(
    "TokenEscrow",
    initial="pending",
    states=("pending", "funded"),
    finals=("released", "refunded"),
    transitions=(
        transition(
            "pending",
            "funded",
            "fund",
            # Strict equality: the deposit must be exactly the agreed integer amount.
            all_of(signed_by("state.depositor"), eq(var("event.amount"), var("state.amount"))),
            {
                "fundedAmount": var("event.amount"),
                "fundedAt": ORDINAL,
                "refundableAt": plus(ORDINAL, var("state.lockPeriod")),
            },
        ),
        transition(
            "funded",
            "released",
            "release",
            signed_by("state.depositor"),
            {"releasedTo": var("state.beneficiary"), "releasedAt": ORDINAL},
        ),
        transition("funded", "refunded", "refund", signed_by("state.beneficiary"), _REFUND),
        transition(
            "funded",
            "refunded",
            "refund",
            all_of(signed_by("state.depositor"), gt(ORDINAL, var("state.refundableAt"))),
            _REFUND,
        ),
    ),
)


class TokenEscrow(FiberKind):
    name = "TokenEscrow"
    outcomes = (Outcome("release", "released", True), Outcome("refund", "refunded", False))
    state_machine = DEFINITION
    max_think_seconds = 24 * 3600.0

    def initial_data(self, parties: Sequence[str], plan: Plan) -> dict[str, Any]:
        p = plan.params
        return {
            "depositor": parties[DEPOSITOR],
            "beneficiary": parties[BENEFICIARY],
            "amount": p["amount"],
            "purpose": p["purpose"],
            "lockPeriod": p["lock_period"],
        }

    def plan(self, outcome: str, parties: Sequence[str], rng: random.Random) -> Plan:
        self.outcome(outcome)
        params = _terms(rng)
        if outcome == "refund":
            params["refund_by"] = rng.choice(("beneficiary", "depositor"))
        return Plan(outcome, params)

    def next_move(self, view: FiberView, parties: Sequence[str], plan: Plan, rng: random.Random) -> Move | Wait | None:
        if view.state == "pending":
            return Move(DEPOSITOR, "fund", {"amount": view.data["amount"]})
        if view.state != "funded":
            return None
        if plan.outcome == "release":
            return Move(DEPOSITOR, "release", {})
        if plan.params["refund_by"] == "beneficiary":
            return Move(BENEFICIARY, "refund", {})
        refundable_at = view.data["refundableAt"]
        if view.ordinal <= refundable_at:
            return Wait(until_ordinal=refundable_at + 1)
        return Move(DEPOSITOR, "refund", {})

    def terms(self, parties: Sequence[str], rng: random.Random) -> Plan:
        return Plan(None, _terms(rng))

    def intent(self, me: Seat, view: FiberView, public: Public, rng: random.Random) -> Intent | Wait | None:
        if view.state == "pending":
            if me.index != DEPOSITOR:
                return None
            return Intent("fund", {"amount": view.data["amount"]}, me.think(self.max_think_seconds, "fund"))
        if view.state != "funded":
            return None
        if me.index == DEPOSITOR:
            if me.goes_along("release", public.reputation(BENEFICIARY)):
                return Intent("release", {}, me.think(self.max_think_seconds, "release"))
            refundable_at = view.data["refundableAt"]
            if view.ordinal <= refundable_at:
                return Wait(until_ordinal=refundable_at + 1)
            # A reclaim gives the beneficiary a full answer time to waive first, so which refund happens
            # does not hang on the chain's ordinal when the funded escrow was first seen (a race otherwise).
            return Intent("refund", {}, self.max_think_seconds + me.think(self.max_think_seconds, "reclaim"))
        if me.index == BENEFICIARY and me.chance("waive", 1.0 - me.traits.cooperativeness):
            return Intent("refund", {}, me.think(self.max_think_seconds, "waive"))
        return None


def _terms(rng: random.Random) -> dict[str, Any]:
    return {"amount": rng.randint(1, 1000) * 1000, "purpose": rng.choice(PURPOSES), "lock_period": rng.randint(2, 6)}
