"""``/health`` and ``/version``: what monitors and clients probe before anything else."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from localnet.ottochain.bridge.core import BridgeDep

router = APIRouter(tags=["health"])


@router.get("/health")
async def health(bridge: BridgeDep) -> JSONResponse:
    """Ok while the node can make progress: a dead snapshot loop is a 503 with its last words."""
    snapshots = bridge.chain.snapshot_health()
    if snapshots["running"]:
        return JSONResponse({"status": "ok", "service": "bridge"})
    return JSONResponse({"status": "degraded", "service": "bridge", "snapshots": snapshots}, status_code=503)


@router.get("/version")
async def version() -> dict[str, Any]:
    return {"service": "bridge", "version": "0.1.0", "commit": "unknown", "built": "unknown", "node": "python"}
