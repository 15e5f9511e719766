"""The embedded bridge over real HTTP: every contract action end to end, and the bridge's error bodies.

Regression: the five ``/contract/<action>`` routes were built from a lambda FastAPI could not read, so
every body got 422 ("query.request Field required") and ``?request=x`` got 500 (a coroutine never
awaited). Each route is now driven through a lifecycle on the embedded node, which is what failed.

``/contract/propose`` is signed by the proposer alone, so only the proposer owns that fiber and the
chain drops the counterparty's moves (as on the real network). The lifecycles therefore run on a
contract both parties created through DL1, one proof each, the way simctl's own workflows create
fibers; the bridge's action routes only read the contract from ML0 and sign the caller's event.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from localnet.ottochain.server import OttoChainServer
from sim.otto import signing
from sim.otto.fibers import Plan, fiber_kind
from sim.otto.messages import create_state_machine

CONTRACT_ACTIONS = ("accept", "reject", "complete", "finalize", "dispute")
TERMS = {"deliverable": "market report", "price": 1500}


@dataclass(frozen=True)
class Wallet:
    address: str
    private_key: str


@dataclass
class Bridge:
    """A test's view of one node: the bridge's routes, and ML0 to wait for snapshots."""

    http: httpx.AsyncClient
    node: OttoChainServer

    async def post(self, path: str, body: Any) -> httpx.Response:
        return await self.http.post(f"{self.node.endpoints.bridge_url}{path}", json=body)

    async def wallet(self) -> Wallet:
        generated = (await self.post("/wallet/generate", None)).json()
        return Wallet(address=generated["address"], private_key=generated["privateKey"])

    async def on_chain(self, fiber_id: str, until: Callable[[dict[str, Any]], bool]) -> dict[str, Any]:
        """The fiber as ML0 serves it, once ``until`` holds: the bridge checks states as ML0 shows them."""
        url = f"{self.node.endpoints.ml0_url}/data-application/v1/state-machines/{fiber_id}"
        record = None
        for _ in range(200):
            record = (await self.http.get(url)).json()
            if record is not None and until(record):
                return record
            await asyncio.sleep(0.02)
        raise AssertionError(f"fiber {fiber_id} never got there; last seen {record}")

    async def contract(self, proposer: Wallet, counterparty: Wallet) -> str:
        """A Contract both parties own, as /contract/propose would lay it out, created through DL1."""
        kind = fiber_kind("Contract")
        initial = kind.initial_data([proposer.address, counterparty.address], Plan(outcome="complete"))
        initial.update(schema="Contract", title="Report", description="", terms=TERMS)
        contract_id = str(uuid.uuid4())
        message = create_state_machine(contract_id, kind.definition(), initial)
        signed = signing.sign(message, [proposer.private_key, counterparty.private_key])
        response = await self.http.post(
            f"{self.node.endpoints.dl1_url}/data", json={"data": signed.model_dump(), "fee": None}
        )
        assert response.status_code == 200, response.text
        await self.on_chain(contract_id, in_state("PROPOSED"))
        return contract_id

    async def act(self, action: str, wallet: Wallet, contract_id: str, **extra: str) -> httpx.Response:
        return await self.post(
            f"/contract/{action}", {"privateKey": wallet.private_key, "contractId": contract_id, **extra}
        )


def in_state(state: str) -> Callable[[dict[str, Any]], bool]:
    return lambda record: record["currentState"] == state


@pytest.fixture
def bridge(node: OttoChainServer, http: httpx.AsyncClient) -> Bridge:
    return Bridge(http, node)


# --- each contract action, end to end ----------------------------------------------------------


async def test_accept_complete_and_finalize_take_a_contract_to_completed(bridge: Bridge):
    proposer, counterparty = await bridge.wallet(), await bridge.wallet()
    contract_id = await bridge.contract(proposer, counterparty)

    accepted = await bridge.act("accept", counterparty, contract_id)
    assert accepted.status_code == 200, accepted.text
    assert accepted.json() == {"hash": accepted.json()["hash"], "contractId": contract_id, "status": "ACTIVE"}
    await bridge.on_chain(contract_id, in_state("ACTIVE"))

    early = await bridge.act("finalize", proposer, contract_id)
    assert early.status_code == 400
    assert early.json() == {"error": "Both parties must submit completion before finalizing", "completions": 0}

    # Back to back, within one snapshot: the second targets the number the first will leave behind.
    for wallet, proof in ((proposer, "ipfs://proposer"), (counterparty, "ipfs://counterparty")):
        completed = await bridge.act("complete", wallet, contract_id, proof=proof)
        assert completed.status_code == 200, completed.text
        assert completed.json()["contractId"] == contract_id
        assert completed.json()["message"].startswith("Completion recorded.")
    record = await bridge.on_chain(contract_id, lambda r: len(r["stateData"]["completions"]) == 2)
    assert [(c["party"], c["proof"]) for c in record["stateData"]["completions"]] == [
        (proposer.address, "ipfs://proposer"),
        (counterparty.address, "ipfs://counterparty"),
    ]

    finalized = await bridge.act("finalize", counterparty, contract_id)
    assert finalized.status_code == 200, finalized.text
    assert finalized.json()["status"] == "COMPLETED"
    record = await bridge.on_chain(contract_id, in_state("COMPLETED"))
    assert record["stateData"]["finalizedBy"] == counterparty.address
    assert record["stateData"]["terms"] == TERMS

    assert (await bridge.http.get(f"{bridge.node.endpoints.bridge_url}/contract/{contract_id}")).json() == record
    listed = (await bridge.http.get(f"{bridge.node.endpoints.bridge_url}/contract")).json()
    assert listed["count"] == 1 and list(listed["contracts"]) == [contract_id]


async def test_reject_ends_a_proposed_contract(bridge: Bridge):
    proposer, counterparty = await bridge.wallet(), await bridge.wallet()
    contract_id = await bridge.contract(proposer, counterparty)

    rejected = await bridge.act("reject", counterparty, contract_id, reason="price too low")
    assert rejected.status_code == 200, rejected.text
    assert rejected.json()["status"] == "REJECTED" and rejected.json()["contractId"] == contract_id
    record = await bridge.on_chain(contract_id, in_state("REJECTED"))
    assert record["stateData"]["rejectionReason"] == "price too low"


async def test_dispute_ends_an_active_contract(bridge: Bridge):
    proposer, counterparty = await bridge.wallet(), await bridge.wallet()
    contract_id = await bridge.contract(proposer, counterparty)
    assert (await bridge.act("accept", counterparty, contract_id)).status_code == 200
    await bridge.on_chain(contract_id, in_state("ACTIVE"))

    reasonless = await bridge.act("dispute", proposer, contract_id)
    assert reasonless.status_code == 400
    assert reasonless.json() == {"error": "reason is required for disputes"}

    disputed = await bridge.act("dispute", proposer, contract_id, reason="work not delivered")
    assert disputed.status_code == 200, disputed.text
    assert disputed.json()["status"] == "DISPUTED"
    record = await bridge.on_chain(contract_id, in_state("DISPUTED"))
    assert record["stateData"]["disputedBy"] == proposer.address
    assert record["stateData"]["disputeReason"] == "work not delivered"


async def test_actions_check_state_and_caller_before_anything_reaches_the_chain(bridge: Bridge):
    proposer, counterparty = await bridge.wallet(), await bridge.wallet()
    contract_id = await bridge.contract(proposer, counterparty)

    by_proposer = await bridge.act("accept", proposer, contract_id)
    assert by_proposer.status_code == 403
    assert by_proposer.json() == {
        "error": "Only counterparty can accept",
        "expected": counterparty.address,
        "got": proposer.address,
    }
    for action, error in (
        ("complete", "Contract is not Active"),
        ("finalize", "Contract is not Active"),
        ("dispute", "Can only dispute Active contracts"),
    ):
        response = await bridge.act(action, proposer, contract_id, reason="r")
        assert response.status_code == 400
        assert response.json() == {"error": error, "currentState": "PROPOSED"}
    assert (await bridge.http.get(f"{bridge.node.endpoints.bridge_url}/contract/{contract_id}")).json()[
        "sequenceNumber"
    ] == 0


async def test_a_proposal_is_the_proposers_alone_so_the_chain_drops_the_counterpartys_accept(bridge: Bridge):
    proposer, counterparty = await bridge.wallet(), await bridge.wallet()
    proposed = await bridge.post(
        "/contract/propose",
        {
            "privateKey": proposer.private_key,
            "counterpartyAddress": counterparty.address,
            "terms": TERMS,
            "title": "Report",
        },
    )
    assert proposed.status_code == 201, proposed.text
    body = proposed.json()
    assert (body["proposer"], body["counterparty"]) == (proposer.address, counterparty.address)
    contract_id = body["contractId"]
    record = await bridge.on_chain(contract_id, in_state("PROPOSED"))
    assert record["owners"] == [proposer.address]
    assert record["stateData"]["schema"] == "Contract" and record["stateData"]["terms"] == TERMS

    accepted = await bridge.act("accept", counterparty, contract_id)
    assert accepted.status_code == 200, "DL1 queues it: ownership is ML0's to check"
    rejections_url = f"{bridge.node.endpoints.indexer_url}/fibers/{contract_id}/rejections"
    for _ in range(200):
        rejections = (await bridge.http.get(rejections_url)).json()["rejections"]
        if rejections:
            break
        await asyncio.sleep(0.02)
    assert [r["rejection"]["errors"][0]["code"] for r in rejections] == ["NotSignedByOwner"]
    assert rejections[0]["rejection"]["updateHash"] == accepted.json()["hash"]
    assert (await bridge.on_chain(contract_id, in_state("PROPOSED")))["sequenceNumber"] == 0


@pytest.mark.parametrize("action", CONTRACT_ACTIONS)
async def test_every_contract_action_reads_its_json_body(bridge: Bridge, action: str):
    """The regression itself: a well-formed body reaches the route (here: an unknown contract, 404)."""
    wallet = await bridge.wallet()
    response = await bridge.act(action, wallet, str(uuid.uuid4()), reason="r")
    assert response.status_code == 404, response.text
    assert response.json() == {"error": "Contract not found"}

    # The old route wanted a `request` query parameter; it means nothing now.
    url = f"{bridge.node.endpoints.bridge_url}/contract/{action}?request=x"
    response = await bridge.http.post(url, json={"privateKey": wallet.private_key, "contractId": "c", "reason": "r"})
    assert response.status_code == 404, response.text


# --- one validation answer for every route -----------------------------------------------------


@pytest.mark.parametrize(
    "path", [f"/contract/{action}" for action in CONTRACT_ACTIONS] + ["/agent/register", "/fiber/create"]
)
async def test_a_body_the_schema_refuses_gets_the_bridges_400(bridge: Bridge, path: str):
    response = await bridge.post(path, {"contractId": "c"})
    assert response.status_code == 400
    body = response.json()
    assert body["error"] == "Invalid request"
    assert {"type": "missing", "loc": ["privateKey"], "msg": "Field required"} in body["details"]

    short_key = await bridge.post(path, {"privateKey": "ab", "contractId": "c"})
    assert short_key.status_code == 400
    assert ["privateKey"] in [issue["loc"] for issue in short_key.json()["details"]]
    assert "ab" not in short_key.text, "the refused input is not echoed back"

    not_json = await bridge.http.post(
        f"{bridge.node.endpoints.bridge_url}{path}", content=b"{nope", headers={"content-type": "application/json"}
    )
    assert not_json.status_code == 400 and not_json.json()["error"] == "Invalid request"


async def test_a_query_the_schema_refuses_gets_the_bridges_400(bridge: Bridge):
    response = await bridge.http.get(f"{bridge.node.endpoints.bridge_url}/fiber", params={"limit": "many"})
    assert response.status_code == 400
    assert response.json()["error"] == "Invalid request"
    assert response.json()["details"][0]["loc"] == ["query", "limit"]


# --- the other resources, through the same dependency ------------------------------------------


async def test_wallet_import_and_sign(bridge: Bridge):
    wallet = await bridge.wallet()
    imported = await bridge.post("/wallet/import", {"privateKey": wallet.private_key})
    assert imported.status_code == 200 and imported.json()["address"] == wallet.address

    signed = await bridge.post("/wallet/sign", {"privateKey": wallet.private_key, "message": {"n": 1}})
    assert signed.status_code == 200
    assert set(signed.json()["proof"]) == {"id", "signature"}
    assert imported.json()["publicKey"] == "04" + signed.json()["proof"]["id"]

    unsigned = await bridge.post("/wallet/sign", {"privateKey": wallet.private_key})
    assert unsigned.status_code == 400 and unsigned.json() == {"error": "message is required"}


async def test_generic_fiber_create_transition_and_batch(bridge: Bridge):
    wallet = await bridge.wallet()
    definition = {
        "states": {"open": {"id": "open", "isFinal": False}, "done": {"id": "done", "isFinal": True}},
        "initialState": "open",
        "transitions": [
            {"from": "open", "to": "open", "eventName": "bump", "guard": True, "effect": {"n": {"var": "event.n"}}},
            {"from": "open", "to": "done", "eventName": "close", "guard": True, "effect": {}},
        ],
        "metadata": {"name": "Counter"},
    }
    created = await bridge.post(
        "/fiber/create", {"privateKey": wallet.private_key, "definition": definition, "initialData": {"n": 0}}
    )
    assert created.status_code == 201, created.text
    fiber_id = created.json()["fiberId"]
    assert created.json()["schema"] == "Counter" and created.json()["address"] == wallet.address
    record = await bridge.on_chain(fiber_id, in_state("open"))
    assert record["stateData"]["_owner"] == wallet.address

    moved = await bridge.post(
        "/fiber/transition",
        {"privateKey": wallet.private_key, "fiberId": fiber_id, "event": "bump", "payload": {"n": 1}},
    )
    assert moved.status_code == 200 and moved.json()["event"] == "bump"
    await bridge.on_chain(fiber_id, lambda r: r["sequenceNumber"] == 1)

    bump = {"privateKey": wallet.private_key, "fiberId": fiber_id, "event": "bump", "payload": {"n": 2}}
    close = {"privateKey": wallet.private_key, "fiberId": fiber_id, "event": "close"}
    # A malformed item (no key) refuses the whole batch, naming it: nothing of it is submitted.
    refused = await bridge.post("/fiber/batch", {"transitions": [bump, {"fiberId": fiber_id, "event": "bump"}, close]})
    assert refused.status_code == 400, refused.text
    assert refused.json()["index"] == 1
    assert refused.json()["details"][0]["loc"] == ["transitions", 1, "privateKey"]
    # What the chain refuses is still reported item by item, as the real bridge does.
    unknown = str(uuid.uuid4())
    stray = {"privateKey": wallet.private_key, "fiberId": unknown, "event": "bump", "targetSequenceNumber": 0}
    batch = await bridge.post("/fiber/batch", {"transitions": [bump, stray, close]})
    assert batch.status_code == 200
    assert (batch.json()["succeeded"], batch.json()["failed"]) == (2, 1)
    assert batch.json()["failures"] == [
        {
            "index": 1,
            "fiberId": unknown,
            "error": "Metagraph submission failed on all 1 DL1 node(s): HTTP 400: CidNotFound",
        }
    ]
    record = await bridge.on_chain(fiber_id, in_state("done"))
    assert record["stateData"]["n"] == 2 and record["sequenceNumber"] == 3

    listed = (await bridge.http.get(f"{bridge.node.endpoints.bridge_url}/fiber", params={"schema": "Counter"})).json()
    assert [f["fiberId"] for f in listed["fibers"]] == [fiber_id]
    missing = await bridge.http.get(f"{bridge.node.endpoints.bridge_url}/fiber/{uuid.uuid4()}")
    assert missing.status_code == 404 and missing.json() == {"error": "Fiber not found"}
