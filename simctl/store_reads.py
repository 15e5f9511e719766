"""Reading what a run recorded, for the report commands: never creating a results store on the way."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, TypeVar

from models.settings import Settings
from simctl.errors import CliError
from simctl.runner import run_async

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncEngine

T = TypeVar("T")


def read_recorded(settings: Settings, missing: str, load: Callable[[AsyncEngine], Awaitable[T]]) -> T:
    """``load`` on the settings' store. A store file that does not exist is "``missing``: no results store at
    ...", and a ``LookupError`` from ``load`` (an unknown id) its message, each one line."""
    from store.engine import open_store, sqlite_file

    store_file = sqlite_file(settings.store_url)
    if store_file is not None and not store_file.exists():
        # Opening the store would create it: a read-only command leaves no empty one behind.
        raise CliError(f"{missing}: no results store at {store_file}")

    async def read() -> T:
        async with open_store(settings.store_url) as engine:
            try:
                return await load(engine)
            except LookupError as err:
                raise CliError(str(err)) from None

    return run_async(read())
