"""What a fiber type is to the simulator: a definition for the chain, and a policy for every party.

A definition is data the chain evaluates (JLVM guards and effects). A policy is a pure function
that, given what ML0 shows, says which party moves next with which event and payload, or that the
fiber should wait (for the chain's clock to pass a deadline) or is finished. Policies draw from a
seeded ``random.Random`` only, so a workflow replays them exactly.
"""

from __future__ import annotations

import copy
import random
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any


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
    """How this lifecycle is meant to end (an outcome name) and the numbers it is played with."""

    outcome: str
    params: Mapping[str, Any] = field(default_factory=dict)


class FiberKind(ABC):
    name: str
    min_parties: int = 2
    max_parties: int = 2
    outcomes: tuple[Outcome, ...]
    state_machine: dict[str, Any]  # shared by every fiber of the kind: handed out as copies only

    def definition(self) -> dict[str, Any]:
        """The state machine as the chain takes it in CreateStateMachine (plain state ids)."""
        return copy.deepcopy(self.state_machine)

    @abstractmethod
    def initial_data(self, parties: Sequence[str], plan: Plan) -> dict[str, Any]:
        """Initial state data for ``parties`` (DAG addresses, initiator first)."""

    @abstractmethod
    def next_move(self, view: FiberView, parties: Sequence[str], plan: Plan, rng: random.Random) -> Move | Wait | None:
        """The next step towards ``plan.outcome``; None once the fiber is in a final state."""

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
