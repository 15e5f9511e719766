"""Voting: a proposer puts a motion to a fixed electorate; each voter votes once; the chain tallies.

Voters may abstain. The proposer closes the vote; the outcome is decided at close from the on-chain
tally: passed on a strict majority of the votes cast, rejected otherwise (a tie rejects).

Decision mode: a voter turns out unless it is inactive (activity level) and votes yes if it goes along
with the proposer (cooperativeness, the proposer's reputation against its risk tolerance), no
otherwise; the proposer closes once its patience has run out, after every voter who turns out.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from typing import Any

from sim.otto.fibers.base import FiberKind, FiberView, Move, Outcome, Plan, Wait
from sim.otto.fibers.decisions import PATIENCE, Intent, Public, Seat
from sim.otto.fibers.expressions import (
    ORDINAL,
    all_of,
    append,
    contains,
    eq,
    gt,
    if_,
    increment,
    length,
    machine,
    not_,
    pluck,
    signed_by,
    signer,
    signer_among,
    transition,
    var,
)

PROPOSER = 0
CHOICES = ("yes", "no")
MOTIONS = ("raise the fee cap", "adopt the new logo", "fund the bridge audit", "extend the trial", "merge the guilds")
# The chance that a wholly inactive voter sits the vote out.
ABSTAIN = 0.5

_YES = eq(var("event.choice"), "yes")
_CLOSE_EFFECT = {"closedAt": ORDINAL, "turnout": length(var("state.ballots"))}

DEFINITION = machine(
    "Voting",
    initial="open",
    states=("open",),
    finals=("passed", "rejected"),
    transitions=(
        transition(
            "open",
            "open",
            "vote",
            all_of(
                signer_among("state.voters"),
                not_(contains(pluck("state.ballots", "voter"), signer())),
                contains(list(CHOICES), var("event.choice")),
            ),
            {
                "yesVotes": increment("state.yesVotes", if_(_YES, 1, 0)),
                "noVotes": increment("state.noVotes", if_(_YES, 0, 1)),
                "ballots": append("state.ballots", {"voter": signer(), "choice": var("event.choice"), "at": ORDINAL}),
            },
        ),
        transition(
            "open",
            "passed",
            "close",
            all_of(signed_by("state.proposer"), gt(var("state.yesVotes"), var("state.noVotes"))),
            _CLOSE_EFFECT,
        ),
        transition(
            "open",
            "rejected",
            "close",
            all_of(signed_by("state.proposer"), not_(gt(var("state.yesVotes"), var("state.noVotes")))),
            _CLOSE_EFFECT,
        ),
    ),
)


def _passes(choices: Sequence[str]) -> bool:
    return choices.count("yes") > choices.count("no")


class Voting(FiberKind):
    name = "Voting"
    min_parties = 4  # proposer + 3 voters
    max_parties = 10  # proposer + 9 voters
    outcomes = (Outcome("passed", "passed", True), Outcome("rejected", "rejected", False))
    state_machine = DEFINITION
    max_think_seconds = 24 * 3600.0

    def initial_data(self, parties: Sequence[str], plan: Plan) -> dict[str, Any]:
        return {
            "proposer": parties[PROPOSER],
            "voters": list(parties[1:]),
            "motion": plan.params["motion"],
            "yesVotes": 0,
            "noVotes": 0,
            "ballots": [],
        }

    def plan(self, outcome: str, parties: Sequence[str], rng: random.Random) -> Plan:
        """Ballots as [party index, choice] in voting order; voters left out abstain."""
        self.outcome(outcome)
        voters = list(range(1, len(parties)))
        for _ in range(10_000):
            turnout = rng.sample(voters, rng.randint(2, len(voters)))
            choices = [rng.choice(CHOICES) for _ in turnout]
            if _passes(choices) == (outcome == "passed"):
                break
        ballots = [[voter, choice] for voter, choice in zip(turnout, choices, strict=True)]
        return Plan(outcome, {"motion": rng.choice(MOTIONS), "ballots": ballots})

    def next_move(self, view: FiberView, parties: Sequence[str], plan: Plan, rng: random.Random) -> Move | Wait | None:
        if view.state != "open":
            return None
        cast = len(view.data["ballots"])
        ballots = plan.params["ballots"]
        if cast < len(ballots):
            voter, choice = ballots[cast]
            return Move(voter, "vote", {"choice": choice})
        return Move(PROPOSER, "close", {})

    def terms(self, parties: Sequence[str], rng: random.Random) -> Plan:
        return Plan(None, {"motion": rng.choice(MOTIONS)})

    def intent(self, me: Seat, view: FiberView, public: Public, rng: random.Random) -> Intent | Wait | None:
        if view.state != "open":
            return None
        if me.index == PROPOSER:
            return Intent("close", {}, PATIENCE * self.max_think_seconds)
        if me.address in {b["voter"] for b in view.data["ballots"]}:
            return None
        if me.chance("abstain", ABSTAIN * (1.0 - me.traits.activity_level)):
            return None
        choice = "yes" if me.goes_along("vote", public.reputation(PROPOSER)) else "no"
        return Intent("vote", {"choice": choice}, me.think(self.max_think_seconds, "vote"))
