"""The fiber types simctl drives: each a definition for the chain and a policy for its parties.

Which types exist is decided once, in ``models.otto.FIBER_TYPES``: models may not import sim, and
agent traits weigh every type by that list. This package supplies one implementation per name and
refuses to load when the two disagree, so a type cannot be added in one place only.
"""

from __future__ import annotations

from models.otto import FIBER_TYPES
from sim.otto.fibers.approval_workflow import ApprovalWorkflow
from sim.otto.fibers.auction import Auction
from sim.otto.fibers.base import FiberKind, FiberView, Move, Outcome, Plan, Wait
from sim.otto.fibers.contract import Contract
from sim.otto.fibers.simple_order import SimpleOrder
from sim.otto.fibers.tictactoe import TicTacToe
from sim.otto.fibers.token_escrow import TokenEscrow
from sim.otto.fibers.voting import Voting

_IMPLEMENTATIONS: dict[str, FiberKind] = {
    kind.name: kind
    for kind in (SimpleOrder(), TicTacToe(), TokenEscrow(), Contract(), Voting(), ApprovalWorkflow(), Auction())
}
if set(_IMPLEMENTATIONS) != set(FIBER_TYPES):
    raise ImportError(
        f"fiber implementations {sorted(_IMPLEMENTATIONS)} do not match models.otto.FIBER_TYPES {sorted(FIBER_TYPES)}"
    )

# In FIBER_TYPES order, so every listing of the types agrees.
FIBER_KINDS: dict[str, FiberKind] = {name: _IMPLEMENTATIONS[name] for name in FIBER_TYPES}


def fiber_kind(name: str) -> FiberKind:
    try:
        return FIBER_KINDS[name]
    except KeyError:
        raise ValueError(f"unknown fiber type {name!r} (known: {', '.join(FIBER_KINDS)})") from None


__all__ = ["FIBER_KINDS", "FiberKind", "FiberView", "Move", "Outcome", "Plan", "Wait", "fiber_kind"]
