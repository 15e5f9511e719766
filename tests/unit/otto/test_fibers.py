"""Fiber types on the in-memory chain: every definition is accepted, every planned outcome is reached
by its policy with no failed guard, the state data proves the outcome, and impostors are refused."""

from __future__ import annotations

import json
import random
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import pytest

from localnet.ottochain.jlvm import validate_expression
from models.otto import FIBER_TYPES
from sim.otto.fibers import FIBER_KINDS, FiberKind, FiberView, Move, Plan, Wait, fiber_kind
from sim.otto.fibers.agent_identity import IDENTITY_DEFINITION, VOUCH_REPUTATION, identity_initial_data
from sim.otto.fibers.attestation import ATTESTATION_DEFINITION, attestation_initial_data
from sim.otto.fibers.contract import CONTRACT_EVENTS
from sim.otto.fibers.contract_report import REPORT_DEFINITION as CONTRACT_REPORT_DEFINITION
from sim.otto.fibers.expressions import machine, transition, var
from sim.otto.fibers.tictactoe import winning_mark
from tests.unit.otto.chain import LocalChain, receipt_of

ADDRESSES = [f"DAG{i}{'x' * 36}{i:02d}" for i in range(12)]
OUTSIDER = "DAG9outsider"
SEEDS = range(5)
MAX_STEPS = 80

EXPECTED_OUTCOMES = {
    "SimpleOrder": {"delivered", "cancelled"},
    "TicTacToe": {"win", "draw", "timeout"},
    "TokenEscrow": {"release", "refund"},
    "Contract": {"complete", "reject", "dispute"},
    "Voting": {"passed", "rejected"},
    "ApprovalWorkflow": {"approved", "rejected"},
    "Auction": {"settled", "no_bids"},
}


def view_of(chain: LocalChain, fiber_id: str) -> FiberView:
    fiber = chain.state.fibers[fiber_id]
    return FiberView(
        state=fiber.current_state,
        data=fiber.state_data,
        sequence=fiber.sequence_number,
        ordinal=chain.state.ordinal,
        last_receipt=fiber.last_receipt,
    )


def start(kind: FiberKind, outcome: str, party_count: int, seed: int) -> tuple[LocalChain, list[str], Plan]:
    parties = ADDRESSES[:party_count]
    plan = kind.plan(outcome, parties, random.Random(seed))
    # The workflow stores plans as JSON: the policy must work on what comes back.
    plan = Plan(plan.outcome, json.loads(json.dumps(plan.params)))
    chain = LocalChain()
    chain.create("fiber", kind.definition(), kind.initial_data(parties, plan), parties)
    return chain, parties, plan


def play(kind: FiberKind, chain: LocalChain, parties: Sequence[str], plan: Plan, seed: int) -> int:
    """Drive the fiber with the policy until it says it is done; every event must succeed."""
    for step in range(MAX_STEPS):
        view = view_of(chain, "fiber")
        decision = kind.next_move(view, parties, plan, random.Random(seed * 1000 + step))
        assert decision == kind.next_move(view, parties, plan, random.Random(seed * 1000 + step)), "policy is not pure"
        if decision is None:
            return step
        if isinstance(decision, Wait):
            assert decision.until_ordinal > chain.state.ordinal
            while chain.state.ordinal < decision.until_ordinal:
                chain.snapshot()
            continue
        assert isinstance(decision, Move)
        json.dumps(decision.payload)
        fiber = chain.transition("fiber", decision.event, decision.payload, parties[decision.actor])
        receipt = receipt_of(fiber)
        assert fiber.sequence_number == view.sequence + 1, f"{decision} was not applied: {chain.state.rejections[-1:]}"
        assert receipt["success"], f"{decision} failed: {receipt['errorMessage']}"
    raise AssertionError(f"no terminal state after {MAX_STEPS} steps")


# --- what the final data must show, per outcome ------------------------------------------------------


