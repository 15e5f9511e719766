"""Unit tests for the pure-Python JLVM (localnet/ottochain/jlvm.py).

Expectations follow metakit v1.7.0-rc.9's JSON Logic (Constellation-Labs/metakit) as OttoChain v0.6.0
uses it, and OttoChain's own JLVM documentation (ottobot-ai/ottochain, docs/reference/jlvm-semantics.md
and docs/guides/json-logic-primer.md); the "⚠" tests pin the places where those docs and the code
disagree, and follow the code. Operators that later metakit changed (``let``, ``!==``, ``all``, ``get``,
``pow``, rounding, float text) follow the newer code; tests/unit/otto/test_jlvm_conformance.py cites it.
"""

from __future__ import annotations

import math
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from localnet.ottochain.jlvm import (
    OPERATORS,
    GasExhaustedError,
    JlvmError,
    evaluate,
    evaluate_metered,
    is_truthy,
    parse_expression,
    strict_equals,
    to_jlvm_value,
    validate_expression,
)

LONG_MAX = (1 << 63) - 1


def ev(expr: Any, data: Any = None) -> Any:
    return evaluate(expr, {} if data is None else data)


def same(actual: Any, expected: Any) -> bool:
    """Equal value *and* type (so 1 vs 1.0 vs True are told apart)."""
    return strict_equals(actual, expected)


def fails(expr: Any, data: Any = None) -> None:
    with pytest.raises(JlvmError):
        ev(expr, data)


# A float that survives parsing (literal whole floats normalise to int).
FLOAT_ONE = {"*": [0.5, 2]}


# ---------------------------------------------------------------------------- operator set


def test_operator_set_is_the_61_metakit_tags_plus_let() -> None:
    assert len(OPERATORS) == 62
    assert "let" in OPERATORS  # later metakit (see test_jlvm_conformance.py)
    expected_extras = {
        "length", "unique", "slice", "reverse", "flatten", "abs", "floor", "ceil", "exists",
        "lower", "upper", "trim", "join", "intersect", "has", "entries", "typeof", "noop",
    }  # fmt: skip
    assert expected_extras <= OPERATORS
    for not_an_op in ("?:", "size", "var", "sum", "avg", "log"):
        assert not_an_op not in OPERATORS


def test_every_operator_has_a_handler_and_a_gas_cost() -> None:
    from localnet.ottochain import jlvm

    assert set(jlvm._HANDLERS) | {"if", "let"} == OPERATORS  # both run lazily in the VM
    assert set(jlvm._BASE_COST) == OPERATORS


# ---------------------------------------------------------------------------- parsing


def test_whole_numbers_parse_as_int_fractions_as_float() -> None:
    assert same(ev(1.0), 1)
    assert same(ev(2.5), 2.5)
    assert same(ev({"var": "x"}, {"x": 3.0}), 3)  # data is normalised the same way
    assert same(to_jlvm_value({"a": [1.0, 1.5, (2.0,)]}), {"a": [1, 1.5, [2]]})
    assert same(ev(1e30), 10**30)  # the decimal the JSON text said, not the binary float


def test_lone_known_op_key_is_a_call_and_non_array_arg_is_wrapped() -> None:
    assert ev({"!": True}) is False
    assert ev({"!": [True]}) is False
    assert ev({"typeof": {"var": "x"}}, {"x": "s"}) == "string"


def test_array_led_by_op_tag_is_a_call_even_if_meant_as_data() -> None:
    # ⚠ ["merge", ...] inside data is an op call, not a literal list of strings.
    assert ev(["cat", "a", "b"]) == "ab"
    assert ev({"in": ["x", ["merge", "x", "y"]]}) is True
    assert ev(["+", 1, 2]) == 3
    assert ev(["hello", "merge"]) == ["hello", "merge"]  # only the head position counts


def test_array_syntax_var() -> None:
    assert ev(["var", "a.b"], {"a": {"b": 7}}) == 7
    assert ev(["var", "missing", 9]) == 9
    assert ev(["var"]) == ["var"]  # a bare ["var"] is just data


def test_unknown_lone_keys_are_map_literals_with_evaluated_values() -> None:
    for key in ("size", "?:"):
        assert ev({key: [{"var": "x"}, 2]}, {"x": 1}) == {key: [1, 2]}
    assert ev({"a": {"+": [1, 2]}, "b": {"var": "x"}}, {"x": "y"}) == {"a": 3, "b": "y"}


def test_empty_object_is_an_empty_map() -> None:
    assert ev({}) == {}
    assert ev({"typeof": [{}]}) == "map"


def test_lone_empty_key_is_var() -> None:
    assert ev({"": "a"}, {"a": 5}) == 5
    assert ev({"": ""}, {"a": 5}) == {"a": 5}


def test_bare_strings_are_literals_not_variables() -> None:
    assert ev({"==": ["state.x", 5]}, {"state": {"x": 5}}) is False
    assert ev({"==": [{"var": "state.x"}, 5]}, {"state": {"x": 5}}) is True


def test_json_loaded_guard_and_state() -> None:
    import json

    guard = json.loads('{"===": [{"var": "state.n"}, 1.0]}')
    assert evaluate(guard, json.loads('{"state": {"n": 1}}')) is True
    assert evaluate(guard, json.loads('{"state": {"n": 1.0}}')) is True
    assert evaluate(guard, json.loads('{"state": {"n": 1.5}}')) is False


def test_literal_arrays_evaluate_their_elements() -> None:
    assert ev([{"var": "a"}, [{"+": [1, 1]}], "x"], {"a": 1}) == [1, [2], "x"]


