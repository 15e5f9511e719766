"""Property-based fuzzing of every HTTP route of the embedded OttoChain node (issue 13, items 4 and 5).

One node serves real HTTP from its own thread and event loop (hypothesis drives plain synchronous tests),
with a small world in it: an owner with funds, a fiber moved once, a registered agent, a proposed
contract and a currency transfer. Then its snapshots are stalled, so nothing changes the chain but the
request under test, and every request is checked against two invariants:

- the answer comes within the client's timeout and is a 2xx, or a 4xx whose body gives a reason;
  never a 5xx, except the two 5xx answers the real bridge gives and docs/ottochain-wire.md §5
  documents (a chain-side refusal relayed as "Metagraph submission failed", and /agent/activate's
  503 "not yet synced", a retry hint), which must still carry their reason;
- an answer other than 2xx leaves the chain exactly as it was: a digest of fibers, balances,
  rejections, logs, the DL1/CL1 queues, last references, the bridge's sequence cache and the
  fault knobs, taken on the node's own loop before and after.

Bodies are the route's valid body, mutated (a field dropped, replaced by any JSON, an extra field),
or raw bytes (random, truncated, nested far too deep, NaN, lone surrogates, beyond the size limit).
Signed updates and transfers get bit flips in their signatures and payloads, replays of applied
updates (stale sequence numbers and parents) and signatures by the wrong key.

``SIMCTL_FUZZ_EXAMPLES`` sets the examples per property (default 10: about a minute and a half for the
file on a loaded 2-core machine; set it higher for a longer hunt).
"""

from __future__ import annotations

import asyncio
import copy
import hashlib
import json
import os
import threading
import time
import uuid
from collections.abc import Callable, Coroutine, Iterator
from dataclasses import asdict
from typing import Any, TypeVar
from urllib.parse import quote

import httpx
import pytest
from constellation_sdk.currency_transaction import sign_currency_transaction
from constellation_sdk.currency_types import CurrencyTransactionValue, TransactionReference
from constellation_sdk.types import Signed
from fastapi import FastAPI
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from starlette.routing import Mount

from localnet.ottochain.app import create_app
from localnet.ottochain.bridge.agent import MAX_WAIT_SECONDS
from localnet.ottochain.bridge.core import Bridge
from localnet.ottochain.chain import Chain, Faults
from localnet.ottochain.limits import MAX_BODY_BYTES, MAX_BODY_DEPTH
from localnet.ottochain.server import OttoChainServer
from sim.otto import signing
from sim.otto.messages import create_state_machine, transition_state_machine
from sim.otto.signing import KeyPair, new_keypair
from tests.otto.node_routes import POST_ROUTES
from tests.reliability.documents import get, paths_in

pytestmark = pytest.mark.reliability

T = TypeVar("T")

EXAMPLES = int(os.environ.get("SIMCTL_FUZZ_EXAMPLES", "10"))
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much],
)
# A request may legitimately wait up to /agent/activate's bound; anything beyond is a hang.
TIMEOUT = MAX_WAIT_SECONDS + 15
SNAPSHOT_INTERVAL = 0.02


def machine() -> dict[str, Any]:
    """A counter: one state, event ``go`` adds one to ``n``."""
    return {
        "states": {"open": {"id": "open", "isFinal": False, "metadata": None}},
        "initialState": "open",
        "transitions": [
            {
                "from": "open",
                "to": "open",
                "eventName": "go",
                "guard": True,
                "effect": {"n": {"+": [{"var": "state.n"}, 1]}},
                "dependencies": [],
            }
        ],
        "metadata": {"name": "FuzzCounter"},
    }


def transfer(source: KeyPair, destination: str, amount: int, parent: dict[str, Any], salt: str) -> dict[str, Any]:
    value = CurrencyTransactionValue(
        source=source.address,
        destination=destination,
        amount=amount,
        fee=0,
        parent=TransactionReference(hash=parent["hash"], ordinal=parent["ordinal"]),
        salt=salt,
    )
    signed = sign_currency_transaction(Signed(value=value, proofs=[]), source.private_key)
    return {
        "value": {
            "source": source.address,
            "destination": destination,
            "amount": amount,
            "fee": 0,
            "parent": dict(parent),
            "salt": salt,
        },
        "proofs": [{"id": proof.id, "signature": proof.signature} for proof in signed.proofs],
    }


