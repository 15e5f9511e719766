"""HTTP calls to OttoChain services, with failures sorted the way Temporal should treat them.

Transient faults (5xx, 503 not yet synced, timeouts, refused connections) raise retryable errors, so
the activity's retry policy backs off and tries again. Bad requests (400/403/404/422, including the
chain's own verdicts such as SequenceNumberMismatch) raise non-retryable errors that carry the
server's message and OttoChain's error name as the error type.
"""

from __future__ import annotations

import re
from typing import Any

import httpx
from temporalio.exceptions import ApplicationError

_REASON = re.compile(r"reason:\s*([A-Za-z]+):\s*(.*)", re.S)
_CODE_FIRST = re.compile(r"^([A-Z][A-Za-z]+):\s*(.*)", re.S)


def error_code(body: Any) -> tuple[str, str]:
    """OttoChain's error name and message from any of the services' error bodies."""
    if isinstance(body, dict):
        reason = (body.get("details") or {}).get("reason") if isinstance(body.get("details"), dict) else None
        if isinstance(reason, str) and (match := _REASON.search(reason)):
            return match.group(1), match.group(2).strip()
        text = body.get("error") or body.get("message") or ""
        if isinstance(text, str):
            if match := _CODE_FIRST.match(text):
                return match.group(1), match.group(2).strip()
            return "BadRequest", text
    return "BadRequest", str(body)[:300]


async def call(http: httpx.AsyncClient, method: str, url: str, *, what: str, json: Any = None) -> Any:
    """Send one request and return its JSON body; raise errors classified for Temporal."""
    try:
        response = await http.request(method, url, json=json)
    except httpx.TimeoutException as err:
        raise ApplicationError(f"{what}: timed out ({type(err).__name__})", type="Unavailable") from None
    except httpx.TransportError as err:
        raise ApplicationError(f"{what}: {type(err).__name__}: {err}", type="Unavailable") from None
    if response.status_code >= 500:
        raise ApplicationError(f"{what}: HTTP {response.status_code}: {response.text[:200]}", type="Unavailable")
    try:
        body = response.json() if response.content else None
    except ValueError:
        body = response.text
    if response.status_code >= 400:
        code, message = error_code(body)
        raise ApplicationError(f"{what}: {code}: {message}", type=code, non_retryable=True)
    return body
