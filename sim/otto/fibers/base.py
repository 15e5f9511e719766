"""What a fiber type is to the simulator: a definition for the chain, and how its parties move.

A definition is data the chain evaluates (JLVM guards and effects). Moves come in one of two modes,
both pure functions of what ML0 shows and a seeded ``random.Random``, so a workflow replays them exactly:

- scripted (``plan`` then ``next_move``): an outcome is chosen first and the policy plays towards it;
  the demo mode (``simctl otto fiber --outcome``) and the saved histories;
- decision (``terms`` then ``decide``): no outcome is chosen; each party decides its own moves from its
  own traits (``intent``, see ``decisions``), and the outcome is whatever those moves lead to.

Either says which party moves next with which event and payload, or that the fiber should wait (for
the chain's clock to pass a deadline), or that it is finished.
"""

from __future__ import annotations

import copy
import random
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sim.otto.fibers.decisions import Intent, Public, Seat, Table


@dataclass(frozen=True)
class Outcome:
    """A terminal outcome: the final state that shows it, and whether it counts as success."""

    name: str
    state: str
    success: bool


@dataclass(frozen=True)
class Move:
    """Party ``actor`` (index into the parties) signs ``event`` with ``payload``."""

    actor: int
    event: str
    payload: dict[str, Any] = field(default_factory=dict)
    think_seconds: float = 0.0  # decision mode: simulated seconds the actor takes before signing


@dataclass(frozen=True)
class Wait:
    """Nothing to do until the chain's snapshot ordinal reaches ``until_ordinal``."""

    until_ordinal: int


@dataclass(frozen=True)
class FiberView:
    """The fiber as read back from ML0."""

    state: str
    data: Mapping[str, Any]
    sequence: int
    ordinal: int
    last_receipt: Mapping[str, Any] | None = None


@dataclass(frozen=True)
class Plan:
    """How this lifecycle is meant to end (an outcome name) and the numbers it is played with.

    In decision mode the outcome is None: a plan then holds only the terms the fiber starts with."""

    outcome: str | None
    params: Mapping[str, Any] = field(default_factory=dict)


class FiberKind(ABC):
    name: str
    min_parties: int = 2
    max_parties: int = 2
    outcomes: tuple[Outcome, ...]
    state_machine: dict[str, Any]  # shared by every fiber of the kind: handed out as copies only
    max_think_seconds: float = 3600.0  # decision mode: the slowest party's answer, in simulated seconds

    def definition(self) -> dict[str, Any]:
        """The state machine as the chain takes it in CreateStateMachine (plain state ids)."""
        return copy.deepcopy(self.state_machine)

    @abstractmethod
    def initial_data(self, parties: Sequence[str], plan: Plan) -> dict[str, Any]:
        """Initial state data for ``parties`` (DAG addresses, initiator first)."""

    @abstractmethod
    def next_move(self, view: FiberView, parties: Sequence[str], plan: Plan, rng: random.Random) -> Move | Wait | None:
        """The next step towards ``plan.outcome``; None once the fiber is in a final state."""

    @abstractmethod
    def terms(self, parties: Sequence[str], rng: random.Random) -> Plan:
        """Decision mode: the numbers the fiber starts with (for ``initial_data``), and no outcome."""

    @abstractmethod
    def intent(self, me: Seat, view: FiberView, public: Public, rng: random.Random) -> Intent | Wait | None:
        """Decision mode: what party ``me`` does now, from its own traits and what it sees.

        None: nothing for now (not its turn, or it chose not to act); a ``Wait``: it will act once the
        chain's ordinal has reached a deadline. ``rng`` (shared, seeded) is for the wording of a payload
        only; every choice comes from ``me``'s traits and draws."""

    def decide(self, view: FiberView, table: Table, rng: random.Random) -> Move | Wait | None:
        """Decision mode: the next step. Every party forms its intent; the quickest answer is the move
        (ties to the lower index). With nobody acting now, the earliest ``Wait``; None once final."""
        if self.terminal(view.state) is not None:
            return None
        quickest: tuple[Seat, Intent] | None = None
        wait: Wait | None = None
        for seat in table.seats():
            intent = self.intent(seat, view, table.public, rng)
            if isinstance(intent, Wait):
                if wait is None or intent.until_ordinal < wait.until_ordinal:
                    wait = intent
            elif intent is not None and (quickest is None or intent.think_seconds < quickest[1].think_seconds):
                quickest = (seat, intent)
        if quickest is None:
            return wait
        seat, intent = quickest
        return Move(seat.index, intent.event, dict(intent.payload), intent.think_seconds)

    def plan(self, outcome: str, parties: Sequence[str], rng: random.Random) -> Plan:
        """A plan for ``outcome`` with numbers drawn from ``rng``; types with parameters override this."""
        self.outcome(outcome)
        return Plan(outcome=outcome)

    def outcome(self, name: str) -> Outcome:
        for outcome in self.outcomes:
            if outcome.name == name:
                return outcome
        known = ", ".join(o.name for o in self.outcomes)
        raise ValueError(f"{self.name} has no outcome {name!r} (known: {known})")

    def terminal(self, state: str) -> Outcome | None:
        for outcome in self.outcomes:
            if outcome.state == state:
                return outcome
        return None
