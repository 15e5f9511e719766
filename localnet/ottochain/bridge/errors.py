"""The bridge's error bodies: ``{"error": ...}`` with a status, and one shape for every invalid request.

The real bridge answers a request its schema refuses with 400 ``{"error": "Invalid request",
"details": [...]}`` (docs/ottochain-wire.md §5). FastAPI's own answer would be 422, so the bridge
app installs :func:`invalid_request` once, for every route, instead of each route parsing its body.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse


class BridgeError(Exception):
    """An answer other than 200: raised by a route, turned into JSON by :func:`bridge_error`."""

    def __init__(self, status: int, body: dict[str, Any]) -> None:
        super().__init__(body.get("error", status))
        self.status = status
        self.body = body


async def bridge_error(_request: Request, err: BridgeError) -> JSONResponse:
    return JSONResponse(err.body, status_code=err.status)


async def invalid_request(_request: Request, err: RequestValidationError) -> JSONResponse:
    return JSONResponse({"error": "Invalid request", "details": issues(err.errors())}, status_code=400)


def issues(errors: Sequence[Any]) -> list[dict[str, Any]]:
    """Pydantic's errors, trimmed to what a client can act on: where, what kind, and why.

    ``loc`` is relative to the body, as the bridge's clients read it: FastAPI's leading "body" goes
    (a query parameter keeps its "query"). The input is left out; it may hold a private key.
    """
    trimmed = []
    for error in errors:
        loc = list(error.get("loc", ()))
        if loc[:1] == ["body"]:
            loc = loc[1:]
        trimmed.append({"type": error.get("type"), "loc": loc, "msg": error.get("msg")})
    return trimmed


def invalid(message: str, loc: Sequence[str | int] = (), kind: str = "value_error", **extra: Any) -> BridgeError:
    """A 400 in the shape of a refused request, for what the route itself finds wrong with the body."""
    details = [{"type": kind, "loc": list(loc), "msg": message}]
    return BridgeError(400, {"error": "Invalid request", **extra, "details": details})


def install_error_handlers(app: FastAPI) -> None:
    app.exception_handler(BridgeError)(bridge_error)
    app.exception_handler(RequestValidationError)(invalid_request)
