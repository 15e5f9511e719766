"""narrative.md: the seed's narrative log (deals, hallucinations, context rot), told from recorded rows."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from typing import Any

from models.ads import Campaign, ExperimentSpec, Product, World
from models.ads_report import RecordedClaim, RecordedContextEvent, RecordedDeal, RecordedDelivery, StudyRows
from report.events import claim_index
from report.formatting import label, pct, usd
from sim.ads.findings import overpayment
from sim.ads.hallucination import detect

NARRATIVE_CAP = 10  # entries per section and scenario in narrative.md
LOOKAHEAD_DAYS = 3  # a context-rot entry reports the deals its campaign booked in the next days


def render_narrative(experiment_id: str, spec: ExperimentSpec, world: World, rows: StudyRows) -> str:
    """The seed's narrative format (Deal Completed, Hallucination Detected, Context Rot Event), told only
    from recorded rows, at most NARRATIVE_CAP entries per section and scenario."""
    scenarios = sorted(spec.scenarios)
    context = _Context(world, rows)

    out = [
        f"# Narrative log: experiment `{experiment_id}`",
        "",
        "Human-readable moments of the study, built only from the recorded rows (deals, deliveries, claims, "
        f"context events and the event log). Each section shows at most **{NARRATIVE_CAP} entries per scenario**; "
        "the totals say how many there were. Deals are shown in the order they were struck (day, campaign); "
        "hallucinations in the order they were claimed; context-rot events largest loss first. Money is USD.",
    ]

    out += ["", "# Deals completed"]
    for s in scenarios:
        deals = sorted(
            (d for d in rows.deals if d.scenario == s),
            key=lambda d: (d.created_day, d.campaign_id, d.deal_id),
        )
        out += ["", f"*Scenario {label(s)}: {len(deals):,} deals recorded, {min(len(deals), NARRATIVE_CAP)} shown.*"]
        out += [context.deal(d) for d in deals[:NARRATIVE_CAP]]

    out += ["", "# Hallucinations detected"]
    tolerance, major = spec.params.detection_tolerance, spec.params.major_severity
    for s in scenarios:
        claims = [c for c in rows.claims if c.scenario == s]
        flagged = sorted(
            (c for c in claims if detect(c.claimed, c.actual, tolerance, major).flagged),
            key=lambda c: (c.day, c.campaign_id, claim_index(c.claim_id)),
        )
        injected = sum(1 for c in claims if c.injected)
        out += [
            "",
            f"*Scenario {label(s)}: {len(claims):,} claims recorded, {injected:,} injected, "
            f"{len(flagged):,} flagged at {tolerance:.0%} tolerance, {min(len(flagged), NARRATIVE_CAP)} shown.*",
        ]
        out += [context.hallucination(c, tolerance, major) for c in flagged[:NARRATIVE_CAP]]

    out += ["", "# Context rot events"]
    for s in scenarios:
        losses = sorted(
            (c for c in rows.context if c.scenario == s and c.items_lost > 0),
            key=lambda c: (-c.items_lost, c.day, c.campaign_id),
        )
        total = sum(1 for c in rows.context if c.scenario == s)
        if not total:
            out += [
                "",
                f"*Scenario {label(s)}: no context events recorded (no agent memory to lose in this scenario).*",
            ]
            continue
        out += [
            "",
            f"*Scenario {label(s)}: {total:,} campaign-days recorded, {len(losses):,} with memory lost, "
            f"{min(len(losses), NARRATIVE_CAP)} shown.*",
        ]
        out += [context.context_rot(c) for c in losses[:NARRATIVE_CAP]]
    return "\n".join(out) + "\n"


class _Context:
    """Lookups over the world and the recorded rows that the narrative entries draw on."""

    def __init__(self, world: World, rows: StudyRows) -> None:
        self.campaigns: dict[str, Campaign] = {c.id: c for c in world.campaigns}
        self.products: dict[str, Product] = {p.id: p for p in world.products()}
        # (scenario, deal) -> its delivery days
        self.deliveries: dict[tuple[str, str], list[RecordedDelivery]] = defaultdict(list)
        for d in rows.deliveries:
            self.deliveries[(d.scenario, d.deal_id)].append(d)
        # (scenario, campaign, day, kind) -> the data of those events, in sequence
        self.events: dict[tuple[str, str, int, str], list[Mapping[str, Any]]] = defaultdict(list)
        for e in rows.events:
            self.events[(e.scenario, e.campaign_id, e.day, e.kind)].append(e.data)
        # (scenario, campaign, day) -> the deals struck that day
        self.deals_by_day: dict[tuple[str, str, int], list[RecordedDeal]] = defaultdict(list)
        for deal in rows.deals:
            self.deals_by_day[(deal.scenario, deal.campaign_id, deal.created_day)].append(deal)

    def deal(self, deal: RecordedDeal) -> str:
        s, campaign = deal.scenario, self.campaigns.get(deal.campaign_id)
        product = self.products.get(deal.product_id)
        served = self.deliveries.get((s, deal.deal_id), [])
        spend = sum(d.buyer_spend for d in served)
        revenue = sum(d.seller_revenue for d in served)
        fee = sum(d.exchange_fee for d in served)
        impressions = sum(d.impressions for d in served)
        audience = ", ".join(campaign.segments) if campaign else "its audience"
        budget = usd(campaign.budget) if campaign else "—"
        channel = product.channel if product else "—"
        day_events = self.events.get(
            (s, deal.campaign_id, deal.created_day, "auction" if s == "A" else "negotiation"), []
        )
        match = next((e for e in day_events if e.get("product") == deal.product_id), None)
        if s == "A":
            offered = f"its {deal.product_id} lot to an auction (floor {usd(match['floor']) if match else '—'} CPM)"
            outcome = (
                f"The buyer won the {len(match['bids'])}-bid auction on day {deal.created_day}; it cleared at "
                f"{usd(match['clearing_cpm'])} CPM."
                if match
                else f"The buyer won the auction at {usd(deal.cpm)} CPM."
            )
        else:
            steps = match.get("steps", []) if match else []
            opening = next((step[3] for step in steps if step[1] == "seller"), None)
            agreed = match.get("agreed_cpm") if match else None
            offered = f"{deal.daily_impressions:,} impressions a day at {usd(opening)} CPM"
            rounds = f"{deal.rounds} round{'' if deal.rounds == 1 else 's'}"
            outcome = f"After {rounds} of negotiation, the deal closed at {usd(agreed or deal.cpm)} CPM"
            if agreed is not None and agreed != deal.cpm:
                outcome += f"; the seller, whose record is authoritative, billed {usd(deal.cpm)} CPM"
            outcome += f" ({deal.deal_type}, from day {deal.start_day} to {deal.end_day})."
        return "\n".join(
            [
                "",
                f"## Deal Completed: {deal.deal_id}",
                "",
                f"**Buyer**: {deal.buyer_id} was looking to reach {audience} (campaign {deal.campaign_id}, "
                f"{campaign.kpi if campaign else '—'} KPI) with a budget of {budget}.",
                "",
                f"**Seller**: {deal.seller_id} offered {offered} on their {channel} inventory.",
                "",
                f"**Outcome**: {outcome}",
                "",
                f"**Fees** (over the deal's {len(served)} recorded delivery days, "
                f"{impressions:,} impressions delivered):",
                f"- Buyer paid: {usd(spend)}",
                f"- Seller received: {usd(revenue)}",
                f"- Intermediary extracted: {usd(fee)} ({pct(fee / spend if spend else None)})",
                "",
                f"**Scenario**: {label(s)}",
            ]
        )

    def hallucination(self, claim: RecordedClaim, tolerance: float, major: float) -> str:
        verdict = detect(claim.claimed, claim.actual, tolerance, major)
        kind = claim.claim_type
        said, truth = _claim_value(kind, claim.claimed), _claim_value(kind, claim.actual)
        subject = {
            "price": f"the CPM of {claim.subject}",
            "inventory": f"the daily avails of {claim.subject}",
            "history": f"past deals with {claim.subject}",
            "delivery": f"impressions delivered on {claim.subject}",
        }.get(kind, claim.subject)
        injected = "" if claim.injected else " Not in the injected set: a false alarm."
        return "\n".join(
            [
                "",
                "## Hallucination Detected",
                "",
                f"**Agent**: {claim.agent_id} ({claim.agent_type}), campaign {claim.campaign_id}, "
                f"scenario {label(claim.scenario)}",
                "",
                f"**What they claimed**: {subject} = {said}",
                f"**Reality**: {truth} (off by {verdict.relative_error:.1%}, {verdict.severity}).{injected}",
                "",
                f"**Impact**: {self._impact(claim)}",
                "",
                f"**Day**: Simulation day {claim.day}",
            ]
        )

    def _impact(self, claim: RecordedClaim) -> str:
        s, campaign, day, kind = claim.scenario, claim.campaign_id, claim.day, claim.claim_type
        booked = self.deals_by_day.get((s, campaign, day), [])
        if kind == "delivery":
            served = next((d for d in self.deliveries.get((s, claim.subject), []) if d.day == day), None)
            if served is None:
                return "No delivery row for this deal-day was recorded."
            if claim.checked:
                return (
                    f"Checked against the ledger's impression log: the buyer paid for {served.reported:,} "
                    f"impressions ({usd(served.buyer_spend)}), not the {claim.claimed:,} reported."
                )
            return (
                f"The buyer paid {usd(served.buyer_spend)} for {served.reported:,} impressions; "
                f"{usd(overpayment(served))} of it bought impressions that were never served."
            )
        if claim.checked:
            return "Checked against the ledger before acting: the buyer used the true value."
        if kind in ("price", "inventory"):
            deal = next((d for d in booked if d.product_id == claim.subject), None)
            if deal is None:
                return f"Unchecked; the buyer struck no deal on {claim.subject} that day."
            if kind == "price":
                return (
                    f"Unchecked; the buyer struck {deal.deal_id} on this product that day, and the seller billed "
                    f"{usd(deal.cpm)} CPM."
                )
            return f"Unchecked; the buyer booked {deal.daily_impressions:,} impressions a day on it ({deal.deal_id})."
        if kind == "history":
            with_seller = [d for d in booked if d.seller_id == claim.subject]
            return (
                f"Unchecked; the buyer ranked {claim.subject}'s products on a history it misremembered, and booked "
                f"{len(with_seller)} deal(s) with it that day."
            )
        return "Unchecked."

    def context_rot(self, row: RecordedContextEvent) -> str:
        s, campaign, day = row.scenario, row.campaign_id, row.day
        lost_event = next(iter(self.events.get((s, campaign, day, "context_lost"), [])), {})
        keys = list(lost_event.get("lost", []))
        shown = keys[:8]
        listing = [f"- `{k}`" for k in shown] + (
            [f"- … and {len(keys) - len(shown)} more"] if len(keys) > len(shown) else []
        )
        if not listing:
            listing = [f"- {row.items_lost} items (keys not in the event log)"]
        lost, recovered, correct = row.items_lost, row.items_recovered, row.recovered_correctly
        outcome = "Successful" if recovered == lost else ("Partial" if recovered else "Failed")
        later = sum(len(self.deals_by_day.get((s, campaign, d), [])) for d in range(day, day + LOOKAHEAD_DAYS + 1))
        why = "from the campaign's ledger chain" if recovered else "there was no record to recover from"
        cause = "restarted (memory wiped)" if row.kind == "restart" else "forgot items overnight (decay)"
        return "\n".join(
            [
                "",
                "## Context Rot Event",
                "",
                f"**Agent**: {row.agent_id} lost memory on day {day} (campaign {campaign}, scenario {label(s)}): "
                f"it {cause}, losing {lost} of {row.items_before} items.",
                "",
                "**Lost context**:",
                *listing,
                "",
                f"**Recovery attempt**: {outcome} ({recovered} of {lost} recovered; {why})",
                f"**Recovery accuracy**: {correct / lost:.1%}",
                "",
                f"**Impact on campaign**: {_lost_summary(keys)}; the campaign booked {later} new "
                f"deal{'' if later == 1 else 's'} on days {day}–{day + LOOKAHEAD_DAYS}.",
            ]
        )


def _lost_summary(keys: Sequence[str]) -> str:
    kinds: dict[str, int] = defaultdict(int)
    for key in keys:
        kinds[key.split(":", 1)[0]] += 1
    names = {
        "deal": "deal terms",
        "delivered": "delivered counts",
        "history": "seller histories",
        "spend": "the running spend total",
    }
    parts = [names.get(k, k) if k == "spend" else f"{n} {names.get(k, k)}" for k, n in sorted(kinds.items())]
    return "forgot " + ", ".join(parts) if parts else "memory items lost"


def _claim_value(kind: str, value: int) -> str:
    if kind == "price":
        return f"{usd(value)} CPM"
    if kind == "inventory":
        return f"{value:,} impressions a day"
    if kind == "history":
        return f"{value} past deal(s)"
    return f"{value:,} impressions"
