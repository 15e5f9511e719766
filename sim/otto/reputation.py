"""Reputation and the trust graph, computed from on-chain identity state alone.

Inputs are ML0 records: AgentIdentity fibers (reputation, vouches, attestations, contract counters)
and Attestation fibers (who vouched for, verified or claimed what about whom). Nothing here is
trusted from the simulator's own memory.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

# The seed's identity scenarios, as fitness contributions per attestation.
SELF_ATTEST_BONUS, VOUCH_GIVEN_BONUS, VOUCHED_BONUS, VERIFIED_BONUS = 0.02, 0.01, 0.03, 0.05


@dataclass(frozen=True)
class Edge:
    source: str
    target: str
    kind: str  # vouch or verification


@dataclass
class Reputation:
    address: str
    identity_fiber_id: str | None
    state: str | None
    reputation: int
    vouches_received: int
    vouches_given: int
    skills: list[str] = field(default_factory=list)
    verifications: int = 0
    completed_contracts: int = 0
    violations: int = 0

    @property
    def identity_bonus(self) -> float:
        return (
            SELF_ATTEST_BONUS * len(self.skills)
            + VOUCH_GIVEN_BONUS * self.vouches_given
            + VOUCHED_BONUS * self.vouches_received
            + VERIFIED_BONUS * self.verifications
        )


def _schema(record: Mapping[str, Any]) -> str | None:
    return (record.get("stateData") or {}).get("schema")


def identities(records: Iterable[Mapping[str, Any]]) -> dict[str, Mapping[str, Any]]:
    """Each owner's identity record: the ACTIVE one if several exist, else the earliest."""
    chosen: dict[str, Mapping[str, Any]] = {}
    for record in sorted(records, key=lambda r: (r.get("creationOrdinal") or 0, r["fiberId"])):
        if _schema(record) != "AgentIdentity":
            continue
        owner = record["stateData"]["owner"]
        current = chosen.get(owner)
        if current is None or (current.get("currentState") != "ACTIVE" and record.get("currentState") == "ACTIVE"):
            chosen[owner] = record
    return chosen


def issued_attestations(records: Iterable[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    return [r["stateData"] for r in records if _schema(r) == "Attestation" and r.get("currentState") == "ISSUED"]


def reputation_of(address: str, records: Sequence[Mapping[str, Any]]) -> Reputation:
    identity = identities(records).get(address)
    data = identity["stateData"] if identity else {}
    attestations = issued_attestations(records)
    return Reputation(
        address=address,
        identity_fiber_id=identity["fiberId"] if identity else None,
        state=identity.get("currentState") if identity else None,
        reputation=int(data.get("reputation", 0)),
        vouches_received=len(data.get("vouches", [])),
        vouches_given=sum(1 for a in attestations if a["kind"] == "vouch" and a["issuer"] == address),
        skills=[a["claim"] for a in attestations if a["kind"] == "skill" and a["subject"] == address],
        verifications=sum(1 for a in attestations if a["kind"] == "verification" and a["subject"] == address),
        completed_contracts=int(data.get("completedContracts", 0)),
        violations=int(data.get("violations", 0)),
    )


def trust_edges(records: Sequence[Mapping[str, Any]]) -> list[Edge]:
    """Vouches as the identities record them, and verifications as attestation fibers record them."""
    edges = {
        Edge(source=vouch["from"], target=owner, kind="vouch")
        for owner, identity in identities(records).items()
        for vouch in identity["stateData"].get("vouches", [])
    }
    edges |= {
        Edge(source=a["issuer"], target=a["subject"], kind="verification")
        for a in issued_attestations(records)
        if a["kind"] == "verification"
    }
    return sorted(edges, key=lambda e: (e.source, e.target, e.kind))


def trust_graph(root: str, depth: int, records: Sequence[Mapping[str, Any]]) -> tuple[list[str], list[Edge]]:
    """Addresses within ``depth`` hops of ``root`` (either direction), and the edges among them."""
    edges = trust_edges(records)
    neighbours: dict[str, set[str]] = {}
    for edge in edges:
        neighbours.setdefault(edge.source, set()).add(edge.target)
        neighbours.setdefault(edge.target, set()).add(edge.source)
    distance = {root: 0}
    queue = deque([root])
    while queue:
        node = queue.popleft()
        if distance[node] == depth:
            continue
        for other in sorted(neighbours.get(node, ())):
            if other not in distance:
                distance[other] = distance[node] + 1
                queue.append(other)
    nodes = sorted(distance, key=lambda a: (distance[a], a))
    kept = [e for e in edges if e.source in distance and e.target in distance]
    return nodes, kept


def to_dot(root: str, nodes: list[str], edges: list[Edge], labels: Mapping[str, str]) -> str:
    lines = ["digraph trust {", "  rankdir=LR;"]
    for node in nodes:
        shape = "doublecircle" if node == root else "ellipse"
        lines.append(f'  "{node}" [label="{labels.get(node, node[:12])}", shape={shape}];')
    for edge in edges:
        style = "solid" if edge.kind == "vouch" else "dashed"
        lines.append(f'  "{edge.source}" -> "{edge.target}" [label="{edge.kind}", style={style}];')
    lines.append("}")
    return "\n".join(lines) + "\n"
