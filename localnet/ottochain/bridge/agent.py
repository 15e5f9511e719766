"""``/agent/*``: AgentIdentity fibers, registered and moved with the owner's key.

Register mints a fresh fiber every time (the real bridge does not deduplicate; our clients look
for an identity before they register). ``/agent/vouch`` sends ``receive_vouch`` signed by the
voucher, whom the chain then refuses as a non-owner, as the real network does; vouches that must
land go through Attestation fibers.
"""

from __future__ import annotations

import time
import uuid
from typing import Any

from fastapi import APIRouter, Request
from pydantic import Field

from localnet.ottochain.bridge.core import BridgeDep, Keyed, address_of, now
from localnet.ottochain.bridge.errors import BridgeError
from sim.otto.fibers.agent_identity import IDENTITY_DEFINITION, identity_initial_data
from sim.otto.messages import create_state_machine

router = APIRouter(prefix="/agent", tags=["agent"])

MAX_WAIT_SECONDS = 60  # the longest /activate waits for a registration to reach a snapshot


class RegisterRequest(Keyed):
    display_name: str | None = Field(None, alias="displayName")
    platform: str | None = None
    platform_user_id: str | None = Field(None, alias="platformUserId")


class ActivateRequest(Keyed):
    fiber_id: str = Field(alias="fiberId")
    wait_for_sync: bool = Field(True, alias="waitForSync")
    max_wait_seconds: float = Field(30, alias="maxWaitSeconds", ge=0, le=MAX_WAIT_SECONDS, allow_inf_nan=False)


class AgentTransitionRequest(Keyed):
    fiber_id: str = Field(alias="fiberId")
    event: str
    payload: dict[str, Any] = Field(default_factory=dict)


class VouchRequest(Keyed):
    target_fiber_id: str = Field(alias="targetFiberId")
    from_address: str | None = Field(None, alias="fromAddress")
    reason: str = ""


@router.post("/register", status_code=201)
async def register(body: RegisterRequest, bridge: BridgeDep) -> dict[str, Any]:
    owner = address_of(body.private_key)
    fiber_id = str(uuid.uuid4())
    initial_data = identity_initial_data(
        owner=owner,
        display_name=body.display_name,
        platform=body.platform,
        platform_user_id=body.platform_user_id,
        created_at=now(),
    )
    update_hash = bridge.submit(create_state_machine(fiber_id, IDENTITY_DEFINITION, initial_data), body.private_key)
    return {
        "fiberId": fiber_id,
        "address": owner,
        "hash": update_hash,
        "message": "Agent identity created. Call /agent/activate to activate.",
    }


@router.post("/activate")
async def activate(body: ActivateRequest, bridge: BridgeDep, request: Request) -> dict[str, Any]:
    chain = bridge.chain
    if body.wait_for_sync:
        deadline = time.monotonic() + body.max_wait_seconds
        while body.fiber_id not in chain.state.fibers and time.monotonic() < deadline:
            if await request.is_disconnected():
                raise BridgeError(499, {"error": "client closed the request"})  # nobody is waiting any more
            await chain.next_snapshot(timeout=max(0.0, min(1.0, deadline - time.monotonic())))
        if body.fiber_id not in chain.state.fibers:
            raise BridgeError(
                503,
                {
                    "error": "Fiber not yet synced to data layer",
                    "fiberId": body.fiber_id,
                    "hint": "Retry once the registration is in a snapshot",
                },
            )
    agent = bridge.record(body.fiber_id, "Agent")
    if agent["currentState"] != "REGISTERED":
        raise BridgeError(400, {"error": "Agent cannot be activated", "currentState": agent["currentState"]})
    # The guard wants to know who activates: the owner, named in the payload and in the proof.
    update_hash = bridge.transition(
        body.private_key, body.fiber_id, "activate", {"agent": address_of(body.private_key)}
    )
    return {"hash": update_hash, "fiberId": body.fiber_id, "status": "ACTIVE"}


@router.post("/transition")
async def transition(body: AgentTransitionRequest, bridge: BridgeDep) -> dict[str, Any]:
    bridge.record(body.fiber_id, "Agent")
    update_hash = bridge.transition(body.private_key, body.fiber_id, body.event, body.payload)
    return {"hash": update_hash, "event": body.event, "fiberId": body.fiber_id}


@router.post("/vouch")
async def vouch(body: VouchRequest, bridge: BridgeDep) -> dict[str, Any]:
    target = bridge.record(body.target_fiber_id, "Target agent")
    if target["currentState"] != "ACTIVE":
        raise BridgeError(400, {"error": "Can only vouch for active agents", "currentState": target["currentState"]})
    voucher = body.from_address or address_of(body.private_key)
    update_hash = bridge.transition(
        body.private_key, body.target_fiber_id, "receive_vouch", {"from": voucher, "reason": body.reason}
    )
    return {"hash": update_hash, "event": "vouch", "targetFiberId": body.target_fiber_id, "from": voucher}


@router.get("")
async def agents(bridge: BridgeDep, definition: bool = True) -> dict[str, Any]:
    found = bridge.with_schema("AgentIdentity", definition=definition)
    return {"count": len(found), "agents": found}


@router.get("/{fiber_id}")
async def agent(fiber_id: str, bridge: BridgeDep) -> dict[str, Any]:
    return bridge.record(fiber_id, "Agent")
