"""Custom search attributes: what the Web UI and `simctl stuck`/`status` filter on.

This list is the single source: the dev-server command registers it (``--search-attribute``), the
worker and CLI add whatever an existing server lacks, and workflows upsert through the typed keys
built from it in ``workflows/common/search_attributes.py``.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class IndexedType(StrEnum):
    """A search attribute's value type, spelled as the `temporal` CLI spells it."""

    KEYWORD = "Keyword"
    INT = "Int"
    DATETIME = "Datetime"


@dataclass(frozen=True)
class SearchAttribute:
    name: str
    type: IndexedType


EXPERIMENT = SearchAttribute("Experiment", IndexedType.KEYWORD)
SCENARIO = SearchAttribute("Scenario", IndexedType.KEYWORD)
CAMPAIGN = SearchAttribute("Campaign", IndexedType.KEYWORD)
SIM_DAY = SearchAttribute("SimDay", IndexedType.INT)
FIBER_TYPE = SearchAttribute("FiberType", IndexedType.KEYWORD)
FIBER_STATE = SearchAttribute("FiberState", IndexedType.KEYWORD)
FIBER_STATE_SINCE = SearchAttribute("FiberStateSince", IndexedType.DATETIME)
INITIATOR = SearchAttribute("Initiator", IndexedType.KEYWORD)
COUNTERPARTY = SearchAttribute("Counterparty", IndexedType.KEYWORD)
AGENT = SearchAttribute("Agent", IndexedType.KEYWORD)
GENERATION = SearchAttribute("Generation", IndexedType.INT)
# A monero run's id is its Experiment and a pool, user or marketplace its Agent; a mining round also carries its
# Pool and the Height of its (last) block, a payment the Height it was sent at, the run the height it has reached.
POOL = SearchAttribute("Pool", IndexedType.KEYWORD)
HEIGHT = SearchAttribute("Height", IndexedType.INT)

ALL: tuple[SearchAttribute, ...] = (
    EXPERIMENT,
    SCENARIO,
    CAMPAIGN,
    SIM_DAY,
    FIBER_TYPE,
    FIBER_STATE,
    FIBER_STATE_SINCE,
    INITIATOR,
    COUNTERPARTY,
    AGENT,
    GENERATION,
    POOL,
    HEIGHT,
)
