"""``/contract/*``: Contract fibers between a proposer and a counterparty.

Each action route reads the contract as ML0 shows it, checks the state the action needs (and its own
precondition), then signs the event with the caller's key. Bodies, events and texts follow the real
bridge (docs/ottochain-wire.md §5.4); the chain's guards still decide, by the signer's proof.
"""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter
from pydantic import Field, field_validator

from localnet.ottochain.bridge.core import Bridge, BridgeDep, Keyed, address_of, now
from localnet.ottochain.bridge.errors import BridgeError
from sim.otto.fibers import Plan, fiber_kind
from sim.otto.fibers.contract import CONTRACT_EVENTS
from sim.otto.messages import create_state_machine
from sim.otto.signing import is_dag_address

router = APIRouter(prefix="/contract", tags=["contract"])


class ProposeRequest(Keyed):
    counterparty_address: str = Field(alias="counterpartyAddress")
    terms: dict[str, Any]
    title: str = "Untitled Contract"
    description: str = ""

    @field_validator("counterparty_address")
    @classmethod
    def _dag_address(cls, address: str) -> str:
        if not is_dag_address(address):
            raise ValueError("not a DAG address (DAG, a parity digit, 36 base58 characters)")
        return address


class ContractAction(Keyed):
    contract_id: str = Field(alias="contractId")
    proof: str = ""
    reason: str = ""


@router.post("/propose", status_code=201)
async def propose(body: ProposeRequest, bridge: BridgeDep) -> dict[str, Any]:
    proposer = address_of(body.private_key)
    kind = fiber_kind("Contract")
    # A bare plan: the definition's own initial data, with the caller's terms in place of drawn ones.
    initial = kind.initial_data([proposer, body.counterparty_address], Plan(outcome="complete"))
    initial.update(
        schema="Contract", title=body.title, description=body.description, terms=body.terms, proposedAt=now()
    )
    contract_id = str(uuid.uuid4())
    update_hash = bridge.submit(create_state_machine(contract_id, kind.definition(), initial), body.private_key)
    return {
        "contractId": contract_id,
        "proposer": proposer,
        "counterparty": body.counterparty_address,
        "hash": update_hash,
        "message": "Contract proposed. The counterparty can accept or reject it.",
    }


def _contract_for(bridge: Bridge, body: ContractAction, action: str, wrong_state: str) -> tuple[dict[str, Any], str]:
    """The contract if it is in the state ``action`` needs (else 404 or 400), and the event to send."""
    contract = bridge.record(body.contract_id, "Contract")
    required_state, event = CONTRACT_EVENTS[action]
    if contract["currentState"] != required_state:
        raise BridgeError(400, {"error": wrong_state, "currentState": contract["currentState"]})
    return contract, event


@router.post("/accept")
async def accept(body: ContractAction, bridge: BridgeDep) -> dict[str, Any]:
    contract, event = _contract_for(bridge, body, "accept", "Contract is not in Proposed state")
    caller = address_of(body.private_key)
    counterparty = contract["stateData"].get("counterparty")
    if caller != counterparty:
        raise BridgeError(403, {"error": "Only counterparty can accept", "expected": counterparty, "got": caller})
    update_hash = bridge.transition(body.private_key, body.contract_id, event, {"agent": caller})
    return {"hash": update_hash, "contractId": body.contract_id, "status": "ACTIVE"}


@router.post("/reject")
async def reject(body: ContractAction, bridge: BridgeDep) -> dict[str, Any]:
    _, event = _contract_for(bridge, body, "reject", "Contract is not in Proposed state")
    payload = {"agent": address_of(body.private_key), "reason": body.reason}
    update_hash = bridge.transition(body.private_key, body.contract_id, event, payload)
    return {"hash": update_hash, "contractId": body.contract_id, "status": "REJECTED"}


@router.post("/complete")
async def complete(body: ContractAction, bridge: BridgeDep) -> dict[str, Any]:
    _, event = _contract_for(bridge, body, "complete", "Contract is not Active")
    payload = {"agent": address_of(body.private_key), "proof": body.proof}
    update_hash = bridge.transition(body.private_key, body.contract_id, event, payload)
    return {
        "hash": update_hash,
        "contractId": body.contract_id,
        "message": "Completion recorded. Either party can finalize once both have completed.",
    }


@router.post("/finalize")
async def finalize(body: ContractAction, bridge: BridgeDep) -> dict[str, Any]:
    contract, event = _contract_for(bridge, body, "finalize", "Contract is not Active")
    completions = len(contract["stateData"].get("completions") or [])
    if completions < 2:
        raise BridgeError(
            400, {"error": "Both parties must submit completion before finalizing", "completions": completions}
        )
    update_hash = bridge.transition(body.private_key, body.contract_id, event, {})
    return {"hash": update_hash, "contractId": body.contract_id, "status": "COMPLETED"}


@router.post("/dispute")
async def dispute(body: ContractAction, bridge: BridgeDep) -> dict[str, Any]:
    # The real bridge refuses a reasonless dispute before it looks the contract up.
    if not body.reason:
        raise BridgeError(400, {"error": "reason is required for disputes"})
    _, event = _contract_for(bridge, body, "dispute", "Can only dispute Active contracts")
    payload = {"agent": address_of(body.private_key), "reason": body.reason}
    update_hash = bridge.transition(body.private_key, body.contract_id, event, payload)
    return {"hash": update_hash, "contractId": body.contract_id, "status": "DISPUTED"}


@router.get("")
async def contracts(bridge: BridgeDep) -> dict[str, Any]:
    found = bridge.with_schema("Contract")
    return {"count": len(found), "contracts": found}


@router.get("/{contract_id}")
async def contract(contract_id: str, bridge: BridgeDep) -> dict[str, Any]:
    return bridge.record(contract_id, "Contract")