def _simple_order(outcome: str, data: Mapping[str, Any], parties: Sequence[str], plan: Plan) -> None:
    if outcome == "delivered":
        assert data["trackingNumber"] == plan.params["tracking_number"]
        assert data["confirmedAt"] <= data["shippedAt"] <= data["deliveredAt"]
    else:
        assert data["cancelledBy"] == parties[plan.params["canceller"]]
        assert data["reason"] == plan.params["reason"]


def _tictactoe(outcome: str, data: Mapping[str, Any], parties: Sequence[str], plan: Plan) -> None:
    marks = [data[f"c{i}"] for i in range(9)]
    assert data["moveCount"] == len(plan.params["moves"]) == 9 - marks.count("")
    if outcome == "win":
        assert winning_mark(data) == data["winnerMark"] == plan.params["winner"]
        assert data["winner"] == data["player" + data["winnerMark"]]
    elif outcome == "draw":
        assert "" not in marks and winning_mark(data) is None
    else:
        assert winning_mark(data) is None
        staller = "X" if data["turn"] == "X" else "O"
        assert data["timedOut"] == data["player" + staller]
        assert data["winner"] == data["player" + ("O" if staller == "X" else "X")]
        assert data["endedAt"] > data["deadline"]


def _token_escrow(outcome: str, data: Mapping[str, Any], parties: Sequence[str], plan: Plan) -> None:
    assert data["fundedAmount"] == data["amount"] == plan.params["amount"]
    if outcome == "release":
        assert data["releasedTo"] == parties[1]
    else:
        assert data["refundedTo"] == parties[0]
        by = plan.params["refund_by"]
        assert data["refundedBy"] == parties[0 if by == "depositor" else 1]
        if by == "depositor":
            assert data["refundedAt"] > data["refundableAt"]


def _contract(outcome: str, data: Mapping[str, Any], parties: Sequence[str], plan: Plan) -> None:
    submitted = [c["party"] for c in data["completions"]]
    assert len(submitted) == len(set(submitted))
    if outcome == "complete":
        assert set(submitted) == set(parties[:2])
        assert data["finalizedBy"] == parties[plan.params["finalizer"]]
    elif outcome == "reject":
        assert submitted == [] and data["rejectionReason"] == plan.params["reason"]
    else:
        assert len(submitted) == plan.params["completions_before_dispute"]
        assert data["disputedBy"] == parties[plan.params["disputer"]]


def _voting(outcome: str, data: Mapping[str, Any], parties: Sequence[str], plan: Plan) -> None:
    ballots = data["ballots"]
    voters = [b["voter"] for b in ballots]
    assert len(voters) == len(set(voters)) and set(voters) <= set(parties[1:])
    assert [[parties.index(b["voter"]), b["choice"]] for b in ballots] == plan.params["ballots"]
    yes = sum(b["choice"] == "yes" for b in ballots)
    assert (data["yesVotes"], data["noVotes"]) == (yes, len(ballots) - yes)
    assert (data["yesVotes"] > data["noVotes"]) == (outcome == "passed")
    assert data["turnout"] == len(ballots)


def _approval(outcome: str, data: Mapping[str, Any], parties: Sequence[str], plan: Plan) -> None:
    approvers = [a["approver"] for a in data["approvals"]]
    assert len(approvers) == len(set(approvers)) and set(approvers) <= set(data["approvers"])
    if outcome == "approved":
        assert len(approvers) >= data["quorum"] >= 2
    else:
        assert len(approvers) < data["quorum"]
        assert data["rejectedBy"] == parties[plan.params["rejecter"]] not in approvers


def _auction(outcome: str, data: Mapping[str, Any], parties: Sequence[str], plan: Plan) -> None:
    bids = data["bids"]
    if outcome == "no_bids":
        assert bids == [] and data["highestBidder"] is None
        return
    best = max(bids, key=lambda b: b["amount"])
    assert data["winner"] == best["bidder"] == data["highestBidder"]
    assert data["price"] == best["amount"] == plan.params["bids"][-1][1]
    assert all(b["amount"] >= data["reservePrice"] for b in bids)
    assert [b["amount"] for b in bids] == sorted({b["amount"] for b in bids})


