"""Temporal visibility queries, built in one place: every filter passed to `list_workflows` and
`count_workflows` comes from here, so no value reaches the server unquoted.

Temporal reads the filter as SQL: a string literal is quoted, and inside it a backslash escapes
the next character. `quote` therefore escapes the backslash and the quote character, and nothing
else needs escaping (a raw newline stays a newline). Names (search attributes, system columns
such as WorkflowType) are identifiers and are checked, never quoted.

One limit is the server's, not the syntax's: Temporal's SQLite visibility store (the dev server's,
so the embedded one's) parses such a literal correctly but never matches a stored value that holds a
double quote or a backslash (measured on Server 1.32). `matchable` says whether a value can be
found; `simctl start-campaign` refuses experiment ids that cannot.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Literal, Protocol

from workflows.common import search_attributes as sa

Operator = Literal["=", "!=", "<", "<=", ">", ">="]
Value = str | int | datetime

_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_UNMATCHABLE = ('"', "\\")


class Named(Protocol):
    """A search attribute as models/ or the SDK describe it: anything with a ``name``."""

    @property
    def name(self) -> str: ...


def quote(value: str) -> str:
    """``value`` as a string literal of Temporal's list filter: ``"…"``, with ``\\`` and ``"`` escaped."""
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def matchable(value: str) -> bool:
    """Whether an equality filter on ``value`` can match on every visibility store we run (see above)."""
    return not any(char in value for char in _UNMATCHABLE)


def literal(value: Value) -> str:
    """A value as the filter spells it: strings quoted, integers bare, datetimes as quoted UTC RFC 3339."""
    if isinstance(value, bool):
        raise TypeError("a boolean is not a visibility value")
    if isinstance(value, int):
        return str(value)
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise ValueError("a datetime in a visibility query needs a timezone")
        return quote(value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"))
    return quote(value)


def column(key: str | Named) -> str:
    """A search attribute or system column name, checked to be a bare identifier."""
    name = key if isinstance(key, str) else key.name
    if not _IDENTIFIER.fullmatch(name):
        raise ValueError(f"not a visibility column name: {name!r}")
    return name


def compare(key: str | Named, operator: Operator, value: Value) -> str:
    """``Key <operator> <literal>``."""
    return f"{column(key)} {operator} {literal(value)}"


def equals(key: str | Named, value: Value) -> str:
    """``Key = <literal>``."""
    return compare(key, "=", value)


def is_null(key: str | Named) -> str:
    return f"{column(key)} IS NULL"


def all_of(*clauses: str) -> str:
    """The clauses joined by AND, each in parentheses (so an OR inside one stays inside it)."""
    return _join("AND", clauses)


def any_of(*clauses: str) -> str:
    """The clauses joined by OR, each in parentheses."""
    return _join("OR", clauses)


def _join(operator: str, clauses: tuple[str, ...]) -> str:
    if not clauses:
        raise ValueError(f"{operator} of no clauses")
    if len(clauses) == 1:
        return clauses[0]
    return f" {operator} ".join(f"({clause})" for clause in clauses)


def group_by(query: str, key: str | Named) -> str:
    """``query GROUP BY Key``, for `count_workflows`; an empty query counts every workflow."""
    return f"{query} GROUP BY {column(key)}".strip()


# --- the queries simctl asks ---------------------------------------------------------------------


def of_type(workflow_type: str) -> str:
    return equals("WorkflowType", workflow_type)


def running() -> str:
    return equals("ExecutionStatus", "Running")


def experiment_campaigns(experiment_id: str) -> str:
    """Every CampaignWorkflow of one ads experiment (its Experiment search attribute)."""
    return all_of(of_type("CampaignWorkflow"), equals(sa.EXPERIMENT, experiment_id))


def running_experiments() -> str:
    return all_of(of_type("ExperimentWorkflow"), running())


def monero_rounds(run_id: str, *, pool: str | None = None, height: int | None = None) -> str:
    """A monero run's MiningRoundWorkflows, narrowed by the pool that mined and the height of the round's block."""
    clauses = [of_type("MiningRoundWorkflow"), equals(sa.EXPERIMENT, run_id)]
    if pool is not None:
        clauses.append(equals(sa.POOL, pool))
    if height is not None:
        clauses.append(equals(sa.HEIGHT, height))
    return all_of(*clauses)
