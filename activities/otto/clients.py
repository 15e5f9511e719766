"""Clients for the OttoChain layers: DL1 (submit), ML0 (read), indexer (rejections), CL1, bridge."""

from __future__ import annotations

from typing import Any

import httpx

from activities.otto.http import call
from models.otto import FiberRecord, OttoEndpoints, Rejection, SignedUpdate


class MetagraphClient:
    def __init__(self, http: httpx.AsyncClient, endpoints: OttoEndpoints) -> None:
        self._http = http
        self._urls = endpoints

    async def submit(self, update: SignedUpdate) -> str:
        body = await call(
            self._http,
            "POST",
            f"{self._urls.dl1_url}/data",
            what="DL1 POST /data",
            json={"data": update.model_dump(), "fee": None},
        )
        return body["hash"]

    async def fiber(self, fiber_id: str) -> FiberRecord | None:
        # FiberRecord has no definition: the embedded node then leaves it out; a real ML0 sends it anyway.
        body = await call(
            self._http,
            "GET",
            f"{self._urls.ml0_url}/data-application/v1/state-machines/{fiber_id}?definition=false",
            what=f"ML0 fiber {fiber_id}",
        )
        return FiberRecord.model_validate(body) if body else None

    async def fibers(self, status: str | None = None) -> dict[str, FiberRecord]:
        query = f"?definition=false&status={status}" if status else "?definition=false"
        body = await call(
            self._http, "GET", f"{self._urls.ml0_url}/data-application/v1/state-machines{query}", what="ML0 fibers"
        )
        return {fiber_id: FiberRecord.model_validate(record) for fiber_id, record in (body or {}).items()}

    async def latest_ordinal(self) -> int:
        body = await call(self._http, "GET", f"{self._urls.ml0_url}/snapshots/latest/ordinal", what="ML0 ordinal")
        return int(body["value"])

    async def rejections(self, fiber_id: str) -> list[Rejection]:
        body = await call(
            self._http, "GET", f"{self._urls.indexer_url}/fibers/{fiber_id}/rejections", what="indexer rejections"
        )
        return [Rejection.model_validate(entry["rejection"]) for entry in body.get("rejections", [])]

    async def balance(self, address: str) -> int:
        body = await call(self._http, "GET", f"{self._urls.ml0_url}/currency/{address}/balance", what="ML0 balance")
        return int(body["balance"])

    async def last_reference(self, address: str) -> dict[str, Any]:
        return await call(
            self._http, "GET", f"{self._urls.cl1_url}/transactions/last-reference/{address}", what="CL1 last reference"
        )

    async def post_transaction(self, transaction: dict[str, Any]) -> str:
        body = await call(
            self._http, "POST", f"{self._urls.cl1_url}/transactions", what="CL1 POST /transactions", json=transaction
        )
        return body["hash"]


class BridgeClient:
    """The custodial bridge: each write carries the caller's private key."""

    def __init__(self, http: httpx.AsyncClient, endpoints: OttoEndpoints) -> None:
        self._http = http
        self._url = endpoints.bridge_url

    async def health(self) -> dict[str, Any]:
        return await call(self._http, "GET", f"{self._url}/health", what="bridge health")

    async def register(
        self, private_key: str, *, display_name: str, platform: str, platform_user_id: str
    ) -> dict[str, Any]:
        return await call(
            self._http,
            "POST",
            f"{self._url}/agent/register",
            what="bridge register",
            json={
                "privateKey": private_key,
                "displayName": display_name,
                "platform": platform,
                "platformUserId": platform_user_id,
            },
        )

    async def transition(self, private_key: str, fiber_id: str, event: str, payload: dict[str, Any]) -> dict[str, Any]:
        return await call(
            self._http,
            "POST",
            f"{self._url}/agent/transition",
            what=f"bridge agent {event}",
            json={"privateKey": private_key, "fiberId": fiber_id, "event": event, "payload": payload},
        )

    async def agents(self) -> dict[str, FiberRecord]:
        # As for ML0 records: the embedded bridge leaves the definitions out, a real one sends them anyway.
        body = await call(self._http, "GET", f"{self._url}/agent?definition=false", what="bridge agents")
        return {fiber_id: FiberRecord.model_validate(record) for fiber_id, record in body.get("agents", {}).items()}
