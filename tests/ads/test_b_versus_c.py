"""What the study exists to show, at the default seed and size: C's ledger recovers what its buyer forgets and
keeps it from paying for impressions never served, where B, acting on memory and claims alone, does neither."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncEngine

from models.ads import ExperimentSpec
from report import load_study
from sim.ads.findings import compute_findings


async def test_c_recovers_its_memory_and_overspends_less_than_b_at_the_default_seed(study, sqlite_engine: AsyncEngine):
    defaults = ExperimentSpec(id="defaults")
    spec, _ = await study(sqlite_engine, scenarios=("B", "C"))
    assert (spec.seed, spec.buyers, spec.sellers, spec.campaigns_per_buyer, spec.days) == (
        defaults.seed,
        defaults.buyers,
        defaults.sellers,
        defaults.campaigns_per_buyer,
        defaults.days,
    )
    findings = compute_findings(*await load_study(sqlite_engine, spec.id))
    context = {c.scenario: c for c in findings.context}
    discrepancy = {d.scenario: d for d in findings.discrepancy}

    # Both forget (the same streams decide what), only C gets it back, and what it gets back is right.
    assert context["B"].items_lost > 0 and context["C"].items_lost > 0
    assert context["B"].items_recovered == 0
    assert context["C"].recovery_fidelity is not None and context["C"].recovery_fidelity > 0.95, context["C"]

    # Both pay for some impressions never served (honest noise, fabrications C could not check), C far less.
    b, c = discrepancy["B"], discrepancy["C"]
    assert b.overpayment_share is not None and c.overpayment_share is not None
    assert c.overpayment_micros < b.overpayment_micros / 2, (b, c)
    assert c.over_reported_impressions < b.over_reported_impressions / 2, (b, c)
