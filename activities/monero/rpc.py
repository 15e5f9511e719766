"""A small JSON-RPC client for monerod and monero-wallet-rpc, with failures sorted the way Temporal should
treat them.

Transient faults raise retryable errors: refused connections and timeouts, HTTP 5xx, a daemon answering
``status != "OK"`` (``BUSY`` while it synchronises), a wallet whose daemon is busy or unreachable (-3, -38).
Bad input raises non-retryable errors named after what went wrong: ``BadAddress`` (-2), ``InsufficientFunds``
(-17, not enough money; -16 and the unlocked-money variants), ``NotEnoughOutputs`` (-19, too few outputs for the
ring), ``MethodNotFound`` (-32601), ``WalletError`` for the rest. Responses are validated into the pydantic
models of ``activities.monero.wire``.
"""

from __future__ import annotations

import itertools
from typing import Any, TypeVar

import httpx
from pydantic import BaseModel, ValidationError
from temporalio.exceptions import ApplicationError

from activities.monero import wire

M = TypeVar("M", bound=BaseModel)

# Code 0 is no wallet-rpc error code: an answer without one (and without a message) came from a wallet whose daemon
# had just been killed (tests/reliability/test_monero_node_kill.py): retried, within the activity's attempts.
RETRYABLE_WALLET_CODES = {0: "WalletUnavailable", -3: "DaemonBusy", -38: "NoDaemonConnection"}
NON_RETRYABLE_WALLET_CODES = {
    -2: "BadAddress",
    -8: "UnknownTx",
    -13: "WalletNotOpen",
    -16: "InsufficientFunds",
    -17: "InsufficientFunds",
    -19: "NotEnoughOutputs",
    -20: "ZeroDestination",
    -21: "WalletExists",
    -27: "BadTxMetadata",
    -32601: "MethodNotFound",
    -32602: "InvalidParams",
}
_ids = itertools.count()


def _classify(what: str, code: int, message: str) -> ApplicationError:
    if code in RETRYABLE_WALLET_CODES:
        return ApplicationError(f"{what}: {message} ({code})", type=RETRYABLE_WALLET_CODES[code])
    kind = NON_RETRYABLE_WALLET_CODES.get(code, "WalletError")
    if "unlocked" in message.lower() or "not enough money" in message.lower():
        kind = "InsufficientFunds"
    return ApplicationError(f"{what}: {message} ({code})", type=kind, non_retryable=True)


async def _post(http: httpx.AsyncClient, url: str, body: Any, *, what: str, timeout: float | None) -> Any:
    try:
        response = await http.post(url, json=body, timeout=timeout if timeout is not None else httpx.USE_CLIENT_DEFAULT)
    except httpx.TimeoutException as err:
        raise ApplicationError(f"{what}: timed out ({type(err).__name__})", type="Unavailable") from None
    except httpx.TransportError as err:
        raise ApplicationError(f"{what}: {type(err).__name__}: {err}", type="Unavailable") from None
    if response.status_code >= 500:
        raise ApplicationError(f"{what}: HTTP {response.status_code}: {response.text[:200]}", type="Unavailable")
    if response.status_code >= 400:
        raise ApplicationError(
            f"{what}: HTTP {response.status_code}: {response.text[:200]}", type="BadRequest", non_retryable=True
        )
    try:
        return response.json()
    except ValueError:
        raise ApplicationError(f"{what}: not JSON: {response.text[:200]}", type="Unavailable") from None


def _check_status(what: str, result: Any) -> None:
    status = result.get("status") if isinstance(result, dict) else None
    if status is not None and status != "OK":
        # BUSY while the node synchronises, or a transient refusal: the node answers OK once it can.
        reason = result.get("reason") or ""
        raise ApplicationError(f"{what}: status {status} {reason}".strip(), type="NodeBusy")


def _model(model: type[M], body: Any, what: str) -> M:
    try:
        return model.model_validate(body)
    except ValidationError as err:
        raise ApplicationError(f"{what}: unexpected answer: {err.errors()[0]}", type="BadResponse") from None


async def json_rpc(
    http: httpx.AsyncClient,
    base_url: str,
    method: str,
    params: dict[str, Any] | None = None,
    *,
    timeout: float | None = None,
) -> dict[str, Any]:
    """``POST /json_rpc`` and return ``result``; errors raised classified for Temporal."""
    what = f"{base_url} {method}"
    body = {"jsonrpc": "2.0", "id": str(next(_ids)), "method": method, "params": params or {}}
    answer = await _post(http, f"{base_url}/json_rpc", body, what=what, timeout=timeout)
    if not isinstance(answer, dict):
        raise ApplicationError(f"{what}: unexpected answer {answer!r:.200}", type="BadResponse")
    if "error" in answer:
        error = answer["error"] or {}
        raise _classify(what, int(error.get("code", 0)), str(error.get("message", "")))
    result = answer.get("result") or {}
    _check_status(what, result)
    return dict(result)


async def plain(
    http: httpx.AsyncClient,
    base_url: str,
    path: str,
    body: dict[str, Any] | None = None,
    *,
    timeout: float | None = None,
) -> dict[str, Any]:
    """The daemon's plain endpoints (``/get_height``, ``/get_transactions``, ``/get_transaction_pool``, …)."""
    what = f"{base_url}{path}"
    answer = await _post(http, f"{base_url}{path}", body or {}, what=what, timeout=timeout)
    if not isinstance(answer, dict):
        raise ApplicationError(f"{what}: unexpected answer {answer!r:.200}", type="BadResponse")
    _check_status(what, answer)
    return answer


