"""HTTP face of the embedded chain: DL1, ML0, CL1 and indexer routes, plus the bridge.

Each layer is mounted under its own prefix (``/dl1``, ``/ml0``, ``/cl1``, ``/indexer``, ``/bridge``) and
clients take one base URL per layer, so pointing them at a real deployment changes only the URLs.
``/debug`` holds what only a stand-in has: fault knobs, the faucet, the applied-event log.

Every request body passes :class:`BodyGuard` first, so no route meets a body larger than
``MAX_BODY_BYTES`` (413) or JSON that only Python would accept (400): NaN and Infinity, lone surrogates,
nesting beyond ``MAX_BODY_DEPTH``. Each answer names the reason.
"""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from localnet.ottochain.chain import MIN_SNAPSHOT_INTERVAL, Chain, Faults
from localnet.ottochain.engine import ACTIVE, Fiber, UpdateRejected
from localnet.ottochain.limits import MAX_BODY_BYTES, MAX_LONG, BodyRejected, check_body
from models.otto import SignedUpdate
from sim.canonical import canonical_json, sha256_hex
from sim.otto.signing import is_dag_address

NODE_VERSION = "0.6.0-simctl"


def dl1_error(rejected: UpdateRejected) -> JSONResponse:
    # DL1's ApplicationError body; the reason carries OttoChain's error name first.
    if rejected.code in ("InvalidSignature", "NoProofsProvided"):
        return JSONResponse({"error": f"{rejected.code}: {rejected.message}"}, status_code=400)
    return JSONResponse(
        {
            "code": 3,
            "message": "Invalid request body",
            "retriable": False,
            "details": {"reason": f"Invalid data update, reason: {rejected.code}: {rejected.message}"},
        },
        status_code=400,
    )


def node_info(chain: Chain, layer: str, request: Request) -> dict[str, Any]:
    return {
        "state": "Ready",
        "session": 1,
        "clusterSession": 1,
        "version": NODE_VERSION,
        "host": request.url.hostname,
        "publicPort": request.url.port,
        "p2pPort": None,
        "id": sha256_hex(layer) * 2,
    }


def onchain(chain: Chain) -> dict[str, Any]:
    return {
        "fiberCommits": {
            fiber_id: {
                "recordHash": sha256_hex(canonical_json(fiber.to_wire())),
                "stateDataHash": sha256_hex(canonical_json(fiber.state_data)),
                "sequenceNumber": fiber.sequence_number,
            }
            for fiber_id, fiber in chain.state.fibers.items()
        },
        "latestLogs": chain.state.latest_logs,
    }


def _record(fiber: Fiber, definition: bool) -> dict[str, Any]:
    record = fiber.to_wire()
    if not definition:
        del record["definition"]
    return record


def dl1_app(chain: Chain) -> FastAPI:
    app = FastAPI(title="OttoChain DL1 (embedded)")

    @app.post("/data")
    async def post_data(request: Request) -> Response:
        try:
            body = await request.json()
        except ValueError:
            return JSONResponse({"error": "body is not JSON"}, status_code=400)
        # The bridge sends {"data": Signed, "fee": null}; SDKs send Signed bare.
        envelope = body.get("data", body) if isinstance(body, dict) else body
        try:
            signed = SignedUpdate.model_validate(envelope)
        except ValidationError:
            return JSONResponse({"error": "expected {value, proofs}"}, status_code=400)
        try:
            update_hash = chain.submit(signed)
        except UpdateRejected as rejected:
            return dl1_error(rejected)
        return JSONResponse({"hash": update_hash, "feeHash": None})

    @app.get("/data-application/v1/onchain")
    async def get_onchain() -> dict[str, Any]:
        return onchain(chain)

    @app.get("/node/info")
    async def get_node_info(request: Request) -> dict[str, Any]:
        return node_info(chain, "dl1", request)

    return app


