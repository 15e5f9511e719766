"""The embedded node over real HTTP against bad input (issue 13, part 0): the probe's findings, one by one.

A probe sent 402 malformed requests to the node's 20 POST routes: 62 answers were a bare 500, 3 hung,
2 changed state while rejecting, and five signed updates stopped ML0's snapshots for good while /health
said ok. Each test below reproduces one finding and failed before the fix; the node must now answer
4xx with the reason, keep its state, and keep snapshotting.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from constellation_sdk.currency_transaction import sign_currency_transaction
from constellation_sdk.currency_types import CurrencyTransactionValue, TransactionReference
from constellation_sdk.types import Signed

from localnet.ottochain.chain import Faults
from localnet.ottochain.limits import MAX_BODY_BYTES, MAX_DEFINITION_BYTES
from localnet.ottochain.server import OttoChainServer
from sim.otto import signing
from sim.otto.messages import create_state_machine, transition_state_machine
from sim.otto.signing import KeyPair, new_keypair
from tests.otto.node_routes import POST_ROUTES

JSON_SAFE = 2**53 - 1
SECP256K1_ORDER = "FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141"


def nested(depth: int, leaf: Any = 1) -> Any:
    value = leaf
    for _ in range(depth):
        value = {"a": value}
    return value


def machine(effect: Any, guard: Any = True) -> dict[str, Any]:
    """One state, one event ``go`` with the given guard and effect."""
    return {
        "states": {"open": {"id": "open", "isFinal": False, "metadata": None}},
        "initialState": "open",
        "transitions": [
            {"from": "open", "to": "open", "eventName": "go", "guard": guard, "effect": effect, "dependencies": []}
        ],
        "metadata": {"name": "Probe"},
    }


@dataclass
class Node:
    """A test's view of one embedded node: raw posts, signed DL1 updates, ML0 reads, snapshot waits."""

    http: httpx.AsyncClient
    server: OttoChainServer

    @property
    def url(self) -> str:
        return self.server.base_url

    async def post(self, path: str, body: Any = None, *, raw: str | bytes | None = None) -> httpx.Response:
        if raw is not None:
            return await self.http.post(self.url + path, content=raw, headers={"content-type": "application/json"})
        return await self.http.post(self.url + path, json=body)

    async def dl1(self, message: dict[str, Any], *keys: KeyPair) -> httpx.Response:
        signed = signing.sign(message, [key.private_key for key in keys])
        return await self.post("/dl1/data", {"data": signed.model_dump(), "fee": None})

    async def ordinal(self) -> int:
        response = await self.http.get(f"{self.url}/ml0/snapshots/latest/ordinal")
        return int(response.json()["value"]) if response.status_code == 200 else 0

    async def snapshots_go_on(self, count: int = 3, timeout: float = 5.0) -> None:
        """``count`` more snapshots happen: the loop is alive (and everything queued before was processed)."""
        start = await self.ordinal()
        deadline = time.monotonic() + timeout
        while await self.ordinal() < start + count:
            assert time.monotonic() < deadline, f"snapshots stopped at ordinal {await self.ordinal()}"
            await asyncio.sleep(0.02)

    async def record(self, fiber_id: str) -> dict[str, Any] | None:
        response = await self.http.get(f"{self.url}/ml0/data-application/v1/state-machines/{fiber_id}")
        assert response.status_code == 200, response.text
        record: dict[str, Any] | None = response.json()
        return record

    async def created(self, definition: dict[str, Any], initial: dict[str, Any], owner: KeyPair) -> str:
        fiber_id = str(uuid.uuid4())
        response = await self.dl1(create_state_machine(fiber_id, definition, initial), owner)
        assert response.status_code == 200, response.text
        await self.until(fiber_id, lambda record: True)
        return fiber_id

    async def until(self, fiber_id: str, check: Callable[[dict[str, Any]], bool], timeout: float = 5.0) -> dict:
        deadline = time.monotonic() + timeout
        while True:
            record = await self.record(fiber_id)
            if record is not None and check(record):
                return record
            assert time.monotonic() < deadline, f"fiber {fiber_id} never got there; last seen {record}"
            await asyncio.sleep(0.02)

    async def faucet(self, address: str, amount: int) -> None:
        response = await self.post("/debug/faucet", {"address": address, "amount": amount})
        assert response.status_code == 200, response.text

    async def balance(self, address: str) -> int:
        return int((await self.http.get(f"{self.url}/ml0/currency/{address}/balance")).json()["balance"])


