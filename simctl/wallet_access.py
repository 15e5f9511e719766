"""Opening and creating the wallet pool from the CLI: where the passphrase comes from, one-line errors."""

from __future__ import annotations

import stat
import sys
from collections.abc import Iterable
from pathlib import Path

import typer
from rich.console import Console
from rich.progress import track

from models.settings import Settings
from simctl.errors import CliError
from store.wallets import WalletError, WalletFile, WalletStore, generate_pool


def passphrase(settings: Settings, *, confirm: bool = False) -> str:
    if settings.wallet_passphrase is not None:
        return settings.wallet_passphrase.get_secret_value()
    if not sys.stdin.isatty():
        raise CliError("set SIMCTL_WALLET_PASSPHRASE (no terminal to ask for the wallet passphrase)")
    return typer.prompt("Wallet passphrase", hide_input=True, confirmation_prompt=confirm)


def open_wallets(settings: Settings, path: Path) -> WalletStore:
    warn_if_exposed(path)
    try:
        return WalletStore.open(path, passphrase(settings))
    except WalletError as err:
        raise CliError(str(err)) from None


def read_public(path: Path) -> WalletFile:
    """The wallet file's public part (agents, addresses), no passphrase asked."""
    warn_if_exposed(path)
    try:
        return WalletStore.read_public(path)
    except WalletError as err:
        raise CliError(str(err)) from None


_warned: set[Path] = set()


def warn_if_exposed(path: Path) -> None:
    """One line on stderr, once per file, when other users may read (or change) the wallet file.

    A warning, not a refusal: the keys are sealed (scrypt + AES-GCM), so a reader can only guess
    passphrases offline, and every save rewrites the file 0600 anyway.
    """
    try:
        mode = stat.S_IMODE(path.stat().st_mode)
    except OSError:
        return  # opening the file reports what is wrong
    if mode & 0o077 and path.resolve() not in _warned:
        _warned.add(path.resolve())
        print(
            f"simctl: warning: {path} is open to other users (mode {mode:04o}); "
            f"a wallet file should be 0600 (chmod 600 {path})",
            file=sys.stderr,
        )


def create_pool(path: Path, secret: str, *, count: int, seed: int | None) -> WalletStore:
    """A new wallet file of ``count`` agents, with a progress bar while the keys are made."""

    def progress(indices: range) -> Iterable[int]:
        return track(indices, description="generating keys", console=Console(stderr=True), transient=True)

    try:
        return generate_pool(path, secret, count=count, seed=seed, progress=progress)
    except WalletError as err:
        raise CliError(str(err)) from None