def test_parse_expression_is_reusable() -> None:
    node = parse_expression({"+": [{"var": "x"}, 1]})
    assert evaluate(node, {"x": 1}) == 2
    assert evaluate(node, {"x": 41}) == 42


def test_non_json_input_is_rejected() -> None:
    with pytest.raises(JlvmError):
        ev({"var": "x"}, {"x": float("nan")})
    with pytest.raises(JlvmError):
        ev({1: "a", 2: "b"})
    with pytest.raises(JlvmError):
        ev({"+": [object()]})


# ---------------------------------------------------------------------------- truthiness / typeof


@pytest.mark.parametrize("value", [None, False, 0, 0.0, "", [], {}])
def test_falsy_values(value: Any) -> None:
    assert is_truthy(value) is False
    assert ev({"!!": [{"var": "v"}]}, {"v": value}) is False


@pytest.mark.parametrize("value", [True, 1, -1, 0.5, "0", "false", " ", [0], [[]], {"a": None}])
def test_truthy_values(value: Any) -> None:
    assert is_truthy(value) is True
    assert ev({"!!": [{"var": "v"}]}, {"v": value}) is True


@pytest.mark.parametrize(
    ("value", "tag"),
    [(None, "null"), (True, "bool"), (False, "bool"), (0, "int"), (2.5, "float"), ("", "string"),
     ([], "array"), ({"a": 1}, "map")],
)  # fmt: skip
def test_typeof(value: Any, tag: str) -> None:
    assert ev({"typeof": [{"var": "v"}]}, {"v": value}) == tag


def test_typeof_of_computed_float_and_arity() -> None:
    assert ev({"typeof": [FLOAT_ONE]}) == "float"
    fails({"typeof": []})
    fails({"typeof": [1, 2]})


# ---------------------------------------------------------------------------- var


DATA = {
    "state": {
        "balance": 10,
        "items": [{"id": "a"}, {"id": "b"}],
        "flag": False,
        "zero": 0,
        "nil": None,
    },
    "list": [10, 20, 30],
    "name": "otto",
}


def test_var_dotted_path_and_array_index() -> None:
    assert ev({"var": "state.balance"}, DATA) == 10
    assert ev({"var": "state.items.1.id"}, DATA) == "b"
    assert ev({"var": "list.2"}, DATA) == 30


def test_var_numeric_key() -> None:
    assert ev({"var": 1}, [5, 6]) == 6
    assert ev({"var": [0]}, [5, 6]) == 5


def test_var_missing_paths_are_null_never_errors() -> None:
    assert ev({"var": "state.nope.deeper"}, DATA) is None
    assert ev({"var": "list.9"}, DATA) is None
    assert ev({"var": "list.-1"}, DATA) is None
    assert ev({"var": "list.x"}, DATA) is None
    assert ev({"var": "name.0"}, DATA) is None  # no indexing into strings
    assert ev({"var": "state.balance.x"}, DATA) is None
    assert ev({"var": "$timestamp"}, DATA) is None


def test_var_empty_path_is_whole_context() -> None:
    assert ev({"var": ""}, DATA) == DATA
    assert ev({"var": ["", 5]}, None) == {}  # "" never falls back to the default


def test_var_trailing_dot_is_null() -> None:
    assert ev({"var": "state."}, DATA) is None
    assert ev({"var": "."}, DATA) is None
    assert ev({"var": ["state.", 1]}, DATA) == 1  # ... and then the default applies


def test_var_default_only_when_result_is_null() -> None:
    assert ev({"var": ["state.missing", 42]}, DATA) == 42
    assert ev({"var": ["state.nil", 42]}, DATA) == 42
    assert ev({"var": ["state.flag", 42]}, DATA) is False
    assert ev({"var": ["state.zero", 42]}, DATA) == 0


def test_var_default_is_a_literal_not_an_expression() -> None:
    assert ev({"var": ["nope", {"+": [1, 2]}]}) == {"+": [1, 2]}


def test_var_computed_path() -> None:
    assert ev({"var": {"cat": ["state.", {"var": "which"}]}}, {**DATA, "which": "balance"}) == 10
    assert ev({"var": [{"cat": ["state.", "gone"]}, "dflt"]}, DATA) == "dflt"
    assert ev({"var": [["name"]]}, DATA) == "otto"  # an array led by a string also works


def test_var_computed_path_must_be_string() -> None:
    fails({"var": {"+": [1, 1]}}, [0, 1, 2])
    fails({"var": None}, DATA)
    fails({"var": True}, DATA)


# ---------------------------------------------------------------------------- and / or / ! / !!


def test_and_or_return_values_not_bools() -> None:
    assert ev({"or": [0, "", "hello", "x"]}) == "hello"
    assert ev({"or": [0, ""]}) == ""
    assert ev({"and": [1, "a", [1]]}) == [1]
    assert ev({"and": [1, 0, "a"]}) == 0
    assert ev({"and": []}) is True
    assert ev({"or": []}) is False


def test_and_or_evaluate_every_argument() -> None:
    fails({"or": [True, {"noop": []}]})
    fails({"and": [False, {"/": [1, 0]}]})


def test_not_and_double_not_take_exactly_one_argument() -> None:
    assert ev({"!": [[]]}) is True
    assert ev({"!!": ["x"]}) is True
    for op in ("!", "!!"):
        fails({op: []})
        fails({op: [1, 2]})


# ---------------------------------------------------------------------------- if / default / noop


