"""JLVM conformance with OttoChain's evaluator, operator by operator (issue 9, item 7).

The embedded node's JLVM disagreed with OttoChain's evaluator on the cross-language conformance vectors
(ottobot-ai/metakit-sdk shared/json_logic_test_vectors.json, v1.0.0: 102 of 108 cases). The six misses
were operators that later metakit changed after v1.7.0-rc.9 to agree with those vectors; the rest of this
file pins each such operator with our own cases, each citing the public source that defines the answer:

- MK+sem  Constellation-Labs/metakit src/main/scala/io/constellationnetwork/metagraph_sdk/json_logic/
          semantics/JsonLogicSemantics.scala (the handler named in the case)
- MK+run  the same package, runtime/JsonLogicRuntime.scala (`let`: normalizeLetArgs and its scopes)
- MK+num  the same package, ops/NumericOps.scala (floatToPlainString)
- TS      ottobot-ai/metakit-sdk packages/typescript/src/json-logic/evaluator.ts
- VEC     ottobot-ai/metakit-sdk shared/json_logic_test_vectors.json (the category named)

docs/ottochain-wire.md ("JLVM conformance") lists what was checked and what still differs.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from localnet.ottochain.jlvm import JlvmError, evaluate, evaluate_metered, strict_equals, validate_expression
from tests.unit.otto.chain import LocalChain, receipt_of

ERROR = object()  # the expected outcome is a JlvmError

# A float that survives parsing (whole literals normalise to int), and one that is not whole.
FLOAT_TWO = {"*": [0.5, 4]}
ONE_TENTH = {"/": [1, 10]}


@dataclass(frozen=True)
class Case:
    name: str
    expr: Any
    expected: Any
    source: str
    data: Any = None


CASES = [
    # ---- `!==` is the negation of `===` (rc.9: false whenever the types differ)
    Case("ne-int-vs-numeric-string", {"!==": [7, "7"]}, True, "MK+sem handleNEqStrictOp; VEC comparison"),
    Case("ne-int-vs-float-same-value", {"!==": [2, FLOAT_TWO]}, True, "MK+sem handleNEqStrictOp"),
    Case("ne-bool-vs-int", {"!==": [False, 0]}, True, "MK+sem handleNEqStrictOp"),
    Case("ne-null-vs-zero", {"!==": [None, 0]}, True, "MK+sem handleNEqStrictOp"),
    Case("ne-null-vs-null", {"!==": [None, None]}, False, "TS applyOp '!==' (!strictEquals)"),
    Case("ne-same-string", {"!==": ["ab", "ab"]}, False, "MK+sem handleNEqStrictOp"),
    Case("ne-deep-arrays", {"!==": [[1, {"k": 2}], [1, {"k": 2}]]}, False, "MK+sem handleNEqStrictOp"),
    Case("ne-map-vs-array", {"!==": [{"var": "m"}, [1]]}, True, "MK+sem handleNEqStrictOp", {"m": {"a": 1}}),
    Case("ne-one-argument", {"!==": [1]}, True, "MK+sem handleNEqStrictOp (case _ => true)"),
    # ---- quantifiers over an empty array
    Case("all-empty", {"all": [[], {">": [{"var": ""}, 0]}]}, False, "MK+sem handleAllOp; VEC array_iteration"),
    Case("all-empty-from-data", {"all": [{"var": "xs"}, True]}, False, "MK+sem handleAllOp", {"xs": []}),
    Case("all-null", {"all": [None, True]}, False, "MK+sem handleAllOp"),
    Case("all-nonempty-true", {"all": [[3, 4], {">": [{"var": ""}, 2]}]}, True, "MK+sem handleAllOp"),
    Case("all-nonempty-false", {"all": [[3, 1], {">": [{"var": ""}, 2]}]}, False, "MK+sem handleAllOp"),
    Case("none-empty", {"none": [[], True]}, True, "MK+sem handleNoneOp"),
    Case("some-empty", {"some": [[], True]}, False, "MK+sem handleSomeOp"),
    Case("some-threshold", {"some": [[1, 2, 3], {">": [{"var": ""}, 1]}, 2]}, True, "MK+sem handleSomeOp"),
    # ---- `get`: a missing key is null, a third argument is the default
    Case(
        "get-default",
        {"get": [{"var": "m"}, "nope", "fallback"]},
        "fallback",
        "MK+sem handleGetOp; VEC object",
        {"m": {"k": 1}},
    ),
    Case("get-default-expression", {"get": [{}, "x", {"+": [1, 2]}]}, 3, "MK+sem handleGetOp"),
    Case("get-missing-is-null", {"get": [{"var": "m"}, "nope"]}, None, "MK+sem handleGetOp", {"m": {"k": 1}}),
    Case("get-present", {"get": [{"var": "m"}, "k", 9]}, 1, "MK+sem handleGetOp", {"m": {"k": 1}}),
    Case("get-present-null-wins", {"get": [{"var": "m"}, "k", 9]}, None, "MK+sem handleGetOp", {"m": {"k": None}}),
    Case("get-not-a-map", {"get": [[1], "0", 9]}, ERROR, "MK+sem handleGetOp"),
    Case("get-key-not-string", {"get": [{"var": "m"}, 1, 9]}, ERROR, "MK+sem handleGetOp", {"m": {"1": 2}}),
    Case("get-too-many", {"get": [{"var": "m"}, "k", 1, 2]}, ERROR, "MK+sem handleGetOp", {"m": {}}),
    # ---- `let`: both surface forms, sequential bindings, scopes
    Case("let-object-form", {"let": [{"n": 4}, {"*": [{"var": "n"}, 3]}]}, 12, "MK+run normalizeLetArgs; VEC let"),
    Case(
        "let-array-form",
        {"let": [[["n", 4], ["m", 5]], {"+": [{"var": "n"}, {"var": "m"}]}]},
        9,
        "MK+run normalizeLetArgs (array form)",
    ),
    Case(
        "let-sees-outer-data",
        {"let": [{"t": {"+": [{"var": "state.x"}, 1]}}, {"var": "t"}]},
        8,
        "MK+run let bindingCtx",
        {"state": {"x": 7}},
    ),
    Case(
        "let-sequential-array",
        {"let": [[["a", 2], ["b", {"*": [{"var": "a"}, 10]}]], {"var": "b"}]},
        20,
        "MK+run processBindings",
    ),
    Case(
        "let-object-sorted-keys",
        {"let": [{"z": {"+": [{"var": "y"}, 1]}, "y": 5}, {"var": "z"}]},
        6,
        "MK+run normalizeLetArgs (RFC 8785 key order)",
    ),
    Case(
        "let-object-utf16-order",
        {"let": [{"é": {"cat": [{"var": "e"}, "!"]}, "e": "hi"}, {"var": "é"}]},
        "hi!",
        "MK+run normalizeLetArgs (UTF-16 code units: 'e' < 'é')",
    ),
    Case(
        "let-binding-shadows-data", {"let": [{"x": 1}, {"var": "x"}]}, 1, "MK+run letCtx (bindings over ctx)", {"x": 99}
    ),
    Case("let-whole-scope-is-bindings", {"let": [{"a": 1}, {"var": ""}]}, {"a": 1}, "MK+run letCtx; MK+sem getVar"),
    Case("let-no-bindings", {"let": [{}, {"var": "x"}]}, 3, "MK+run normalizeLetArgs", {"x": 3}),
    Case(
        "let-nested",
        {"let": [{"a": 2}, {"let": [{"b": {"*": [{"var": "a"}, 3]}}, {"var": "b"}]}]},
        6,
        "MK+run let (inner scope holds the outer bindings)",
    ),
    Case(
        "let-in-callback-map-element",
        {"map": [[{"p": 2}, {"p": 5}], {"let": [{"q": {"var": "p"}}, {"var": "q"}]}]},
        [2, 5],
        "MK+run let bindingCtx (Some(MapValue) => existing ++ bindings)",
    ),
    Case(
        "let-in-callback-primitive",
        {"map": [[1, 2], {"let": [{"d": {"*": [{"var": ""}, 2]}}, {"var": "d"}]}]},
        [2, 4],
        'MK+run let bindingCtx (Some(other) => bindings + ("" -> other))',
    ),
    Case(
        "let-callback-scope-fresh",
        {"let": [{"k": 10}, {"map": [[1], {"var": "k"}]}]},
        [None],
        "MK+sem handleMapOp (callbacks run with the element as ctx, not the let scope)",
    ),
    Case("let-one-argument", {"let": [{"a": 1}]}, ERROR, "MK+run normalizeLetArgs"),
    Case("let-bad-binding", {"let": [[["a"]], 1]}, ERROR, "MK+run normalizeLetArgs"),
    Case("let-binding-name-not-string", {"let": [[[1, 2]], 1]}, ERROR, "MK+run normalizeLetArgs"),
    # ---- pow: integer exponents only; a negative one is the exact inverse
    Case("pow-negative-exponent", {"pow": [2, -2]}, 0.25, "MK+sem handlePowOp"),
    Case("pow-fractional-exponent", {"pow": [9, 0.5]}, ERROR, "MK+sem handlePowOp"),
    Case("pow-zero-negative", {"pow": [0, -3]}, ERROR, "MK+sem handlePowOp"),
    Case("pow-big-exponent", {"pow": [3, 1000]}, ERROR, "MK+sem handlePowOp (maxSafeExponent 999)"),
    Case("pow-float-base-whole", {"pow": [FLOAT_TWO, 3]}, 8.0, "MK+sem handlePowOp (float base -> Float)"),
    Case("pow-int", {"pow": [-3, 3]}, -27, "MK+sem handlePowOp"),
    # ---- round / floor / ceil always give an Int
    Case("floor-beyond-long", {"floor": [{"*": [1e20, 1.5]}]}, 150_000_000_000_000_000_000, "MK+sem handleFloorOp"),
    Case("round-half-up", {"round": [{"/": [-5, 2]}]}, -3, "MK+sem handleRoundOp (roundHalfUp)"),
    Case("ceil-float", {"ceil": [{"/": [7, 2]}]}, 4, "MK+sem handleCeilOp"),
    # ---- floats as text (cat / join / in): plain decimals, whole floats without ".0"
    Case("cat-whole-float", {"cat": ["n=", FLOAT_TWO]}, "n=2", "MK+num floatToPlainString"),
    Case("cat-small-float", {"cat": [{"/": [3, 100000000]}]}, "0.00000003", "MK+num floatToPlainString"),
    Case("join-floats", {"join": [[ONE_TENTH, FLOAT_TWO], "|"]}, "0.1|2", "MK+sem handleJoinOp; MK+num"),
    Case("in-float-needle", {"in": [FLOAT_TWO, "x2y"]}, True, "MK+sem handleInOp strImpl; MK+num"),
    # ---- min / max keep an Int at any size (rc.9 demoted one beyond a long to a Float)
    Case("max-big-int", {"max": [1, {"pow": [2, 70]}]}, 2**70, "MK+sem handleMaxOp"),
    Case("min-big-negative", {"min": [0, {"pow": [-2, 65]}]}, -(2**65), "MK+sem handleMinOp"),
    Case("max-mixed-is-float", {"max": [3, ONE_TENTH]}, 3.0, "MK+sem handleMaxOp (hasFloat => FloatValue)"),
    Case("max-empty", {"max": []}, ERROR, "MK+sem handleMaxOp"),
    # ---- map ops with no argument
    Case("keys-no-arg", {"keys": []}, None, "MK+sem handleMapKeysOp"),
    Case("values-no-arg", {"values": []}, None, "MK+sem handleMapValuesOp"),
    Case("entries-no-arg", {"entries": []}, None, "MK+sem handleEntriesOp"),
    # ---- substr / slice take 64-bit indices (rc.9: error beyond a 32-bit Int)
    Case("substr-long-start", {"substr": ["abc", 4_000_000_000]}, "", "MK+sem handleSubstrOp (safeToI64)"),
    Case("substr-long-negative", {"substr": ["abc", -4_000_000_000, 2]}, "ab", "MK+sem handleSubstrOp"),
    Case("slice-long-end", {"slice": [[1, 2, 3], 1, 4_000_000_000]}, [2, 3], "MK+sem handleSliceOp (safeToI64)"),
    Case("slice-beyond-long", {"slice": [[1], 0, 2**63]}, ERROR, "MK+sem handleSliceOp (safeToI64)"),
    # ---- unchanged operators the vectors exercise, with our own values
    Case("eq-loose-numeric-string", {"==": [12, "12"]}, True, "MK+sem handleEqOp; VEC comparison"),
    Case("strict-eq-int-float", {"===": [2, FLOAT_TWO]}, False, "MK+sem handleEqStrictOp; VEC strict_equality"),
    Case("div-exact", {"/": [9, 4]}, 2.25, "MK+sem handleDivOp; VEC arithmetic"),
    Case("mod-truncates", {"%": [-9, 4]}, -1, "MK+sem handleModuloOp"),
    Case("if-chain", {"if": [False, 1, {"var": "b"}, 2, 3]}, 2, "MK+run IfElseOp; VEC control_flow", {"b": True}),
    Case("default-skips-falsy", {"default": [0, "", None, "z"]}, "z", "MK+sem handleDefaultOp"),
    Case(
        "missing-dotted",
        {"missing": [["p.q", "p.r"]]},
        ["p.r"],
        "MK+sem handleMissingNone; VEC missing",
        {"p": {"q": 0}},
    ),
    Case("missing-some-min", {"missing_some": [2, ["a", "b", "c"]]}, ["b", "c"], "MK+sem handleMissingSome", {"a": 1}),
    Case("reduce-no-init-empty", {"reduce": [[], {"var": "current"}]}, None, "MK+sem handleReduceOp"),
    Case(
        "callback-sees-outer",
        {"filter": [[1, 6], {">": [{"var": ""}, {"var": "t"}]}]},
        [6],
        "MK+sem getVar combineState; VEC callback_scope",
        {"t": 3},
    ),
]


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_conformance(case: Case) -> None:
    data = {} if case.data is None else case.data
    if case.expected is ERROR:
        with pytest.raises(JlvmError):
            evaluate(case.expr, data)
    else:
        got = evaluate(case.expr, data)
        # Same value *and* type: 1, 1.0 and true are different answers.
        assert strict_equals(got, case.expected), f"{case.name}: {got!r} != {case.expected!r} ({case.source})"


def test_case_names_are_unique() -> None:
    assert len({c.name for c in CASES}) == len(CASES)


def test_let_costs_gas_like_if_and_its_bindings_are_charged() -> None:
    # MK+run chargeBase(LetOp): `let` is charged the flat `if` cost before its children run.
    _, bare = evaluate_metered({"let": [{}, 1]}, {})
    assert bare == 10
    _, with_binding = evaluate_metered({"let": [{"a": {"+": [1, 2]}}, {"var": "a"}]}, {})
    assert with_binding == 10 + 6 + 3  # let, `+` (5 + 1 per extra operand), var (2 + 1 segment)


def test_let_binding_error_carries_the_gas_used() -> None:
    with pytest.raises(JlvmError) as info:
        evaluate_metered({"let": [{"a": {"/": [1, 0]}}, 1]}, {})
    assert info.value.gas_used >= 10


def test_let_is_a_reserved_operator_name_in_definitions() -> None:
    # OttoChain's FiberRules refuse map keys equal to an operator tag; `let` is one now.
    assert validate_expression({"let": [{"a": 1}, {"var": "a"}]}) == []
    problems = validate_expression({"let": 1, "other": 2})
    assert problems and "'let'" in problems[0]


# A guard and an effect through the embedded node's engine: the changed operators decide a transition.
DEFINITION = {
    "states": {"open": {"id": "open", "isFinal": False}, "done": {"id": "done", "isFinal": True}},
    "initialState": "open",
    "transitions": [
        {
            "from": "open",
            "to": "done",
            "eventName": "close",
            # The payload's code must differ in type from the stored one (`!==` across types), and the
            # threshold comes from a `get` default, bound by `let`.
            "guard": {
                "let": [
                    {"limit": {"get": [{"var": "state.limits"}, "close", 5]}},
                    {
                        "and": [
                            {"!==": [{"var": "event.code"}, {"var": "state.code"}]},
                            {"<": [{"var": "event.n"}, {"var": "limit"}]},
                            {"!": [{"all": [{"var": "event.flags"}, {"var": ""}]}]},
                        ]
                    },
                ]
            },
            "effect": {"closedWith": {"let": [[["n", {"var": "event.n"}]], {"*": [{"var": "n"}, 2]}]}},
            "dependencies": [],
        }
    ],
    "metadata": {"name": "ConformanceDemo"},
}


def test_engine_runs_a_transition_decided_by_the_changed_operators() -> None:
    alice = "DAGalice"
    chain = LocalChain()
    chain.create("c1", DEFINITION, {"code": 7, "limits": {}}, [alice])
    # "7" !== 7 (types differ), 3 < 5 (the default limit), all([]) is false so its negation holds.
    fiber = chain.transition("c1", "close", {"code": "7", "n": 3, "flags": []}, alice)
    assert receipt_of(fiber)["success"] is True, receipt_of(fiber)
    assert fiber.current_state == "done"
    assert fiber.state_data["closedWith"] == 6


def test_engine_guard_fails_when_the_types_match() -> None:
    alice = "DAGalice"
    chain = LocalChain()
    chain.create("c2", DEFINITION, {"code": 7, "limits": {}}, [alice])
    fiber = chain.transition("c2", "close", {"code": 7, "n": 3, "flags": []}, alice)
    assert receipt_of(fiber)["success"] is False
    assert fiber.current_state == "open"
