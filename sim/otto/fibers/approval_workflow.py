"""ApprovalWorkflow: a requester submits a request to a panel; a quorum of approvals lets it through.

Each approver approves at most once; any approver who has not approved may reject, which ends the
request. The requester finalizes once the chain counts at least ``quorum`` distinct panel members
among the approvals.

Decision mode: the requester submits; each approver approves if it goes along with the requester
(cooperativeness, the requester's reputation against its risk tolerance) and rejects otherwise; the
requester finalizes once the quorum stands, unless a quicker approver has rejected first.
"""

from __future__ import annotations

import math
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
    count_where,
    ge,
    is_text,
    machine,
    not_,
    pluck,
    signed_by,
    signer,
    signer_among,
    transition,
    var,
)

REQUESTER = 0
REQUESTS = ("laptop purchase", "conference travel", "vendor onboarding", "budget increase", "API key for prod")
REJECT_REASONS = ("over budget", "missing justification", "wrong cost centre")

_APPROVED_BY = pluck("state.approvals", "approver")
_FRESH_APPROVER = all_of(signer_among("state.approvers"), not_(contains(_APPROVED_BY, signer())))
# Counted against the panel, so only listed approvers make up the quorum, each once.
_PANEL_APPROVALS = count_where(var("state.approvers"), contains(_APPROVED_BY, var("")))

DEFINITION = machine(
    "ApprovalWorkflow",
    initial="draft",
    states=("draft", "pending"),
    finals=("approved", "rejected"),
    transitions=(
        transition("draft", "pending", "submit", signed_by("state.requester"), {"submittedAt": ORDINAL}),
        transition(
            "pending",
            "pending",
            "approve",
            _FRESH_APPROVER,
            {"approvals": append("state.approvals", {"approver": signer(), "at": ORDINAL})},
        ),
        transition(
            "pending",
            "rejected",
            "reject",
            all_of(_FRESH_APPROVER, is_text(var("event.reason"))),
            {"rejectedBy": signer(), "rejectionReason": var("event.reason"), "rejectedAt": ORDINAL},
        ),
        transition(
            "pending",
            "approved",
            "finalize",
            all_of(signed_by("state.requester"), ge(_PANEL_APPROVALS, var("state.quorum"))),
            {"approvedAt": ORDINAL},
        ),
    ),
)


class ApprovalWorkflow(FiberKind):
    name = "ApprovalWorkflow"
    min_parties = 3  # requester + 2 approvers
    max_parties = 8  # requester + 7 approvers
    outcomes = (Outcome("approved", "approved", True), Outcome("rejected", "rejected", False))
    state_machine = DEFINITION
    max_think_seconds = 24 * 3600.0

    def initial_data(self, parties: Sequence[str], plan: Plan) -> dict[str, Any]:
        p = plan.params
        return {
            "requester": parties[REQUESTER],
            "approvers": list(parties[1:]),
            "quorum": p["quorum"],
            "request": {"title": p["title"], "amount": p["amount"]},
            "approvals": [],
        }

    def plan(self, outcome: str, parties: Sequence[str], rng: random.Random) -> Plan:
        """Approvals as party indices in order; a rejection comes from a panel member who has not approved."""
        self.outcome(outcome)
        panel = list(range(1, len(parties)))
        rng.shuffle(panel)
        quorum = rng.randint(max(2, math.ceil(len(panel) / 2)), len(panel))
        params: dict[str, Any] = {"title": rng.choice(REQUESTS), "amount": rng.randint(1, 100) * 250, "quorum": quorum}
        if outcome == "approved":
            params["approvals"] = panel[: rng.randint(quorum, len(panel))]
        else:
            approvals = rng.randint(0, quorum - 1)
            params["approvals"] = panel[:approvals]
            params["rejecter"] = panel[approvals]
            params["reason"] = rng.choice(("over budget", "missing justification", "wrong cost centre"))
        return Plan(outcome, params)

    def next_move(self, view: FiberView, parties: Sequence[str], plan: Plan, rng: random.Random) -> Move | Wait | None:
        if view.state == "draft":
            return Move(REQUESTER, "submit", {})
        if view.state != "pending":
            return None
        p = plan.params
        given = len(view.data["approvals"])
        if given < len(p["approvals"]):
            return Move(p["approvals"][given], "approve", {})
        if plan.outcome == "approved":
            return Move(REQUESTER, "finalize", {})
        return Move(p["rejecter"], "reject", {"reason": p["reason"]})

    def terms(self, parties: Sequence[str], rng: random.Random) -> Plan:
        panel = len(parties) - 1
        quorum = rng.randint(max(2, math.ceil(panel / 2)), panel)
        return Plan(None, {"title": rng.choice(REQUESTS), "amount": rng.randint(1, 100) * 250, "quorum": quorum})

    def intent(self, me: Seat, view: FiberView, public: Public, rng: random.Random) -> Intent | Wait | None:
        if view.state == "draft":
            return Intent("submit", {}, me.think(self.max_think_seconds, "submit")) if me.index == REQUESTER else None
        if view.state != "pending":
            return None
        approved = {a["approver"] for a in view.data["approvals"]}
        if me.index == REQUESTER:
            if len(approved & set(view.data["approvers"])) >= view.data["quorum"]:
                return Intent("finalize", {}, me.think(self.max_think_seconds, "finalize"))
            return None
        if me.address in approved:
            return None
        think = me.think(self.max_think_seconds, "approve")
        if me.goes_along("approve", public.reputation(REQUESTER)):
            return Intent("approve", {}, think)
        return Intent("reject", {"reason": rng.choice(REJECT_REASONS)}, think)