def test_if_is_lazy() -> None:
    assert ev({"if": [True, "yes", {"noop": []}]}) == "yes"
    assert ev({"if": [False, {"noop": []}, "no"]}) == "no"


def test_if_chains_and_no_match_is_null() -> None:
    expr = {"if": [{"<": [{"var": "x"}, 0]}, "neg", {"==": [{"var": "x"}, 0]}, "zero", "pos"]}
    assert [ev(expr, {"x": x}) for x in (-1, 0, 5)] == ["neg", "zero", "pos"]
    assert ev({"if": [False, "a"]}) is None  # ⚠ even arg count is fine; no match -> null
    assert ev({"if": [False, "a", False, "b"]}) is None
    assert ev({"if": [[], "a", "else"]}) == "else"  # condition uses truthiness


def test_if_needs_two_arguments() -> None:
    fails({"if": []})
    fails({"if": [True]})


def test_default_returns_first_non_null_truthy() -> None:
    assert ev({"default": [None, 0, "", "x", "y"]}) == "x"
    assert ev({"default": [{"var": "nope"}, 5]}) == 5
    assert ev({"default": [0, False]}) is None
    assert ev({"default": []}) is None


def test_noop_always_errors() -> None:
    fails({"noop": []})
    fails({"noop": [1]})
    fails(["noop"])


# ---------------------------------------------------------------------------- == / !=


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        (1, 1, True),
        ("", 0, True),
        ([], 0, True),
        ({}, 0, True),
        ("5", 5, True),
        ("-5", -5, True),
        ([5], 5, True),
        ({"k": "x"}, "x", True),
        ([[7]], 7, True),
        (None, None, True),
        (None, 0, False),
        (None, "", False),
        (None, False, False),
        (True, 1, True),
        (False, 0, True),
        (True, 2, False),
        ("true", True, True),
        ("TRUE", True, True),
        ("false", False, True),
        ("yes", True, False),
        (1, "1.0", False),
        (1.5, "1.5", True),
        (1.5, "1.50", True),
        ("a", "a", True),
        ("a", "b", False),
        (1, 2.5, False),
        (FLOAT_ONE, 1, True),
    ],
)
def test_loose_equality(a: Any, b: Any, expected: bool) -> None:
    assert ev({"==": [a, b]}) is expected
    assert ev({"==": [b, a]}) is expected
    assert ev({"!=": [a, b]}) is (not expected)


def test_loose_equality_rejects_large_collections_and_bad_arity() -> None:
    fails({"==": [[1, 2], 1]})
    fails({"==": [{"var": "m"}, 1]}, {"m": {"a": 1, "b": 2}})
    fails({"!=": [[1, 2], [1, 2]]})
    fails({"==": [1]})
    fails({"==": [1, 1, 1]})


# ---------------------------------------------------------------------------- === / !==


def test_strict_equality_needs_same_type() -> None:
    assert ev({"===": [1, 1]}) is True
    assert ev({"===": [1, FLOAT_ONE]}) is False  # 1 === 1.0 is false
    assert ev({"===": [1, "1"]}) is False
    assert ev({"===": [True, 1]}) is False
    assert ev({"===": [None, None]}) is True
    deep = {"===": [{"var": "a"}, {"var": "b"}]}
    assert ev(deep, {"a": [1, {"x": [2]}], "b": [1, {"x": [2]}]}) is True
    assert ev(deep, {"a": [1, {"x": [2]}], "b": [1, {"x": [True]}]}) is False


def test_strict_inequality_is_the_negation_of_strict_equality() -> None:
    # Later metakit: `!==` is `!(===)`, so mixed types are strictly unequal (rc.9 said false).
    assert ev({"!==": [1, 2]}) is True
    assert ev({"!==": ["a", "a"]}) is False
    assert ev({"!==": [1, "1"]}) is True
    assert ev({"!==": [1, FLOAT_ONE]}) is True
    assert ev({"!==": [None, 1]}) is True
    assert ev({"!==": [None, None]}) is False
    assert ev({"!==": [True, 1]}) is True
    assert ev({"!==": [[1], [2]]}) is True


def test_strict_equals_helper() -> None:
    assert strict_equals({"a": [1, 2.5]}, {"a": [1, 2.5]})
    assert not strict_equals(True, 1)
    assert not strict_equals(0, False)
    assert not strict_equals(1, 1.0)
    assert not strict_equals([1], [1, 1])
    assert not strict_equals({"a": 1}, {"b": 1})


# ---------------------------------------------------------------------------- < <= > >=


def test_comparisons() -> None:
    assert ev({"<": [1, 2]}) is True
    assert ev({"<": [2, 2]}) is False
    assert ev({"<=": [2, 2]}) is True
    assert ev({">": [3, 2.5]}) is True
    assert ev({">=": [2, 2]}) is True
    assert ev({"<": ["9", 10]}) is True  # numeric strings are parsed, not compared as text
    assert ev({"<": [None, 1]}) is True  # null -> 0
    assert ev({"<": [False, True]}) is True
    assert ev({">": [[5], 4]}) is True


def test_between_forms_of_lt_and_le() -> None:
    assert ev({"<": [0, 5, 10]}) is True
    assert ev({"<": [0, 10, 10]}) is False
    assert ev({"<=": [0, 10, 10]}) is True
    assert ev({"<=": [0, 11, 10]}) is False


def test_comparison_arity_and_types() -> None:
    fails({">": [1, 2, 3]})
    fails({">=": [1, 2, 3]})
    fails({"<": [1]})
    fails({"<": [1, 2, 3, 4]})
    fails({"<": ["abc", 1]})
    fails({">": [1, "1x"]})
    fails({"<": [[1, 2], 1]})


