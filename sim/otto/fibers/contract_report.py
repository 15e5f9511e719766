"""ContractReport: a counterparty's signed report about one contract, recorded on the subject's AgentIdentity.

An AgentIdentity accepts direct transitions only from its owner, so a counterparty reports through a fiber
of its own, as an attestation does: filing the report fires ``receive_completion`` or ``receive_violation``
on the subject's identity in the same transaction, with the reporter as the claimed author. The identity's
guards then demand that the reporter signed, that it is not the subject, and that the contract was not
reported there before; a report the identity refuses is not filed either.
"""

from __future__ import annotations

from typing import Any

from sim.otto.fibers.expressions import ORDINAL, all_of, eq, machine, ne, signed_by, transition, var

REPORT_KINDS = ("completion", "violation")

_REPORTER, _SUBJECT = var("state.reporter"), var("state.subject")


def _file(kind: str) -> dict[str, Any]:
    payload: dict[str, Any] = {"from": _REPORTER, "contractId": var("state.contractId")}
    if kind == "violation":
        payload["reason"] = var("state.reason")
    trigger = {
        "targetMachineId": var("state.subjectIdentityFiberId"),
        "eventName": f"receive_{kind}",
        "payload": payload,
    }
    return transition(
        "DRAFT",
        "FILED",
        "file",
        all_of(signed_by("state.reporter"), eq(var("state.kind"), kind), ne(_REPORTER, _SUBJECT)),
        {"status": "FILED", "filedAt": ORDINAL, "_triggers": [trigger]},
    )


REPORT_DEFINITION: dict[str, Any] = machine(
    "ContractReport",
    initial="DRAFT",
    states=("DRAFT",),
    finals=("FILED",),
    transitions=tuple(_file(kind) for kind in REPORT_KINDS),
)


def report_initial_data(
    kind: str, reporter: str, subject: str, subject_identity_fiber_id: str, contract_id: str, reason: str | None
) -> dict[str, Any]:
    if kind not in REPORT_KINDS:
        raise ValueError(f"unknown report kind {kind!r} (known: {', '.join(REPORT_KINDS)})")
    return {
        "schema": "ContractReport",
        "kind": kind,
        "reporter": reporter,
        "subject": subject,
        "subjectIdentityFiberId": subject_identity_fiber_id,
        "contractId": contract_id,
        "reason": reason,
        "status": "DRAFT",
    }
