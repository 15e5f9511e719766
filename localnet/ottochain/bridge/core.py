"""What every bridge route shares: the chain, signing and submitting, and the target-sequence cache.

One :class:`Bridge` lives on the app (``app.state.bridge``); routes receive it through the
:data:`BridgeDep` dependency instead of closing over it, so each resource's router is a plain module.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import Depends, Request
from pydantic import BaseModel, Field, field_validator

from localnet.ottochain.bridge.errors import BridgeError, invalid
from localnet.ottochain.chain import Chain
from localnet.ottochain.engine import UpdateRejected, validate_message
from sim.otto import signing
from sim.otto.messages import transition_state_machine

# n, the order of secp256k1's group: a private key is a number from 1 to n-1.
SECP256K1_ORDER = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141


class Keyed(BaseModel):
    """A custodial request: the caller's private key, with which the bridge signs on their behalf."""

    private_key: str = Field(alias="privateKey", min_length=64, max_length=64, pattern="^[0-9a-fA-F]{64}$")

    @field_validator("private_key")
    @classmethod
    def _on_the_curve(cls, key: str) -> str:
        if not 1 <= int(key, 16) < SECP256K1_ORDER:
            raise ValueError("a private key must be a number from 1 to n-1, n being the secp256k1 group order")
        return key


class Bridge:
    def __init__(self, chain: Chain) -> None:
        self.chain = chain
        # The real bridge remembers the target after each accepted submit, so two writes in a row
        # (faster than a snapshot) do not both target the number DL1 still shows.
        self._submitted_targets: dict[str, int] = {}

    @staticmethod
    def check(message: dict[str, Any], **extra: Any) -> None:
        """What DL1 would refuse whatever the chain holds (shape, values, definition): a 400 naming why.

        The real bridge validates its request bodies; a message it cannot even sign is not the chain's
        refusal to report as a failed submission.
        """
        try:
            validate_message(message)
        except UpdateRejected as rejected:
            raise invalid(f"{rejected.code}: {rejected.message}", kind=rejected.code, **extra) from None

    def submit(self, message: dict[str, Any], private_key: str) -> str:
        self.check(message)
        try:
            return self.chain.submit(signing.sign(message, [private_key]))
        except UpdateRejected as rejected:
            # The real bridge loses DL1's body and answers 500 with the status line only.
            raise BridgeError(
                500, {"error": f"Metagraph submission failed on all 1 DL1 node(s): HTTP 400: {rejected.code}"}
            ) from None

    def target_sequence(self, fiber_id: str) -> int:
        fiber = self.chain.state.fibers.get(fiber_id)
        on_chain = fiber.sequence_number if fiber else 0
        return max(on_chain, self._submitted_targets.get(fiber_id, 0))

    def transition(
        self, private_key: str, fiber_id: str, event: str, payload: dict[str, Any], target: int | None = None
    ) -> str:
        """Sign and submit ``event``; the target is the caller's, or what the chain and cache say."""
        target = self.target_sequence(fiber_id) if target is None else target
        update_hash = self.submit(transition_state_machine(fiber_id, event, payload, target), private_key)
        self._submitted_targets[fiber_id] = target + 1
        return update_hash

    def record(self, fiber_id: str, kind: str) -> dict[str, Any]:
        """The fiber as ML0 serves it, or 404 ``"<kind> not found"``."""
        fiber = self.chain.state.fibers.get(fiber_id)
        if fiber is None:
            raise BridgeError(404, {"error": f"{kind} not found"})
        return fiber.to_wire()

    def with_schema(self, schema: str, *, definition: bool = True) -> dict[str, dict[str, Any]]:
        """Records whose state data has this schema; without their definitions if asked (see ML0's
        ``definition=false``: the bulk of each record, which a client listing agents does not read)."""
        found = {}
        for fiber_id, fiber in self.chain.state.fibers.items():
            if fiber.state_data.get("schema") == schema:
                record = fiber.to_wire()
                if not definition:
                    del record["definition"]
                found[fiber_id] = record
        return found


def get_bridge(request: Request) -> Bridge:
    bridge = request.app.state.bridge
    if not isinstance(bridge, Bridge):
        raise RuntimeError("the bridge app was built without its Bridge (see bridge_app)")
    return bridge


BridgeDep = Annotated[Bridge, Depends(get_bridge)]


def address_of(private_key: str) -> str:
    return signing.keypair_from_private_key(private_key.lower()).address


def now() -> str:
    """An ISO timestamp with milliseconds and ``Z``, as JavaScript's ``toISOString`` writes it."""
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