# ---------------------------------------------------------------------------- + - * / %


def test_addition_promotions() -> None:
    assert same(ev({"+": [1, 2]}), 3)
    assert same(ev({"+": [True, None, "", "4"]}), 5)
    assert same(ev({"+": [1, 0.5]}), 1.5)
    assert same(ev({"+": [0.1, 0.2]}), 0.3)  # exact decimal arithmetic
    assert same(ev({"+": [[], [3]]}), 3)
    assert same(ev({"+": [{}, {"k": 2}]}), 2)
    assert same(ev({"+": ["3.5"]}), 3.5)
    assert same(ev({"+": "7"}), 7)
    assert same(ev({"+": [[1, 2, 3]]}), 6)  # a single array argument is summed
    assert same(ev({"+": [2.5, 2.5]}), 5.0)  # float in -> float out, even when whole


def test_addition_errors() -> None:
    fails({"+": []})
    fails({"+": ["abc"]})
    fails({"+": [1, [1, 2]]})
    fails({"+": [1, {"a": 1, "b": 2}]})


def test_int_result_must_fit_in_64_bits() -> None:
    assert same(ev({"+": [LONG_MAX - 1, 1]}), LONG_MAX)
    overflow = ev({"+": [LONG_MAX, 1]})
    assert isinstance(overflow, float) and overflow == float(LONG_MAX + 1)
    assert isinstance(ev({"*": [1 << 40, 1 << 40]}), float)


def test_subtraction_and_negation() -> None:
    assert same(ev({"-": [5, 7]}), -2)
    assert same(ev({"-": [5]}), -5)
    assert same(ev({"-": ["2.5"]}), -2.5)
    assert same(ev({"-": [1, 0.25]}), 0.75)
    fails({"-": []})
    fails({"-": [1, 2, 3]})


def test_multiplication() -> None:
    assert same(ev({"*": [2, 3, 4]}), 24)
    assert same(ev({"*": [1.5, 2]}), 3.0)
    assert same(ev({"*": ["2", True]}), 2)
    fails({"*": []})


def test_division_is_exact_decimal() -> None:
    # ⚠ the doc claims integer truncation; the code divides exactly (DECIMAL128).
    assert same(ev({"/": [7, 2]}), 3.5)
    assert same(ev({"/": [10, 2]}), 5)
    assert same(ev({"/": [-7, 2]}), -3.5)
    assert same(ev({"/": [1, 4]}), 0.25)
    assert same(ev({"/": [3.0, 1.5]}), 2.0)  # a float operand keeps a float result
    assert ev({"/": [1, 3]}) == pytest.approx(1 / 3)


def test_division_by_zero_errors() -> None:
    zeros: tuple[Any, ...] = (0, 0.0, None, "", "0", [], False)  # each promotes to 0
    for zero in zeros:
        fails({"/": [1, zero]})
        fails({"%": [1, zero]})
    fails({"/": [1]})


def test_modulo_truncates_toward_zero() -> None:
    assert same(ev({"%": [-7, 3]}), -1)  # Python would say 2
    assert same(ev({"%": [7, -3]}), 1)
    assert same(ev({"%": [7, 3]}), 1)
    assert same(ev({"%": [5.5, 2]}), 1.5)
    fails({"%": [1, 2, 3]})


# ---------------------------------------------------------------------------- min max round pow ...


def test_min_max() -> None:
    assert same(ev({"max": [1, 5, 3]}), 5)
    assert same(ev({"min": [1, 5, 3]}), 1)
    assert same(ev({"max": [[4, 9, 2]]}), 9)
    assert same(ev({"max": [1, 2.5, 3]}), 3.0)  # any float input -> float result
    assert same(ev({"min": ["4", None]}), 0)
    fails({"max": []})
    fails({"min": []})
    fails({"min": [[]]})
    fails({"max": ["x", 1]})


def test_round_is_half_up() -> None:
    assert same(ev({"round": [2.5]}), 3)
    assert same(ev({"round": [-2.5]}), -3)  # half away from zero, not banker's rounding
    assert same(ev({"round": [0.5]}), 1)
    assert same(ev({"round": [1.49]}), 1)
    assert same(ev({"round": [7]}), 7)
    assert same(ev({"round": ["2.5"]}), 3)
    fails({"round": [1.5, 1]})


def test_floor_ceil_abs() -> None:
    assert same(ev({"floor": [-1.5]}), -2)
    assert same(ev({"ceil": [-1.5]}), -1)
    assert same(ev({"ceil": [1.1]}), 2)
    assert same(ev({"floor": [3]}), 3)
    assert same(ev({"abs": [-3]}), 3)
    assert same(ev({"abs": [-2.5]}), 2.5)
    assert same(ev({"abs": [True]}), 1)
    assert same(ev({"abs": ["-4"]}), 4)
    assert same(ev({"floor": [{"*": [1e30, 1.5]}]}), 15 * 10**29)  # later metakit: an int at any size
    fails({"abs": []})
    fails({"floor": ["x"]})


def test_pow() -> None:
    assert same(ev({"pow": [2, 10]}), 1024)
    assert same(ev({"pow": [10, 30]}), 10**30)  # exact big integer
    assert same(ev({"pow": [2, 0]}), 1)
    assert same(ev({"pow": [2, -1]}), 0.5)  # later metakit: the exact inverse, a float
    assert same(ev({"pow": [4, -2]}), 0.0625)
    assert same(ev({"pow": [1.5, 2]}), 2.25)
    assert same(ev({"pow": [{"*": [2.5, 2]}, 2]}), 25.0)  # a float base gives a float, even when whole
    assert same(ev({"pow": ["3", 2]}), 9)  # a numeric string promotes to an int base
    assert same(ev({"pow": [2, 999]}), 2**999)


