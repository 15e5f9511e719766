"""Addressing the inside of a JSON-like document, for the fuzzers that mutate one field at a time."""

from __future__ import annotations

from typing import Any


def paths_in(body: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every key path into a body's objects and arrays: where a mutation may strike."""
    found = [prefix] if prefix else []
    if isinstance(body, dict):
        for key, child in body.items():
            found += paths_in(child, (*prefix, key))
    elif isinstance(body, list):
        for index, child in enumerate(body):
            found += paths_in(child, (*prefix, index))
    return found


def get(body: Any, path: tuple[Any, ...]) -> Any:
    for part in path:
        body = body[part]
    return body