def state_digest(chain: Chain, bridge: Bridge) -> str:
    """Everything a request could change, as one hash (called on the node's loop: a consistent view)."""
    state = chain.state
    everything = {
        "ordinal": state.ordinal,
        "last": state.last_snapshot_hash,
        "fibers": {fiber_id: fiber.to_wire() for fiber_id, fiber in state.fibers.items()},
        "balances": state.balances,
        "rejections": [asdict(r) for r in state.rejections],
        "applied": [asdict(a) for a in state.applied],
        "logs": state.latest_logs,
        "pending": [update.hash for update in chain.pending],
        "transfers": [asdict(t) for t in chain.transfers],
        "references": chain.last_references,
        "targets": bridge._submitted_targets,
        "faults": vars(chain.faults),
    }
    return hashlib.sha256(json.dumps(everything, sort_keys=True, default=str).encode()).hexdigest()


class LiveNode:
    """The node on its own thread and loop, a synchronous HTTP client, and calls onto the node's loop."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name="fuzzed-node", daemon=True)
        self.thread.start()
        self.server = OttoChainServer(faults=Faults(snapshot_interval=SNAPSHOT_INTERVAL))
        self._run(self.server.__aenter__())
        self.chain = self.server.chain
        self.bridge = self._bridge()
        self.http = httpx.Client(base_url=self.server.base_url, timeout=TIMEOUT)

    def _bridge(self) -> Bridge:
        # The server's own app: the bridge's sequence cache is state a refused request must not touch.
        assert self.server._server is not None
        app = self.server._server.config.app
        assert isinstance(app, FastAPI)
        mount = next(r for r in app.routes if isinstance(r, Mount) and r.path == "/bridge")
        bridge = mount.app.state.bridge  # type: ignore[attr-defined]
        assert isinstance(bridge, Bridge)
        return bridge

    def _run(self, coro: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout=60)

    def on_loop(self, fn: Callable[[], T]) -> T:
        async def call() -> T:
            return fn()

        return self._run(call())

    def digest(self) -> str:
        return self.on_loop(lambda: state_digest(self.chain, self.bridge))

    def stall(self, stalled: bool) -> None:
        def set_knobs() -> None:
            self.chain.faults.error_rate = 0.0
            self.chain.faults.latency = 0.0
            self.chain.faults.snapshot_interval = SNAPSHOT_INTERVAL
            self.chain.faults.snapshot_stall = stalled

        self.on_loop(set_knobs)

    def settle(self, timeout: float = 10.0) -> None:
        """Every queued update and transfer is in a snapshot (and one more snapshot for good measure)."""
        deadline = time.monotonic() + timeout
        while self.on_loop(lambda: bool(self.chain.pending or self.chain.transfers)):
            assert time.monotonic() < deadline, "the node never emptied its queues"
            time.sleep(SNAPSHOT_INTERVAL)
        ordinal = self.on_loop(lambda: self.chain.state.ordinal)
        while self.on_loop(lambda: self.chain.state.ordinal) <= ordinal:
            assert time.monotonic() < deadline, "no snapshot"
            time.sleep(SNAPSHOT_INTERVAL)

    def post(self, path: str, body: Any = None, *, raw: bytes | None = None) -> httpx.Response:
        if raw is not None:
            return self.http.post(path, content=raw, headers={"content-type": "application/json"})
        return self.http.post(path, json=body)

    def close(self) -> None:
        self.http.close()
        self._run(self.server.__aexit__(None, None, None))
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=10)
        self.loop.close()


class World:
    """What the node holds before fuzzing starts, and valid bodies for each POST route."""

    def __init__(self, node: LiveNode) -> None:
        self.node = node
        self.owner, self.stranger = new_keypair(), new_keypair()
        assert node.post("/debug/faucet", {"address": self.owner.address, "amount": 1_000_000}).status_code == 200
        self.counter = str(uuid.uuid4())
        created = signing.sign(create_state_machine(self.counter, machine(), {"n": 0}), [self.owner.private_key])
        assert node.post("/dl1/data", {"data": created.model_dump(), "fee": None}).status_code == 200
        node.settle()
        # Applied once: replaying it later is a stale sequence number.
        self.applied_move = signing.sign(transition_state_machine(self.counter, "go", {}, 0), [self.owner.private_key])
        moved = node.post("/dl1/data", {"data": self.applied_move.model_dump(), "fee": None})
        assert moved.status_code == 200, moved.text
        registered = node.post("/bridge/agent/register", {"privateKey": self.owner.private_key, "displayName": "f"})
        assert registered.status_code == 201, registered.text
        self.agent = registered.json()["fiberId"]
        body = {"privateKey": self.owner.private_key, "counterpartyAddress": self.stranger.address, "terms": {"p": 1}}
        proposed = node.post("/bridge/contract/propose", body)
        assert proposed.status_code == 201, proposed.text
        self.contract = proposed.json()["contractId"]
        genesis = node.http.get(f"/cl1/transactions/last-reference/{self.owner.address}").json()
        # Applied once: replaying it later names a parent that is no longer the owner's last reference.
        self.applied_transfer = transfer(self.owner, self.stranger.address, 10, genesis, "1")
        paid = node.post("/cl1/transactions", self.applied_transfer)
        assert paid.status_code == 200, paid.text
        node.settle()
        record = node.http.get(f"/ml0/data-application/v1/state-machines/{self.counter}").json()
        assert record["sequenceNumber"] == 1 and record["stateData"]["n"] == 1, record

    def next_move(self) -> dict[str, Any]:
        """The counter's next event, validly signed by its owner."""
        signed = signing.sign(transition_state_machine(self.counter, "go", {}, 1), [self.owner.private_key])
        return {"data": signed.model_dump(), "fee": None}

    def parent(self) -> dict[str, Any]:
        """The owner's last reference now (every accepted transfer moves it on)."""
        reference: dict[str, Any] = self.node.http.get(f"/cl1/transactions/last-reference/{self.owner.address}").json()
        return reference

    def templates(self) -> dict[str, dict[str, Any]]:
        owner, stranger = self.owner.private_key, self.stranger.private_key
        move = {"privateKey": owner, "fiberId": self.counter, "event": "go", "payload": {}}
        action = {"privateKey": stranger, "contractId": self.contract, "reason": "r", "proof": "p"}
        return {
            "/dl1/data": self.next_move(),
            "/cl1/transactions": transfer(self.owner, self.stranger.address, 1, self.parent(), "2"),
            "/debug/faults": {"error_rate": 0, "latency": 0},
            "/debug/faucet": {"address": self.stranger.address, "amount": 5},
            "/bridge/wallet/generate": {},
            "/bridge/wallet/import": {"privateKey": owner},
            "/bridge/wallet/sign": {"privateKey": owner, "message": {"x": 1}},
            "/bridge/agent/register": {"privateKey": owner, "displayName": "fuzz"},
            "/bridge/agent/activate": {
                "privateKey": owner,
                "fiberId": self.agent,
                "waitForSync": False,
                "maxWaitSeconds": 0.1,
            },
            "/bridge/agent/transition": {"privateKey": owner, "fiberId": self.agent, "event": "activate"},
            "/bridge/agent/vouch": {"privateKey": stranger, "targetFiberId": self.agent, "reason": "r"},
            "/bridge/contract/propose": {
                "privateKey": owner,
                "counterpartyAddress": self.stranger.address,
                "terms": {"price": 1},
            },
            "/bridge/contract/accept": action,
            "/bridge/contract/reject": action,
            "/bridge/contract/complete": action,
            "/bridge/contract/finalize": action,
            "/bridge/contract/dispute": action,
            "/bridge/fiber/create": {"privateKey": owner, "definition": machine(), "initialData": {"n": 0}},
            "/bridge/fiber/transition": move,
            "/bridge/fiber/batch": {"transitions": [move, {**move, "payload": {"k": 2}}]},
        }