def test_pow_exponent_is_capped_at_999() -> None:
    fails({"pow": [2, 1000]})
    fails({"pow": [2.5, 1000]})
    fails({"pow": [2, -1000]})
    fails({"pow": [0, -1]})  # infinity
    fails({"pow": [-8, 0.5]})
    fails({"pow": [4, 0.5]})  # later metakit: fractional exponents are refused, not Math.pow
    fails({"pow": [2]})


# ---------------------------------------------------------------------------- callbacks


ITEMS = {"state": {"min": 5}, "items": [{"price": 3}, {"price": 10}, {"price": 7}]}


def test_map_filter_find_count() -> None:
    assert ev({"map": [{"var": "xs"}, {"*": [{"var": ""}, 2]}]}, {"xs": [1, 2, 3]}) == [2, 4, 6]
    assert ev({"filter": [{"var": "items"}, {">": [{"var": "price"}, 5]}]}, ITEMS) == [
        {"price": 10},
        {"price": 7},
    ]
    assert ev({"find": [{"var": "items"}, {">": [{"var": "price"}, 5]}]}, ITEMS) == {"price": 10}
    assert ev({"find": [{"var": "items"}, {">": [{"var": "price"}, 99]}]}, ITEMS) is None
    assert ev({"count": [{"var": "items"}]}, ITEMS) == 3
    assert ev({"count": [{"var": "items"}, {">": [{"var": "price"}, 5]}]}, ITEMS) == 2


def test_callback_map_element_is_merged_over_the_root() -> None:
    # `state.min` still resolves inside the callback even though the element is a map.
    expr = {"filter": [{"var": "items"}, {">=": [{"var": "price"}, {"var": "state.min"}]}]}
    assert ev(expr, ITEMS) == [{"price": 10}, {"price": 7}]
    # element keys shadow root keys of the same name
    assert ev({"map": [[{"state": "mine"}], {"var": "state"}]}, ITEMS) == ["mine"]


def test_callback_primitive_element_keeps_root_visible() -> None:
    assert ev({"map": [[1, 2], {"+": [{"var": ""}, {"var": "state.min"}]}]}, ITEMS) == [6, 7]


def test_nested_callbacks_see_only_the_innermost_element() -> None:
    expr = {"map": [[{"a": 1}], {"map": [[{"b": 2}], [{"var": "a"}, {"var": "b"}]]}]}
    assert ev(expr, {}) == [[[None, 2]]]


def test_missing_inside_a_callback_checks_the_root_only() -> None:
    assert ev({"map": [[{"x": 1}], {"missing": ["x"]}]}, {}) == [["x"]]


def test_reduce() -> None:
    sum_expr = {"+": [{"var": "current"}, {"var": "accumulator"}]}
    assert ev({"reduce": [[1, 2, 3], sum_expr, 10]}) == 16
    assert ev({"reduce": [[1, 2, 3], sum_expr]}) == 6  # seeded with the first element
    assert ev({"reduce": [[], sum_expr]}) is None
    assert ev({"reduce": [[], sum_expr, 0]}) == 0
    concat = {"cat": [{"var": "accumulator"}, {"var": "current"}]}
    assert ev({"reduce": [["a", "b"], concat, ""]}) == "ab"
    # the reduce context is merged over the root too
    expr = {"reduce": [[1, 2], {"+": [{"var": "accumulator"}, {"var": "k"}]}, 0]}
    assert ev(expr, {"k": 5}) == 10


def test_reduce_initial_value_must_be_primitive() -> None:
    sum_expr = {"+": [{"var": "current"}, {"var": "accumulator"}]}
    fails({"reduce": [[1], sum_expr, None]})
    fails({"reduce": [[1], sum_expr, [0]]})
    fails({"reduce": [[1], sum_expr, {"a": 0}]})
    fails({"reduce": [None, sum_expr, 0]})


def test_some_all_none() -> None:
    pos = {">": [{"var": ""}, 0]}
    assert ev({"all": [[1, 2], pos]}) is True
    assert ev({"all": [[1, -2], pos]}) is False
    assert ev({"some": [[-1, 2], pos]}) is True
    assert ev({"some": [[-1, -2], pos]}) is False
    assert ev({"none": [[-1, -2], pos]}) is True
    assert ev({"none": [[1, -2], pos]}) is False


def test_some_optional_minimum() -> None:
    pos = {">": [{"var": ""}, 0]}
    assert ev({"some": [[1, 2, -3], pos, 2]}) is True
    assert ev({"some": [[1, 2, -3], pos, 3]}) is False
    fails({"some": [[1], pos, "2"]})


def test_quantifier_edge_cases() -> None:
    pos = {">": [{"var": ""}, 0]}
    assert ev({"all": [[], pos]}) is False  # later metakit: no vacuous truth for `all` ...
    assert ev({"none": [[], pos]}) is True  # ... while `none` of [] stays true
    assert ev({"some": [[], pos]}) is False
    assert ev({"all": [None, pos]}) is False  # all(null) = false ...
    fails({"none": [None, pos]})  # ... but other non-arrays error
    fails({"some": [None, pos]})
    fails({"all": ["abc", pos]})