PROOFS: dict[str, Callable[[str, Mapping[str, Any], Sequence[str], Plan], None]] = {
    "SimpleOrder": _simple_order,
    "TicTacToe": _tictactoe,
    "TokenEscrow": _token_escrow,
    "Contract": _contract,
    "Voting": _voting,
    "ApprovalWorkflow": _approval,
    "Auction": _auction,
}

LIFECYCLES = [
    (name, outcome, count, seed)
    for name, kind in FIBER_KINDS.items()
    for outcome in sorted(o.name for o in kind.outcomes)
    for count in sorted({kind.min_parties, kind.max_parties})
    for seed in SEEDS
]


# --- definitions -----------------------------------------------------------------------------


def test_registry_holds_the_seven_types_with_their_outcomes():
    assert {name: {o.name for o in kind.outcomes} for name, kind in FIBER_KINDS.items()} == EXPECTED_OUTCOMES
    for name, kind in FIBER_KINDS.items():
        assert kind.name == name and fiber_kind(name) is kind
        assert any(o.success for o in kind.outcomes) and any(not o.success for o in kind.outcomes)
    assert (FIBER_KINDS["Voting"].min_parties, FIBER_KINDS["Voting"].max_parties) == (4, 10)
    assert (FIBER_KINDS["Auction"].min_parties, FIBER_KINDS["Auction"].max_parties) == (3, 7)


def test_registry_is_derived_from_the_model_list_of_types():
    # models.otto.FIBER_TYPES is the one list; the registry follows it, in its order.
    assert tuple(FIBER_KINDS) == FIBER_TYPES


def test_unknown_fiber_type_names_the_known_ones():
    with pytest.raises(ValueError, match="unknown fiber type 'Nope'") as raised:
        fiber_kind("Nope")
    for name in EXPECTED_OUTCOMES:
        assert name in str(raised.value)


ALL_DEFINITIONS = {
    **{name: kind.definition() for name, kind in FIBER_KINDS.items()},
    "AgentIdentity": IDENTITY_DEFINITION,
    "Attestation": ATTESTATION_DEFINITION,
    "ContractReport": CONTRACT_REPORT_DEFINITION,
}


@pytest.mark.parametrize("name", ALL_DEFINITIONS)
def test_definition_is_accepted_by_the_chain(name):
    definition = ALL_DEFINITIONS[name]
    assert definition["metadata"] == {"name": name}
    for state_id, state in definition["states"].items():
        assert state == {"id": state_id, "isFinal": state["isFinal"]} and isinstance(state["isFinal"], bool)
    for t in definition["transitions"]:
        assert set(t) == {"from", "to", "eventName", "guard", "effect", "dependencies"} and t["dependencies"] == []
        assert validate_expression(t["guard"]) == [] and validate_expression(t["effect"]) == []
        assert not definition["states"][t["from"]]["isFinal"], "final states have no exits"
    chain = LocalChain()
    fiber = chain.create("f", definition, {}, [ADDRESSES[0]])
    assert fiber.current_state == definition["initialState"]


@pytest.mark.parametrize("name", FIBER_KINDS)
def test_outcome_states_are_final(name):
    kind = FIBER_KINDS[name]
    finals = {s for s, spec in kind.definition()["states"].items() if spec["isFinal"]}
    assert {o.state for o in kind.outcomes} == finals
    for outcome in kind.outcomes:
        assert kind.terminal(outcome.state) == outcome


def test_contract_bridge_routes_match_the_definition():
    kind = FIBER_KINDS["Contract"]
    edges = {(t["from"], t["eventName"]) for t in kind.definition()["transitions"]}
    assert set(CONTRACT_EVENTS.values()) <= edges
    bare = kind.initial_data(ADDRESSES[:2], Plan(outcome="complete"))  # what the bridge passes
    assert bare["terms"] == {} and bare["status"] == "PROPOSED"


# --- lifecycles ------------------------------------------------------------------------------