@pytest.fixture
def probe(node: OttoChainServer, http: httpx.AsyncClient) -> Node:
    return Node(http, node)


def refusal(response: httpx.Response) -> str:
    """The answer's text, after checking it is a 4xx: what a client is told."""
    assert 400 <= response.status_code < 500, f"{response.status_code}: {response.text[:300]}"
    return response.text


def has_receipt(record: dict[str, Any]) -> bool:
    return record.get("lastReceipt") is not None


# --- 1. one signed update must not stop the snapshots ---------------------------------------------


async def test_deeply_nested_initial_data_is_refused_and_snapshots_go_on(probe: Node):
    owner = new_keypair()
    way_too_deep = await probe.dl1(create_state_machine(str(uuid.uuid4()), machine({}), {"x": nested(600)}), owner)
    assert "nested deeper than" in refusal(way_too_deep)  # accepted before; its create killed the snapshot loop
    too_deep = await probe.dl1(create_state_machine(str(uuid.uuid4()), machine({}), {"x": nested(150)}), owner)
    assert "InvalidValue" in refusal(too_deep) and "nested deeper than 100" in too_deep.text
    await probe.snapshots_go_on()


async def test_a_guard_over_a_deeply_nested_payload_is_refused_and_snapshots_go_on(probe: Node):
    owner = new_keypair()
    fiber_id = await probe.created(machine({"seen": True}, guard={"var": "event.x"}), {"n": 0}, owner)
    for depth in (600, 150):
        refused = await probe.dl1(transition_state_machine(fiber_id, "go", {"x": nested(depth)}, 0), owner)
        assert "nested deeper than" in refusal(refused)
    await probe.snapshots_go_on()
    assert (await probe.record(fiber_id) or {})["sequenceNumber"] == 0


async def test_an_effect_beyond_the_json_safe_integers_fails_its_event_only(probe: Node):
    owner = new_keypair()
    fiber_id = await probe.created(machine({"n": {"+": [JSON_SAFE, 1]}}), {"n": 0}, owner)
    accepted = await probe.dl1(transition_state_machine(fiber_id, "go", {}, 0), owner)
    assert accepted.status_code == 200, accepted.text
    record = await probe.until(fiber_id, has_receipt)
    assert record["sequenceNumber"] == 0 and record["stateData"] == {"n": 0}
    assert record["lastReceipt"]["success"] is False and "JSON-safe" in record["lastReceipt"]["errorMessage"]
    await probe.snapshots_go_on()
    assert (await probe.http.get(f"{probe.url}/ml0/data-application/v1/onchain")).status_code == 200


async def test_spawn_with_initial_data_that_is_not_an_object_fails_its_event_only(probe: Node):
    owner = new_keypair()
    child_id = str(uuid.uuid4())
    spawn = {"childId": child_id, "definition": machine({}), "initialData": [1, 2, 3]}
    fiber_id = await probe.created(machine({"_spawn": [spawn]}), {}, owner)
    assert (await probe.dl1(transition_state_machine(fiber_id, "go", {}, 0), owner)).status_code == 200
    record = await probe.until(fiber_id, has_receipt)
    assert record["lastReceipt"]["success"] is False and "NotMapValue" in record["lastReceipt"]["errorMessage"]
    await probe.snapshots_go_on()
    assert await probe.record(child_id) is None


