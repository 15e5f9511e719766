"""The study's recorded rows as the report reads them: one frozen type per results table.

``store.ads_report`` builds them from the tables; ``sim.ads.findings`` and ``report/`` read them by
attribute. Each type holds its table's columns except ``experiment_id``: the rows of one study are
read together, and leaving the id out keeps it from leaking into findings.

They are dataclasses rather than pydantic models because a study records hundreds of thousands of
rows whose types the database schema already fixes; validating each one again would only cost time.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class RecordedDeal:
    """A row of ads_deals: a deal as struck (the seller's record of its CPM)."""

    scenario: str
    deal_id: str
    campaign_id: str
    buyer_id: str
    seller_id: str
    product_id: str
    deal_type: str
    cpm: int
    daily_impressions: int
    start_day: int
    end_day: int
    rounds: int
    created_day: int


@dataclass(frozen=True, slots=True)
class RecordedDelivery:
    """A row of ads_deliveries: a deal-day's ground truth beside what was reported and paid."""

    scenario: str
    deal_id: str
    day: int
    campaign_id: str
    seller_id: str
    impressions: int  # delivered (ground truth)
    reported: int  # reported by the seller and paid for
    clicks: int
    conversions: int
    viewable: int
    buyer_spend: int
    seller_revenue: int
    exchange_fee: int


@dataclass(frozen=True, slots=True)
class RecordedClaim:
    """A row of ads_claims: an agent's claim beside the ground truth."""

    scenario: str
    claim_id: str
    campaign_id: str
    day: int
    agent_id: str
    agent_type: str
    claim_type: str
    subject: str
    claimed: int
    actual: int
    injected: bool  # the simulation fabricated it
    checked: bool  # verified against a record before the agent acted on it


@dataclass(frozen=True, slots=True)
class RecordedContextEvent:
    """A row of ads_context_events: a campaign-day's memory loss (decay or restart) and recovery."""

    scenario: str
    campaign_id: str
    day: int
    kind: str
    agent_id: str
    items_before: int
    items_lost: int
    items_recovered: int
    recovered_correctly: int


@dataclass(frozen=True, slots=True)
class RecordedEvent:
    """A row of ads_events, its ``data_json`` column decoded once by the store into ``data``."""

    scenario: str
    campaign_id: str
    day: int
    seq: int
    kind: str
    data: Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class RecordedDay:
    """A row of ads_days: a campaign-day that was recorded."""

    scenario: str
    campaign_id: str
    day: int


@dataclass(frozen=True, slots=True)
class RecordedLedgerEntry:
    """The columns of a ledger_entries row that the report reads; the chain id names the scenario."""

    chain_id: str
    seq: int
    payload_json: str  # kept as stored: ledger costs are priced on its byte length


@dataclass(frozen=True)
class StudyRows:
    """One experiment's recorded rows, each table in primary-key order (``store.ads_report.study_rows``)."""

    deals: Sequence[RecordedDeal] = ()
    deliveries: Sequence[RecordedDelivery] = ()
    claims: Sequence[RecordedClaim] = ()
    context: Sequence[RecordedContextEvent] = ()
    events: Sequence[RecordedEvent] = ()
    ledger: Sequence[RecordedLedgerEntry] = ()
    days: Sequence[RecordedDay] = ()
