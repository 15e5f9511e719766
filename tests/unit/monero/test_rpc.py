"""The JSON-RPC client sorts failures the way Temporal should treat them; answers are validated models."""

from __future__ import annotations

import json

import httpx
import pytest
from temporalio.exceptions import ApplicationError

from activities.monero import wire
from activities.monero.rpc import DaemonClient, WalletClient


def client_answering(answer) -> httpx.AsyncClient:
    def handle(request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        return answer(request.url.path, body)

    return httpx.AsyncClient(transport=httpx.MockTransport(handle))


def error(code: int, message: str):
    return lambda _path, body: httpx.Response(200, json={"id": body["id"], "error": {"code": code, "message": message}})


async def failure(http: httpx.AsyncClient, call) -> ApplicationError:
    with pytest.raises(ApplicationError) as raised:
        await call(http)
    return raised.value


async def test_a_busy_daemon_is_retried():
    busy = client_answering(lambda _path, body: httpx.Response(200, json={"id": "0", "result": {"status": "BUSY"}}))
    err = await failure(busy, lambda http: DaemonClient(http, "http://127.0.0.1:1").generate_blocks(1, "4abc"))
    assert err.type == "NodeBusy" and not err.non_retryable


@pytest.mark.parametrize(
    ("code", "message", "kind", "final"),
    [
        (-17, "not enough money", "InsufficientFunds", True),
        (-16, "not enough unlocked money", "InsufficientFunds", True),
        (-19, "not enough outputs for specified ring size", "NotEnoughOutputs", True),
        (-2, "WALLET_RPC_ERROR_CODE_WRONG_ADDRESS: 4bad", "BadAddress", True),
        (-32601, "Method not found", "MethodNotFound", True),
        (-38, "no connection to daemon", "NoDaemonConnection", False),
        (-3, "daemon is busy", "DaemonBusy", False),
    ],
)
async def test_wallet_errors_are_classified(code, message, kind, final):
    http = client_answering(error(code, message))
    destination = wire.Destination(address="4abc", amount=1)
    err = await failure(http, lambda http: WalletClient(http, "http://127.0.0.1:1").build_transfer([destination]))
    assert err.type == kind and err.non_retryable is final
    assert str(code) in err.message


async def test_an_unreachable_process_is_retried():
    async with httpx.AsyncClient() as http:
        err = await failure(http, lambda http: DaemonClient(http, "http://127.0.0.1:9").height())
    assert err.type == "Unavailable" and not err.non_retryable


async def test_plain_endpoints_and_models():
    def answer(path, _body):
        if path == "/get_height":
            return httpx.Response(200, json={"height": 101, "hash": "ab", "status": "OK", "untrusted": False})
        return httpx.Response(200, json={"status": "OK", "transactions": [{"id_hash": "t1"}, {"id_hash": "t2"}]})

    http = client_answering(answer)
    daemon = DaemonClient(http, "http://127.0.0.1:1")
    assert (await daemon.height()).height == 101
    assert await daemon.pool_hashes() == ["t1", "t2"]


async def test_an_unexpected_answer_is_not_trusted():
    http = client_answering(lambda _path, body: httpx.Response(200, json={"id": "0", "result": {"status": "OK"}}))
    err = await failure(http, lambda http: DaemonClient(http, "http://127.0.0.1:1").generate_blocks(1, "4abc"))
    assert err.type == "BadResponse"


async def test_an_unknown_transaction_is_none():
    http = client_answering(error(-8, "Transaction not found."))
    assert await WalletClient(http, "http://127.0.0.1:1").transfer_by_txid("ff") is None
