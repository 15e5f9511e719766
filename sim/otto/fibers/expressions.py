"""Tiny builders for JLVM expressions, and for the definitions that hold them.

Every builder returns plain JSON data the chain evaluates. Conventions that keep guards safe:

- comparisons and membership tests always yield booleans, so ``all_of``/``any_of`` of them do too
  (a guard that yields anything but a boolean aborts the event instead of trying the next one);
- ``and``/``or`` evaluate every argument, so a test that would error on a wrong-typed value (``>`` on a
  string, ``in`` on null) goes behind ``when``, whose ``if`` is lazy;
- strict ``===`` everywhere, and inequality as ``not_(eq(...))``: OttoChain v0.6.0's metakit (rc.9)
  answers ``!==`` false for mixed types, later metakit answers the negation of ``===``; ``not_(eq(...))``
  means the same on both.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

Expr = Any  # JSON data the JLVM parses: a literal, a var, or an operator call

_NO_DEFAULT = object()


# --- values -----------------------------------------------------------------------------------


def var(path: str, default: Any = _NO_DEFAULT) -> Expr:
    """The value at a dotted path of the context (``state.x``, ``event.y``, ``$ordinal``); null if missing."""
    return {"var": path} if default is _NO_DEFAULT else {"var": [path, default]}


ORDINAL: Expr = var("$ordinal")  # the snapshot ordinal: the chain's clock, for deadlines
MACHINE_ID: Expr = var("machineId")


def _ref(value: str | Expr) -> Expr:
    """A bare string names a context path; anything else is an expression already."""
    return var(value) if isinstance(value, str) else value


def if_(condition: Expr, then: Expr, otherwise: Expr) -> Expr:
    return {"if": [condition, then, otherwise]}


def plus(a: Expr, b: Expr) -> Expr:
    return {"+": [a, b]}


def increment(path: str, by: int | Expr = 1) -> Expr:
    return plus(var(path), by)


def length(value: Expr) -> Expr:
    return {"length": [value]}


def type_of(value: Expr) -> Expr:
    return {"typeof": [value]}


# --- signers ----------------------------------------------------------------------------------


def signers() -> Expr:
    """The addresses of every proof on the update (a triggered event sees its originating update's)."""
    return {"map": [var("proofs"), var("address")]}


def signer() -> Expr:
    """The first signer: who an effect records as having acted."""
    return var("proofs.0.address")


def signed_by(who: str | Expr) -> Expr:
    """The address at path ``who`` (or computed by ``who``) signed this update."""
    return {"in": [_ref(who), signers()]}


def signer_among(path: str) -> Expr:
    """The first signer is listed in the address array at ``path``."""
    return contains(var(path), signer())


# --- logic and comparison ---------------------------------------------------------------------


def eq(a: Expr, b: Expr) -> Expr:
    return {"===": [a, b]}


def not_(condition: Expr) -> Expr:
    return {"!": [condition]}


def ne(a: Expr, b: Expr) -> Expr:
    return not_(eq(a, b))


def gt(a: Expr, b: Expr) -> Expr:
    return {">": [a, b]}


def ge(a: Expr, b: Expr) -> Expr:
    return {">=": [a, b]}


def truthy(value: Expr) -> Expr:
    return {"!!": [value]}


def all_of(*conditions: Expr) -> Expr:
    return {"and": list(conditions)}


def any_of(*conditions: Expr) -> Expr:
    return {"or": list(conditions)}


def when(*conditions: Expr) -> Expr:
    """Lazy conjunction: each condition is evaluated only if the ones before it held."""
    *first, last = conditions
    result = last
    for condition in reversed(first):
        result = if_(condition, result, False)
    return result


def is_int(value: Expr) -> Expr:
    return eq(type_of(value), "int")


def is_text(value: Expr) -> Expr:
    """A non-empty string."""
    return when(eq(type_of(value), "string"), gt(length(value), 0))


# --- arrays -----------------------------------------------------------------------------------


def contains(haystack: Expr, needle: Expr) -> Expr:
    """``needle`` is an element of the array ``haystack`` (deep strict equality; null needle: false)."""
    return {"in": [needle, haystack]}


def pluck(path: str, key: str) -> Expr:
    """``[item[key] for item in <array at path>]``; every item must carry ``key``."""
    return {"map": [var(path), var(key)]}


def append(path: str, item: Expr) -> Expr:
    """The array at ``path`` with ``item`` added (merge of arrays flattens one level)."""
    return {"merge": [var(path), [item]]}


def count_where(array: Expr, predicate: Expr) -> Expr:
    return {"count": [array, predicate]}


# --- definitions ------------------------------------------------------------------------------


def transition(source: str, target: str, event: str, guard: Expr, effect: Expr) -> dict[str, Any]:
    return {"from": source, "to": target, "eventName": event, "guard": guard, "effect": effect, "dependencies": []}


def machine(
    name: str, initial: str, states: Iterable[str], finals: Iterable[str], transitions: Iterable[dict[str, Any]]
) -> dict[str, Any]:
    """A definition with plain state ids; ``states`` are the non-final ones."""
    table = {state: {"id": state, "isFinal": False} for state in states}
    table.update({state: {"id": state, "isFinal": True} for state in finals})
    return {"states": table, "initialState": initial, "transitions": list(transitions), "metadata": {"name": name}}