@pytest.mark.parametrize(("name", "outcome", "party_count", "seed"), LIFECYCLES)
def test_policy_reaches_the_planned_outcome(name, outcome, party_count, seed):
    kind = FIBER_KINDS[name]
    chain, parties, plan = start(kind, outcome, party_count, seed)
    steps = play(kind, chain, parties, plan, seed)
    fiber = chain.state.fibers["fiber"]
    expected = kind.outcome(outcome)
    assert fiber.current_state == expected.state
    assert kind.terminal(fiber.current_state) == expected
    assert 1 <= steps <= MAX_STEPS
    assert chain.state.rejections == []
    PROOFS[name](outcome, fiber.state_data, parties, plan)


def test_plans_differ_by_seed():
    kind = FIBER_KINDS["Auction"]
    plans = {json.dumps(kind.plan("settled", ADDRESSES[:5], random.Random(seed)).params) for seed in SEEDS}
    assert len(plans) == len(SEEDS)


def test_tictactoe_plans_for_win_and_draw_play_different_games():
    kind = FIBER_KINDS["TicTacToe"]
    rng = random.Random(7)
    assert len(kind.plan("draw", ADDRESSES[:2], rng).params["moves"]) == 9
    assert len(kind.plan("win", ADDRESSES[:2], rng).params["moves"]) in range(5, 10)


# --- refusals --------------------------------------------------------------------------------


def refused(chain: LocalChain, event: str, payload: dict[str, Any], signer: str) -> bool:
    """The event was processed and its guard said no: the fiber did not move."""
    before = chain.state.fibers["fiber"].sequence_number
    fiber = chain.transition("fiber", event, payload, signer)
    return fiber.sequence_number == before and receipt_of(fiber)["success"] is False


def lifecycle_until(name: str, outcome: str, party_count: int, stop: Callable[[FiberView], bool]):
    """Play ``outcome`` until ``stop`` holds for the view; returns the chain, parties, plan."""
    kind = FIBER_KINDS[name]
    chain, parties, plan = start(kind, outcome, party_count, seed=3)
    for step in range(MAX_STEPS):
        view = view_of(chain, "fiber")
        if stop(view):
            return chain, parties, plan
        move = kind.next_move(view, parties, plan, random.Random(step))
        assert isinstance(move, Move)
        chain.transition("fiber", move.event, move.payload, parties[move.actor])
    raise AssertionError("stop condition never held")


def test_wrong_party_is_refused_by_the_guard():
    chain, parties, _ = start(FIBER_KINDS["SimpleOrder"], "delivered", 2, seed=0)
    buyer, seller = parties
    assert refused(chain, "confirm", {}, buyer)  # only the seller confirms
    assert chain.transition("fiber", "confirm", {}, seller).current_state == "confirmed"
    assert refused(chain, "ship", {"trackingNumber": "TRK1"}, buyer)
    assert refused(chain, "ship", {"trackingNumber": ""}, seller)  # a shipment needs tracking


def test_non_owner_is_refused_by_the_chain():
    chain, _, _ = start(FIBER_KINDS["SimpleOrder"], "delivered", 2, seed=0)
    fiber = chain.transition("fiber", "cancel", {"reason": "mine now"}, OUTSIDER)
    assert fiber.current_state == "pending" and fiber.last_receipt is None
    assert chain.state.rejections[-1].code == "NotSignedByOwner"


def test_tictactoe_refuses_out_of_turn_and_occupied_cells_and_false_claims():
    chain, (x, o), _ = start(FIBER_KINDS["TicTacToe"], "win", 2, seed=0)
    assert refused(chain, "make_move", {"cell": 4}, o)  # X opens
    chain.transition("fiber", "make_move", {"cell": 4}, x)
    assert refused(chain, "make_move", {"cell": 4}, o)  # taken
    assert refused(chain, "make_move", {"cell": 9}, o)  # off the board
    assert refused(chain, "claim_win", {}, x)  # no line
    assert refused(chain, "claim_draw", {}, o)  # board not full


