"""The pure rules of sim.otto.social: who is reported for what, the attestation rate, and the ContractReport
fiber on a local chain (the identity counts a report once per contract, never from its subject)."""

from __future__ import annotations

import random
import statistics

import pytest

from models.evolution import LifecycleResult, Member
from models.otto import FIBER_TYPES, AgentTraits
from sim.otto.agents import random_traits
from sim.otto.fibers.agent_identity import IDENTITY_DEFINITION, identity_initial_data
from sim.otto.fibers.contract_report import REPORT_DEFINITION, report_initial_data
from sim.otto.generation import plan_generation, stream
from sim.otto.social import (
    SKILL_RATE,
    VERIFY_RATE,
    VOUCH_RATE,
    ContractReport,
    PlannedAttestation,
    attestation_counts,
    contract_reports,
    plan_attestations,
    violator,
)
from tests.unit.otto.chain import LocalChain

A, B, C = (f"DAG{i}{'x' * 36}{i:02d}" for i in range(3))


def result(fiber_type: str, outcome: str, success: bool, ended_by: str | None, *, status: str = "COMPLETED"):
    return LifecycleResult(
        index=0,
        fiber_type=fiber_type,
        parties=("a", "b"),
        fiber_id="f-1",
        status=status,
        success=success,
        outcome=outcome,
        ended_by=ended_by,
    )


@pytest.mark.parametrize(
    ("fiber_type", "outcome", "ended_by", "culprit"),
    [
        ("SimpleOrder", "cancelled", "b", "b"),
        ("SimpleOrder", "cancelled", "a", "a"),
        ("TokenEscrow", "refund", "b", "b"),
        ("Contract", "dispute", "a", "a"),
        ("TicTacToe", "timeout", "a", "b"),  # a claimed the timeout: b let the clock run out
        ("Contract", "reject", "b", None),
        ("Voting", "rejected", "a", None),
        ("ApprovalWorkflow", "rejected", "b", None),
        ("Auction", "no_bids", "a", None),
    ],
)
def test_the_violation_rule(fiber_type, outcome, ended_by, culprit):
    assert violator(result(fiber_type, outcome, False, ended_by)) == culprit


def test_no_violation_without_a_terminal_or_a_known_ender():
    assert violator(result("SimpleOrder", "cancelled", False, "b", status="TIMEOUT")) is None
    assert violator(result("SimpleOrder", "cancelled", False, None)) is None
    assert violator(result("SimpleOrder", "delivered", True, "a")) is None


def test_reports_a_completion_on_every_party_and_a_violation_on_the_culprit_only():
    three = LifecycleResult(
        index=0, fiber_type="Voting", parties=("a", "b", "c"), fiber_id="v", status="COMPLETED", success=True
    )
    assert contract_reports([three]) == [
        ContractReport("a", "b", "v", "completion"),
        ContractReport("b", "c", "v", "completion"),
        ContractReport("c", "a", "v", "completion"),
    ]
    cancelled = result("SimpleOrder", "cancelled", False, "b")
    assert contract_reports([cancelled]) == [ContractReport("b", "a", "f-1", "violation", "SimpleOrder:cancelled")]
    timeout = result("TicTacToe", "timeout", False, "a")
    assert contract_reports([timeout]) == [ContractReport("b", "a", "f-1", "violation", "TicTacToe:timeout")]
    failed = result("SimpleOrder", "delivered", False, None, status="FAILED")
    assert contract_reports([failed, result("Voting", "rejected", False, "a")]) == []
    for report in contract_reports([three, cancelled, timeout]):
        assert report.reporter != report.subject


def member(agent: str, activity: float, cooperativeness: float, risk: float) -> Member:
    traits = AgentTraits(
        fiber_weights={name: 1 / len(FIBER_TYPES) for name in FIBER_TYPES},
        activity_level=activity,
        risk_tolerance=risk,
        cooperativeness=cooperativeness,
        response_speed=0.5,
    )
    return Member(agent_id=agent, address=agent, traits=traits)


def test_the_rate_rule_follows_the_traits():
    done = LifecycleResult(
        index=0, fiber_type="Contract", parties=("a", "b"), fiber_id="f", status="COMPLETED", success=True
    )
    idle = [member("a", 0.0, 1.0, 0.0), member("b", 0.0, 1.0, 0.0)]
    assert plan_attestations(idle, [done], random.Random(1)) == [], "an inactive agent attests nothing"

    eager = [member("a", 1.0, 1.0, 0.0), member("b", 1.0, 0.0, 1.0)]
    trials = 4000
    counts: dict[tuple[str, str], int] = {}
    for seed in range(trials):
        for planned in plan_attestations(eager, [done], random.Random(seed)):
            counts[(planned.kind, planned.issuer)] = counts.get((planned.kind, planned.issuer), 0) + 1
    rate = {key: value / trials for key, value in counts.items()}
    assert rate[("skill", "a")] == pytest.approx(SKILL_RATE, abs=0.03)
    assert rate[("vouch", "a")] == pytest.approx(VOUCH_RATE, abs=0.03)
    assert rate[("verification", "a")] == pytest.approx(VERIFY_RATE, abs=0.03)
    # b is uncooperative (no vouches) and unafraid (no verifications).
    assert ("vouch", "b") not in rate and ("verification", "b") not in rate
    # No vouch without a completion; verification still follows a failed lifecycle.
    failed = done.model_copy(update={"success": False})
    kinds = {p.kind for seed in range(200) for p in plan_attestations(eager, [failed], random.Random(seed))}
    assert kinds == {"skill", "verification"}


