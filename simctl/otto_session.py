"""What every otto command that runs workflows needs: the chain's endpoints and a Temporal stack."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from pydantic import SecretStr

from models.otto import OttoEndpoints
from models.settings import Settings
from simctl.ottochain import ottochain
from simctl.wallet_access import passphrase
from workers.stack import Stack, open_stack


def with_passphrase(settings: Settings) -> Settings:
    """Settings whose in-process worker can open the wallet file (asking for the passphrase once)."""
    if settings.wallet_passphrase is not None:
        return settings
    return settings.model_copy(update={"wallet_passphrase": SecretStr(passphrase(settings))})


@asynccontextmanager
async def otto_session(settings: Settings, bridge_url: str | None) -> AsyncIterator[tuple[OttoEndpoints, Stack]]:
    # The node outlives the worker: activities may still be talking to it while the worker drains.
    async with ottochain(settings, bridge_url) as endpoints, open_stack(settings, worker="always") as stack:
        yield endpoints, stack