def test_claim_timeout_only_after_the_deadline_and_only_by_the_waiting_player():
    chain, (x, o), _ = start(FIBER_KINDS["TicTacToe"], "timeout", 2, seed=0)
    assert refused(chain, "claim_timeout", {}, o)  # no clock before the first move or start_clock
    chain.transition("fiber", "make_move", {"cell": 0}, x)
    deadline = chain.state.fibers["fiber"].state_data["deadline"]
    assert refused(chain, "claim_timeout", {}, x)  # X is waiting, before the deadline
    while chain.state.ordinal < deadline:
        chain.snapshot()
    assert refused(chain, "claim_timeout", {}, o)  # O is the one to move, never the claimant
    fiber = chain.transition("fiber", "claim_timeout", {}, x)  # processed at deadline + 1
    assert fiber.current_state == "timed_out" and fiber.state_data["winner"] == x


def test_a_first_player_who_never_moves_is_timed_out_once_the_second_starts_the_clock():
    chain, (x, o), _ = start(FIBER_KINDS["TicTacToe"], "timeout", 2, seed=0)
    assert refused(chain, "start_clock", {}, x)  # the player to move cannot stall on their own clock
    started = chain.transition("fiber", "start_clock", {}, o)
    deadline = started.state_data["deadline"]
    assert deadline == chain.state.ordinal + started.state_data["moveTimeout"]
    assert refused(chain, "start_clock", {}, o)  # once
    assert refused(chain, "claim_timeout", {}, o)  # not before the deadline
    while chain.state.ordinal < deadline:
        chain.snapshot()
    fiber = chain.transition("fiber", "claim_timeout", {}, o)
    assert fiber.current_state == "timed_out"
    assert (fiber.state_data["winner"], fiber.state_data["timedOut"]) == (o, x)


def test_the_clock_cannot_be_started_once_the_game_is_under_way():
    chain, (x, o), _ = start(FIBER_KINDS["TicTacToe"], "win", 2, seed=0)
    chain.transition("fiber", "start_clock", {}, o)
    moved = chain.transition("fiber", "make_move", {"cell": 4}, x)  # the opening move still counts
    assert moved.state_data["moveCount"] == 1
    assert refused(chain, "start_clock", {}, x)


def test_voter_cannot_vote_twice_and_outsiders_cannot_vote():
    chain, parties, _ = start(FIBER_KINDS["Voting"], "passed", 4, seed=0)
    proposer, voter = parties[0], parties[1]
    assert receipt_of(chain.transition("fiber", "vote", {"choice": "yes"}, voter))["success"]
    assert refused(chain, "vote", {"choice": "no"}, voter)
    assert refused(chain, "vote", {"choice": "yes"}, proposer)  # not on the roll
    assert refused(chain, "vote", {"choice": "maybe"}, parties[2])
    assert refused(chain, "close", {}, parties[2])  # only the proposer closes
    assert chain.state.fibers["fiber"].state_data["yesVotes"] == 1


def test_bid_must_beat_the_highest_and_meet_the_reserve():
    chain, parties, _ = start(FIBER_KINDS["Auction"], "settled", 3, seed=0)
    reserve = chain.state.fibers["fiber"].state_data["reservePrice"]
    assert refused(chain, "bid", {"amount": reserve - 1}, parties[1])
    assert refused(chain, "bid", {"amount": str(reserve + 10)}, parties[1])  # amounts are integers
    assert refused(chain, "bid", {"amount": reserve + 10}, parties[0])  # the seller cannot bid
    chain.transition("fiber", "bid", {"amount": reserve + 10}, parties[1])
    assert refused(chain, "bid", {"amount": reserve + 10}, parties[2])  # equal is not higher
    assert refused(chain, "bid", {"amount": reserve + 5}, parties[2])
    assert chain.state.fibers["fiber"].state_data["highestBidder"] == parties[1]


def test_contract_needs_both_completions_to_finalize():
    chain, parties, _ = lifecycle_until("Contract", "complete", 2, lambda v: len(v.data["completions"]) == 1)
    first = chain.state.fibers["fiber"].state_data["completions"][0]["party"]
    assert refused(chain, "finalize", {}, parties[0])
    assert refused(chain, "submit_completion", {"proof": "again"}, first)