# Every GET route, with what to put in its path parameter; the query parameters any of them read.
GET_ROUTES = (
    "/dl1/data-application/v1/onchain",
    "/dl1/node/info",
    "/ml0/node/info",
    "/ml0/snapshots/latest/ordinal",
    "/ml0/data-application/v1/checkpoint",
    "/ml0/data-application/v1/state-machines",
    "/ml0/data-application/v1/state-machines/{fiber_id}",
    "/ml0/data-application/v1/state-machines/{fiber_id}/events",
    "/ml0/data-application/v1/onchain",
    "/ml0/currency/{address}/balance",
    "/ml0/transactions/last-reference/{address}",
    "/cl1/transactions/last-reference/{address}",
    "/indexer/fibers/{fiber_id}/rejections",
    "/bridge/health",
    "/bridge/version",
    "/bridge/agent",
    "/bridge/agent/{fiber_id}",
    "/bridge/contract",
    "/bridge/contract/{contract_id}",
    "/bridge/fiber",
    "/bridge/fiber/{fiber_id}",
    "/debug/faults",
    "/debug/applied",
    "/debug/summary",
)
QUERY_PARAMETERS = ("status", "definition", "schema", "limit")


def app_routes() -> set[tuple[str, str]]:
    """(method, path) of every route the node serves, from the OpenAPI schema of the app and each layer."""
    app = create_app(Chain())
    apps: list[tuple[str, FastAPI]] = [("", app)]
    apps += [(route.path, route.app) for route in app.routes if isinstance(route, Mount)]  # type: ignore[misc]
    return {
        (method.upper(), prefix + path)
        for prefix, layer in apps
        for path, operations in layer.openapi()["paths"].items()
        for method in operations
    }


