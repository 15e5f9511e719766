"""Identity on the real dev server and the embedded node: registration, activation, attestations."""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter

import httpx
from temporalio.client import Client

from activities.otto.identity import IdentityActivities
from activities.otto.keyring import Keyring
from localnet.ottochain.chain import Faults
from localnet.ottochain.server import OttoChainServer
from models.otto import AttestationSpec, IdentitySpec, OttoEndpoints, Party
from sim.otto.reputation import reputation_of, trust_graph
from tests.otto.conftest import PASSPHRASE, Pool
from tests.polling import eventually
from workflows.otto.identity import AttestationWorkflow, IdentityWorkflow


def identity_spec(pool: Pool, endpoints: OttoEndpoints, party: Party, *, activate: bool = True) -> IdentitySpec:
    return IdentitySpec(
        endpoints=endpoints,
        wallets=str(pool.path),
        agent_id=party.agent_id,
        address=party.address,
        display_name=party.agent_id,
        platform="discord",
        platform_user_id=f"user-{party.agent_id}",
        activate=activate,
    )


def identity_worker(otto_worker, http: httpx.AsyncClient):
    identity = IdentityActivities(http, Keyring(PASSPHRASE))
    return otto_worker(
        IdentityWorkflow,
        AttestationWorkflow,
        extra_activities=identity.all(),
    )


async def run(client: Client, task_queue: str, workflow, spec):
    return await client.execute_workflow(workflow.run, spec, id=f"id-{uuid.uuid4().hex[:10]}", task_queue=task_queue)


async def agents_on_chain(http: httpx.AsyncClient, endpoints: OttoEndpoints) -> dict:
    response = await http.get(f"{endpoints.bridge_url}/agent")
    return response.json()["agents"]


async def test_register_then_activate_then_again_reuses_the_identity(
    client: Client, otto_worker, task_queue: str, pool: Pool, endpoints: OttoEndpoints, http: httpx.AsyncClient
):
    party = pool.parties[0]
    async with identity_worker(otto_worker, http):
        registered = await run(
            client, task_queue, IdentityWorkflow, identity_spec(pool, endpoints, party, activate=False)
        )
        activated = await run(client, task_queue, IdentityWorkflow, identity_spec(pool, endpoints, party))
        again = await run(client, task_queue, IdentityWorkflow, identity_spec(pool, endpoints, party))

    assert registered.state == "REGISTERED" and registered.registered_now
    assert activated.fiber_id == registered.fiber_id and activated.state == "ACTIVE" and activated.activated_now
    assert again.fiber_id == registered.fiber_id and not again.registered_now and not again.activated_now
    agents = await agents_on_chain(http, endpoints)
    assert [record["stateData"]["owner"] for record in agents.values()] == [party.address]
    record = agents[registered.fiber_id]
    assert record["currentState"] == "ACTIVE" and record["owners"] == [party.address]
    assert record["stateData"]["platformUserId"] == f"user-{party.agent_id}"


async def test_registration_under_lost_replies_creates_one_identity_per_agent(
    client: Client, otto_worker, task_queue: str, pool: Pool, http: httpx.AsyncClient
):
    """A third of all requests fail, half of them after the bridge acted: nobody is registered twice."""
    async with OttoChainServer(faults=Faults(error_rate=0.3, snapshot_interval=0.05, seed=5)) as node:
        async with identity_worker(otto_worker, http):
            results = await asyncio.gather(
                *(
                    run(client, task_queue, IdentityWorkflow, identity_spec(pool, node.endpoints, p))
                    for p in pool.take(8)
                )
            )
        owners = [
            f.state_data["owner"]
            for f in node.chain.state.fibers.values()
            if f.state_data.get("schema") == "AgentIdentity"
        ]
        assert node.chain.injected["after"] > 0

    assert sorted(owners) == sorted(p.address for p in pool.take(8)), "exactly one identity per agent"
    assert all(result.state == "ACTIVE" for result in results)


async def test_a_registration_the_node_acknowledged_and_lost_is_made_again_once(
    client: Client, otto_worker, task_queue: str, pool: Pool, http: httpx.AsyncClient
):
    """DL1 acknowledges the registration and loses it, as a node that dies before its next snapshot does: the
    bridge has named an identity that never reaches ML0. After a quiet spell the workflow looks for it and, with
    it nowhere on chain, registers again: the agent ends with exactly one identity, active (it used to wait on)."""
    party = pool.take(1)[0]
    async with OttoChainServer(faults=Faults(forget_every=1, snapshot_interval=0.05)) as node:
        async with identity_worker(otto_worker, http):
            running = asyncio.ensure_future(
                run(client, task_queue, IdentityWorkflow, identity_spec(pool, node.endpoints, party))
            )
            await eventually(lambda: node.chain.injected["forgotten"] == 1, timeout=30)
            node.chain.faults.forget_every = 0  # the first registration is lost; what follows lands
            result = await asyncio.wait_for(running, timeout=120)
        identities = {
            fiber_id: f
            for fiber_id, f in node.chain.state.fibers.items()
            if f.state_data.get("schema") == "AgentIdentity" and f.state_data.get("owner") == party.address
        }

    assert result.registered_now and result.state == "ACTIVE"
    assert list(identities) == [result.fiber_id], "one identity, the second registration's"
    assert node.chain.injected["forgotten"] == 1