def test_approval_needs_a_quorum_and_fresh_approvers():
    def one_approval(view: FiberView) -> bool:
        return len(view.data.get("approvals", [])) == 1

    chain, parties, _ = lifecycle_until("ApprovalWorkflow", "approved", 3, one_approval)
    approver = chain.state.fibers["fiber"].state_data["approvals"][0]["approver"]
    assert refused(chain, "finalize", {}, parties[0])  # quorum is at least 2
    assert refused(chain, "approve", {}, approver)
    assert refused(chain, "approve", {}, parties[0])  # the requester is not on the panel
    assert refused(chain, "reject", {"reason": "changed my mind"}, approver)


def test_escrow_depositor_cannot_reclaim_before_the_lock_expires():
    chain, (depositor, beneficiary), _ = start(FIBER_KINDS["TokenEscrow"], "refund", 2, seed=0)
    amount = chain.state.fibers["fiber"].state_data["amount"]
    assert refused(chain, "fund", {"amount": amount - 1}, depositor)
    assert refused(chain, "fund", {"amount": amount}, beneficiary)
    chain.transition("fiber", "fund", {"amount": amount}, depositor)
    assert refused(chain, "refund", {}, depositor)
    assert refused(chain, "release", {}, beneficiary)


# --- identity and attestations -----------------------------------------------------------------

A, B, C = ADDRESSES[:3]


def identity_chain(signers: Sequence[str] = (A,)) -> LocalChain:
    chain = LocalChain()
    data = identity_initial_data(A, "Agent A", "github", "a-gh", "2025-01-01T00:00:00Z")
    chain.create("id-a", IDENTITY_DEFINITION, data, list(signers))
    return chain


def attest(chain: LocalChain, fiber_id: str, kind: str, issuer: str, subject: str = A):
    data = attestation_initial_data(kind, issuer, subject, "id-a", f"{kind} claim", {"url": "https://example.org"})
    chain.create(fiber_id, ATTESTATION_DEFINITION, data, [issuer])
    return chain.transition(fiber_id, "issue", {}, issuer)


def test_identity_activation_needs_the_owner():
    assert identity_chain().transition("id-a", "activate", {}, B).current_state == "REGISTERED"  # not an owner
    chain = identity_chain(signers=(A, B))  # a co-owner of the fiber is still not the identity's owner
    assert chain.transition("id-a", "activate", {}, B).current_state == "REGISTERED"
    assert receipt_of(chain.state.fibers["id-a"])["success"] is False
    identity = chain.transition("id-a", "activate", {}, A)
    assert identity.current_state == "ACTIVE" and identity.state_data["status"] == "ACTIVE"


def test_vouch_attestation_raises_reputation_once_per_voucher():
    chain = identity_chain()
    chain.transition("id-a", "activate", {}, A)
    issued = attest(chain, "vouch-1", "vouch", B)
    assert issued.current_state == "ISSUED" and issued.last_receipt["triggersFired"] == 1
    identity = chain.state.fibers["id-a"].state_data
    assert identity["reputation"] == 10 + VOUCH_REPUTATION == 12
    assert [v["from"] for v in identity["vouches"]] == [B]

    before = json.dumps(chain.state.fibers["id-a"].to_wire())
    again = attest(chain, "vouch-2", "vouch", B)
    assert again.current_state == "DRAFT" and again.last_receipt["success"] is False
    assert json.dumps(chain.state.fibers["id-a"].to_wire()) == before

    assert attest(chain, "vouch-3", "vouch", C).current_state == "ISSUED"
    assert chain.state.fibers["id-a"].state_data["reputation"] == 14


def test_vouch_must_be_signed_by_its_author_and_not_by_the_owner():
    chain = identity_chain()
    chain.transition("id-a", "activate", {}, A)
    forged = chain.transition("id-a", "receive_vouch", {"from": B, "reason": "forged"}, A)
    assert receipt_of(forged)["success"] is False
    assert attest(chain, "self-vouch", "vouch", A).current_state == "DRAFT"  # a vouch is a peer's
    assert chain.state.fibers["id-a"].state_data["vouches"] == []