@pytest.mark.parametrize("op", ["map", "filter", "find", "count", "some", "none", "all", "reduce"])
def test_callback_ops_reject_non_arrays(op: str) -> None:
    fails({op: [{"var": "x"}, True]}, {"x": {"a": 1}})
    fails({op: ["abc", True]})
    fails({op: [5, True]})


def test_callback_ops_arity() -> None:
    fails({"map": [[1, 2]]})
    fails({"filter": [[1], True, 3]})
    fails({"map": []})


# ---------------------------------------------------------------------------- merge / in


def test_merge_maps_shallow_later_wins() -> None:
    merged = ev({"merge": [{"a": 1, "b": {"x": 1}}, {"b": {"y": 2}, "c": 3}]})
    assert merged == {"a": 1, "b": {"y": 2}, "c": 3}
    merged = ev({"merge": [{"var": "state"}, {"x": 1}]}, {"state": {"x": 0, "y": 2}})
    assert merged == {"x": 1, "y": 2}
    assert ev({"merge": []}) == {}


def test_merge_otherwise_flattens_one_level() -> None:
    assert ev({"merge": [[1, 2], 3, [[4]]]}) == [1, 2, 3, [4]]
    assert ev({"merge": [[1], {"a": 1}]}) == [1, {"a": 1}]
    assert ev({"merge": [[[1], 2]]}) == [1, 2]
    assert ev({"merge": 5}) == [5]


def test_in() -> None:
    assert ev({"in": ["ell", "hello"]}) is True
    assert ev({"in": ["z", "hello"]}) is False
    assert ev({"in": [1, "a1b"]}) is True
    assert ev({"in": [True, "is true"]}) is True
    assert ev({"in": [None, "null"]}) is False  # null needle -> false
    assert ev({"in": [None, None]}) is False
    assert ev({"in": ["b", ["a", "b"]]}) is True
    assert ev({"in": [{"var": "n"}, [{"k": [1]}]]}, {"n": {"k": [1]}}) is True  # deep equality


def test_in_array_uses_strict_equality() -> None:
    assert ev({"in": [1, ["1", True, FLOAT_ONE]]}) is False
    assert ev({"in": [True, [1]]}) is False
    assert ev({"in": [1, [True, 1]]}) is True


def test_in_rejects_null_and_map_haystacks() -> None:
    fails({"in": ["a", None]})
    fails({"in": ["a", {"var": "m"}]}, {"m": {"a": 1}})
    fails({"in": [[1], "abc"]})
    fails({"in": ["a"]})


# ---------------------------------------------------------------------------- strings


def test_cat() -> None:
    assert ev({"cat": ["a", 1, None, True, 2.5]}) == "a1true2.5"
    assert ev({"cat": ["v", FLOAT_ONE]}) == "v1"  # later metakit: a whole float prints without ".0"
    assert ev({"cat": ["v", {"/": [1, 10000000]}]}) == "v0.0000001"  # plain, never "1E-7"
    assert ev({"cat": []}) == ""
    assert ev({"cat": "solo"}) == "solo"


def test_cat_rejects_collections() -> None:
    # ⚠ unlike standard JSON Logic, arrays and maps are not stringified.
    fails({"cat": ["a", [1, 2]]})
    fails({"cat": ["a", {"var": "m"}]}, {"m": {"k": 1}})


def test_substr() -> None:
    assert ev({"substr": ["jsonlogic", 4]}) == "logic"
    assert ev({"substr": ["jsonlogic", -5]}) == "logic"
    assert ev({"substr": ["jsonlogic", 0, 1]}) == "j"
    assert ev({"substr": ["jsonlogic", -5, 2]}) == "lo"
    assert ev({"substr": ["jsonlogic", 4, -2]}) == "log"
    assert ev({"substr": ["abc", 10]}) == ""
    assert ev({"substr": ["abc", -10, 2]}) == "ab"
    fails({"substr": ["abc", "1"]})
    fails({"substr": [None, 1]})
    fails({"substr": ["abc"]})


def test_split_join() -> None:
    assert ev({"split": ["a,b,,c,", ","]}) == ["a", "b", "", "c", ""]
    assert ev({"split": ["a.b", "."]}) == ["a", "b"]  # separator is literal, not a regex
    fails({"split": ["abc", ""]})
    fails({"split": ["abc", None]})
    assert ev({"join": [["a", 1, None, True, [2]], "-"]}) == "a-1--true-"
    fails({"join": ["abc", "-"]})


def test_starts_ends_with() -> None:
    assert ev({"startsWith": ["hello", "he"]}) is True
    assert ev({"startsWith": ["hello", "lo"]}) is False
    assert ev({"endsWith": ["hello", "lo"]}) is True
    for op in ("startsWith", "endsWith"):
        assert ev({op: [None, "x"]}) is False
        assert ev({op: ["x", None]}) is False
        assert ev({op: [None, 5]}) is False
        fails({op: ["x", 5]})
        fails({op: [5, "x"]})


def test_lower_upper_trim() -> None:
    assert ev({"lower": ["AbC"]}) == "abc"
    assert ev({"upper": ["AbC"]}) == "ABC"
    assert ev({"trim": ["\t  x y \n"]}) == "x y"
    assert ev({"trim": ["\u00a0x\u00a0"]}) == "\u00a0x\u00a0"  # Java trim keeps NBSP
    fails({"lower": [1]})
    fails({"trim": [None]})