@pytest.fixture(scope="module")
def live() -> Iterator[tuple[LiveNode, World]]:
    node = LiveNode()
    try:
        world = World(node)
        node.stall(True)
        yield node, world
    finally:
        node.close()


# --- strategies -----------------------------------------------------------------------------------

EDGE_VALUES: tuple[Any, ...] = (
    -1,
    0,
    2**53,
    -(2**63) - 1,
    2**64,
    10**400,
    1e308,
    -0.0,
    "",
    "0" * 64,
    "F" * 64,
    "DAG0" + "1" * 36,
    "\u0000",
    "x" * 5000,
    [],
    {},
    None,
    True,
)
scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=30)
    | st.sampled_from(EDGE_VALUES)
)
json_values = st.recursive(
    scalars,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4),
    max_leaves=12,
)


@st.composite
def mutated(draw: st.DrawFn, template: dict[str, Any]) -> Any:
    """The valid body with one to three mutations: a field dropped, given any JSON value, or one added."""
    body: Any = copy.deepcopy(template)
    for _ in range(draw(st.integers(1, 3))):
        if not isinstance(body, dict):
            break
        targets = paths_in(body)
        kind = draw(st.sampled_from(("drop", "replace", "add", "whole")))
        if kind == "whole":
            body = draw(json_values)
            continue
        if not targets or kind == "add":
            container_paths = [p for p in [(), *targets] if isinstance(get(body, p), dict)]
            where = get(body, draw(st.sampled_from(container_paths)))
            where[draw(st.text(max_size=12))] = draw(json_values)
            continue
        path = draw(st.sampled_from(targets))
        parent = get(body, path[:-1])
        if kind == "drop":
            del parent[path[-1]]
        else:
            parent[path[-1]] = draw(json_values)
    return body


@st.composite
def raw_bodies(draw: st.DrawFn, template: dict[str, Any]) -> bytes:
    """Bytes no client library would send: garbage, cut short, too deep, NaN, lone surrogates, too large."""
    text = json.dumps(template)
    kind = draw(st.sampled_from(("binary", "truncated", "deep", "nan", "surrogate", "huge", "scalar")))
    if kind == "binary":
        return draw(st.binary(max_size=300))
    if kind == "truncated":
        return text[: draw(st.integers(0, max(0, len(text) - 1)))].encode()
    if kind == "deep":
        depth = draw(st.integers(MAX_BODY_DEPTH + 1, 20_000))
        opening, closing = draw(st.sampled_from((("[", "]"), ('{"a":', "}"))))
        return f'{{"data": {opening * depth}1{closing * depth}}}'.encode()
    if kind == "nan":
        constant = draw(st.sampled_from(("NaN", "Infinity", "-Infinity")))
        return text.replace("{", f'{{"n": {constant}, ', 1).encode()
    if kind == "surrogate":
        return text.replace("{", '{"s": "\\ud800", ', 1).encode()
    if kind == "huge":
        return b'{"x": "' + b"a" * (MAX_BODY_BYTES + draw(st.integers(1, 1000))) + b'"}'
    return json.dumps(draw(scalars)).encode()


