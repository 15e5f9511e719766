"""The bridge: a custodial HTTP service in front of the chain (each write carries a private key).

Routes and bodies follow the real bridge (docs/ottochain-wire.md §5). One router per resource
(``health``, ``wallet``, ``agent``, ``contract``, ``fiber``); what they share, the chain and the
cache of submitted sequence numbers, is one :class:`~localnet.ottochain.bridge.core.Bridge` on the
app, handed to each route by a dependency. Errors are raised, never returned, and turned into the
bridge's bodies in one place (``errors.py``).
"""

from __future__ import annotations

from fastapi import FastAPI

from localnet.ottochain.bridge import agent, contract, fiber, health, wallet
from localnet.ottochain.bridge.core import Bridge
from localnet.ottochain.bridge.errors import install_error_handlers
from localnet.ottochain.chain import Chain


def bridge_app(chain: Chain) -> FastAPI:
    app = FastAPI(title="OttoChain bridge (embedded)")
    app.state.bridge = Bridge(chain)
    install_error_handlers(app)
    for resource in (health, wallet, agent, contract, fiber):
        app.include_router(resource.router)
    return app


__all__ = ["bridge_app"]
