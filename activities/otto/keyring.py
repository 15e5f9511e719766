"""Private keys for activities, loaded from the encrypted wallet file by agent id.

Workflows name agents; only activities ever hold a key, and only for the length of a call.
"""

from __future__ import annotations

from pathlib import Path

from temporalio.exceptions import ApplicationError

from store.wallets import WalletError, WalletStore


class Keyring:
    def __init__(self, passphrase: str | None) -> None:
        self._passphrase = passphrase
        self._open: dict[Path, tuple[float, WalletStore]] = {}

    @property
    def passphrase(self) -> str | None:
        return self._passphrase

    def store(self, wallets: str) -> WalletStore:
        path = Path(wallets).resolve()
        if self._passphrase is None:
            raise ApplicationError(
                "SIMCTL_WALLET_PASSPHRASE is not set in the worker's environment",
                type="WalletError",
                non_retryable=True,
            )
        try:
            modified = path.stat().st_mtime
            cached = self._open.get(path)
            if cached is None or cached[0] != modified:
                cached = (modified, WalletStore.open(path, self._passphrase))
                self._open[path] = cached
        except (OSError, WalletError) as err:
            raise ApplicationError(str(err), type="WalletError", non_retryable=True) from None
        return cached[1]

    def private_key(self, wallets: str, agent_id: str) -> str:
        try:
            return self.store(wallets).private_key(agent_id)
        except WalletError as err:
            raise ApplicationError(str(err), type="WalletError", non_retryable=True) from None

    def address(self, wallets: str, agent_id: str) -> str:
        try:
            return self.store(wallets).agent(agent_id).address
        except WalletError as err:
            raise ApplicationError(str(err), type="WalletError", non_retryable=True) from None