def ml0_app(chain: Chain) -> FastAPI:
    app = FastAPI(title="OttoChain ML0 (embedded)")
    prefix = "/data-application/v1"

    @app.get("/node/info")
    async def get_node_info(request: Request) -> dict[str, Any]:
        return node_info(chain, "ml0", request)

    @app.get("/snapshots/latest/ordinal")
    async def latest_ordinal() -> Response:
        if chain.state.ordinal == 0:
            return JSONResponse({"message": "Node is not ready yet"}, status_code=503)
        return JSONResponse({"value": chain.state.ordinal})

    @app.get(f"{prefix}/checkpoint")
    async def checkpoint() -> dict[str, Any]:
        machines = {fiber_id: fiber.to_wire() for fiber_id, fiber in chain.state.fibers.items()}
        return {"ordinal": chain.state.ordinal, "state": {"stateMachines": machines, "scripts": {}}}

    # `definition=false` (this node's extension, docs/ottochain-wire.md 3.3) leaves the definition out: it is
    # the bulk of a record, never changes, and a client polling a fiber's state does not read it. A real ML0
    # ignores the parameter and answers the whole record, which such a client reads just the same.
    @app.get(f"{prefix}/state-machines")
    async def state_machines(status: str | None = None, definition: bool = True) -> Response:
        return JSONResponse(
            {
                fiber_id: _record(fiber, definition)
                for fiber_id, fiber in chain.state.fibers.items()
                if status is None or fiber.status.lower() == status.lower()
            }
        )

    @app.get(f"{prefix}/state-machines/{{fiber_id}}")
    async def state_machine(fiber_id: str, definition: bool = True) -> Response:
        fiber = chain.state.fibers.get(fiber_id)
        # An unknown fiber is `200 null`, not 404: clients and the real bridge rely on that.
        return JSONResponse(_record(fiber, definition) if fiber else None)

    @app.get(f"{prefix}/state-machines/{{fiber_id}}/events")
    async def events(fiber_id: str) -> list[Any]:
        return [entry["EventReceipt"] for entry in chain.state.latest_logs.get(fiber_id, [])]

    @app.get(f"{prefix}/onchain")
    async def get_onchain() -> dict[str, Any]:
        return onchain(chain)

    @app.get("/currency/{address}/balance")
    async def balance(address: str) -> dict[str, Any]:
        return {"balance": chain.balance(address), "ordinal": chain.state.ordinal}

    @app.get("/transactions/last-reference/{address}")
    async def last_reference(address: str) -> dict[str, Any]:
        return chain.last_reference(address)

    return app


def cl1_app(chain: Chain) -> FastAPI:
    app = FastAPI(title="OttoChain currency L1 (embedded)")

    @app.post("/transactions")
    async def post_transaction(request: Request) -> Response:
        try:
            tx_hash = chain.submit_transfer(await request.json())
        except (UpdateRejected, ValueError) as err:
            return JSONResponse({"error": str(err)}, status_code=400)
        return JSONResponse({"hash": tx_hash})

    @app.get("/transactions/last-reference/{address}")
    async def last_reference(address: str) -> dict[str, Any]:
        return chain.last_reference(address)

    return app


def indexer_app(chain: Chain) -> FastAPI:
    """The indexer's view of ML0's `transaction.rejected` notifications: how a dropped update is seen."""
    app = FastAPI(title="OttoChain indexer (embedded)")

    @app.get("/fibers/{fiber_id}/rejections")
    async def rejections(fiber_id: str) -> dict[str, Any]:
        found = [r.to_wire() for r in chain.state.rejections if r.fiber_id == fiber_id]
        return {"rejections": found, "total": len(found)}

    return app


class FaultSettings(BaseModel):
    """The knobs a test may turn, each within what the node can honour (a 422 names the one that is not)."""

    model_config = ConfigDict(extra="forbid")

    error_rate: float | None = Field(None, ge=0, le=1, allow_inf_nan=False)
    latency: float | None = Field(None, ge=0, le=60, allow_inf_nan=False)
    snapshot_interval: float | None = Field(None, ge=MIN_SNAPSHOT_INTERVAL, le=3600, allow_inf_nan=False)
    snapshot_stall: bool | None = None


class FaucetRequest(BaseModel):
    address: str
    amount: int = Field(ge=1, le=MAX_LONG)

    @field_validator("address")
    @classmethod
    def _dag_address(cls, address: str) -> str:
        if not is_dag_address(address):
            raise ValueError("not a DAG address")
        return address


