"""events.jsonl: every recorded row as one event, in the order the study lived it."""

from __future__ import annotations

from dataclasses import fields
from typing import Any

from models.ads_report import (
    RecordedClaim,
    RecordedContextEvent,
    RecordedDeal,
    RecordedDelivery,
    RecordedEvent,
    StudyRows,
)

Recorded = RecordedContextEvent | RecordedEvent | RecordedDeal | RecordedClaim | RecordedDelivery

_SOURCE_RANK = {"ads_context_events": 0, "ads_events": 1, "ads_deals": 2, "ads_claims": 3, "ads_deliveries": 4}
# Said once at the head of every line, so left out of its body.
_HEAD = ("scenario", "campaign_id", "day", "kind")


def event_lines(rows: StudyRows) -> list[dict[str, Any]]:
    """Every recorded row as one event: scenario, campaign, day, kind, source table, and its fields.

    Ordered by scenario, campaign, day, then a campaign-day's own order: the morning's context
    events, the event log in sequence, deals, claims, deliveries.
    """
    lines: list[tuple[tuple[Any, ...], dict[str, Any]]] = []

    def add(source: str, row: Recorded, day: int, kind: str, within: tuple[Any, ...]) -> None:
        body = {field.name: getattr(row, field.name) for field in fields(row) if field.name not in _HEAD}
        line = {"source": source, "scenario": row.scenario, "campaign": row.campaign_id, "day": day, "kind": kind}
        lines.append(((row.scenario, row.campaign_id, day, _SOURCE_RANK[source], within), {**line, **body}))

    for context in rows.context:
        add("ads_context_events", context, context.day, f"context_{context.kind}", (context.kind,))
    for event in rows.events:
        add("ads_events", event, event.day, event.kind, (event.seq,))
    for deal in rows.deals:
        add("ads_deals", deal, deal.created_day, "deal", (deal.deal_id,))
    for claim in rows.claims:
        add("ads_claims", claim, claim.day, "claim", (claim_index(claim.claim_id), claim.claim_id))
    for delivery in rows.deliveries:
        add("ads_deliveries", delivery, delivery.day, "delivery", (delivery.deal_id,))
    return [line for _, line in sorted(lines, key=lambda item: item[0])]


def claim_index(claim_id: str) -> int:
    # Claim ids are "<campaign>/<day>/<n>": order by n as a number, not as text.
    tail = claim_id.rsplit("/", 1)[-1]
    return int(tail) if tail.isdigit() else 0
