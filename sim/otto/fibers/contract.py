"""Contract: a proposer offers terms; the counterparty accepts or rejects; both deliver, then finalize.

Completion is mutual: each party submits its own completion once, and either may finalize only when
the record holds completions from two distinct parties, both of them. Either party may instead
dispute an active contract, which ends it.

Decision mode: the counterparty accepts if it goes along with the proposer (cooperativeness, the
proposer's reputation against its risk tolerance) and rejects otherwise; once active, each party
delivers (submits its completion) if cooperative and disputes otherwise; once both have delivered,
the quicker of the two finalizes.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from typing import Any

from sim.otto.fibers.base import FiberKind, FiberView, Move, Outcome, Plan, Wait
from sim.otto.fibers.decisions import Intent, Public, Seat
from sim.otto.fibers.expressions import (
    ORDINAL,
    all_of,
    append,
    contains,
    ge,
    is_text,
    length,
    machine,
    not_,
    pluck,
    signed_by,
    signer,
    transition,
    var,
)

PROPOSER, COUNTERPARTY = 0, 1
DELIVERABLES = ("logo design", "API integration", "market report", "translation", "code audit", "dataset labelling")
REJECT_REASONS = ("price too low", "timeline too short", "scope unclear")
DISPUTE_REASONS = ("work not delivered", "quality below terms", "payment withheld")

_PARTIES = [var("state.proposer"), var("state.counterparty")]
_BY_A_PARTY = contains(_PARTIES, signer())
_SUBMITTED = pluck("state.completions", "party")

DEFINITION = machine(
    "Contract",
    initial="PROPOSED",
    states=("PROPOSED", "ACTIVE"),
    finals=("COMPLETED", "REJECTED", "DISPUTED"),
    transitions=(
        transition(
            "PROPOSED", "ACTIVE", "accept", signed_by("state.counterparty"), {"status": "ACTIVE", "acceptedAt": ORDINAL}
        ),
        transition(
            "PROPOSED",
            "REJECTED",
            "reject",
            signed_by("state.counterparty"),
            {"status": "REJECTED", "rejectedAt": ORDINAL, "rejectionReason": var("event.reason")},
        ),
        transition(
            # No proof is required: the bridge's /contract/complete sends "" when the caller gives none.
            "ACTIVE",
            "ACTIVE",
            "submit_completion",
            all_of(_BY_A_PARTY, not_(contains(_SUBMITTED, signer()))),
            {
                "completions": append(
                    "state.completions", {"party": signer(), "proof": var("event.proof"), "at": ORDINAL}
                )
            },
        ),
        transition(
            "ACTIVE",
            "COMPLETED",
            "finalize",
            all_of(
                _BY_A_PARTY,
                ge(length({"unique": [_SUBMITTED]}), 2),
                contains(_SUBMITTED, var("state.proposer")),
                contains(_SUBMITTED, var("state.counterparty")),
            ),
            {"status": "COMPLETED", "completedAt": ORDINAL, "finalizedBy": signer()},
        ),
        transition(
            "ACTIVE",
            "DISPUTED",
            "dispute",
            all_of(_BY_A_PARTY, is_text(var("event.reason"))),
            {"status": "DISPUTED", "disputedBy": signer(), "disputeReason": var("event.reason"), "disputedAt": ORDINAL},
        ),
    ),
)

# The bridge's /contract/<action> routes: the state each needs and the event it sends.
CONTRACT_EVENTS: dict[str, tuple[str, str]] = {
    "accept": ("PROPOSED", "accept"),
    "reject": ("PROPOSED", "reject"),
    "complete": ("ACTIVE", "submit_completion"),
    "finalize": ("ACTIVE", "finalize"),
    "dispute": ("ACTIVE", "dispute"),
}


class Contract(FiberKind):
    name = "Contract"
    outcomes = (
        Outcome("complete", "COMPLETED", True),
        Outcome("reject", "REJECTED", False),
        Outcome("dispute", "DISPUTED", False),
    )
    state_machine = DEFINITION
    max_think_seconds = 24 * 3600.0

    def initial_data(self, parties: Sequence[str], plan: Plan) -> dict[str, Any]:
        """Terms come from the plan when it has them (the bridge passes a bare plan and sets its own)."""
        p = plan.params
        terms = {"deliverable": p["deliverable"], "price": p["price"]} if "deliverable" in p else {}
        return {
            "proposer": parties[PROPOSER],
            "counterparty": parties[COUNTERPARTY],
            "terms": terms,
            "completions": [],
            "status": "PROPOSED",
        }

    def plan(self, outcome: str, parties: Sequence[str], rng: random.Random) -> Plan:
        self.outcome(outcome)
        params: dict[str, Any] = {
            **_terms(rng),
            # Who hands in first, and each party's proof of delivery.
            "order": rng.sample((PROPOSER, COUNTERPARTY), 2),
            "proofs": [f"ipfs://bafy{rng.randrange(16**12):012x}" for _ in range(2)],
        }
        if outcome == "complete":
            params["finalizer"] = rng.choice((PROPOSER, COUNTERPARTY))
        elif outcome == "reject":
            params["reason"] = rng.choice(("price too low", "timeline too short", "scope unclear"))
        else:
            params["disputer"] = rng.choice((PROPOSER, COUNTERPARTY))
            params["completions_before_dispute"] = rng.randint(0, 1)
            params["reason"] = rng.choice(("work not delivered", "quality below terms", "payment withheld"))
        return Plan(outcome, params)

    def next_move(self, view: FiberView, parties: Sequence[str], plan: Plan, rng: random.Random) -> Move | Wait | None:
        p = plan.params
        if view.state == "PROPOSED":
            if plan.outcome == "reject":
                return Move(COUNTERPARTY, "reject", {"reason": p["reason"]})
            return Move(COUNTERPARTY, "accept", {})
        if view.state != "ACTIVE":
            return None
        submitted = {c["party"] for c in view.data["completions"]}
        pending = [i for i in p["order"] if parties[i] not in submitted]
        wanted = 2 if plan.outcome == "complete" else p["completions_before_dispute"]
        if len(submitted) < wanted:
            return Move(pending[0], "submit_completion", {"proof": p["proofs"][pending[0]]})
        if plan.outcome == "complete":
            return Move(p["finalizer"], "finalize", {})
        return Move(p["disputer"], "dispute", {"reason": p["reason"]})

    def terms(self, parties: Sequence[str], rng: random.Random) -> Plan:
        return Plan(None, _terms(rng))

    def intent(self, me: Seat, view: FiberView, public: Public, rng: random.Random) -> Intent | Wait | None:
        if view.state == "PROPOSED":
            if me.index != COUNTERPARTY:
                return None
            think = me.think(self.max_think_seconds, "accept")
            if me.goes_along("accept", public.reputation(PROPOSER)):
                return Intent("accept", {}, think)
            return Intent("reject", {"reason": rng.choice(REJECT_REASONS)}, think)
        if view.state != "ACTIVE" or me.index not in (PROPOSER, COUNTERPARTY):
            return None
        submitted = {c["party"] for c in view.data["completions"]}
        if me.address not in submitted:
            think = me.think(self.max_think_seconds, "deliver")
            if me.chance("deliver", me.traits.cooperativeness):
                return Intent("submit_completion", {"proof": f"ipfs://bafy{rng.randrange(16**12):012x}"}, think)
            return Intent("dispute", {"reason": rng.choice(DISPUTE_REASONS)}, think)
        if set(public.addresses[:2]) <= submitted:
            return Intent("finalize", {}, me.think(self.max_think_seconds, "finalize"))
        return None  # delivered; waiting for the other party


def _terms(rng: random.Random) -> dict[str, Any]:
    return {"deliverable": rng.choice(DELIVERABLES), "price": rng.randint(1, 200) * 500}