def test_length() -> None:
    assert ev({"length": ["abc"]}) == 3
    assert ev({"length": [[1, 2]]}) == 2
    assert ev({"length": ["😀"]}) == 2  # Java counts UTF-16 code units
    fails({"length": [None]})
    fails({"length": [{"var": "m"}]}, {"m": {"a": 1}})


# ---------------------------------------------------------------------------- maps


def test_keys_values_entries_has() -> None:
    data = {"m": {"a": 1, "b": 2}}
    assert ev({"keys": [{"var": "m"}]}, data) == ["a", "b"]
    assert ev({"values": [{"var": "m"}]}, data) == [1, 2]
    assert ev({"entries": [{"var": "m"}]}, data) == [["a", 1], ["b", 2]]
    assert ev({"has": [{"var": "m"}, "a"]}, data) is True
    assert ev({"has": [{"var": "m"}, "z"]}, data) is False
    assert ev({"keys": [None]}) is None
    assert ev({"values": [{"var": "nope"}]}) is None
    fails({"keys": [[1]]})
    fails({"values": ["s"]})
    fails({"entries": [None]})
    fails({"has": [None, "a"]})


def test_get() -> None:
    data = {"m": {"a": 1, "n": None}}
    assert ev({"get": [{"var": "m"}, "a"]}, data) == 1
    assert ev({"get": [{"var": "m"}, "n"]}, data) is None  # present-but-null is fine
    assert ev({"get": [{"var": "m"}, "zz"]}, data) is None  # later metakit: a missing key is null
    assert ev({"get": [{"var": "m"}, "zz", 7]}, data) == 7
    assert ev({"get": [{"var": "m"}, "n", 7]}, data) is None  # present-but-null is not replaced
    fails({"get": [{"var": "m"}, "a", 1, 2]}, data)
    fails({"get": [None, "a"]})
    fails({"get": [{"var": "m"}, 1]}, data)


# ---------------------------------------------------------------------------- arrays


def test_unique_slice_reverse_flatten_intersect() -> None:
    assert ev({"unique": [[1, 2, 1, "1", True, FLOAT_ONE, 2]]}) == [1, 2, "1", True, 1.0]
    assert ev({"slice": [[1, 2, 3, 4], 1]}) == [2, 3, 4]
    assert ev({"slice": [[1, 2, 3, 4], -2]}) == [3, 4]
    assert ev({"slice": [[1, 2, 3, 4], 1, -1]}) == [2, 3]
    assert ev({"slice": [[1, 2, 3], 2, 1]}) == []
    assert ev({"reverse": [[1, 2, 3]]}) == [3, 2, 1]
    assert ev({"flatten": [[1, [2, [3]], []]]}) == [1, 2, [3]]
    assert ev({"intersect": [[1, 2], [2, 1, 3]]}) is True
    assert ev({"intersect": [[1, 4], [2, 1, 3]]}) is False
    assert ev({"intersect": [None, [1]]}) is True
    assert ev({"intersect": [[1], None]}) is False
    fails({"unique": ["abc"]})
    fails({"slice": [[1], "0"]})
    fails({"reverse": [None]})
    fails({"flatten": [{"var": "x"}]}, {"x": "s"})
    fails({"intersect": [1, [1]]})


# ---------------------------------------------------------------------------- missing / exists


def test_missing_and_missing_some() -> None:
    data = {"a": 1, "b": {"c": None}, "xs": [0]}
    assert ev({"missing": ["a", "b.c", "z", "xs.0"]}, data) == ["b.c", "z"]
    assert ev({"missing": [["a", "q"]]}, data) == ["q"]
    assert ev({"missing": []}, data) == []
    assert ev({"missing_some": [1, ["a", "z"]]}, data) == []
    assert ev({"missing_some": [2, ["a", "z", "y"]]}, data) == ["z", "y"]
    assert ev({"missing_some": [["z", "a"]]}, data) == []  # min defaults to 1
    fails({"missing_some": [0, ["a"]]}, data)
    fails({"missing_some": ["1", ["a"]]}, data)


def test_exists() -> None:
    assert ev({"exists": [1, "a", False]}) is True
    assert ev({"exists": [1, {"var": "nope"}]}) is False
    assert ev({"exists": [[1, None]]}) is False
    assert ev({"exists": []}) is True


# ---------------------------------------------------------------------------- gas


def test_gas_is_metered_per_operation() -> None:
    _, const_gas = evaluate_metered(5, {})
    assert const_gas == 0
    _, add_gas = evaluate_metered({"+": [1, 2]}, {})
    _, nested_gas = evaluate_metered({"+": [1, {"+": [2, 3]}]}, {})
    assert add_gas > 0 and nested_gas > add_gas
    _, var_gas = evaluate_metered({"var": "a.b.c"}, {})
    _, short_var_gas = evaluate_metered({"var": "a"}, {})
    assert var_gas > short_var_gas > 0


def test_gas_grows_with_collection_size() -> None:
    expr = {"map": [{"var": "xs"}, {"+": [{"var": ""}, 1]}]}
    _, small = evaluate_metered(expr, {"xs": list(range(2))})
    _, large = evaluate_metered(expr, {"xs": list(range(20))})
    assert large > small


def test_gas_exhaustion_raises() -> None:
    expr = {"map": [{"var": "xs"}, {"*": [{"var": ""}, 2]}]}
    result, used = evaluate_metered(expr, {"xs": list(range(50))})
    assert result[-1] == 98
    assert evaluate(expr, {"xs": list(range(50))}, gas_limit=used) == result  # exactly enough
    with pytest.raises(GasExhaustedError):
        evaluate(expr, {"xs": list(range(50))}, gas_limit=used - 1)
    assert issubclass(GasExhaustedError, JlvmError)