class BodyGuard:
    """Reads each request body before any route (plain ASGI) and refuses what no route should parse.

    At most ``MAX_BODY_BYTES`` are read (413 beyond, also when Content-Length says so up front); JSON
    that only Python accepts is a 400 (see ``limits.check_body``); text that is not JSON at all goes on,
    for the route to answer in its own words. A client that leaves mid-body gets nothing and leaves
    nothing behind. Bridge routes get the bridge's shape, ``{"error": "Invalid request", "details"}``.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in ("POST", "PUT", "PATCH"):
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length", b"")
        if declared.isdigit() and int(declared) > MAX_BODY_BYTES:
            await self._refuse(scope, receive, send, BodyRejected(413, _too_large()))
            return
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return  # nobody is left to answer
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > MAX_BODY_BYTES:
                await self._refuse(scope, receive, send, BodyRejected(413, _too_large()))
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        raw = b"".join(chunks)
        if raw:
            try:
                check_body(raw)
            except BodyRejected as rejected:
                await self._refuse(scope, receive, send, rejected)
                return
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if replayed:
                return await receive()  # after the body: disconnects, as the route would see them
            replayed = True
            return {"type": "http.request", "body": raw, "more_body": False}

        await self.app(scope, replay, send)

    @staticmethod
    async def _refuse(scope: Scope, receive: Receive, send: Send, rejected: BodyRejected) -> None:
        body: dict[str, Any] = {"error": rejected.reason}
        if scope["path"].startswith("/bridge"):
            kind = "body_too_large" if rejected.status == 413 else "json_invalid"
            body = {"error": "Invalid request", "details": [{"type": kind, "loc": [], "msg": rejected.reason}]}
        await JSONResponse(body, status_code=rejected.status)(scope, receive, send)


def _too_large() -> str:
    return f"request body exceeds the limit of {MAX_BODY_BYTES} bytes"


class FaultInjection:
    """Latency and 5xx answers on every layer but /debug (plain ASGI: it sits on every request)."""

    def __init__(self, app: ASGIApp, chain: Chain) -> None:
        self.app = app
        self.chain = chain

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith("/debug"):
            await self.app(scope, receive, send)
            return
        if self.chain.faults.latency:
            await asyncio.sleep(self.chain.faults.latency)
        fault = self.chain.draw_fault()
        if fault == "before":
            await JSONResponse({"error": "injected fault (before handling)"}, status_code=503)(scope, receive, send)
            return
        if fault is None:
            await self.app(scope, receive, send)
            return

        async def discard(_message: Message) -> None:
            pass

        # The request takes effect; only its reply is lost. Idempotent clients must cope.
        await self.app(scope, receive, discard)
        await JSONResponse({"error": "injected fault (after handling)"}, status_code=500)(scope, receive, send)


def create_app(chain: Chain) -> FastAPI:
    from localnet.ottochain.bridge import bridge_app

    app = FastAPI(title="OttoChain (embedded)")
    app.mount("/dl1", dl1_app(chain))
    app.mount("/ml0", ml0_app(chain))
    app.mount("/cl1", cl1_app(chain))
    app.mount("/indexer", indexer_app(chain))
    app.mount("/bridge", bridge_app(chain))

    app.add_middleware(BodyGuard)
    app.add_middleware(FaultInjection, chain=chain)  # outermost: faults hit bad bodies too

    @app.get("/debug/faults")
    async def get_faults() -> dict[str, Any]:
        return vars(chain.faults)

    @app.post("/debug/faults")
    async def set_faults(settings: FaultSettings) -> dict[str, Any]:
        for key, value in settings.model_dump(exclude_none=True).items():
            setattr(chain.faults, key, value)
        return vars(chain.faults)

    @app.post("/debug/faucet")
    async def faucet(request: FaucetRequest) -> dict[str, Any]:
        chain.faucet(request.address, request.amount)
        return {"address": request.address, "balance": chain.balance(request.address)}

    @app.get("/debug/applied")
    async def applied() -> list[dict[str, Any]]:
        return [vars(a) for a in chain.state.applied]

    @app.get("/debug/summary")
    async def summary() -> dict[str, Any]:
        fibers = chain.state.fibers.values()
        return {
            "ordinal": chain.state.ordinal,
            "fibers": len(chain.state.fibers),
            "active": sum(f.status == ACTIVE for f in fibers),
            "pending": len(chain.pending),
            "rejections": len(chain.state.rejections),
            "faults": vars(chain.faults),
            "snapshots": chain.snapshot_health(),
        }

    return app


__all__ = ["Chain", "Faults", "create_app"]
