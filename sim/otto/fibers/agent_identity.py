"""AgentIdentity: an agent's public record on chain, and the reputation others build for it.

The owner registers and activates the identity. Vouches and attestations arrive as events, usually
fired by an Attestation fiber's ``_triggers``: triggers skip the owner check, so the guards demand
that the claimed author (``from``) signed the originating update. One vouch per voucher; never by
the owner. Completions and violations are a counterparty's signed report, counted once per contract.
"""

from __future__ import annotations

from typing import Any

from sim.otto.fibers.expressions import (
    ORDINAL,
    all_of,
    append,
    contains,
    increment,
    is_text,
    machine,
    ne,
    not_,
    pluck,
    signed_by,
    transition,
    var,
)

INITIAL_REPUTATION = 10
VOUCH_REPUTATION = 2
ATTESTATION_REPUTATION = 1
COMPLETION_REPUTATION = 5
VIOLATION_PENALTY = 10

_AUTHOR = var("event.from")
_AUTHOR_SIGNED = all_of(is_text(_AUTHOR), signed_by(_AUTHOR))


def _reported_once(reports: str) -> Any:
    """A counterparty's signed report about one contract, counted once per contract.

    The owner cannot report on themselves, so nobody raises their own reputation by
    claiming completions or clears a violation by reporting it twice.
    """
    contract = var("event.contractId")
    return all_of(
        _AUTHOR_SIGNED,
        ne(_AUTHOR, var("state.owner")),
        is_text(contract),
        not_(contains(pluck(reports, "contractId"), contract)),
    )


def _report() -> dict[str, Any]:
    return {"contractId": var("event.contractId"), "from": _AUTHOR, "at": ORDINAL}


def _record(event: str, guard: Any, effect: dict[str, Any]) -> dict[str, Any]:
    return transition("ACTIVE", "ACTIVE", event, guard, effect)


IDENTITY_DEFINITION: dict[str, Any] = machine(
    "AgentIdentity",
    initial="REGISTERED",
    states=("REGISTERED", "ACTIVE"),
    finals=("WITHDRAWN",),
    transitions=(
        transition(
            "REGISTERED", "ACTIVE", "activate", signed_by("state.owner"), {"status": "ACTIVE", "activatedAt": ORDINAL}
        ),
        _record(
            "receive_vouch",
            all_of(
                _AUTHOR_SIGNED, ne(_AUTHOR, var("state.owner")), not_(contains(pluck("state.vouches", "from"), _AUTHOR))
            ),
            {
                "reputation": increment("state.reputation", VOUCH_REPUTATION),
                "vouches": append("state.vouches", {"from": _AUTHOR, "reason": var("event.reason"), "at": ORDINAL}),
            },
        ),
        _record(
            "receive_attestation",
            all_of(
                _AUTHOR_SIGNED,
                is_text(var("event.attestationId")),
                not_(contains(pluck("state.attestations", "attestationId"), var("event.attestationId"))),
            ),
            {
                "reputation": increment("state.reputation", ATTESTATION_REPUTATION),
                "attestations": append(
                    "state.attestations",
                    {
                        "from": _AUTHOR,
                        "kind": var("event.kind"),
                        "claim": var("event.claim"),
                        "attestationId": var("event.attestationId"),
                        "at": ORDINAL,
                    },
                ),
            },
        ),
        _record(
            "receive_completion",
            _reported_once("state.completions"),
            {
                "reputation": increment("state.reputation", COMPLETION_REPUTATION),
                "completedContracts": increment("state.completedContracts"),
                "completions": append("state.completions", _report()),
            },
        ),
        _record(
            "receive_violation",
            all_of(_reported_once("state.violationReports"), is_text(var("event.reason"))),
            {
                "reputation": {"max": [0, increment("state.reputation", -VIOLATION_PENALTY)]},
                "violations": increment("state.violations"),
                "violationReports": append("state.violationReports", {**_report(), "reason": var("event.reason")}),
            },
        ),
        transition(
            "ACTIVE", "WITHDRAWN", "withdraw", signed_by("state.owner"), {"status": "WITHDRAWN", "withdrawnAt": ORDINAL}
        ),
    ),
)


def identity_initial_data(
    owner: str, display_name: str | None, platform: str | None, platform_user_id: str | None, created_at: str
) -> dict[str, Any]:
    """A registration's data; the profile fields are optional at the bridge and then null."""
    return {
        "schema": "AgentIdentity",
        "displayName": display_name,
        "platform": platform,
        "platformUserId": platform_user_id,
        "owner": owner,
        "reputation": INITIAL_REPUTATION,
        "vouches": [],
        "attestations": [],
        "completedContracts": 0,
        "completions": [],
        "violations": 0,
        "violationReports": [],
        "status": "REGISTERED",
        "createdAt": created_at,
    }
