"""Opening and creating the wallet pool from the CLI: where the passphrase comes from, one-line errors."""

from __future__ import annotations

import sys
from collections.abc import Iterable
from pathlib import Path

import typer
from rich.console import Console
from rich.progress import track

from models.settings import Settings
from simctl.errors import CliError
from store.wallets import WalletError, WalletStore, generate_pool


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
    """A new wallet file of ``count`` agents, with a progress bar while the keys are made."""

    def progress(indices: range) -> Iterable[int]:
        return track(indices, description="generating keys", console=Console(stderr=True), transient=True)

    try:
        return generate_pool(path, secret, count=count, seed=seed, progress=progress)
    except WalletError as err:
        raise CliError(str(err)) from None
