"""``/wallet/*``: key pairs and signatures, computed here and never stored."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from localnet.ottochain.bridge.core import Keyed
from localnet.ottochain.bridge.errors import BridgeError, invalid
from localnet.ottochain.limits import MAX_BODY_DEPTH, json_problem
from sim.otto import signing

router = APIRouter(prefix="/wallet", tags=["wallet"])


class SignRequest(Keyed):
    # Any JSON may be signed, null included; only a missing message is refused.
    message: Any = None


@router.post("/generate")
async def generate() -> dict[str, Any]:
    pair = signing.new_keypair()
    return {
        "address": pair.address,
        "publicKey": "04" + pair.public_key_id,
        "privateKey": pair.private_key,
        "warning": "Store the private key securely; the bridge keeps no copy.",
    }


@router.post("/import")
async def import_key(body: Keyed) -> dict[str, Any]:
    pair = signing.keypair_from_private_key(body.private_key.lower())
    return {"address": pair.address, "publicKey": "04" + pair.public_key_id}


@router.post("/sign")
async def sign(body: SignRequest) -> dict[str, Any]:
    if "message" not in body.model_fields_set:
        raise BridgeError(400, {"error": "message is required"})
    # Signing hashes canonical JSON: a value it cannot hold (e.g. an integer beyond 2^53-1) is refused.
    problem = json_problem(body.message, where="message", max_depth=MAX_BODY_DEPTH)
    if problem is not None:
        raise invalid(problem, loc=["message"])
    proof = signing.proof_over(body.message, body.private_key.lower())
    return {"proof": proof.model_dump()}
