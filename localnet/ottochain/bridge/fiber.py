"""``/fiber/*``: any state machine, created from the caller's definition and moved by its events.

Unlike ``/agent`` and ``/contract``, payloads go to the chain as given: the bridge adds no ``agent``.
A batch is all or nothing for its requests: every item is parsed and checked before any is submitted,
and a malformed one refuses the whole batch (400, naming its index). What the chain then refuses is
reported per item, as the real bridge does.
"""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, Field, ValidationError, field_validator

from localnet.ottochain.bridge.core import BridgeDep, Keyed, address_of, now
from localnet.ottochain.bridge.errors import BridgeError, issues
from localnet.ottochain.limits import MAX_SAFE_INTEGER
from sim.otto.messages import create_state_machine, transition_state_machine

router = APIRouter(prefix="/fiber", tags=["fiber"])


class FiberCreateRequest(Keyed):
    definition: dict[str, Any]
    initial_data: dict[str, Any] = Field(alias="initialData")
    fiber_id: str | None = Field(None, alias="fiberId")
    parent_fiber_id: str | None = Field(None, alias="parentFiberId")

    @field_validator("definition")
    @classmethod
    def _metadata(cls, definition: dict[str, Any]) -> dict[str, Any]:
        # The schema name comes from here, so its shape is checked before anything is signed.
        metadata = definition.get("metadata")
        if metadata is not None and not isinstance(metadata, dict):
            raise ValueError("definition.metadata must be an object or null")
        if not isinstance((metadata or {}).get("name"), str | None):
            raise ValueError("definition.metadata.name must be a string")
        return definition


class FiberTransitionRequest(Keyed):
    fiber_id: str = Field(alias="fiberId")
    event: str
    payload: dict[str, Any] = Field(default_factory=dict)
    target_sequence_number: int | None = Field(None, alias="targetSequenceNumber", ge=0, le=MAX_SAFE_INTEGER)


class BatchRequest(BaseModel):
    # Items are validated one by one in the route, so that the 400 can name the bad item's index.
    transitions: list[dict[str, Any]]


@router.post("/create", status_code=201)
async def create(body: FiberCreateRequest, bridge: BridgeDep) -> dict[str, Any]:
    owner = address_of(body.private_key)
    schema = (body.definition.get("metadata") or {}).get("name") or "GenericFiber"
    fiber_id = body.fiber_id or str(uuid.uuid4())
    initial = {**body.initial_data, "_schema": schema, "_createdAt": now(), "_owner": owner}
    message = create_state_machine(fiber_id, body.definition, initial, parent_fiber_id=body.parent_fiber_id)
    update_hash = bridge.submit(message, body.private_key)
    return {"fiberId": fiber_id, "address": owner, "hash": update_hash, "schema": schema}


@router.post("/transition")
async def transition(body: FiberTransitionRequest, bridge: BridgeDep) -> dict[str, Any]:
    # An explicit target is trusted as given; otherwise the fiber must exist to have one.
    if body.target_sequence_number is None:
        bridge.record(body.fiber_id, "Fiber")
    update_hash = bridge.transition(
        body.private_key, body.fiber_id, body.event, body.payload, body.target_sequence_number
    )
    return {"hash": update_hash, "event": body.event, "fiberId": body.fiber_id}


@router.post("/batch")
async def batch(body: BatchRequest, bridge: BridgeDep) -> dict[str, Any]:
    # First every item, parsed and checked as DL1 would check it, before anything is submitted.
    requests: list[FiberTransitionRequest] = []
    for index, item in enumerate(body.transitions):
        try:
            parsed = FiberTransitionRequest.model_validate(item)
        except ValidationError as err:
            details = [{**issue, "loc": ["transitions", index, *issue["loc"]]} for issue in issues(err.errors())]
            raise BridgeError(400, {"error": "Invalid request", "index": index, "details": details}) from None
        target = parsed.target_sequence_number or 0  # any valid number: the check does not read the chain
        bridge.check(transition_state_machine(parsed.fiber_id, parsed.event, parsed.payload, target), index=index)
        requests.append(parsed)
    successes: list[dict[str, Any]] = []
    failures: list[dict[str, Any]] = []
    for index, parsed in enumerate(requests):
        try:
            update_hash = bridge.transition(
                parsed.private_key, parsed.fiber_id, parsed.event, parsed.payload, parsed.target_sequence_number
            )
            successes.append({"fiberId": parsed.fiber_id, "event": parsed.event, "hash": update_hash})
        except BridgeError as err:
            failures.append({"index": index, "fiberId": parsed.fiber_id, "error": err.body.get("error")})
    return {
        "total": len(body.transitions),
        "succeeded": len(successes),
        "failed": len(failures),
        "successes": successes,
        "failures": failures,
    }


@router.get("")
async def fibers(bridge: BridgeDep, schema: str | None = None, limit: int = 100) -> dict[str, Any]:
    found = []
    for fiber in bridge.chain.state.fibers.values():
        data = fiber.state_data
        name = data.get("_schema") or data.get("schema") or (fiber.definition.get("metadata") or {}).get("name")
        if schema is None or name == schema:
            found.append(
                {"fiberId": fiber.fiber_id, "schema": name, "currentState": fiber.current_state, "stateData": data}
            )
    return {"count": len(found[:limit]), "fibers": found[:limit]}


@router.get("/{fiber_id}")
async def fiber(fiber_id: str, bridge: BridgeDep) -> dict[str, Any]:
    return bridge.record(fiber_id, "Fiber")
