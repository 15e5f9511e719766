"""Auction: open ascending bids from invited bidders; the seller closes and the highest bid wins.

A bid must be an integer at or above the reserve and strictly above the standing highest bid, so the
standing bid is always the highest ever made. Closing settles to the standing bidder, or ends unsold
when nobody bid.

Decision mode: a bidder takes part if it goes along with the seller (cooperativeness, the seller's
reputation against its risk tolerance). It values the item privately at 0.8 to 1.6 times the reserve
and bids up to a limit set by its risk tolerance (70% of its valuation when averse to risk, 130% when
not), opening at the reserve and raising by 5% to 20% of the standing bid (more when risk-tolerant);
the quickest willing bidder bids next. The seller closes once its patience has run out: after the
last bidder willing to go higher.
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
    eq,
    ge,
    gt,
    is_int,
    length,
    machine,
    not_,
    signed_by,
    signer,
    signer_among,
    transition,
    var,
    when,
)

SELLER = 0
ITEMS = ("vintage synth", "rare stamp", "domain name", "signed print", "mechanical keyboard", "first edition")
TICK = 10  # bids are whole multiples of this

_AMOUNT = var("event.amount")
_NO_BIDS = eq(length(var("state.bids")), 0)

DEFINITION = machine(
    "Auction",
    initial="open",
    states=("open",),
    finals=("settled", "unsold"),
    transitions=(
        transition(
            "open",
            "open",
            "bid",
            # Comparisons only once the amount is known to be an integer (they would error on text).
            all_of(
                signer_among("state.bidders"),
                when(is_int(_AMOUNT), gt(_AMOUNT, var("state.highestBid")), ge(_AMOUNT, var("state.reservePrice"))),
            ),
            {
                "highestBid": _AMOUNT,
                "highestBidder": signer(),
                "bids": append("state.bids", {"bidder": signer(), "amount": _AMOUNT, "at": ORDINAL}),
            },
        ),
        transition(
            "open",
            "settled",
            "close",
            all_of(signed_by("state.seller"), not_(_NO_BIDS)),
            {"winner": var("state.highestBidder"), "price": var("state.highestBid"), "closedAt": ORDINAL},
        ),
        transition("open", "unsold", "close", all_of(signed_by("state.seller"), _NO_BIDS), {"closedAt": ORDINAL}),
    ),
)


class Auction(FiberKind):
    name = "Auction"
    min_parties = 3  # seller + 2 bidders
    max_parties = 7  # seller + 6 bidders
    outcomes = (Outcome("settled", "settled", True), Outcome("no_bids", "unsold", False))
    state_machine = DEFINITION
    max_think_seconds = 3600.0

    def initial_data(self, parties: Sequence[str], plan: Plan) -> dict[str, Any]:
        return {
            "seller": parties[SELLER],
            "bidders": list(parties[1:]),
            "item": plan.params["item"],
            "reservePrice": plan.params["reserve"],
            "highestBid": 0,
            "highestBidder": None,
            "bids": [],
        }

    def plan(self, outcome: str, parties: Sequence[str], rng: random.Random) -> Plan:
        """Bids as [party index, amount], each outbidding the last and never by the standing bidder."""
        self.outcome(outcome)
        reserve = rng.randint(10, 500) * 10
        params: dict[str, Any] = {"item": rng.choice(ITEMS), "reserve": reserve, "bids": []}
        if outcome == "settled":
            bidders = range(1, len(parties))
            amount, standing = reserve + rng.randint(0, 5) * 10, None
            for _ in range(rng.randint(1, 2 * len(bidders))):
                bidder = rng.choice([b for b in bidders if b != standing])
                params["bids"].append([bidder, amount])
                standing, amount = bidder, amount + rng.randint(1, 20) * 10
        return Plan(outcome, params)

    def next_move(self, view: FiberView, parties: Sequence[str], plan: Plan, rng: random.Random) -> Move | Wait | None:
        if view.state != "open":
            return None
        made = len(view.data["bids"])
        bids = plan.params["bids"]
        if made < len(bids):
            bidder, amount = bids[made]
            return Move(bidder, "bid", {"amount": amount})
        return Move(SELLER, "close", {})

    def terms(self, parties: Sequence[str], rng: random.Random) -> Plan:
        return Plan(None, {"reserve": rng.randint(10, 500) * TICK, "item": rng.choice(ITEMS)})

    def intent(self, me: Seat, view: FiberView, public: Public, rng: random.Random) -> Intent | Wait | None:
        if view.state != "open":
            return None
        if me.index == SELLER:
            return Intent("close", {}, PATIENCE * self.max_think_seconds)
        data = view.data
        if me.address == data["highestBidder"] or not me.goes_along("take part", public.reputation(SELLER)):
            return None
        reserve, highest, made = data["reservePrice"], data["highestBid"], len(data["bids"])
        risk = me.traits.risk_tolerance
        valuation = reserve * (0.8 + 0.8 * me.draw("valuation"))
        limit = int(valuation * (0.7 + 0.6 * risk)) // TICK * TICK
        if made == 0:
            amount = reserve
        else:
            raise_by = highest * (0.05 + 0.15 * risk * me.draw(f"raise/{made}"))
            amount = min(limit, highest + TICK * max(1, round(raise_by / TICK)))
        if amount > limit or amount <= highest or amount < reserve:
            return None
        return Intent("bid", {"amount": amount}, me.think(self.max_think_seconds, f"bid/{made}"))
