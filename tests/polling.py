"""Waiting for a condition in tests: poll it until it holds or a deadline passes, never a fixed sleep."""

from __future__ import annotations

import asyncio
import inspect
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar, overload

T = TypeVar("T")


@overload
async def eventually(
    check: Callable[[], Awaitable[T | None]], *, timeout: float = ..., interval: float = ..., what: str = ...
) -> T: ...


@overload
async def eventually(
    check: Callable[[], T | None], *, timeout: float = ..., interval: float = ..., what: str = ...
) -> T: ...


async def eventually(
    check: Callable[[], Any], *, timeout: float = 30.0, interval: float = 0.1, what: str = "the condition"
) -> Any:
    """Call ``check`` (plain or async) until it returns something truthy, and return that.

    Fails the test, naming ``what`` and the last value seen, when ``timeout`` seconds pass first.
    ``check`` is always called at least once.
    """
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if inspect.isawaitable(value):
            value = await value
        if value:
            return value
        if time.monotonic() >= deadline:
            raise AssertionError(f"{what} did not hold within {timeout:g} s (last seen: {value!r})")
        await asyncio.sleep(interval)