async def test_spawn_with_malformed_owners_makes_no_child_and_survives_a_restart(
    http: httpx.AsyncClient, tmp_path: Path
):
    owner = new_keypair()
    child_id = str(uuid.uuid4())
    state_file = tmp_path / "chain.db"
    for run in range(2):
        async with OttoChainServer(faults=Faults(snapshot_interval=0.05), state_file=state_file) as server:
            probe = Node(http, server)
            if run == 0:
                spawn = {"childId": child_id, "definition": machine({}), "initialData": {}, "owners": [1, {"a": 2}]}
                fiber_id = await probe.created(machine({"_spawn": [spawn]}), {}, owner)
                assert (await probe.dl1(transition_state_machine(fiber_id, "go", {}, 0), owner)).status_code == 200
                record = await probe.until(fiber_id, has_receipt)
                assert "InvalidOwnerAddress" in record["lastReceipt"]["errorMessage"]
            await probe.snapshots_go_on()
            assert await probe.record(child_id) is None  # before: a child no one could move, persisted
            # Any move to the child (there is none) is refused at DL1, and the chain carries on.
            moved = await probe.dl1(transition_state_machine(child_id, "go", {}, 0), owner)
            assert "CidNotFound" in refusal(moved)
            await probe.snapshots_go_on()


async def test_a_failing_snapshot_is_counted_and_the_loop_goes_on(probe: Node, node: OttoChainServer):
    real_snapshot = node.chain.snapshot
    failed: list[bool] = []

    def flaky() -> int:
        if not failed:
            failed.append(True)
            raise OSError("disk full")
        return real_snapshot()

    node.chain.snapshot = flaky  # type: ignore[method-assign]
    await probe.snapshots_go_on()  # before: the first failure ended the loop, silently
    summary = (await probe.http.get(f"{probe.url}/debug/summary")).json()
    assert summary["snapshots"]["failures"] == 1 and "disk full" in summary["snapshots"]["lastError"]
    assert (await probe.http.get(f"{probe.url}/bridge/health")).json() == {"status": "ok", "service": "bridge"}


async def test_health_reports_a_dead_snapshot_loop(probe: Node, node: OttoChainServer):
    assert (await probe.http.get(f"{probe.url}/bridge/health")).status_code == 200
    loop = next(task for task in asyncio.all_tasks() if task.get_name() == "ottochain-snapshots")
    loop.cancel()
    await asyncio.gather(loop, return_exceptions=True)
    health = await probe.http.get(f"{probe.url}/bridge/health")
    assert health.status_code == 503  # before: "ok" while no snapshot would ever come
    assert health.json()["status"] == "degraded" and health.json()["snapshots"]["running"] is False


# --- 2. CL1: amounts are positive Longs -------------------------------------------------------------


def transfer(source: KeyPair, destination: str, amount: Any, fee: Any = 0, *, signed_amount: int | None = None) -> dict:
    value = CurrencyTransactionValue(
        source=source.address,
        destination=destination,
        amount=signed_amount if signed_amount is not None else amount,
        fee=fee,
        parent=TransactionReference(hash="0" * 64, ordinal=0),
        salt="123456789",
    )
    transaction = sign_currency_transaction(Signed(value=value, proofs=[]), source.private_key)
    return {
        "value": {
            "source": source.address,
            "destination": destination,
            "amount": amount,
            "fee": fee,
            "parent": {"hash": "0" * 64, "ordinal": 0},
            "salt": "123456789",
        },
        "proofs": [{"id": proof.id, "signature": proof.signature} for proof in transaction.proofs],
    }


@pytest.mark.parametrize(
    ("amount", "fee", "signed_amount"),
    [(-5000, 0, None), (0, 0, None), (5000, -1, None), ("5000", 0, 5000), (2**63, 0, None)],
    ids=["negative", "zero", "negative-fee", "string", "beyond-long"],
)
async def test_cl1_refuses_amounts_that_are_not_positive_longs(probe: Node, amount, fee, signed_amount):
    a, b = new_keypair(), new_keypair()
    await probe.faucet(a.address, 10_000)
    await probe.faucet(b.address, 10_000)
    response = await probe.post("/cl1/transactions", transfer(a, b.address, amount, fee, signed_amount=signed_amount))
    assert "InvalidTransaction" in refusal(response)
    await probe.snapshots_go_on()
    # Before: a negative amount signed by A moved 5000 from B to A without B's signature.
    assert (await probe.balance(a.address), await probe.balance(b.address)) == (10_000, 10_000)


async def test_cl1_still_moves_a_positive_amount(probe: Node):
    a, b = new_keypair(), new_keypair()
    await probe.faucet(a.address, 10_000)
    response = await probe.post("/cl1/transactions", transfer(a, b.address, 4_000))
    assert response.status_code == 200, response.text
    await probe.snapshots_go_on()
    assert (await probe.balance(a.address), await probe.balance(b.address)) == (6_000, 4_000)


