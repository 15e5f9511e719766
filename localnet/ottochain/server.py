"""Serving the embedded chain over HTTP, in this process or standalone; on loopback unless told otherwise."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
from collections.abc import Generator
from pathlib import Path

import uvicorn

from localnet.ottochain.app import create_app
from localnet.ottochain.chain import Chain, Faults
from models.otto import OttoEndpoints

log = logging.getLogger(__name__)

# On the way out, requests still running (a client that gave up on a long wait) get this long, then are
# cancelled: shutdown never waits on a request nobody is reading.
SHUTDOWN_GRACE_SECONDS = 2


class PortUnavailable(OSError):
    """The node's port is taken or not allowed, in one line."""


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
        host: str = "127.0.0.1",
        faults: Faults | None = None,
        state_file: Path | None = None,
        genesis: Path | None = None,
    ) -> None:
        self.chain = Chain(faults=faults or Faults(), state_file=state_file)
        if genesis is not None:
            try:
                self.chain.load_genesis(genesis)
            except BaseException:
                self.chain.close()
                raise
        self._port = port
        self._host = host
        self._server: _QuietServer | None = None
        self._tasks: list[asyncio.Task[None]] = []

    @property
    def base_url(self) -> str:
        """Where a client on this machine reaches the node (loopback when it listens on every address)."""
        host = {"0.0.0.0": "127.0.0.1", "::": "::1"}.get(self._host, self._host)
        return f"http://[{host}]:{self._port}" if ":" in host else f"http://{host}:{self._port}"

    @property
    def listening_on(self) -> str:
        return f"[{self._host}]:{self._port}" if ":" in self._host else f"{self._host}:{self._port}"

    @property
    def endpoints(self) -> OttoEndpoints:
        return OttoEndpoints.embedded(self.base_url)

    async def __aenter__(self) -> OttoChainServer:
        config = uvicorn.Config(
            create_app(self.chain),
            host=self._host,
            port=self._port,
            log_level="warning",
            lifespan="off",
            access_log=False,
            timeout_graceful_shutdown=SHUTDOWN_GRACE_SECONDS,
        )
        # Bound here, not by uvicorn, which logs a bind error and calls sys.exit.
        listener = self._bind()
        self._port = listener.getsockname()[1]
        self._server = _QuietServer(config)
        self._tasks.append(asyncio.create_task(self._server.serve(sockets=[listener]), name="ottochain-http"))
        while not self._server.started:
            if self._tasks[0].done():
                listener.close()
                with contextlib.suppress(SystemExit):
                    self._tasks[0].result()  # raises what stopped it
                raise RuntimeError("the OttoChain node stopped during start-up")
            await asyncio.sleep(0.01)
        self._tasks.append(asyncio.create_task(self.chain.produce_snapshots(), name="ottochain-snapshots"))
        log.info("embedded OttoChain node at %s", self.base_url)
        return self

    def _bind(self) -> socket.socket:
        listener = socket.socket(socket.AF_INET6 if ":" in self._host else socket.AF_INET, socket.SOCK_STREAM)
        try:
            listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            listener.bind((self._host, self._port))
        except OSError as err:
            listener.close()
            raise PortUnavailable(
                f"the OttoChain node cannot listen on {self.listening_on}: {err.strerror or err}"
            ) from None
        return listener

    async def __aexit__(self, *_exc: object) -> None:
        if self._server is not None:
            self._server.should_exit = True
        http, *others = self._tasks
        for task in others:
            task.cancel()
        await asyncio.gather(http, *others, return_exceptions=True)
        self._tasks.clear()
        await asyncio.to_thread(self.chain.close)