class DaemonClient:
    def __init__(self, http: httpx.AsyncClient, url: str) -> None:
        self._http = http
        self.url = url

    async def height(self) -> wire.Height:
        return _model(wire.Height, await plain(self._http, self.url, "/get_height", timeout=5), "get_height")

    async def info(self) -> wire.DaemonInfo:
        return _model(wire.DaemonInfo, await json_rpc(self._http, self.url, "get_info", timeout=5), "get_info")

    async def generate_blocks(self, count: int, address: str) -> wire.Generated:
        result = await json_rpc(
            self._http,
            self.url,
            "generateblocks",
            {"amount_of_blocks": count, "wallet_address": address, "starting_nonce": 0},
            timeout=60 + 2 * count,
        )
        return _model(wire.Generated, result, "generateblocks")

    async def block(self, block_hash: str) -> wire.Block:
        result = await json_rpc(self._http, self.url, "get_block", {"hash": block_hash}, timeout=10)
        return _model(wire.Block, result, "get_block")

    async def header_at(self, height: int) -> wire.BlockHeader:
        result = await json_rpc(self._http, self.url, "get_block_header_by_height", {"height": height}, timeout=5)
        return _model(wire.BlockHeader, result["block_header"], "get_block_header_by_height")

    async def pool_hashes(self) -> list[str]:
        result = await plain(self._http, self.url, "/get_transaction_pool", timeout=10)
        return [tx["id_hash"] for tx in result.get("transactions") or []]

    async def transactions(self, tx_hashes: list[str]) -> list[wire.TxInfo]:
        if not tx_hashes:
            return []
        result = await plain(self._http, self.url, "/get_transactions", {"txs_hashes": tx_hashes}, timeout=10)
        return [_model(wire.TxInfo, tx, "get_transactions") for tx in result.get("txs") or []]


class WalletClient:
    def __init__(self, http: httpx.AsyncClient, url: str) -> None:
        self._http = http
        self.url = url

    async def call(self, method: str, params: dict[str, Any] | None = None, *, timeout: float = 30) -> dict[str, Any]:
        return await json_rpc(self._http, self.url, method, params, timeout=timeout)

    async def version(self) -> int:
        return int((await self.call("get_version", timeout=5))["version"])

    async def create_wallet(self, filename: str) -> None:
        await self.call("create_wallet", {"filename": filename, "password": "", "language": "English"}, timeout=60)

    async def restore(self, filename: str, mnemonic: str) -> None:
        await self.call(
            "restore_deterministic_wallet",
            {"filename": filename, "password": "", "seed": mnemonic, "restore_height": 0, "language": "English"},
            timeout=120,
        )

    async def open_wallet(self, filename: str) -> None:
        await self.call("open_wallet", {"filename": filename, "password": ""}, timeout=60)

    async def close_wallet(self) -> None:
        await self.call("close_wallet", timeout=60)

    async def mnemonic(self) -> str:
        return str((await self.call("query_key", {"key_type": "mnemonic"}))["key"])

    async def addresses(self, account_index: int = 0) -> wire.Addresses:
        return _model(wire.Addresses, await self.call("get_address", {"account_index": account_index}), "get_address")

    async def accounts(self) -> wire.Accounts:
        return _model(wire.Accounts, await self.call("get_accounts"), "get_accounts")

    async def create_account(self, label: str) -> wire.NewAccount:
        return _model(wire.NewAccount, await self.call("create_account", {"label": label}), "create_account")

    async def create_addresses(self, count: int, account_index: int = 0) -> list[str]:
        result = await self.call("create_address", {"account_index": account_index, "count": count})
        return list(result.get("addresses") or [result["address"]])

    async def refresh(self) -> None:
        await self.call("refresh", timeout=120)

    async def store(self) -> None:
        await self.call("store", timeout=60)

    async def balance(self, account_index: int = 0) -> wire.Balance:
        result = await self.call("get_balance", {"account_index": account_index})
        return _model(wire.Balance, result, "get_balance")

    async def build_transfer(self, destinations: list[wire.Destination], account_index: int = 0) -> wire.BuiltTx:
        """A signed transaction, not relayed: its hash and metadata (``relay_tx`` sends it)."""
        result = await self.call(
            "transfer",
            {
                "destinations": [d.model_dump() for d in destinations],
                "account_index": account_index,
                "priority": 0,
                "get_tx_key": True,
                "do_not_relay": True,
                "get_tx_metadata": True,
            },
            timeout=60,
        )
        return _model(wire.BuiltTx, result, "transfer")

    async def relay(self, tx_metadata: str) -> str:
        return str((await self.call("relay_tx", {"hex": tx_metadata}, timeout=60))["tx_hash"])

    async def transfer_by_txid(self, txid: str) -> wire.Transfer | None:
        try:
            result = await self.call("get_transfer_by_txid", {"txid": txid})
        except ApplicationError as err:
            if err.type == "UnknownTx":  # -8: no such transaction in this wallet
                return None
            raise
        return _model(wire.Transfer, result["transfer"], "get_transfer_by_txid")

    async def incoming(self, account_index: int = 0) -> list[wire.Transfer]:
        result = await self.call(
            "get_transfers", {"in": True, "pool": True, "account_index": account_index}, timeout=60
        )
        return [
            _model(wire.Transfer, t, "get_transfers") for t in [*(result.get("in") or []), *(result.get("pool") or [])]
        ]

    async def set_tx_note(self, txid: str, note: str) -> None:
        await self.call("set_tx_notes", {"txids": [txid], "notes": [note]})
