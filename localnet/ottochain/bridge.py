"""The bridge: a custodial HTTP service in front of the chain (each write carries a private key).

Routes and bodies follow the real bridge (docs/ottochain-wire.md §5): register and propose mint a
fresh fiber every time (the bridge does not deduplicate; our clients check before they register),
target sequence numbers come from DL1's view plus a cache of what was just submitted, and
`/agent/vouch` sends `receive_vouch` signed by the voucher, whom the chain then refuses as a
non-owner, as the real network does. Identity work that must land goes through Attestation fibers.
"""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, Field, ValidationError

from localnet.ottochain.chain import Chain
from localnet.ottochain.engine import UpdateRejected
from sim.otto import signing
from sim.otto.fibers import fiber_kind
from sim.otto.fibers.agent_identity import IDENTITY_DEFINITION, identity_initial_data
from sim.otto.fibers.base import Plan
from sim.otto.fibers.contract import CONTRACT_EVENTS


class _Keyed(BaseModel):
    private_key: str = Field(alias="privateKey", min_length=64, max_length=64, pattern="^[0-9a-fA-F]{64}$")


class RegisterRequest(_Keyed):
    display_name: str | None = Field(None, alias="displayName")
    platform: str | None = None
    platform_user_id: str | None = Field(None, alias="platformUserId")


class ActivateRequest(_Keyed):
    fiber_id: str = Field(alias="fiberId")
    wait_for_sync: bool = Field(True, alias="waitForSync")
    max_wait_seconds: float = Field(30, alias="maxWaitSeconds")


class AgentTransitionRequest(_Keyed):
    fiber_id: str = Field(alias="fiberId")
    event: str
    payload: dict[str, Any] = Field(default_factory=dict)


class VouchRequest(_Keyed):
    target_fiber_id: str = Field(alias="targetFiberId")
    from_address: str | None = Field(None, alias="fromAddress")
    reason: str = ""


class ProposeRequest(_Keyed):
    counterparty_address: str = Field(alias="counterpartyAddress")
    terms: dict[str, Any]
    title: str = "Untitled Contract"
    description: str = ""


class ContractActionRequest(_Keyed):
    contract_id: str = Field(alias="contractId")
    proof: str = ""
    reason: str = ""


class FiberCreateRequest(_Keyed):
    definition: dict[str, Any]
    initial_data: dict[str, Any] = Field(alias="initialData")
    fiber_id: str | None = Field(None, alias="fiberId")
    parent_fiber_id: str | None = Field(None, alias="parentFiberId")


class FiberTransitionRequest(_Keyed):
    fiber_id: str = Field(alias="fiberId")
    event: str
    payload: dict[str, Any] = Field(default_factory=dict)
    target_sequence_number: int | None = Field(None, alias="targetSequenceNumber")


class BatchRequest(BaseModel):
    transitions: list[dict[str, Any]]


class _BridgeError(Exception):
    def __init__(self, status: int, body: dict[str, Any]) -> None:
        self.status = status
        self.body = body