# --- 3. a batch is all or nothing -------------------------------------------------------------------


@pytest.mark.parametrize(
    "bad",
    [
        {"payload": {"n": JSON_SAFE + 1}},
        {"privateKey": "0" * 64},
        {"targetSequenceNumber": -1},
        {"event": ""},
    ],
    ids=["unsafe-integer", "key-zero", "negative-target", "no-event"],
)
async def test_a_batch_with_a_bad_item_applies_nothing_and_names_it(probe: Node, bad: dict[str, Any]):
    owner = new_keypair()
    fiber_id = await probe.created(machine({"n": {"var": "event.n"}}), {"n": 0}, owner)
    good = {"privateKey": owner.private_key, "fiberId": fiber_id, "event": "go", "payload": {"n": 1}}
    response = await probe.post("/bridge/fiber/batch", {"transitions": [good, {**good, **bad}]})
    assert refusal(response) and response.status_code == 400  # before: 500, after queueing the first item
    assert response.json()["error"] == "Invalid request" and response.json()["index"] == 1
    await probe.snapshots_go_on()
    assert (await probe.record(fiber_id) or {})["sequenceNumber"] == 0


# --- 4. nothing waits for ever ----------------------------------------------------------------------


@pytest.mark.parametrize("wait", ["1e9", "Infinity", "-1", "NaN"])
async def test_activate_bounds_max_wait_seconds(probe: Node, wait: str):
    key = new_keypair().private_key
    body = f'{{"privateKey": "{key}", "fiberId": "{uuid.uuid4()}", "maxWaitSeconds": {wait}}}'
    response = await asyncio.wait_for(probe.post("/bridge/agent/activate", raw=body), 5)  # 1e9 never answered
    assert refusal(response) and response.status_code == 400


async def test_activate_of_an_unknown_fiber_gives_up_after_max_wait_seconds(probe: Node):
    body = {"privateKey": new_keypair().private_key, "fiberId": str(uuid.uuid4()), "maxWaitSeconds": 0.3}
    started = time.monotonic()
    response = await probe.post("/bridge/agent/activate", body)
    assert response.status_code == 503 and time.monotonic() - started < 3


@pytest.mark.parametrize("abandoned", [True, False], ids=["abandoned", "still-waiting"])
async def test_shutdown_does_not_wait_on_requests(http: httpx.AsyncClient, abandoned: bool):
    server = OttoChainServer(faults=Faults(snapshot_interval=0.05))
    await server.__aenter__()
    try:
        body = {"privateKey": new_keypair().private_key, "fiberId": str(uuid.uuid4()), "maxWaitSeconds": 60}
        waiting = asyncio.create_task(http.post(f"{server.base_url}/bridge/agent/activate", json=body, timeout=90))
        await asyncio.sleep(0.5)
        if abandoned:
            waiting.cancel()
        started = time.monotonic()
        await asyncio.wait_for(server.__aexit__(None, None, None), 10)  # before: as long as the request asked
        assert time.monotonic() - started < 5
        await asyncio.gather(waiting, return_exceptions=True)
    finally:
        for task in server._tasks:  # only if the exit above timed out
            task.cancel()


# --- 5. every malformed request is a 4xx with its reason --------------------------------------------


@pytest.mark.parametrize("route", POST_ROUTES)
async def test_json_nested_ten_thousand_deep_is_refused_everywhere(probe: Node, route: str):
    response = await probe.post(route, raw="[" * 10_000 + "]" * 10_000)
    assert "nested deeper than" in refusal(response)  # DL1 and CL1 answered a bare 500


@pytest.mark.parametrize("route", ["/debug/faults", "/debug/faucet", "/dl1/data", "/bridge/wallet/sign"])
async def test_a_body_that_is_not_utf8_is_refused(probe: Node, route: str):
    response = await probe.http.post(probe.url + route, content=b"\xff\xfe{}")  # no content type: FastAPI's own 500
    assert "UTF-8" in refusal(response)


