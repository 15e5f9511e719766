"""The fiber types simctl drives: each a definition for the chain and a policy for its parties."""

from __future__ import annotations

from sim.otto.fibers.approval_workflow import ApprovalWorkflow
from sim.otto.fibers.auction import Auction
from sim.otto.fibers.base import FiberKind, FiberView, Move, Outcome, Plan, Wait
from sim.otto.fibers.contract import Contract
from sim.otto.fibers.simple_order import SimpleOrder
from sim.otto.fibers.tictactoe import TicTacToe
from sim.otto.fibers.token_escrow import TokenEscrow
from sim.otto.fibers.voting import Voting

FIBER_KINDS: dict[str, FiberKind] = {
    kind.name: kind
    for kind in (SimpleOrder(), TicTacToe(), TokenEscrow(), Contract(), Voting(), ApprovalWorkflow(), Auction())
}


def fiber_kind(name: str) -> FiberKind:
    try:
        return FIBER_KINDS[name]
    except KeyError:
        raise ValueError(f"unknown fiber type {name!r} (known: {', '.join(FIBER_KINDS)})") from None


__all__ = ["FIBER_KINDS", "FiberKind", "FiberView", "Move", "Outcome", "Plan", "Wait", "fiber_kind"]
