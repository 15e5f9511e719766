"""events.jsonl: every recorded row as one event, in the order the study lived it."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from sim.ads.findings import StudyRows

_SOURCE_RANK = {"ads_context_events": 0, "ads_events": 1, "ads_deals": 2, "ads_claims": 3, "ads_deliveries": 4}


def event_lines(rows: StudyRows) -> list[dict[str, Any]]:
    """Every recorded row as one event: scenario, campaign, day, kind, source table, and its fields.

    Ordered by scenario, campaign, day, then a campaign-day's own order: the morning's context
    events, the event log in sequence, deals, claims, deliveries.
    """
    lines: list[tuple[tuple, dict[str, Any]]] = []

    def add(source: str, row: Mapping[str, Any], day: int, kind: str, within: tuple, **fields: Any) -> None:
        body = {
            k: v
            for k, v in row.items()
            if k not in ("experiment_id", "scenario", "campaign_id", "day", "kind", "data_json")
        }
        line = {
            "source": source,
            "scenario": row["scenario"],
            "campaign": row["campaign_id"],
            "day": day,
            "kind": kind,
            **body,
            **fields,
        }
        lines.append(((row["scenario"], row["campaign_id"], day, _SOURCE_RANK[source], within), line))

    for row in rows.context:
        add("ads_context_events", row, row["day"], f"context_{row['kind']}", (row["kind"],))
    for row in rows.events:
        add("ads_events", row, row["day"], row["kind"], (row["seq"],), data=json.loads(row["data_json"]))
    for row in rows.deals:
        add("ads_deals", row, row["created_day"], "deal", (row["deal_id"],))
    for row in rows.claims:
        add("ads_claims", row, row["day"], "claim", (claim_index(row["claim_id"]), row["claim_id"]))
    for row in rows.deliveries:
        add("ads_deliveries", row, row["day"], "delivery", (row["deal_id"],))
    return [line for _, line in sorted(lines, key=lambda item: item[0])]


def claim_index(claim_id: str) -> int:
    # Claim ids are "<campaign>/<day>/<n>": order by n as a number, not as text.
    tail = claim_id.rsplit("/", 1)[-1]
    return int(tail) if tail.isdigit() else 0