async def test_attestations_raise_reputation_and_build_the_trust_graph(
    client: Client, otto_worker, task_queue: str, pool: Pool, endpoints: OttoEndpoints, http: httpx.AsyncClient
):
    alice, bob, carol = pool.take(3)
    async with identity_worker(otto_worker, http):
        identities = {
            p.agent_id: await run(client, task_queue, IdentityWorkflow, identity_spec(pool, endpoints, p))
            for p in (alice, bob, carol)
        }

        def attestation(kind: str, issuer: Party, subject: Party, claim: str) -> AttestationSpec:
            return AttestationSpec(
                endpoints=endpoints,
                wallets=str(pool.path),
                kind=kind,
                issuer=issuer,
                subject=subject,
                subject_identity=identities[subject.agent_id].fiber_id,
                claim=claim,
            )

        vouch = await run(client, task_queue, AttestationWorkflow, attestation("vouch", bob, alice, "reliable"))
        skill = await run(client, task_queue, AttestationWorkflow, attestation("skill", alice, alice, "solidity"))
        verified = await run(
            client, task_queue, AttestationWorkflow, attestation("verification", carol, alice, "twitter:@alice")
        )
        second = await run(client, task_queue, AttestationWorkflow, attestation("vouch", bob, alice, "again"))
        chained = await run(client, task_queue, AttestationWorkflow, attestation("vouch", carol, bob, "solid"))

    assert vouch.issued and skill.issued and verified.issued and chained.issued
    assert not second.issued and second.state == "DRAFT" and second.refusal, (
        "a second vouch from the same agent is refused"
    )

    records = list((await http.get(f"{endpoints.ml0_url}/data-application/v1/state-machines")).json().values())
    report = reputation_of(alice.address, records)
    assert report.reputation == 10 + 2 + 1 + 1, "vouch +2, skill +1, verification +1, on chain"
    assert (report.vouches_received, report.skills, report.verifications) == (1, ["solidity"], 1)
    assert reputation_of(bob.address, records).vouches_given == 1

    nodes, edges = trust_graph(alice.address, 1, records)
    assert set(nodes) == {alice.address, bob.address, carol.address}
    assert {(e.source, e.target, e.kind) for e in edges} >= {
        (bob.address, alice.address, "vouch"),
        (carol.address, alice.address, "verification"),
    }
    nodes_two, _ = trust_graph(carol.address, 0, records)
    assert nodes_two == [carol.address]


async def test_attestations_under_lost_replies_are_issued_once_each(
    client: Client, otto_worker, task_queue: str, pool: Pool, http: httpx.AsyncClient
):
    """An attestation's create and its issue are one activity, retried whole when a reply is lost: each fiber is
    still created once and issued once, and each claim counts once on its subject's identity."""
    parties = pool.take(6)
    async with OttoChainServer(faults=Faults(error_rate=0.3, snapshot_interval=0.05, seed=7)) as node:
        async with identity_worker(otto_worker, http):
            identities = await asyncio.gather(
                *(run(client, task_queue, IdentityWorkflow, identity_spec(pool, node.endpoints, p)) for p in parties)
            )
            attestations = await asyncio.gather(
                *(
                    run(
                        client,
                        task_queue,
                        AttestationWorkflow,
                        AttestationSpec(
                            endpoints=node.endpoints,
                            wallets=str(pool.path),
                            kind="vouch",
                            issuer=parties[(index + 1) % len(parties)],
                            subject=subject,
                            subject_identity=identity.fiber_id,
                            claim=f"vouch for {subject.agent_id}",
                        ),
                    )
                    for index, (subject, identity) in enumerate(zip(parties, identities, strict=True))
                )
            )
        state = node.chain.state
        applied = Counter((a.fiber_id, a.sequence_number) for a in state.applied)
        issued = {result.fiber_id: state.fibers[result.fiber_id] for result in attestations}
        url = f"{node.endpoints.ml0_url}/data-application/v1/state-machines"
        while (response := await http.get(url)).status_code != 200:  # this read meets the faults too
            pass
        records = list(response.json().values())
        assert node.chain.injected["before"] > 0 and node.chain.injected["after"] > 0

    assert all(result.issued and result.state == "ISSUED" for result in attestations)
    assert max(applied.values()) == 1, "an update was applied twice"
    assert all(fiber.sequence_number == 1 for fiber in issued.values()), "each attestation issued once"
    assert [reputation_of(p.address, records).vouches_received for p in parties] == [1] * len(parties)
