"""Attestation: one signed statement about an agent, recorded on the subject's AgentIdentity when issued.

Kinds: ``skill`` (a self-claim: issuer is the subject), ``vouch`` (a peer stands behind the subject)
and ``verification`` (a verifier wallet confirms a platform proof). Issuing fires the identity event
in the same transaction, so an attestation the identity refuses (a second vouch, an inactive
identity) is not issued either. Which wallets count as verifiers is for readers of the record to
judge; on chain a verification is simply issued by someone other than the subject.
"""

from __future__ import annotations

from typing import Any

from sim.otto.fibers.expressions import (
    MACHINE_ID,
    ORDINAL,
    Expr,
    all_of,
    eq,
    machine,
    ne,
    signed_by,
    transition,
    var,
)

ATTESTATION_KINDS = ("skill", "vouch", "verification")

_ISSUER, _SUBJECT = var("state.issuer"), var("state.subject")


def _issue(kind: str, relation: Expr, event: str, payload: dict[str, Any]) -> dict[str, Any]:
    trigger = {"targetMachineId": var("state.subjectIdentityFiberId"), "eventName": event, "payload": payload}
    return transition(
        "DRAFT",
        "ISSUED",
        "issue",
        all_of(signed_by("state.issuer"), eq(var("state.kind"), kind), relation),
        {"status": "ISSUED", "issuedAt": ORDINAL, "_triggers": [trigger]},
    )


def _attestation_payload() -> dict[str, Any]:
    return {"from": _ISSUER, "kind": var("state.kind"), "claim": var("state.claim"), "attestationId": MACHINE_ID}


ATTESTATION_DEFINITION: dict[str, Any] = machine(
    "Attestation",
    initial="DRAFT",
    states=("DRAFT", "ISSUED"),
    finals=("REVOKED",),
    transitions=(
        _issue("vouch", ne(_ISSUER, _SUBJECT), "receive_vouch", {"from": _ISSUER, "reason": var("state.claim")}),
        _issue("skill", eq(_ISSUER, _SUBJECT), "receive_attestation", _attestation_payload()),
        _issue("verification", ne(_ISSUER, _SUBJECT), "receive_attestation", _attestation_payload()),
        transition(
            "ISSUED",
            "REVOKED",
            "revoke",
            signed_by("state.issuer"),
            {"status": "REVOKED", "revokedAt": ORDINAL, "revocationReason": var("event.reason")},
        ),
    ),
)


def attestation_initial_data(
    kind: str, issuer: str, subject: str, subject_identity_fiber_id: str, claim: str, evidence: Any
) -> dict[str, Any]:
    if kind not in ATTESTATION_KINDS:
        raise ValueError(f"unknown attestation kind {kind!r} (known: {', '.join(ATTESTATION_KINDS)})")
    return {
        "schema": "Attestation",
        "kind": kind,
        "issuer": issuer,
        "subject": subject,
        "subjectIdentityFiberId": subject_identity_fiber_id,
        "claim": claim,
        "evidence": evidence,
        "status": "DRAFT",
    }
