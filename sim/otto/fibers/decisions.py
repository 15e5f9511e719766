"""Decision mode: every party decides its own moves, from its own traits and what the chain shows.

Nothing draws an outcome up front. At each point of a lifecycle every party forms an *intent* (a move
it means to make, and how long it thinks before making it), or has none, or will act only once the
chain's clock has passed a deadline (a ``Wait``). The party that answers first moves; then the chain
shows something new and everyone decides again. Which terminal state is reached follows from those
moves alone.

What a party may consult:

- its own traits (``Seat.traits``): never another party's, which the fiber type's ``intent`` is not given;
- the fiber as ML0 shows it (``FiberView``) and the public facts about the table (``Public``: every
  party's address and on-chain reputation as observed when the lifecycle was arranged);
- its own private draws (``Seat.draw``): uniform numbers fixed per lifecycle, party and question, so a
  party asked the same question twice (the view changed for someone else's move) answers the same way,
  and a voter who sits a vote out does not change its mind at the next ballot.

How the traits act (the seed's AgentTraits, all in [0, 1]):

- cooperativeness: the chance of going along (accept, confirm, ship, release, approve, vote yes, bid,
  keep playing) rather than backing out (reject, cancel, refund, dispute, vote no, stay away, stall);
- risk_tolerance: how much a counterparty's low reputation puts the party off (``willingness``), and in
  an auction how far above or below its own valuation it is prepared to bid;
- response_speed: simulated seconds before answering, up to the fiber type's ``max_think_seconds``
  for the slowest; the fastest answer wins a race (who bids first, a dispute before a completion);
- activity_level: whether a voter turns out, and how carefully a TicTacToe player picks its cells.
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from models.otto import AgentTraits
from sim.otto.fibers.agent_identity import INITIAL_REPUTATION

# A counterparty at this reputation or above carries no risk; at 0 the most. A new identity (10) is
# half way: an unproven counterparty.
TRUSTED_REPUTATION = 2 * INITIAL_REPUTATION

# A party that only waits for the others (a proposer closing a vote, a seller closing an auction)
# acts after this multiple of the type's max think time: after everybody who answers at all.
PATIENCE = 1.25


def risk_of(reputation: int | None) -> float:
    """0 (trusted) to 1 (no reputation at all); None means not observed, so no reason for suspicion."""
    if reputation is None:
        return 0.0
    return min(1.0, max(0.0, 1.0 - reputation / TRUSTED_REPUTATION))


def willingness(traits: AgentTraits, reputation: int | None) -> float:
    """The chance of going along with a counterparty of ``reputation``: cooperativeness, less the share
    of the counterparty's risk that the party's own risk tolerance does not cover."""
    return traits.cooperativeness * (1.0 - (1.0 - traits.risk_tolerance) * risk_of(reputation))


@dataclass(frozen=True)
class Public:
    """What every party sees of the table: addresses (initiator first) and observed reputations."""

    addresses: tuple[str, ...]
    reputations: tuple[int | None, ...]

    def reputation(self, index: int) -> int | None:
        return self.reputations[index]


@dataclass(frozen=True)
class Seat:
    """One party deciding: where it sits, its own traits, and its own private draws."""

    index: int
    address: str
    traits: AgentTraits
    salt: int

    def draw(self, question: str) -> float:
        """A uniform number in [0, 1), the same every time this party is asked ``question`` in this lifecycle."""
        return random.Random(f"{self.salt}/{self.index}/{question}").random()

    def chance(self, question: str, probability: float) -> bool:
        return self.draw(question) < probability

    def goes_along(self, question: str, reputation: int | None) -> bool:
        """Whether the party goes along with a counterparty of ``reputation`` (see ``willingness``)."""
        return self.chance(question, willingness(self.traits, reputation))

    def think(self, max_seconds: float, question: str) -> float:
        """Simulated seconds before answering: none at full speed, between half and all of
        ``max_seconds`` times the party's slowness otherwise."""
        slowness = 1.0 - self.traits.response_speed
        return max_seconds * slowness * (0.5 + 0.5 * self.draw(f"think/{question}"))


@dataclass(frozen=True)
class Intent:
    """What one party means to do now, and the simulated seconds it takes before doing it."""

    event: str
    payload: Mapping[str, Any] = field(default_factory=dict)
    think_seconds: float = 0.0


@dataclass(frozen=True)
class Table:
    """The parties of one lifecycle in decision mode: public facts, and each one's private traits."""

    public: Public
    traits: tuple[AgentTraits, ...]
    salt: int

    @classmethod
    def of(
        cls,
        addresses: Sequence[str],
        traits: Sequence[AgentTraits],
        *,
        reputations: Sequence[int | None] | None = None,
        salt: int = 0,
    ) -> Table:
        if len(traits) != len(addresses):
            raise ValueError(f"{len(addresses)} parties but {len(traits)} sets of traits")
        observed = tuple(reputations) if reputations is not None else (None,) * len(addresses)
        if len(observed) != len(addresses):
            raise ValueError(f"{len(addresses)} parties but {len(observed)} reputations")
        return cls(public=Public(tuple(addresses), observed), traits=tuple(traits), salt=salt)

    def seats(self) -> tuple[Seat, ...]:
        return tuple(
            Seat(index=i, address=address, traits=self.traits[i], salt=self.salt)
            for i, address in enumerate(self.public.addresses)
        )