@pytest.mark.parametrize("key", ["0" * 64, SECP256K1_ORDER, "F" * 64], ids=["zero", "n", "beyond-n"])
@pytest.mark.parametrize(
    ("route", "extra"),
    [
        ("/bridge/wallet/import", {}),
        ("/bridge/wallet/sign", {"message": {"a": 1}}),
        ("/bridge/agent/register", {"displayName": "x"}),
        ("/bridge/fiber/create", {"definition": machine({}), "initialData": {}}),
    ],
)
async def test_private_keys_outside_the_curve_order_are_refused(probe: Node, key: str, route: str, extra: dict):
    response = await probe.post(route, {"privateKey": key, **extra})
    assert "secp256k1" in refusal(response)  # MalformedPointError: a bare 500


def signed_text(message_json: str, key: KeyPair) -> str:
    """A DL1 body around message text that is not canonical JSON (so its proof is a placeholder)."""
    proof = {"id": key.public_key_id, "signature": "30" + "00" * 70}
    return f'{{"data": {{"value": {message_json}, "proofs": [{json.dumps(proof)}]}}, "fee": null}}'


@pytest.mark.parametrize(
    ("payload", "reason"),
    [('{"x": NaN}', "NaN"), ('{"x": Infinity}', "Infinity"), ('{"x": "\\ud800"}', "surrogate")],
)
async def test_dl1_refuses_values_only_python_reads_as_json(probe: Node, payload: str, reason: str):
    owner = new_keypair()
    fiber_id = await probe.created(machine({}), {}, owner)
    message = f'{{"TransitionStateMachine": {{"fiberId": "{fiber_id}", "eventName": "go", "payload": {payload}, '
    message += '"targetSequenceNumber": 0}}'
    assert reason in refusal(await probe.post("/dl1/data", raw=signed_text(message, owner)))
    await probe.snapshots_go_on()


async def test_dl1_refuses_integers_beyond_the_json_safe_range(probe: Node):
    owner = new_keypair()
    created = create_state_machine(str(uuid.uuid4()), machine({}), {"n": JSON_SAFE + 1})
    body = json.dumps({"data": {"value": created, "proofs": []}, "fee": None})
    assert "JSON-safe" in refusal(await probe.post("/dl1/data", raw=body))
    fiber_id = await probe.created(machine({}), {}, owner)
    moved = transition_state_machine(fiber_id, "go", {}, JSON_SAFE + 1)
    body = json.dumps({"data": {"value": moved, "proofs": []}, "fee": None})
    assert "2^53-1" in refusal(await probe.post("/dl1/data", raw=body))


@pytest.mark.parametrize(
    "body",
    ['{"address": "DAG0", "amount": NaN}', '{"address": "\\ud800", "amount": 5}', '{"address": "DAG0", "amount": -5}'],
    ids=["nan", "surrogate", "negative"],
)
async def test_faucet_refuses_bad_values(probe: Node, body: str):
    refusal(await probe.post("/debug/faucet", raw=body))


async def test_wallet_sign_refuses_truncated_and_unhashable_bodies(probe: Node):
    key = new_keypair().private_key
    whole = json.dumps({"privateKey": key, "message": {"greeting": "h\u00e9llo \U0001f600", "n": [1, 2.5, None]}})
    for cut in range(1, len(whole), 7):
        refusal(await probe.post("/bridge/wallet/sign", raw=whole[:cut].encode()))
    # A pair of surrogates cut in two, then closed: valid JSON for Python, unhashable for the chain.
    lone = f'{{"privateKey": "{key}", "message": "\\ud83d"}}'
    assert "surrogate" in refusal(await probe.post("/bridge/wallet/sign", raw=lone))
    too_big = await probe.post("/bridge/wallet/sign", {"privateKey": key, "message": {"n": JSON_SAFE + 1}})
    assert "JSON-safe" in refusal(too_big)
    assert (await probe.post("/bridge/wallet/sign", {"privateKey": key, "message": {"n": 1}})).status_code == 200


