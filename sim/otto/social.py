"""What agents say about each other after a generation's lifecycles: contract reports and attestations.

**Contract reports.** A lifecycle that reached a terminal state on chain (status COMPLETED) is reported on
the parties' AgentIdentity fibers by a counterparty, once per contract (the fiber's id), never by the
subject itself (the identity fiber enforces both):

- a successful lifecycle: a *completion* on every party's identity (+5 reputation on chain), reported by
  the next party in the lifecycle's order (cyclically);
- a failed lifecycle whose failure one party caused: a *violation* on that party's identity (-10, floor 0),
  reported by the party whose move ended it, or the next party if that was the violator. Per type:

  ====================  ====================  =========================================================
  type                  failure terminal      violator
  ====================  ====================  =========================================================
  SimpleOrder           cancelled             whoever cancelled (``ended_by``)
  TokenEscrow           refunded              whoever refunded: a beneficiary waiving the work, or a
                                              depositor reclaiming instead of releasing (``ended_by``)
  Contract              DISPUTED              whoever disputed (``ended_by``)
  TicTacToe             timed_out             the player who let the clock run out (not ``ended_by``,
                                              who claimed the timeout)
  Contract              REJECTED              nobody: refusing a proposal breaks no commitment
  Voting                rejected              nobody: a vote's result
  ApprovalWorkflow      rejected              nobody: an approver's decision
  Auction               unsold                nobody: no bids
  ====================  ====================  =========================================================

  Nobody else in a failed lifecycle is reported; a lifecycle that timed out or failed as a workflow
  (status TIMEOUT or FAILED) is reported on no one: the chain does not show who was at fault.

**Attestations** (``plan_attestations``): each generation every agent, with activity level ``a``,
cooperativeness ``c`` and risk tolerance ``r``, issues independently

- a *skill* attestation about itself with probability ``SKILL_RATE * a``;
- a *vouch* for each counterparty it completed a lifecycle with, with probability ``VOUCH_RATE * a * c``
  (the identity refuses a second vouch from the same voucher, so a repeat is simply not issued);
- a *verification* of each counterparty of a lifecycle that reached a terminal state, with probability
  ``VERIFY_RATE * a * (1 - r)`` (cautious agents check whom they dealt with).

The rates are calibrated so that after a default run (100 agents, 10 generations) an agent holds 3-5
attestations on average (tests/unit/otto/test_social.py measures it on the pure rules).
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from models.evolution import LifecycleResult, Member

SKILL_RATE = 0.2
VOUCH_RATE = 0.5
VERIFY_RATE = 0.45

SKILLS = ("negotiation", "escrow", "delivery", "arbitration", "market-making", "governance", "games")

# (fiber type, outcome name) -> whose move caused the failure: "ender" (ended_by) or "other" (the other party).
VIOLATIONS: dict[tuple[str, str], str] = {
    ("SimpleOrder", "cancelled"): "ender",
    ("TokenEscrow", "refund"): "ender",
    ("Contract", "dispute"): "ender",
    ("TicTacToe", "timeout"): "other",
}


@dataclass(frozen=True)
class ContractReport:
    """``reporter`` reports contract ``contract_id`` on ``subject``'s identity."""

    subject: str
    reporter: str
    contract_id: str
    kind: str  # "completion" or "violation"
    reason: str | None = None

    @property
    def event(self) -> str:
        return f"receive_{self.kind}"


@dataclass(frozen=True)
class PlannedAttestation:
    kind: str  # skill, vouch or verification
    issuer: str
    subject: str
    claim: str


def violator(result: LifecycleResult) -> str | None:
    """The party whose move made a settled lifecycle fail, if the type blames one (table above)."""
    if result.success or result.status != "COMPLETED" or result.outcome is None:
        return None
    blame = VIOLATIONS.get((result.fiber_type, result.outcome))
    if blame is None or result.ended_by not in result.parties:
        return None
    if blame == "ender":
        return result.ended_by
    others = [party for party in result.parties if party != result.ended_by]
    return others[0] if len(others) == 1 else None


def _next_party(parties: Sequence[str], agent: str) -> str:
    return parties[(parties.index(agent) + 1) % len(parties)]


def contract_reports(results: Iterable[LifecycleResult]) -> list[ContractReport]:
    """Every report the generation's settled lifecycles call for, in lifecycle order."""
    reports = []
    for result in results:
        contract = result.fiber_id
        parties = list(result.parties)
        if contract is None or result.status != "COMPLETED" or len(set(parties)) < 2:
            continue
        if result.success:
            reports += [ContractReport(party, _next_party(parties, party), contract, "completion") for party in parties]
            continue
        culprit = violator(result)
        if culprit is None:
            continue
        reporter = result.ended_by if result.ended_by and result.ended_by != culprit else _next_party(parties, culprit)
        reports.append(
            ContractReport(culprit, reporter, contract, "violation", f"{result.fiber_type}:{result.outcome}")
        )
    return reports


def plan_attestations(
    population: Sequence[Member], results: Sequence[LifecycleResult], rng: random.Random
) -> list[PlannedAttestation]:
    """The generation's attestations by the rate rule above; draws in population order, then counterparty
    order, so the same stream gives the same plan."""
    completed_with: dict[str, set[str]] = {}
    dealt_with: dict[str, set[str]] = {}
    kinds: dict[tuple[str, str], str] = {}
    for result in results:
        if result.status != "COMPLETED":
            continue
        for agent in result.parties:
            others = {party for party in result.parties if party != agent}
            dealt_with.setdefault(agent, set()).update(others)
            for other in others:
                kinds.setdefault((agent, other), result.fiber_type)
            if result.success:
                completed_with.setdefault(agent, set()).update(others)
    planned = []
    for member in population:
        agent, traits = member.agent_id, member.traits
        if rng.random() < SKILL_RATE * traits.activity_level:
            planned.append(PlannedAttestation("skill", agent, agent, rng.choice(SKILLS)))
        for other in sorted(completed_with.get(agent, ())):
            if rng.random() < VOUCH_RATE * traits.activity_level * traits.cooperativeness:
                planned.append(PlannedAttestation("vouch", agent, other, f"completed a {kinds[(agent, other)]}"))
        for other in sorted(dealt_with.get(agent, ())):
            if rng.random() < VERIFY_RATE * traits.activity_level * (1.0 - traits.risk_tolerance):
                planned.append(
                    PlannedAttestation("verification", agent, other, f"counterparty in a {kinds[(agent, other)]}")
                )
    return planned


def attestation_counts(issued: Iterable[PlannedAttestation]) -> tuple[dict[str, int], dict[str, int]]:
    """(made, received) per agent."""
    made: dict[str, int] = {}
    received: dict[str, int] = {}
    for attestation in issued:
        made[attestation.issuer] = made.get(attestation.issuer, 0) + 1
        received[attestation.subject] = received.get(attestation.subject, 0) + 1
    return made, received
