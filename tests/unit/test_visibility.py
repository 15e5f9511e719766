"""The visibility query builder: values quoted for Temporal's list filter, names checked."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from simctl import visibility
from workflows.common import search_attributes as sa


def unquote(literal: str) -> str:
    """Read a double-quoted literal back the way Temporal's SQL tokenizer does (backslash escapes)."""
    assert literal[0] == literal[-1] == '"'
    out, chars = [], iter(literal[1:-1])
    for char in chars:
        if char == "\\":
            out.append(next(chars))
        else:
            assert char != '"', f"an unescaped quote ends the literal early: {literal!r}"
            out.append(char)
    return "".join(out)


@pytest.mark.parametrize(
    ("value", "literal"),
    [
        ("plain", '"plain"'),
        ("it's", '"it\'s"'),
        ('say "hi"', '"say \\"hi\\""'),
        ("back\\slash", '"back\\\\slash"'),
        ("end\\", '"end\\\\"'),
        ('\\"', '"\\\\\\""'),
        ("", '""'),
    ],
)
def test_quote_escapes_backslash_and_quote(value: str, literal: str):
    assert visibility.quote(value) == literal


@given(st.text())
def test_quote_round_trips_any_text(value: str):
    assert unquote(visibility.quote(value)) == value


def test_an_injection_attempt_stays_inside_the_literal():
    hostile = 'x" OR WorkflowType = "FiberWorkflow'
    query = visibility.equals(sa.EXPERIMENT, hostile)
    assert query == 'Experiment = "x\\" OR WorkflowType = \\"FiberWorkflow"'
    assert unquote(query.removeprefix("Experiment = ")) == hostile


def test_clauses_are_parenthesised_and_joined():
    query = visibility.all_of(
        visibility.of_type("FiberWorkflow"),
        visibility.any_of(visibility.is_null(sa.FIBER_STATE_SINCE), visibility.compare("SimDay", ">", 20)),
    )
    assert query == '(WorkflowType = "FiberWorkflow") AND ((FiberStateSince IS NULL) OR (SimDay > 20))'
    assert visibility.all_of("A = 1") == "A = 1"
    with pytest.raises(ValueError):
        visibility.any_of()


def test_experiment_campaigns_quotes_the_id():
    assert visibility.experiment_campaigns("it's") == '(WorkflowType = "CampaignWorkflow") AND (Experiment = "it\'s")'


def test_datetimes_are_utc_and_need_a_zone():
    when = datetime(2026, 3, 1, 14, 30, 5, 999, tzinfo=timezone(timedelta(hours=2)))
    assert visibility.compare("StartTime", "<", when) == 'StartTime < "2026-03-01T12:30:05Z"'
    assert visibility.literal(datetime(2026, 3, 1, tzinfo=UTC)) == '"2026-03-01T00:00:00Z"'
    with pytest.raises(ValueError):
        visibility.literal(datetime(2026, 3, 1))
    with pytest.raises(TypeError):
        visibility.literal(True)


@pytest.mark.parametrize("name", ["Experiment = 1 OR X", "Sim Day", "1st", "", "a-b"])
def test_column_names_are_identifiers(name: str):
    with pytest.raises(ValueError):
        visibility.equals(name, "x")


def test_group_by_counts_everything_from_an_empty_query():
    assert visibility.group_by("", "ExecutionStatus") == "GROUP BY ExecutionStatus"
    assert (
        visibility.group_by(visibility.of_type("W"), "ExecutionStatus") == 'WorkflowType = "W" GROUP BY ExecutionStatus'
    )


def test_matchable_names_what_sqlite_visibility_cannot_find():
    assert visibility.matchable("it's a study")
    assert not visibility.matchable('say "hi"')
    assert not visibility.matchable("back\\slash")


def test_monero_rounds_by_pool_and_height():
    assert visibility.monero_rounds("run-1", pool="pool_alpha", height=150) == (
        '(WorkflowType = "MiningRoundWorkflow") AND (Experiment = "run-1") AND (Pool = "pool_alpha") AND (Height = 150)'
    )
    assert visibility.monero_rounds("run-1") == '(WorkflowType = "MiningRoundWorkflow") AND (Experiment = "run-1")'
