"""Running async command bodies from Typer, with orderly shutdown on Ctrl-C and SIGTERM."""

from __future__ import annotations

import asyncio
import logging
import signal
import sys
from collections.abc import Coroutine
from typing import Any, TypeVar

from rich.logging import RichHandler

from models.settings import Settings
from simctl.errors import CliError
from workers.service import quiet_libraries

T = TypeVar("T")


def configure_logging(settings: Settings, default: str = "warning") -> None:
    # Commands stay quiet unless asked; `simctl up` passes default="info".
    level = settings.log_level if "log_level" in settings.model_fields_set else default
    if sys.stderr.isatty():
        handler: logging.Handler = RichHandler(show_path=False, rich_tracebacks=False)
        handler.setFormatter(logging.Formatter("%(name)s: %(message)s"))
    else:
        # Logs that go to a file or a pipe keep one record per line.
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)-7s %(name)s: %(message)s"))
    logging.basicConfig(level=level.upper(), handlers=[handler], force=True)
    quiet_libraries()
    if default == "warning" and "log_level" not in settings.model_fields_set:
        # The in-process worker reports every failed attempt with a traceback; the command itself
        # reports the failure that matters in one line.
        logging.getLogger("temporalio").setLevel(logging.CRITICAL)


def run_async(coro: Coroutine[Any, Any, T]) -> T:
    """Run ``coro``; SIGTERM cancels it like Ctrl-C does, so context managers stop what they started."""

    async def guarded() -> T:
        task = asyncio.current_task()
        assert task is not None
        asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, task.cancel)
        return await coro

    try:
        return asyncio.run(guarded())
    except asyncio.CancelledError:
        raise CliError("terminated", exit_code=143) from None
    except KeyboardInterrupt:
        raise CliError("interrupted", exit_code=130) from None