# --- the invariants ---------------------------------------------------------------------------------


def documented_5xx(path: str, response: httpx.Response) -> bool:
    """The real bridge's two 5xx answers (docs/ottochain-wire.md §5), which carry their reason."""
    error = str(body_of(response).get("error", ""))
    if path.startswith("/bridge/") and response.status_code == 500:
        return error.startswith("Metagraph submission failed")
    return path == "/bridge/agent/activate" and response.status_code == 503 and "not yet synced" in error


def body_of(response: httpx.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def check_answer(node: LiveNode, path: str, send: Callable[[], httpx.Response]) -> httpx.Response:
    """Send one request: a 2xx, or a 4xx (or documented 5xx) with a reason and the chain unchanged."""
    before = node.digest()
    try:
        response = send()
    except httpx.TimeoutException:
        pytest.fail(f"POST {path} did not answer within {TIMEOUT} s")
    status = response.status_code
    if status < 300:
        return response
    assert 400 <= status < 500 or documented_5xx(path, response), f"{path}: {status} {response.text[:300]}"
    body = body_of(response)
    reason = body.get("error") or body.get("detail") or body.get("message")
    assert reason, f"{path}: {status} without a reason: {response.text[:300]}"
    assert node.digest() == before, f"{path}: {status} {response.text[:200]} changed the chain"
    return response


def after(node: LiveNode, path: str) -> None:
    if path == "/debug/faults":
        node.stall(True)  # a valid knob setting took effect: back to a still chain for the next example


# Well-formed bodies the world refuses by its state: the agent is not active, the contract not accepted.
REFUSED_IN_THIS_WORLD = frozenset(
    ("/bridge/agent/vouch", "/bridge/contract/complete", "/bridge/contract/finalize", "/bridge/contract/dispute")
)


def test_every_route_is_fuzzed():
    """A route added to the node and not to these tables fails here, so it cannot go unfuzzed."""
    served = app_routes()
    fuzzed = {("POST", path) for path in POST_ROUTES} | {("GET", path) for path in GET_ROUTES}
    assert served == fuzzed


@pytest.mark.parametrize("path", POST_ROUTES)
def test_post_routes_answer_malformed_bodies_with_a_reason_and_keep_the_chain(live, path: str):
    node, world = live
    template = world.templates()[path]

    @FUZZ
    @given(body=mutated(template))
    def mutated_json(body: Any) -> None:
        check_answer(node, path, lambda: node.post(path, body))
        after(node, path)

    @FUZZ
    @given(raw=raw_bodies(template))
    def raw_bytes(raw: bytes) -> None:
        check_answer(node, path, lambda: node.post(path, raw=raw))
        after(node, path)

    mutated_json()
    raw_bytes()
    # The valid body still passes: the checks refuse only what they should.
    valid = check_answer(node, path, lambda: node.post(path, world.templates()[path]))
    if path not in REFUSED_IN_THIS_WORLD:
        assert valid.status_code < 300, f"{path}: the valid body got {valid.status_code} {valid.text[:300]}"
    after(node, path)


@FUZZ
@given(
    route=st.sampled_from(GET_ROUTES),
    segment=st.text(min_size=1, max_size=80) | st.sampled_from(("..", "%00", "null", "0" * 10_000)),
    query=st.dictionaries(st.sampled_from(QUERY_PARAMETERS), st.text(max_size=20) | st.sampled_from(("-1", "1e400"))),
)
def test_get_routes_never_fail_and_never_change_the_chain(live, route: str, segment: str, query: dict[str, str]):
    node, _ = live
    path = route
    for name in ("fiber_id", "contract_id", "address"):
        path = path.replace("{" + name + "}", quote(segment, safe=""))
    before = node.digest()
    response = node.http.get(path, params=query)
    assert response.status_code < 500, f"GET {path}: {response.status_code} {response.text[:300]}"
    assert node.digest() == before


# --- signatures: forged, flipped, replayed, absent --------------------------------------------------


def flip(hex_text: str, bit: int) -> str:
    """``hex_text`` with one bit inverted (bit counted from the start, modulo its length)."""
    bit %= len(hex_text) * 4
    nibble = bit // 4
    flipped = int(hex_text[nibble], 16) ^ (1 << (bit % 4))
    return hex_text[:nibble] + format(flipped, "x") + hex_text[nibble + 1 :]


@FUZZ
@given(bit=st.integers(0, 10_000), where=st.sampled_from(("signature", "id", "event", "target", "payload")))
def test_dl1_refuses_a_signed_update_with_any_bit_flipped(live, bit: int, where: str):
    node, world = live
    envelope = world.next_move()
    proof = envelope["data"]["proofs"][0]
    move = envelope["data"]["value"]["TransitionStateMachine"]
    if where in ("signature", "id"):
        proof[where] = flip(proof[where], bit)
    elif where == "event":
        move["eventName"] = flip("0a0b0c", bit)
    elif where == "target":
        move["targetSequenceNumber"] = 1 + 2 ** (bit % 40)
    else:
        move["payload"] = {"n": bit}
    response = check_answer(node, "/dl1/data", lambda: node.post("/dl1/data", envelope))
    assert 400 <= response.status_code < 500, f"a tampered update was accepted: {response.text}"
    assert "InvalidSignature" in response.text or "expected {value, proofs}" in response.text, response.text


@FUZZ
@given(bit=st.integers(0, 10_000), where=st.sampled_from(("signature", "id", "amount", "destination", "salt")))
def test_cl1_refuses_a_transfer_with_any_bit_flipped(live, bit: int, where: str):
    node, world = live
    body = transfer(world.owner, world.stranger.address, 1, world.parent(), "3")
    if where in ("signature", "id"):
        body["proofs"][0][where] = flip(body["proofs"][0][where], bit)
    elif where == "amount":
        body["value"]["amount"] = 1 + (bit % 1000) + 1
    elif where == "destination":
        body["value"]["destination"] = new_keypair().address
    else:
        body["value"]["salt"] = str(bit + 4)
    response = check_answer(node, "/cl1/transactions", lambda: node.post("/cl1/transactions", body))
    assert 400 <= response.status_code < 500, f"a tampered transfer was accepted: {response.text}"


def test_unsigned_updates_and_replays_are_refused(live):
    node, world = live
    unsigned = world.next_move()
    unsigned["data"]["proofs"] = []
    assert "NoProofsProvided" in check_answer(node, "/dl1/data", lambda: node.post("/dl1/data", unsigned)).text
    # The move already applied: its target is stale now.
    replay = {"data": world.applied_move.model_dump(), "fee": None}
    assert "SequenceNumberMismatch" in check_answer(node, "/dl1/data", lambda: node.post("/dl1/data", replay)).text
    # The transfer already applied: its parent is no longer the owner's last reference.
    paid = check_answer(node, "/cl1/transactions", lambda: node.post("/cl1/transactions", world.applied_transfer))
    assert "ParentMismatch" in paid.text
    stale = {**world.templates()["/bridge/fiber/transition"], "targetSequenceNumber": 0}
    refused = check_answer(node, "/bridge/fiber/transition", lambda: node.post("/bridge/fiber/transition", stale))
    assert "SequenceNumberMismatch" in refused.text


def test_an_update_signed_by_a_stranger_changes_nothing_on_chain(live):
    """Signed, but not by the fiber's owner: DL1 takes it (ownership is ML0's call), ML0 drops it."""
    node, world = live
    url = f"/ml0/data-application/v1/state-machines/{world.counter}"
    node.stall(False)
    try:
        node.settle()  # what earlier tests queued is applied first
        before = node.http.get(url).json()
        message = transition_state_machine(world.counter, "go", {}, before["sequenceNumber"])
        stranger_move = signing.sign(message, [world.stranger.private_key])
        accepted = node.post("/dl1/data", {"data": stranger_move.model_dump(), "fee": None})
        assert accepted.status_code == 200, accepted.text
        node.settle()
    finally:
        node.stall(True)
    now = node.http.get(url).json()
    assert (now["sequenceNumber"], now["stateData"]) == (before["sequenceNumber"], before["stateData"])
    rejections = node.http.get(f"/indexer/fibers/{world.counter}/rejections").json()["rejections"]
    assert signing.update_hash(stranger_move.value) in [r["rejection"]["updateHash"] for r in rejections]
