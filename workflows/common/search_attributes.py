"""Typed keys for the project's search attributes (models/search_attributes.py names them)."""

from __future__ import annotations

from datetime import datetime

from temporalio.common import SearchAttributeKey

from models import search_attributes as defined
from models.search_attributes import IndexedType, SearchAttribute


def _keyword(attribute: SearchAttribute) -> SearchAttributeKey[str]:
    assert attribute.type is IndexedType.KEYWORD, attribute
    return SearchAttributeKey.for_keyword(attribute.name)


def _int(attribute: SearchAttribute) -> SearchAttributeKey[int]:
    assert attribute.type is IndexedType.INT, attribute
    return SearchAttributeKey.for_int(attribute.name)


def _datetime(attribute: SearchAttribute) -> SearchAttributeKey[datetime]:
    assert attribute.type is IndexedType.DATETIME, attribute
    return SearchAttributeKey.for_datetime(attribute.name)


EXPERIMENT = _keyword(defined.EXPERIMENT)
SCENARIO = _keyword(defined.SCENARIO)
CAMPAIGN = _keyword(defined.CAMPAIGN)
SIM_DAY = _int(defined.SIM_DAY)
FIBER_TYPE = _keyword(defined.FIBER_TYPE)
FIBER_STATE = _keyword(defined.FIBER_STATE)
FIBER_STATE_SINCE = _datetime(defined.FIBER_STATE_SINCE)
INITIATOR = _keyword(defined.INITIATOR)
COUNTERPARTY = _keyword(defined.COUNTERPARTY)
AGENT = _keyword(defined.AGENT)
GENERATION = _int(defined.GENERATION)
POOL = _keyword(defined.POOL)
HEIGHT = _int(defined.HEIGHT)
