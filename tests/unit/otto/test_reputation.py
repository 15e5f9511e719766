"""Reputation and trust-graph rules over ML0 records."""

from __future__ import annotations

from sim.otto.reputation import identities, reputation_of, to_dot, trust_graph


def identity(fiber_id: str, owner: str, state: str, *, vouchers=(), reputation=10, ordinal=1) -> dict:
    return {
        "fiberId": fiber_id,
        "creationOrdinal": ordinal,
        "currentState": state,
        "stateData": {
            "schema": "AgentIdentity",
            "owner": owner,
            "reputation": reputation,
            "vouches": [{"from": v, "reason": "", "at": 1} for v in vouchers],
        },
    }


def attestation(kind: str, issuer: str, subject: str, state: str = "ISSUED", claim: str = "c") -> dict:
    return {
        "fiberId": f"{kind}-{issuer}-{subject}",
        "currentState": state,
        "stateData": {"schema": "Attestation", "kind": kind, "issuer": issuer, "subject": subject, "claim": claim},
    }


RECORDS = [
    identity("i-a-old", "A", "REGISTERED", ordinal=1),
    identity("i-a", "A", "ACTIVE", vouchers=["B"], reputation=13, ordinal=2),
    identity("i-b", "B", "ACTIVE", vouchers=["C"]),
    identity("i-c", "C", "ACTIVE"),
    identity("i-d", "D", "ACTIVE", vouchers=["C"]),
    attestation("vouch", "B", "A"),
    attestation("skill", "A", "A", claim="rust"),
    attestation("verification", "E", "A"),
    attestation("verification", "E", "B", state="REVOKED"),
]


def test_the_active_identity_wins_over_an_older_registration():
    assert identities(RECORDS)["A"]["fiberId"] == "i-a"


def test_reputation_counts_only_issued_attestations():
    report = reputation_of("A", RECORDS)
    assert (report.reputation, report.vouches_received, report.skills, report.verifications) == (13, 1, ["rust"], 1)
    assert reputation_of("B", RECORDS).verifications == 0, "a revoked verification does not count"
    assert reputation_of("B", RECORDS).vouches_given == 1
    assert reputation_of("Z", RECORDS).identity_fiber_id is None


def test_trust_graph_depth_limits_the_neighbourhood():
    nodes, edges = trust_graph("A", 1, RECORDS)
    assert set(nodes) == {"A", "B", "E"}
    nodes, edges = trust_graph("A", 2, RECORDS)
    assert set(nodes) == {"A", "B", "E", "C"}
    assert ("C", "D") not in {(e.source, e.target) for e in edges}
    nodes, _ = trust_graph("A", 3, RECORDS)
    assert "D" in nodes


def test_dot_output_marks_the_root_and_edge_kinds():
    nodes, edges = trust_graph("A", 1, RECORDS)
    dot = to_dot("A", nodes, edges, {"A": "agent_a"})
    assert dot.startswith("digraph trust {") and dot.endswith("}\n")
    assert '"A" [label="agent_a", shape=doublecircle];' in dot
    assert '"E" -> "A" [label="verification", style=dashed];' in dot
