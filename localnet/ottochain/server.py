"""Serving the embedded chain over HTTP on 127.0.0.1, in this process or standalone."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Generator
from pathlib import Path

import uvicorn

from localnet.ottochain.app import create_app
from localnet.ottochain.chain import Chain, Faults
from models.otto import OttoEndpoints

log = logging.getLogger(__name__)


class _QuietServer(uvicorn.Server):
    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        # The host process owns SIGINT/SIGTERM: it stops this server in order.
        yield


class OttoChainServer:
    """The chain's HTTP layers plus its snapshot clock, for as long as the context is open."""

    def __init__(
        self,
        *,
        port: int = 0,
        faults: Faults | None = None,
        state_file: Path | None = None,
        genesis: Path | None = None,
    ) -> None:
        self.chain = Chain(faults=faults or Faults(), state_file=state_file)
        if genesis is not None:
            self.chain.load_genesis(genesis)
        self._port = port
        self._server: _QuietServer | None = None
        self._tasks: list[asyncio.Task[None]] = []

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._port}"

    @property
    def endpoints(self) -> OttoEndpoints:
        return OttoEndpoints.embedded(self.base_url)

    async def __aenter__(self) -> OttoChainServer:
        config = uvicorn.Config(
            create_app(self.chain),
            host="127.0.0.1",
            port=self._port,
            log_level="warning",
            lifespan="off",
            access_log=False,
        )
        self._server = _QuietServer(config)
        self._tasks.append(asyncio.create_task(self._server.serve(), name="ottochain-http"))
        while not self._server.started:
            if self._tasks[0].done():
                self._tasks[0].result()  # raises the bind error
                raise RuntimeError("the OttoChain node stopped during start-up")
            await asyncio.sleep(0.01)
        self._port = self._server.servers[0].sockets[0].getsockname()[1]
        self._tasks.append(asyncio.create_task(self.chain.produce_snapshots(), name="ottochain-snapshots"))
        log.info("embedded OttoChain node at %s", self.base_url)
        return self

    async def __aexit__(self, *_exc: object) -> None:
        if self._server is not None:
            self._server.should_exit = True
        http, *others = self._tasks
        for task in others:
            task.cancel()
        await asyncio.gather(http, *others, return_exceptions=True)
        self._tasks.clear()
