"""What the embedded node accepts: body sizes, nesting, and the numbers and strings a JSON value may hold.

Everything the node stores is hashed as canonical JSON (RFC 8785), which has no NaN or infinity, no
integer beyond ±(2^53-1) and no lone UTF-16 surrogate, so a value it could not hash is refused where it
arrives (a 4xx naming the reason), never discovered at a snapshot. Nesting is bounded so that no
recursive walk (hashing, copying, the JLVM, serialising a response) can run out of stack.

The checks here walk a value with an explicit stack: they are safe on input of any depth.
"""

from __future__ import annotations

import json
import math
import re
import reprlib
from typing import Any

MAX_SAFE_INTEGER = 2**53 - 1  # RFC 8785 (I-JSON): integers a double holds exactly
MAX_LONG = 2**63 - 1  # the chain's Long, e.g. currency amounts

MAX_BODY_BYTES = 2 * 1024 * 1024  # one request: a 1 MB initialData plus a definition, with room
MAX_BODY_DEPTH = 230  # any request body; a definition's expressions are the deepest legitimate part
MAX_DEFINITION_DEPTH = 210  # expressions up to depth 100 take two JSON levels each
MAX_DEFINITION_BYTES = 256 * 1024  # canonical JSON; OttoChain has no such limit (ours, a stand-in's)
MAX_VALUE_DEPTH = 100  # initialData, payloads, state data and emitted events
MAX_MESSAGE_CHARS = 300  # an error message stored in a receipt or a rejection

_SURROGATE = re.compile("[\ud800-\udfff]")
_SHORT = reprlib.Repr()
_SHORT.maxlevel, _SHORT.maxstring, _SHORT.maxother = 3, 40, 40
_SHORT.maxlist = _SHORT.maxdict = _SHORT.maxtuple = _SHORT.maxset = 4


def short(value: Any) -> str:
    """A bounded rendering of ``value`` for an error message: work and length do not grow with its size."""
    return _SHORT.repr(value)


def clip(message: str, limit: int = MAX_MESSAGE_CHARS) -> str:
    return message if len(message) <= limit else message[: limit - 1] + "…"


def json_problem(
    value: Any, *, where: str = "value", max_depth: int = MAX_VALUE_DEPTH, safe_integers: bool = True
) -> str | None:
    """Why ``value`` cannot be stored as canonical JSON (first problem found), or None when it can.

    Refused: nesting deeper than ``max_depth`` (a scalar is depth 0), integers beyond ±(2^53-1) (unless
    ``safe_integers`` is false), non-finite floats, lone surrogates in strings or keys, non-string keys,
    and non-JSON types.
    """
    stack: list[tuple[Any, int, str]] = [(value, 0, where)]
    while stack:
        item, depth, path = stack.pop()
        if item is None or isinstance(item, bool):
            continue
        if isinstance(item, int):
            if safe_integers and not -MAX_SAFE_INTEGER <= item <= MAX_SAFE_INTEGER:
                return f"integer {short(item)} is outside the JSON-safe range ±(2^53-1) (at {path})"
        elif isinstance(item, float):
            if not math.isfinite(item):
                return f"{item} is not a JSON number (at {path})"
        elif isinstance(item, str):
            if _SURROGATE.search(item):
                return f"a string holds a lone UTF-16 surrogate (at {path})"
        elif isinstance(item, (dict, list)):
            if depth >= max_depth:
                return f"nested deeper than {max_depth} levels (at {path})"
            if isinstance(item, list):
                stack.extend((child, depth + 1, _step(path, f"[{i}]")) for i, child in enumerate(item))
                continue
            for key, child in item.items():
                if not isinstance(key, str):
                    return f"key {short(key)} is not a string (at {path})"
                if _SURROGATE.search(key):
                    return f"a key holds a lone UTF-16 surrogate (at {path})"
                stack.append((child, depth + 1, _step(path, "." + clip(key, 40))))
        else:
            return f"{type(item).__name__} is not a JSON value (at {path})"
    return None


def _step(path: str, part: str) -> str:
    """A path one step deeper, cut short past 100 characters: it names where, not the whole route there."""
    if len(path) > 100:
        return path if path.endswith("…") else path + "…"
    return path + part


class BodyRejected(ValueError):
    """A request body the node refuses before any route sees it: ``status`` is 400 or 413."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


class _NotJson(ValueError):
    pass


def _no_constant(name: str) -> Any:
    raise _NotJson(f"{name} is not a JSON number")


def check_body(raw: bytes) -> None:
    """Refuse a body that is JSON only to Python: too large, not UTF-8, too deep, NaN/Infinity, lone surrogates.

    Text that is not JSON at all passes: each route answers that in its own words. Integers are not
    range-checked here (currency amounts are Longs); routes that hash a value check its integers.
    """
    if len(raw) > MAX_BODY_BYTES:
        raise BodyRejected(413, f"request body exceeds the limit of {MAX_BODY_BYTES} bytes")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as err:
        raise BodyRejected(400, f"request body is not UTF-8 text (byte {err.start})") from None
    try:
        value = json.loads(text, parse_constant=_no_constant)
    except _NotJson as err:
        raise BodyRejected(400, f"invalid JSON: {err}") from None
    except RecursionError:
        raise BodyRejected(400, f"invalid JSON: nested deeper than {MAX_BODY_DEPTH} levels") from None
    except ValueError:  # not JSON: the route's own parser says so
        return
    problem = json_problem(value, where="body", max_depth=MAX_BODY_DEPTH, safe_integers=False)
    if problem is not None:
        raise BodyRejected(400, f"invalid JSON: {problem}")