def test_skill_self_attestation_is_recorded():
    chain = identity_chain()
    chain.transition("id-a", "activate", {}, A)
    assert attest(chain, "skill-1", "skill", A).current_state == "ISSUED"
    identity = chain.state.fibers["id-a"].state_data
    assert identity["reputation"] == 11
    assert [(a["from"], a["kind"], a["attestationId"]) for a in identity["attestations"]] == [(A, "skill", "skill-1")]
    assert attest(chain, "skill-by-b", "skill", B).current_state == "DRAFT"  # a skill claim is one's own


def test_attestations_need_an_active_identity_and_can_be_revoked():
    chain = identity_chain()
    assert attest(chain, "early", "verification", B).current_state == "DRAFT"
    chain.transition("id-a", "activate", {}, A)
    assert attest(chain, "verified", "verification", B).current_state == "ISSUED"
    assert chain.transition("verified", "revoke", {"reason": "stale"}, B).current_state == "REVOKED"


# A counterparty reports on an identity it does not own the way a contract fiber would: through a
# trigger fired by a transition it signs.
REPORT_DEFINITION = machine(
    "Report",
    initial="OPEN",
    states=("OPEN",),
    finals=("SENT",),
    transitions=(
        transition(
            "OPEN",
            "SENT",
            "send",
            {"==": [1, 1]},
            {
                "_triggers": [
                    {"targetMachineId": "id-a", "eventName": var("event.name"), "payload": var("event.report")}
                ]
            },
        ),
    ),
)


def report(chain: LocalChain, fiber_id: str, reporter: str, event: str, payload: dict[str, Any]) -> bool:
    """Whether the identity accepted ``event`` sent by ``reporter``'s report fiber."""
    chain.create(fiber_id, REPORT_DEFINITION, {}, [reporter])
    return chain.transition(fiber_id, "send", {"name": event, "report": payload}, reporter).current_state == "SENT"


def test_identity_counts_a_counterpartys_completion_once_per_contract():
    chain = identity_chain()
    chain.transition("id-a", "activate", {}, A)
    assert report(chain, "r1", B, "receive_completion", {"from": B, "contractId": "c-1"})
    data = chain.state.fibers["id-a"].state_data
    assert (data["reputation"], data["completedContracts"]) == (15, 1)
    assert [(c["contractId"], c["from"]) for c in data["completions"]] == [("c-1", B)]

    assert not report(chain, "r2", C, "receive_completion", {"from": C, "contractId": "c-1"})  # counted already
    assert not report(chain, "r3", B, "receive_completion", {"from": C, "contractId": "c-2"})  # C did not sign
    own = chain.transition("id-a", "receive_completion", {"from": A, "contractId": "c-3"}, A)
    assert not receipt_of(own)["success"]
    assert chain.state.fibers["id-a"].state_data["completedContracts"] == 1


def test_identity_violations_floor_reputation_at_zero_and_withdrawal_ends_it():
    chain = identity_chain()
    chain.transition("id-a", "activate", {}, A)
    assert report(chain, "v1", B, "receive_violation", {"from": B, "contractId": "c-1", "reason": "no-show"})
    assert not report(chain, "v2", B, "receive_violation", {"from": B, "contractId": "c-1", "reason": "again"})
    assert not report(chain, "v3", C, "receive_violation", {"from": C, "contractId": "c-2"})  # no reason given
    assert report(chain, "v4", C, "receive_violation", {"from": C, "contractId": "c-2", "reason": "late"})
    data = chain.state.fibers["id-a"].state_data
    assert (data["reputation"], data["violations"]) == (0, 2)
    assert [(v["contractId"], v["reason"]) for v in data["violationReports"]] == [("c-1", "no-show"), ("c-2", "late")]
    assert chain.transition("id-a", "withdraw", {}, A).current_state == "WITHDRAWN"