def bridge_app(chain: Chain) -> FastAPI:
    app = FastAPI(title="OttoChain bridge (embedded)")
    submitted_targets: dict[str, int] = {}

    @app.exception_handler(_BridgeError)
    async def bridge_error(_request: Request, err: _BridgeError) -> Response:
        return JSONResponse(err.body, status_code=err.status)

    async def parse(request: Request, model: type[BaseModel]) -> Any:
        try:
            return model.model_validate(await request.json())
        except (ValueError, ValidationError) as err:
            details = err.errors() if isinstance(err, ValidationError) else str(err)
            raise _BridgeError(400, {"error": "Invalid request", "details": _jsonable(details)}) from None

    def submit(message: dict[str, Any], private_key: str) -> str:
        try:
            return chain.submit(signing.sign(message, [private_key]))
        except UpdateRejected as rejected:
            # The real bridge loses DL1's body and answers 500 with the status line only.
            raise _BridgeError(
                500, {"error": f"Metagraph submission failed on all 1 DL1 node(s): HTTP 400: {rejected.code}"}
            ) from None

    def target_sequence(fiber_id: str) -> int:
        fiber = chain.state.fibers.get(fiber_id)
        on_chain = fiber.sequence_number if fiber else 0
        return max(on_chain, submitted_targets.get(fiber_id, 0))

    def transition(
        private_key: str, fiber_id: str, event: str, payload: dict[str, Any], target: int | None = None
    ) -> str:
        target = target_sequence(fiber_id) if target is None else target
        message = {
            "TransitionStateMachine": {
                "fiberId": fiber_id,
                "eventName": event,
                "payload": payload,
                "targetSequenceNumber": target,
            }
        }
        update_hash = submit(message, private_key)
        submitted_targets[fiber_id] = target + 1
        return update_hash

    def record(fiber_id: str, kind: str) -> dict[str, Any]:
        fiber = chain.state.fibers.get(fiber_id)
        if fiber is None:
            raise _BridgeError(404, {"error": f"{kind} not found"})
        return fiber.to_wire()

    def address_of(private_key: str) -> str:
        return signing.keypair_from_private_key(private_key.lower()).address

    def now() -> str:
        return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")

    # --- health, version, wallet ---------------------------------------------------------------

    @app.get("/health")
    async def health() -> dict[str, Any]:
        return {"status": "ok", "service": "bridge"}

    @app.get("/version")
    async def version() -> dict[str, Any]:
        return {"service": "bridge", "version": "0.1.0", "commit": "unknown", "built": "unknown", "node": "python"}

    @app.post("/wallet/generate")
    async def wallet_generate() -> dict[str, Any]:
        pair = signing.new_keypair()
        return {
            "address": pair.address,
            "publicKey": "04" + pair.public_key_id,
            "privateKey": pair.private_key,
            "warning": "Store the private key securely; the bridge keeps no copy.",
        }

    @app.post("/wallet/import")
    async def wallet_import(request: Request) -> dict[str, Any]:
        body = await parse(request, _Keyed)
        pair = signing.keypair_from_private_key(body.private_key.lower())
        return {"address": pair.address, "publicKey": "04" + pair.public_key_id}

    @app.post("/wallet/sign")
    async def wallet_sign(request: Request) -> dict[str, Any]:
        payload = await request.json()
        if not isinstance(payload, dict) or "message" not in payload:
            raise _BridgeError(400, {"error": "message is required"})
        body = await parse(request, _Keyed)
        proof = signing.sign(payload["message"], [body.private_key.lower()]).proofs[0]
        return {"proof": proof.model_dump()}

    # --- agents ----------------------------------------------------------------------------------

    @app.post("/agent/register", status_code=201)
    async def agent_register(request: Request) -> dict[str, Any]:
        body = await parse(request, RegisterRequest)
        owner = address_of(body.private_key)
        fiber_id = str(uuid.uuid4())
        message = {
            "CreateStateMachine": {
                "fiberId": fiber_id,
                "definition": IDENTITY_DEFINITION,
                "initialData": identity_initial_data(
                    owner=owner,
                    display_name=body.display_name,
                    platform=body.platform,
                    platform_user_id=body.platform_user_id,
                    created_at=now(),
                ),
                "parentFiberId": None,
            }
        }
        update_hash = submit(message, body.private_key)
        return {
            "fiberId": fiber_id,
            "address": owner,
            "hash": update_hash,
            "message": "Agent identity created. Call /agent/activate to activate.",
        }

    @app.post("/agent/activate")
    async def agent_activate(request: Request) -> Response:
        body = await parse(request, ActivateRequest)
        if body.wait_for_sync:
            deadline = time.monotonic() + body.max_wait_seconds
            while body.fiber_id not in chain.state.fibers and time.monotonic() < deadline:
                await chain.next_snapshot(timeout=max(0.0, min(1.0, deadline - time.monotonic())))
            if body.fiber_id not in chain.state.fibers:
                return JSONResponse(
                    {
                        "error": "Fiber not yet synced to data layer",
                        "fiberId": body.fiber_id,
                        "hint": "Retry once the registration is in a snapshot",
                    },
                    status_code=503,
                )
        agent = record(body.fiber_id, "Agent")
        if agent["currentState"] != "REGISTERED":
            raise _BridgeError(400, {"error": "Agent cannot be activated", "currentState": agent["currentState"]})
        # The guard wants to know who activates: the owner, named in the payload and in the proof.
        update_hash = transition(body.private_key, body.fiber_id, "activate", {"agent": address_of(body.private_key)})
        return JSONResponse({"hash": update_hash, "fiberId": body.fiber_id, "status": "ACTIVE"})

    @app.post("/agent/transition")
    async def agent_transition(request: Request) -> dict[str, Any]:
        body = await parse(request, AgentTransitionRequest)
        record(body.fiber_id, "Agent")
        update_hash = transition(body.private_key, body.fiber_id, body.event, body.payload)
        return {"hash": update_hash, "event": body.event, "fiberId": body.fiber_id}

    @app.post("/agent/vouch")
    async def agent_vouch(request: Request) -> dict[str, Any]:
        body = await parse(request, VouchRequest)
        target = record(body.target_fiber_id, "Target agent")
        if target["currentState"] != "ACTIVE":
            raise _BridgeError(
                400, {"error": "Can only vouch for active agents", "currentState": target["currentState"]}
            )
        voucher = body.from_address or address_of(body.private_key)
        update_hash = transition(
            body.private_key, body.target_fiber_id, "receive_vouch", {"from": voucher, "reason": body.reason}
        )
        return {"hash": update_hash, "event": "vouch", "targetFiberId": body.target_fiber_id, "from": voucher}

    def with_schema(schema: str) -> dict[str, Any]:
        return {
            fiber_id: fiber.to_wire()
            for fiber_id, fiber in chain.state.fibers.items()
            if fiber.state_data.get("schema") == schema
        }

    @app.get("/agent")
    async def agents() -> dict[str, Any]:
        found = with_schema("AgentIdentity")
        return {"count": len(found), "agents": found}

    @app.get("/agent/{fiber_id}")
    async def agent(fiber_id: str) -> dict[str, Any]:
        return record(fiber_id, "Agent")

    # --- contracts -------------------------------------------------------------------------------

    @app.post("/contract/propose", status_code=201)
    async def contract_propose(request: Request) -> dict[str, Any]:
        body = await parse(request, ProposeRequest)
        proposer = address_of(body.private_key)
        kind = fiber_kind("Contract")
        initial = kind.initial_data([proposer, body.counterparty_address], Plan(outcome="complete"))
        initial.update(
            schema="Contract", title=body.title, description=body.description, terms=body.terms, proposedAt=now()
        )
        contract_id = str(uuid.uuid4())
        message = {
            "CreateStateMachine": {
                "fiberId": contract_id,
                "definition": kind.definition(),
                "initialData": initial,
                "parentFiberId": None,
            }
        }
        update_hash = submit(message, body.private_key)
        return {
            "contractId": contract_id,
            "proposer": proposer,
            "counterparty": body.counterparty_address,
            "hash": update_hash,
            "message": "Contract proposed. The counterparty can accept or reject it.",
        }

    async def contract_action(request: Request, action: str) -> dict[str, Any]:
        body = await parse(request, ContractActionRequest)
        contract = record(body.contract_id, "Contract")
        required_state, event = CONTRACT_EVENTS[action]
        if contract["currentState"] != required_state:
            raise _BridgeError(
                400, {"error": f"Contract is not in {required_state} state", "currentState": contract["currentState"]}
            )
        agent_address = address_of(body.private_key)
        if action == "dispute" and not body.reason:
            raise _BridgeError(400, {"error": "reason is required for disputes"})
        payload = {"agent": agent_address, "proof": body.proof, "reason": body.reason}
        update_hash = transition(body.private_key, body.contract_id, event, payload)
        return {"hash": update_hash, "contractId": body.contract_id, "event": event}

    for action in CONTRACT_EVENTS:
        app.post(f"/contract/{action}", name=f"contract_{action}")(
            lambda request, action=action: contract_action(request, action)
        )

    @app.get("/contract")
    async def contracts() -> dict[str, Any]:
        found = with_schema("Contract")
        return {"count": len(found), "contracts": found}

    @app.get("/contract/{contract_id}")
    async def contract(contract_id: str) -> dict[str, Any]:
        return record(contract_id, "Contract")

    # --- generic fibers --------------------------------------------------------------------------

    @app.post("/fiber/create", status_code=201)
    async def fiber_create(request: Request) -> dict[str, Any]:
        body = await parse(request, FiberCreateRequest)
        owner = address_of(body.private_key)
        schema = (body.definition.get("metadata") or {}).get("name") or "GenericFiber"
        fiber_id = body.fiber_id or str(uuid.uuid4())
        initial = {**body.initial_data, "_schema": schema, "_createdAt": now(), "_owner": owner}
        message = {
            "CreateStateMachine": {
                "fiberId": fiber_id,
                "definition": body.definition,
                "initialData": initial,
                "parentFiberId": body.parent_fiber_id,
            }
        }
        update_hash = submit(message, body.private_key)
        return {"fiberId": fiber_id, "address": owner, "hash": update_hash, "schema": schema}

    @app.post("/fiber/transition")
    async def fiber_transition(request: Request) -> dict[str, Any]:
        body = await parse(request, FiberTransitionRequest)
        if body.target_sequence_number is None:
            record(body.fiber_id, "Fiber")
        update_hash = transition(body.private_key, body.fiber_id, body.event, body.payload, body.target_sequence_number)
        return {"hash": update_hash, "event": body.event, "fiberId": body.fiber_id}

    @app.post("/fiber/batch")
    async def fiber_batch(request: Request) -> dict[str, Any]:
        body = await parse(request, BatchRequest)
        successes, failures = [], []
        for index, item in enumerate(body.transitions):
            try:
                parsed = FiberTransitionRequest.model_validate(item)
                update_hash = transition(
                    parsed.private_key, parsed.fiber_id, parsed.event, parsed.payload, parsed.target_sequence_number
                )
                successes.append({"fiberId": parsed.fiber_id, "event": parsed.event, "hash": update_hash})
            except (ValidationError, _BridgeError) as err:
                message = err.body.get("error") if isinstance(err, _BridgeError) else "Invalid request"
                failures.append({"index": index, "fiberId": item.get("fiberId"), "error": message})
        return {
            "total": len(body.transitions),
            "succeeded": len(successes),
            "failed": len(failures),
            "successes": successes,
            "failures": failures,
        }

    @app.get("/fiber")
    async def fibers(schema: str | None = None, limit: int = 100) -> dict[str, Any]:
        found = []
        for fiber in chain.state.fibers.values():
            data = fiber.state_data
            name = data.get("_schema") or data.get("schema") or (fiber.definition.get("metadata") or {}).get("name")
            if schema is None or name == schema:
                found.append(
                    {"fiberId": fiber.fiber_id, "schema": name, "currentState": fiber.current_state, "stateData": data}
                )
        return {"count": len(found[:limit]), "fibers": found[:limit]}

    @app.get("/fiber/{fiber_id}")
    async def fiber(fiber_id: str) -> dict[str, Any]:
        return record(fiber_id, "Fiber")

    return app


def _jsonable(details: Any) -> Any:
    if isinstance(details, list):
        return [{k: v for k, v in item.items() if k in ("type", "loc", "msg")} for item in details]
    return details
