"""A relay its daemon refuses is retried, unless the transaction turns out to be known (then nothing is sent); so is
a wallet that answers without an error code, and a build its daemon cannot serve yet.

wallet-rpc reports any refusal of its daemon as -4 "Failed to commit tx."; a monerod relaunched after a crash
refuses until it has caught up. The refusal is the one fault here that real processes cannot be made to give on
demand, so the two processes answer through httpx's mock transport.
"""

from __future__ import annotations

import json

import httpx
import pytest
from temporalio.exceptions import ApplicationError

from activities.monero.wallets import WalletActivities
from models.monero_run import BuildTransfer, Destination, RelayTransfer

TX = "ab" * 32
REQUEST = RelayTransfer(
    payment_id="run/pay/user_000/3",
    wallet_url="http://127.0.0.1:1/json_rpc",
    daemon_url="http://127.0.0.1:2",
    tx_hash=TX,
    tx_metadata="00",
)


COMMIT_FAILED = (-4, "Failed to commit tx.")


def rpc_error(body: dict, code: int, message: str) -> httpx.Response:
    return httpx.Response(200, json={"id": body["id"], "error": {"code": code, "message": message}})


def processes(*, known_after_refusal: bool, refusal: tuple[int, str] = COMMIT_FAILED) -> httpx.AsyncClient:
    """A daemon and a wallet: the wallet refuses the relay; the daemon knows the transaction only after that."""
    refused: list[bool] = []

    def handle(request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        if request.url.path == "/get_transactions":
            txs = [{"tx_hash": TX, "in_pool": True}] if refused and known_after_refusal else []
            return httpx.Response(200, json={"status": "OK", "txs": txs, "missed_tx": [] if txs else [TX]})
        method = body["method"]
        if method == "relay_tx":
            refused.append(True)
            return rpc_error(body, *refusal)
        if method == "get_transfer_by_txid":
            return rpc_error(body, -8, "Transaction not found.")
        raise AssertionError(f"unexpected call {method}")

    return httpx.AsyncClient(transport=httpx.MockTransport(handle))


async def test_a_refused_relay_is_retried():
    with pytest.raises(ApplicationError) as raised:
        await WalletActivities(processes(known_after_refusal=False)).relay_transfer(REQUEST)
    assert raised.value.type == "RelayRefused" and not raised.value.non_retryable
    assert "Failed to commit tx." in raised.value.message


async def test_a_relay_refused_because_the_node_already_has_the_transaction_sends_nothing():
    relayed = await WalletActivities(processes(known_after_refusal=True)).relay_transfer(REQUEST)
    assert relayed.already and relayed.tx_hash == TX


async def test_bad_metadata_stays_final():
    http = processes(known_after_refusal=False, refusal=(-27, "Failed to parse tx metadata."))
    with pytest.raises(ApplicationError) as raised:
        await WalletActivities(http).relay_transfer(REQUEST)
    assert raised.value.type == "BadTxMetadata" and raised.value.non_retryable


async def test_a_wallet_answering_without_an_error_code_is_asked_again():
    """Seen when the wallet's daemon had just been killed: get_transfer_by_txid answered code 0, no message."""

    def handle(request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        if request.url.path == "/get_transactions":
            return httpx.Response(200, json={"status": "OK", "txs": [], "missed_tx": [TX]})
        assert body["method"] == "get_transfer_by_txid", body["method"]
        return rpc_error(body, 0, "")

    http = httpx.AsyncClient(transport=httpx.MockTransport(handle))
    with pytest.raises(ApplicationError) as raised:
        await WalletActivities(http).relay_transfer(REQUEST)
    assert raised.value.type == "WalletUnavailable" and not raised.value.non_retryable


async def test_a_build_its_daemon_cannot_serve_yet_is_built_again():
    """A relaunched node answers BUSY until it has caught up; the wallet reports that as -4 on transfer."""

    def handle(request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        if body["method"] == "refresh":
            return httpx.Response(200, json={"id": body["id"], "result": {"blocks_fetched": 0}})
        assert body["method"] == "transfer", body["method"]
        return rpc_error(body, -4, "failed to get output distribution")

    build = BuildTransfer(
        payment_id="run/pay/user_000/3",
        wallet_url="http://127.0.0.1:1",
        destinations=(Destination(address="address", amount=1),),
    )
    http = httpx.AsyncClient(transport=httpx.MockTransport(handle))
    with pytest.raises(ApplicationError) as raised:
        await WalletActivities(http).build_transfer(build)
    assert raised.value.type == "BuildFailed" and not raised.value.non_retryable
    assert "failed to get output distribution" in raised.value.message
