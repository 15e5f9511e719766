"""ML0 records over HTTP with and without their definition (the embedded node's `definition=false`), and
the fiber client reading the short form: the same record less the part that never changes."""

from __future__ import annotations

import httpx

from activities.otto.clients import BridgeClient, MetagraphClient
from localnet.ottochain.server import OttoChainServer
from models.otto import FiberRecord
from sim.otto.signing import new_keypair
from tests.otto.test_node_bad_input import Node, machine


async def test_a_record_without_its_definition_is_the_record_less_its_definition(
    node: OttoChainServer, http: httpx.AsyncClient
):
    probe = Node(http, node)
    owner = new_keypair()
    fiber_id = await probe.created(machine({"n": 1}), {"n": 0}, owner)
    base = f"{node.endpoints.ml0_url}/data-application/v1/state-machines"

    whole = (await http.get(f"{base}/{fiber_id}")).json()
    short = (await http.get(f"{base}/{fiber_id}", params={"definition": "false"})).json()
    assert whole["definition"]["metadata"] == {"name": "Probe"}
    assert short == {key: value for key, value in whole.items() if key != "definition"}
    listed = (await http.get(base, params={"definition": "false", "status": "Active"})).json()
    assert listed[fiber_id] == short and "definition" in (await http.get(base)).json()[fiber_id]
    assert (await http.get(f"{base}/{fiber_id}", params={"definition": "maybe"})).status_code == 422
    assert (await http.get(f"{base}/00000000-0000-0000-0000-000000000000?definition=false")).json() is None

    chain = MetagraphClient(http, node.endpoints)
    assert await chain.fiber(fiber_id) == FiberRecord.model_validate(whole)
    assert (await chain.fibers("Active"))[fiber_id] == FiberRecord.model_validate(whole)


async def test_the_bridge_lists_agents_without_their_definitions_when_asked(
    node: OttoChainServer, http: httpx.AsyncClient
):
    agent = new_keypair()
    bridge = BridgeClient(http, node.endpoints)
    registered = await bridge.register(agent.private_key, display_name="a", platform="test", platform_user_id="1")
    fiber_id = registered["fiberId"]
    probe = Node(http, node)
    await probe.until(fiber_id, lambda _record: True, timeout=30)

    whole = (await http.get(f"{node.endpoints.bridge_url}/agent")).json()
    short = (await http.get(f"{node.endpoints.bridge_url}/agent", params={"definition": "false"})).json()
    assert whole["count"] == short["count"] == 1
    assert "definition" in whole["agents"][fiber_id]
    assert short["agents"][fiber_id] == {k: v for k, v in whole["agents"][fiber_id].items() if k != "definition"}
    listed = await bridge.agents()
    assert listed[fiber_id] == FiberRecord.model_validate(whole["agents"][fiber_id])
    assert listed[fiber_id].state_data["owner"] == agent.address
