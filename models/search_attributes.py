"""Custom search attributes: what the Web UI and `simctl stuck`/`status` filter on.

This list is the single source: the dev-server command registers it (``--search-attribute``), the
worker and CLI add whatever an existing server lacks, and workflows upsert through these keys.
"""

from __future__ import annotations

from temporalio.common import SearchAttributeKey

EXPERIMENT = SearchAttributeKey.for_keyword("Experiment")
SCENARIO = SearchAttributeKey.for_keyword("Scenario")
CAMPAIGN = SearchAttributeKey.for_keyword("Campaign")
SIM_DAY = SearchAttributeKey.for_int("SimDay")
FIBER_TYPE = SearchAttributeKey.for_keyword("FiberType")
FIBER_STATE = SearchAttributeKey.for_keyword("FiberState")
FIBER_STATE_SINCE = SearchAttributeKey.for_datetime("FiberStateSince")
INITIATOR = SearchAttributeKey.for_keyword("Initiator")
COUNTERPARTY = SearchAttributeKey.for_keyword("Counterparty")
AGENT = SearchAttributeKey.for_keyword("Agent")
GENERATION = SearchAttributeKey.for_int("Generation")

ALL: tuple[SearchAttributeKey, ...] = (
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
)

# The names the `temporal` CLI uses for each indexed value type.
_CLI_TYPE_NAMES = {
    "KEYWORD": "Keyword",
    "TEXT": "Text",
    "INT": "Int",
    "FLOAT": "Double",
    "BOOL": "Bool",
    "DATETIME": "Datetime",
    "KEYWORD_LIST": "KeywordList",
}


def cli_type_name(key: SearchAttributeKey) -> str:
    return _CLI_TYPE_NAMES[key.indexed_value_type.name.removeprefix("INDEXED_VALUE_TYPE_")]