def test_gas_exhaustion_stops_runaway_nesting() -> None:
    inner = {"map": [{"var": "xs"}, {"map": [{"var": "xs"}, {"+": [{"var": ""}, 1]}]}]}
    with pytest.raises(GasExhaustedError):
        evaluate(inner, {"xs": list(range(300))}, gas_limit=10_000)


def test_untaken_if_branches_cost_nothing() -> None:
    cheap = {"if": [True, 1, {"map": [{"var": "xs"}, {"+": [{"var": ""}, 1]}]}]}
    _, used = evaluate_metered(cheap, {"xs": list(range(1000))})
    assert used < 50


# ---------------------------------------------------------------------------- results are fresh


def test_results_do_not_alias_input_data() -> None:
    data = {"state": {"items": [1, 2]}}
    result = evaluate({"a": {"var": "state"}, "b": {"var": "state"}}, data)
    result["a"]["items"].append(3)
    assert data["state"]["items"] == [1, 2]
    assert result["b"]["items"] == [1, 2]


# ---------------------------------------------------------------------------- validation


def test_validate_accepts_ordinary_guards_and_effects() -> None:
    guard = {
        "and": [
            {"==": [{"var": "event.agent"}, {"var": "state.owner"}]},
            {">": [{"var": "event.amount"}, 0]},
        ]
    }
    effect = {
        "balance": {"+": [{"var": "state.balance"}, 1]},
        "size": 3,
        "_emit": [{"name": "x", "data": {}}],
    }
    assert validate_expression(guard) == []
    assert validate_expression(effect) == []


def test_validate_flags_map_key_named_count_inside_guard() -> None:
    guard = {"==": [{"var": "state.n"}, {"count": 1, "label": "x"}]}
    problems = validate_expression(guard)
    assert len(problems) == 1 and "'count'" in problems[0]


def test_validate_flags_map_key_named_merge_deep_inside() -> None:
    effect = {"total": {"+": [1, 2]}, "meta": {"info": {"merge": True, "x": 1}}}
    problems = validate_expression(effect)
    assert len(problems) == 1 and "'merge'" in problems[0]
    # a lone op-key object is a call, not a map key
    assert validate_expression({"merge": [{"a": 1}, {"b": 2}]}) == []


def test_validate_flags_every_reserved_key() -> None:
    problems = validate_expression({"keys": 1, "max": 2, "ok": {"if": 3, "z": 0}})
    assert sorted(p.split("'")[1] for p in problems) == ["if", "keys", "max"]


def test_validate_ignores_literal_var_defaults() -> None:
    # OC scans parsed expressions; a var default is a constant, not a map expression.
    assert validate_expression({"var": ["x", {"count": 1, "b": 2}]}) == []


def _nest(depth: int) -> Any:
    expr: Any = 1
    for _ in range(depth):
        expr = {"!": [expr]}
    return expr


def test_validate_depth_limit() -> None:
    assert validate_expression(_nest(100)) == []
    problems = validate_expression(_nest(101))
    assert len(problems) == 1 and "depth" in problems[0]


def test_deeply_nested_expression_errors_cleanly() -> None:
    assert ev(_nest(100)) is True
    with pytest.raises(JlvmError):
        ev(_nest(5000))


# ---------------------------------------------------------------------------- properties

longs = st.integers(min_value=-(10**12), max_value=10**12)
nonzero = longs.filter(lambda n: n != 0)

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=8),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=5), children, max_size=4),
    max_leaves=12,
)


@given(longs, nonzero)
def test_modulo_sign_follows_dividend(a: int, b: int) -> None:
    r = ev({"%": [a, b]})
    assert same(r, int(math.fmod(a, b)))  # |a| < 2**53, so fmod is exact
    assert r == 0 or (r > 0) == (a > 0)
    assert abs(r) < abs(b)


@given(st.lists(longs, min_size=1, max_size=8))
def test_adding_ints_stays_int(xs: list[int]) -> None:
    result = ev({"+": xs})
    assert same(result, sum(xs))


@given(longs, nonzero)
def test_division_is_exact(a: int, b: int) -> None:
    result = ev({"/": [a, b]})
    if a % b == 0:
        assert same(result, a // b)
    else:
        assert isinstance(result, float)
        assert result == pytest.approx(a / b, rel=1e-15)


@given(json_values)
def test_strict_equality_is_reflexive(value: Any) -> None:
    assert strict_equals(value, value)
    assert ev({"===": [{"var": "v"}, {"var": "v"}]}, {"v": value}) is True
    assert ev({"!==": [{"var": "v"}, {"var": "v"}]}, {"v": value}) is False


@given(json_values, json_values)
def test_strict_inequality_is_always_the_negation(a: Any, b: Any) -> None:
    data = {"a": a, "b": b}
    strict_ne = ev({"!==": [{"var": "a"}, {"var": "b"}]}, data)
    strict_eq = ev({"===": [{"var": "a"}, {"var": "b"}]}, data)
    assert strict_ne is (not strict_eq)
    if ev({"typeof": [{"var": "a"}]}, data) != ev({"typeof": [{"var": "b"}]}, data):
        assert strict_eq is False


@given(json_values)
def test_truthiness_matches_double_negation(value: Any) -> None:
    assert ev({"!!": [{"var": "v"}]}, {"v": value}) is is_truthy(to_jlvm_value(value))
    assert ev({"!": [{"var": "v"}]}, {"v": value}) is (not is_truthy(to_jlvm_value(value)))
