"""``/health`` and ``/version``: what monitors and clients probe before anything else."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

router = APIRouter(tags=["health"])


@router.get("/health")
async def health() -> dict[str, Any]:
    return {"status": "ok", "service": "bridge"}


@router.get("/version")
async def version() -> dict[str, Any]:
    return {"service": "bridge", "version": "0.1.0", "commit": "unknown", "built": "unknown", "node": "python"}
