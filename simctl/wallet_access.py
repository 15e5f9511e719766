"""Opening and creating the wallet pool from the CLI: where the passphrase comes from, one-line errors."""

from __future__ import annotations

import random
import sys
from pathlib import Path

import typer
from rich.console import Console
from rich.progress import track

from models.settings import Settings
from sim.otto.agents import agent_id, public_profile
from sim.otto.signing import new_keypair
from simctl.errors import CliError
from store.wallets import WalletError, WalletStore


def passphrase(settings: Settings, *, confirm: bool = False) -> str:
    if settings.wallet_passphrase is not None:
        return settings.wallet_passphrase.get_secret_value()
    if not sys.stdin.isatty():
        raise CliError("set SIMCTL_WALLET_PASSPHRASE (no terminal to ask for the wallet passphrase)")
    return typer.prompt("Wallet passphrase", hide_input=True, confirmation_prompt=confirm)


def open_wallets(settings: Settings, path: Path) -> WalletStore:
    try:
        return WalletStore.open(path, passphrase(settings))
    except WalletError as err:
        raise CliError(str(err)) from None


def create_pool(path: Path, secret: str, *, count: int, seed: int | None) -> WalletStore:
    """A new wallet file of ``count`` agents: fresh keys, traits and profiles drawn from ``seed``."""
    try:
        store = WalletStore.create(path, secret)
    except WalletError as err:
        raise CliError(str(err)) from None
    rng = random.Random(seed)
    for index in track(range(count), description="generating keys", console=Console(stderr=True), transient=True):
        pair = new_keypair()
        store.add(agent_id(index), pair.address, pair.private_key, public_key=pair.public_key_id, **public_profile(index, rng))
    store.save()
    return store