@pytest.mark.parametrize("message", [None, True, 0, 1.5, "text", [1, "two"]], ids=repr)
async def test_wallet_sign_signs_any_json_message(probe: Node, message: Any):
    key = new_keypair()
    signed = await probe.post("/bridge/wallet/sign", {"privateKey": key.private_key, "message": message})
    assert signed.status_code == 200, signed.text  # a bare 500 for anything but an object
    assert signed.json()["proof"]["id"] == key.public_key_id


@pytest.mark.parametrize(
    ("definition", "initial", "words"),
    [
        (dict(machine({}), metadata="not an object"), {}, "definition.metadata"),
        (dict(machine({}), metadata={"name": ["x"]}), {}, "definition.metadata.name"),
        ({**machine({}), "transitions": [{**machine({})["transitions"][0], "dependencies": 5}]}, {}, "dependencies"),
        (machine({}), {"n": JSON_SAFE + 1}, "JSON-safe"),
        (machine({}), {"n": -JSON_SAFE - 1}, "JSON-safe"),
    ],
    ids=["metadata", "metadata-name", "dependencies", "initial-data-big", "initial-data-small"],
)
async def test_fiber_create_refuses_malformed_definitions_and_data(probe: Node, definition, initial, words):
    key = new_keypair().private_key
    response = await probe.post(
        "/bridge/fiber/create", {"privateKey": key, "definition": definition, "initialData": initial}
    )
    assert words in refusal(response) and response.status_code == 400


async def test_dependencies_that_are_not_a_list_are_refused_at_dl1(probe: Node):
    definition = {**machine({}), "transitions": [{**machine({})["transitions"][0], "dependencies": 5}]}
    response = await probe.dl1(create_state_machine(str(uuid.uuid4()), definition, {}), new_keypair())
    assert "InvalidDefinition" in refusal(response)  # list(5): a bare 500


async def test_fiber_transition_refuses_a_target_beyond_the_json_safe_range(probe: Node):
    owner = new_keypair()
    fiber_id = await probe.created(machine({}), {}, owner)
    body = {"privateKey": owner.private_key, "fiberId": fiber_id, "event": "go", "targetSequenceNumber": JSON_SAFE + 1}
    assert "targetSequenceNumber" in refusal(await probe.post("/bridge/fiber/transition", body))


# --- 6. cost beyond gas -----------------------------------------------------------------------------


async def test_an_evaluation_error_keeps_its_receipt_small_and_is_charged_gas(probe: Node):
    owner = new_keypair()
    items = ["x" * 1000 for _ in range(700)]
    guard = {"and": [{"map": [{"var": "state.items"}, {"var": ""}]}, {"<": [{"var": "state.items"}, 1]}]}
    fiber_id = await probe.created(machine({}, guard=guard), {"items": items}, owner)
    assert (await probe.dl1(transition_state_machine(fiber_id, "go", {}, 0), owner)).status_code == 200
    receipt = (await probe.until(fiber_id, has_receipt))["lastReceipt"]
    assert receipt["success"] is False
    assert len(receipt["errorMessage"]) <= 300  # was the whole collection: megabytes
    assert receipt["gasUsed"] >= 700  # was 0: a failed guard was free


async def test_unique_over_a_large_mapped_state_does_not_stall_the_node(probe: Node):
    owner = new_keypair()
    aliased = {"map": [{"var": "state.items"}, {"var": "state.items"}]}
    guard = {"==": [{"length": {"unique": [aliased]}}, 1]}
    fiber_id = await probe.created(machine({"ok": True}, guard=guard), {"items": list(range(4000))}, owner)
    started = time.monotonic()
    assert (await probe.dl1(transition_state_machine(fiber_id, "go", {}, 0), owner)).status_code == 200
    record = await probe.until(fiber_id, has_receipt)
    assert record["lastReceipt"]["success"] is True
    assert time.monotonic() - started < 1.5  # the snapshot took 2.4 s before


@pytest.mark.parametrize("route", ["/dl1/data", "/bridge/fiber/create"])
async def test_a_definition_has_a_size_limit(probe: Node, route: str):
    owner = new_keypair()
    definition = dict(machine({}), metadata={"name": "Big", "padding": "x" * (MAX_DEFINITION_BYTES + 10)})
    if route == "/dl1/data":
        response = await probe.dl1(create_state_machine(str(uuid.uuid4()), definition, {}), owner)
    else:
        response = await probe.post(
            route, {"privateKey": owner.private_key, "definition": definition, "initialData": {}}
        )
    assert str(MAX_DEFINITION_BYTES) in refusal(response) and response.status_code == 400


