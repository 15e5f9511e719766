"""Findings and Conclusion sentences from hand-built findings: what they say, and what they refuse to say."""

from __future__ import annotations

from models.ads import LlmConfig
from models.ads_report import StudyRows
from sim.ads.findings import ContextTotals, Findings, compute_findings
from sim.ads.statements import conclusion, findings_statements
from tests.unit.ads.test_findings import SPEC, WORLD, claim, context, deal, delivery, event

C1 = "buyer-01-c01"


def study(llm: LlmConfig | None = None) -> Findings:
    rows = StudyRows(
        deals=[deal("B", C1, cpm=12_000_000), deal("C", C1)],
        deliveries=[
            delivery("A", C1, 1, impressions=1000, spend=10_000_000, fee=1_500_000),
            delivery("B", C1, 1, impressions=800, reported=1000, spend=12_000_000),
            delivery("C", C1, 1, impressions=1000, spend=10_000_000),
        ],
        claims=[
            claim("B", 1, claimed=1300, actual=1000, injected=True),
            claim("C", 2, claimed=1000, actual=1000, injected=False),
        ],
        context=[
            context("B", C1, 1, before=10, lost=4),
            context("C", C1, 1, before=10, lost=4, recovered=4, correct=4),
        ],
        events=[
            event(
                "B",
                C1,
                1,
                0,
                "negotiation",
                seller="seller-01",
                product="seller-01-p1",
                rounds=2,
                agreed_cpm=10_000_000,
                steps=[[0, "seller", "propose", 1], [1, "buyer", "accept", 1]],
            ),
            event("B", C1, 1, 1, "llm", calls=2, fallbacks=0, prompt_tokens=400, completion_tokens=20),
        ],
    )
    spec = SPEC if llm is None else SPEC.model_copy(update={"llm": llm})
    return compute_findings(spec, WORLD, rows)


def test_at_least_five_findings_each_with_its_figure_and_source() -> None:
    f = study()
    said = findings_statements(SPEC, f)
    assert len(said) >= 5
    assert all(s.text.endswith(".") and s.source for s in said)
    texts = {s.text.split(":")[0]: s for s in said}
    fee = texts["Exchange fees paid by buyers"]
    assert "A $1.50 (15.00% of spend)" in fee.text and "B $0.00" in fee.text
    assert fee.by_construction and "exchange_fee" in fee.by_construction, "B/C's 0 fee is by construction, said so"
    unserved = texts["Buyers paid for impressions that were reported but never served"]
    assert "B $2.40 for 200 impressions" in unserved.text  # 12 × 200/1000
    recovery = texts["Memory recovered exactly after a loss"]
    assert "C 100.0% of 4 lost items" in recovery.text and "B 0.0% of 4 lost items" in recovery.text
    assert recovery.by_construction and "B has no ledger" in recovery.by_construction
    assert not any(s.text.startswith("The LLM buyer") for s in said), "not run with an LLM: no token finding"


def test_llm_tokens_become_a_finding_when_the_study_ran_with_an_llm() -> None:
    llm = LlmConfig(url="http://model", usd_per_million_prompt_tokens=1.0, usd_per_million_completion_tokens=1.0)
    f = study(llm)
    said = [s for s in findings_statements(SPEC.model_copy(update={"llm": llm}), f) if s.text.startswith("The LLM")]
    assert len(said) == 1 and "B 420 tokens over 2 calls ($0.00)" in said[0].text


def with_recovery(f: Findings, b: tuple[int, int], c: tuple[int, int]) -> Findings:
    rows = [
        ContextTotals(
            scenario=s,
            campaign_days=1,
            with_items=1,
            items_before=1000,
            items_lost=lost,
            restarts=0,
            items_recovered=correct,
            recovered_correctly=correct,
            survival=0.5,
            recovery_fidelity=correct / lost,
        )
        for s, (correct, lost) in (("B", b), ("C", c))
    ]
    return f.model_copy(update={"context": rows})


def test_conclusion_states_a_difference_only_when_the_intervals_settle_it() -> None:
    f = study()
    clear = conclusion(with_recovery(f, b=(0, 200), c=(190, 200)))
    assert any(line.startswith("The recovery fidelity is higher in C than in B (C 95.0%, B 0.0%)") for line in clear)
    close = conclusion(with_recovery(f, b=(48, 100), c=(52, 100)))
    assert any("recovery fidelity between C and B (C 52.0%, B 48.0%) is not established" in line for line in close)
    reversed_ = conclusion(with_recovery(f, b=(190, 200), c=(0, 200)))
    assert any(line.startswith("The recovery fidelity is higher in B than in C") for line in reversed_)
    without = conclusion(f.model_copy(update={"context": []}))
    assert not any("recovery fidelity" in line for line in without), "no figure, no claim"
