"""A chain in a test: the engine without HTTP or signatures, for exercising definitions and policies."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import Any

from localnet.ottochain.engine import ChainState, Fiber, PendingUpdate, Proof, combine, validate_at_l1
from sim.otto.messages import CREATE_STATE_MACHINE, create_state_machine, transition_state_machine

_hashes = itertools.count()


def proof_of(address: str) -> Proof:
    return Proof(address=address, id=f"id-{address}", signature="unchecked")


def receipt_of(fiber: Fiber) -> dict[str, Any]:
    """The fiber's last receipt, which a test reads only after an event was processed."""
    assert fiber.last_receipt is not None, f"fiber {fiber.fiber_id} has processed no event"
    return fiber.last_receipt


@dataclass
class LocalChain:
    state: ChainState = field(default_factory=ChainState)
    queue: list[PendingUpdate] = field(default_factory=list)

    def submit(self, message: dict[str, Any], signers: list[str]) -> PendingUpdate:
        update = PendingUpdate(message=message, proofs=tuple(proof_of(a) for a in signers), hash=f"h{next(_hashes)}")
        pending_creates = [u.body["fiberId"] for u in self.queue if u.kind == CREATE_STATE_MACHINE]
        validate_at_l1(self.state, update, pending_creates)
        self.queue.append(update)
        return update

    def snapshot(self) -> ChainState:
        queue, self.queue = self.queue, []
        return combine(self.state, queue)

    def create(self, fiber_id: str, definition: dict, initial_data: dict, signers: list[str]) -> Fiber:
        self.submit(create_state_machine(fiber_id, definition, initial_data), signers)
        self.snapshot()
        return self.state.fibers[fiber_id]

    def transition(self, fiber_id: str, event: str, payload: dict, signer: str, target: int | None = None) -> Fiber:
        fiber = self.state.fibers[fiber_id]
        target = fiber.sequence_number if target is None else target
        self.submit(transition_state_machine(fiber_id, event, payload, target), [signer])
        self.snapshot()
        return self.state.fibers[fiber_id]