@pytest.mark.parametrize("route", ["/dl1/data", "/bridge/fiber/create", "/cl1/transactions", "/bridge/wallet/sign"])
async def test_a_body_has_a_size_limit(probe: Node, route: str):
    body = json.dumps({"privateKey": new_keypair().private_key, "padding": "x" * MAX_BODY_BYTES})
    response = await probe.post(route, raw=body)
    assert response.status_code == 413 and str(MAX_BODY_BYTES) in response.text


# --- 7. signatures are checked before a value is found already queued ------------------------------


async def test_a_forged_proof_over_a_queued_value_is_refused(probe: Node):
    owner, forger = new_keypair(), new_keypair()
    fiber_id = await probe.created(machine({}), {}, owner)
    stalled = await probe.post("/debug/faults", {"snapshot_stall": True})
    assert stalled.status_code == 200
    message = transition_state_machine(fiber_id, "go", {}, 0)
    genuine = signing.sign(message, [owner.private_key])
    assert (await probe.post("/dl1/data", {"data": genuine.model_dump(), "fee": None})).status_code == 200
    again = await probe.post("/dl1/data", {"data": genuine.model_dump(), "fee": None})
    assert again.status_code == 200  # the same signed value: accepted again, same hash
    forged = genuine.model_dump()
    forged["proofs"][0]["signature"] = signing.sign(message, [forger.private_key]).proofs[0].signature
    response = await probe.post("/dl1/data", {"data": forged, "fee": None})
    assert "InvalidSignature" in refusal(response)  # was 200: the queued value's hash, unverified


# --- 8. debug knobs and addresses are validated -----------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [
        '{"error_rate": 5}',
        '{"error_rate": -0.1}',
        '{"snapshot_interval": -1}',
        '{"snapshot_interval": 0}',
        '{"latency": NaN}',
        '{"latency": -1}',
        '{"latency": 1e9}',
        '{"no_such_knob": 1}',
    ],
)
async def test_fault_knobs_must_be_in_range(probe: Node, body: str):
    refusal(await probe.post("/debug/faults", raw=body))
    faults = (await probe.http.get(f"{probe.url}/debug/faults")).json()
    assert (faults["error_rate"], faults["latency"], faults["snapshot_interval"]) == (0.0, 0.0, 0.05)
    await probe.snapshots_go_on()


@pytest.mark.parametrize(
    "body", [{"address": "DAG0", "amount": 5}, {"amount": -5}, {"amount": 0}], ids=["address", "negative", "zero"]
)
async def test_faucet_needs_an_address_and_a_positive_amount(probe: Node, body: dict[str, Any]):
    address = new_keypair().address
    refusal(await probe.post("/debug/faucet", {"address": address, **body}))
    assert await probe.balance(address) == 0


@pytest.mark.parametrize("counterparty", ["DAGnope", "DAG1" + "1" * 36, "", new_keypair().address.lower()])
async def test_contract_propose_needs_a_dag_address(probe: Node, counterparty: str):
    body = {"privateKey": new_keypair().private_key, "counterpartyAddress": counterparty, "terms": {"price": 1}}
    assert "counterpartyAddress" in refusal(await probe.post("/bridge/contract/propose", body))


async def test_valid_requests_still_pass_every_check(probe: Node):
    """The checks refuse only what they should: a well-formed propose, knobs at their bounds, a faucet."""
    proposer, counterparty = new_keypair(), new_keypair()
    body = {"privateKey": proposer.private_key, "counterpartyAddress": counterparty.address, "terms": {"price": 1}}
    proposed = await probe.post("/bridge/contract/propose", body)
    assert proposed.status_code == 201, proposed.text
    knobs = await probe.post("/debug/faults", {"error_rate": 0, "latency": 0, "snapshot_interval": 0.05})
    assert knobs.status_code == 200, knobs.text
    await probe.faucet(counterparty.address, 1)
    await probe.until(proposed.json()["contractId"], lambda record: record["currentState"] == "PROPOSED")