def test_the_same_stream_gives_the_same_attestations():
    population = [member(agent, 0.8, 0.7, 0.2) for agent in "abcd"]
    results = [
        LifecycleResult(
            index=0, fiber_type="Contract", parties=("a", "b"), fiber_id="f", status="COMPLETED", success=True
        )
    ]
    first = plan_attestations(population, results, stream(3, 1, "attest"))
    assert first == plan_attestations(population, results, stream(3, 1, "attest"))


def test_a_default_sized_run_leaves_three_to_five_attestations_per_agent():
    """100 agents, 10 generations (simctl otto evolve's defaults), every lifecycle settled, half of them
    successful, 5% of the population replaced by newcomers (who start with none) each generation; a second
    vouch from the same voucher is refused, as the identity refuses it. Mean held per agent at the end."""
    means = []
    for seed in range(4):
        rng = random.Random(seed)
        population = [Member(agent_id=f"a{i}", address=f"a{i}", traits=random_traits(rng)) for i in range(100)]
        held = {m.agent_id: 0 for m in population}
        vouched: set[tuple[str, str]] = set()
        joined = 100
        for generation in range(10):
            plan = plan_generation(population, {}, stream(seed, generation, "plan"))
            results = [
                LifecycleResult(
                    index=lc.index,
                    fiber_type=lc.fiber_type,
                    parties=lc.parties,
                    fiber_id=f"{generation}/{lc.index}",
                    status="COMPLETED",
                    success=rng.random() < 0.5,
                )
                for lc in plan
            ]
            issued = []
            for planned in plan_attestations(population, results, stream(seed, generation, "attest")):
                if planned.kind == "vouch":
                    if (planned.issuer, planned.subject) in vouched:
                        continue
                    vouched.add((planned.issuer, planned.subject))
                issued.append(planned)
            for agent, count in attestation_counts(issued)[1].items():
                held[agent] += count
            for _ in range(5):
                place = rng.randrange(len(population))
                del held[population[place].agent_id]
                newcomer = f"a{joined}"
                joined += 1
                population[place] = Member(agent_id=newcomer, address=newcomer, traits=random_traits(rng))
                held[newcomer] = 0
        means.append(statistics.fmean(held.values()))
    assert 3.0 <= statistics.fmean(means) <= 5.0, means


def test_attestation_counts():
    issued = [PlannedAttestation("skill", "a", "a", "x"), PlannedAttestation("vouch", "a", "b", "y")]
    assert attestation_counts(issued) == ({"a": 2}, {"a": 1, "b": 1})


def identity(chain: LocalChain, fiber_id: str, owner: str) -> None:
    chain.create(fiber_id, IDENTITY_DEFINITION, identity_initial_data(owner, None, None, None, "t"), [owner])
    chain.transition(fiber_id, "activate", {}, owner)


def file(chain: LocalChain, fiber_id: str, kind: str, reporter: str, subject: str, contract: str) -> bool:
    data = report_initial_data(kind, reporter, subject, "id-a", contract, "SimpleOrder:cancelled")
    chain.create(fiber_id, REPORT_DEFINITION, data, [reporter])
    return chain.transition(fiber_id, "file", {}, reporter).current_state == "FILED"


def test_a_report_fiber_moves_the_subjects_reputation_once_per_contract():
    chain = LocalChain()
    identity(chain, "id-a", A)
    assert file(chain, "r1", "completion", B, A, "c-1")
    assert not file(chain, "r2", "completion", C, A, "c-1"), "counted once per contract"
    assert not file(chain, "r3", "completion", A, A, "c-2"), "never by the subject"
    assert chain.state.fibers["id-a"].state_data["reputation"] == 15
    assert file(chain, "r4", "violation", B, A, "c-3")
    data = chain.state.fibers["id-a"].state_data
    assert (data["reputation"], data["violations"], data["completedContracts"]) == (5, 1, 1)
    assert data["violationReports"][0]["reason"] == "SimpleOrder:cancelled"
    with pytest.raises(ValueError, match="unknown report kind"):
        report_initial_data("praise", B, A, "id-a", "c", None)
