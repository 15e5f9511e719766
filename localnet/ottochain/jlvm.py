"""Pure-Python JSON-Logic VM ("JLVM") with OttoChain / metakit semantics.

Faithful to metakit v1.7.0-rc.9 (Constellation-Labs/metakit, ``io.constellationnetwork.metagraph_sdk.json_logic``)
as used by OttoChain v0.6.0 (ottobot-ai/ottochain, whose docs/reference/jlvm-semantics.md and
docs/guides/json-logic-primer.md describe the semantics), except where later metakit changed an
operator to agree with the cross-language conformance vectors (ottobot-ai/metakit-sdk
shared/json_logic_test_vectors.json, run by OttoChain's TypeScript evaluator): ``let``, ``!==``,
``all`` of ``[]``, ``get`` with a default, ``pow``, ``round``/``floor``/``ceil``, the text of floats
and the argument-less map ops follow the newer metakit (marked "MK+" below).  Rules quoted in
comments as "MK" come from metakit's implementation; "⚠" marks a place where OttoChain's docs and
that code disagree, and the code is followed.  docs/ottochain-wire.md ("JLVM conformance") lists
what was checked against which source and the differences that remain.

Values are plain JSON-like Python objects: ``None``, ``bool``, ``int`` (metakit ``IntValue``),
``float`` (``FloatValue``), ``str``, ``list`` and ``dict``.  ``bool`` is never treated as an
``int`` for type purposes (``typeof(true) == "bool"``, ``true !== 1``) even though Python's bool
subclasses int.  Whole-number floats in expressions and data parse as ``int`` (MK decodes every
JSON number with ``toBigIntExact``), so ``1.0`` is ``1``; computed results keep their type
(``2.5 * 2`` is the float ``5.0``).  Arithmetic runs in :class:`decimal.Decimal` with a 34-digit
(DECIMAL128) context and is converted back, so ``0.1 + 0.2 == 0.3``.

Gas model (modelled on metakit's ``GasConfig.Default``, not bit-exact; see ``_BASE_COST``):

* constants and literal arrays/maps cost 0;
* a ``var`` lookup costs ``2 + number of path segments`` (MK ``varAccess + segments``);
* every operator application costs its base cost from ``_BASE_COST`` (charged after its
  arguments are evaluated, before it runs) plus a size surcharge from ``_surcharge`` (e.g. one
  unit per element scanned by ``map``/``filter``, per character produced by ``cat``);
* ``if`` and ``let`` cost 10 on entry; callback bodies are charged like any other expression, per
  element; a ``let`` scope over a callback element costs one unit per key it combines.

* ``unique``, ``intersect`` and ``in`` over nested values cost one more unit per nested value they
  compare (flat arrays cost what MK charges), and the result of an evaluation costs one unit per
  element it holds when it is copied out.  Both keep gas proportional to the work done even when a
  value shares sub-values many times over (``reduce`` can double a value's size at each step).

Evaluation raises :class:`GasExhaustedError` (a :class:`JlvmError`) once the total exceeds
``gas_limit``.  Any :class:`JlvmError` from :func:`evaluate_metered` carries the gas used up to the
failure in ``gas_used``, so a failed guard is charged what it ran.  MK's per-node depth penalty and
its double-counting of nested metrics are not modelled.
"""

from __future__ import annotations

import itertools
import math
import re
import reprlib
from collections.abc import Callable, Iterable, Mapping, Sequence
from decimal import (
    ROUND_CEILING,
    ROUND_FLOOR,
    ROUND_HALF_EVEN,
    ROUND_HALF_UP,
    Context,
    Decimal,
    DecimalException,
    DivisionByZero,
    InvalidOperation,
    Overflow,
)
from typing import Any

__all__ = [
    "DEFAULT_GAS_LIMIT",
    "MAX_EXPRESSION_DEPTH",
    "OPERATORS",
    "Expr",
    "GasExhaustedError",
    "JlvmError",
    "evaluate",
    "evaluate_metered",
    "is_truthy",
    "parse_expression",
    "strict_equals",
    "to_jlvm_value",
    "type_of",
    "validate_expression",
]


class JlvmError(Exception):
    """Any JLVM evaluation or parse error (MK ``JsonLogicException``).

    ``gas_used`` is the gas the evaluation had used when it failed (set by :func:`evaluate_metered`).
    """

    gas_used: int = 0


class GasExhaustedError(JlvmError):
    """The evaluation needed more gas than ``gas_limit``."""


# MK JsonLogicOp at v1.7.0-rc.9 (61 tags) plus MK+ `let`.  `var` is parsed specially and is not an
# op; `?:` and `size` never existed (they parse as map literals).
OPERATORS: frozenset[str] = frozenset(
    {
        # control flow
        "noop", "if", "default", "let",
        # logic
        "!", "!!", "or", "and",
        # comparison
        "==", "===", "!=", "!==", "<", "<=", ">", ">=",
        # arithmetic
        "+", "-", "*", "/", "%", "max", "min", "abs", "round", "floor", "ceil", "pow",
        # arrays
        "map", "filter", "reduce", "merge", "all", "some", "none", "find", "count", "in",
        "intersect", "unique", "slice", "reverse", "flatten",
        # strings
        "cat", "substr", "lower", "upper", "join", "split", "trim", "startsWith", "endsWith",
        # maps
        "values", "keys", "get", "has", "entries",
        # utility
        "length", "exists", "missing", "missing_some", "typeof",
    }
)  # fmt: skip

MAX_EXPRESSION_DEPTH = 100  # OC Limits.MaxExpressionDepth (create validation)
DEFAULT_GAS_LIMIT = 10_000_000  # OC per-transaction gas cap

# Ops whose argument at index 1 is a callback, passed unevaluated (MK isCallbackArg).
_CALLBACK_OPS = frozenset({"map", "filter", "all", "some", "none", "find", "count", "reduce"})

_LONG_MIN, _LONG_MAX = -(1 << 63), (1 << 63) - 1  # also MK+ safeToI64 (substr / slice indices)
_INT32_MIN, _INT32_MAX = -(1 << 31), (1 << 31) - 1
_MAX_POW_EXPONENT = 999  # MK handlePowOp maxSafeExponent
_MAX_NUMERIC_STRING = 1000  # MK CoercionOps.MaxNumericStringLength (== only)

# Java BigDecimal arithmetic with MathContext.DECIMAL128: 34 digits, HALF_EVEN.  The exponent
# range is widened because Java's BigDecimal scale is an int, far beyond IEEE decimal128's.
_DEC = Context(
    prec=34,
    rounding=ROUND_HALF_EVEN,
    Emax=999_999_999,
    Emin=-999_999_999,
    traps=[InvalidOperation, DivisionByZero, Overflow],
)

# java.math.BigInteger(String) / Long.parseLong accept an optional sign and decimal digits.
_INT_RE = re.compile(r"[+-]?[0-9]+")
# java.math.BigDecimal(String): sign, digits with optional fraction, optional exponent.
_DECIMAL_RE = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
# java.lang.String.trim strips every char <= U+0020, not Unicode whitespace.
_JAVA_TRIM_CHARS = "".join(chr(c) for c in range(0x21))


# --------------------------------------------------------------------------------------------
# Values
# --------------------------------------------------------------------------------------------


class _Fn:
    """MK ``FunctionValue``: an unevaluated callback argument."""

    __slots__ = ("node",)

    def __init__(self, node: Expr) -> None:
        self.node = node


_NO_CTX: Any = object()  # "no callback context" (MK ctx = None), distinct from a null element

_SHORT = reprlib.Repr()
_SHORT.maxlevel, _SHORT.maxstring, _SHORT.maxother = 3, 60, 60
_SHORT.maxlist = _SHORT.maxdict = _SHORT.maxtuple = 6


def _show(v: Any) -> str:
    """A value in an error message, bounded: the message must not grow with the value (receipts keep it)."""
    return _SHORT.repr(v)


def _is_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _is_primitive(v: Any) -> bool:
    # MK JsonLogicPrimitive = Bool | Int | Float | Str.  Null is *not* a primitive.
    return isinstance(v, (bool, int, float, str))


def type_of(v: Any) -> str:
    """MK ``JsonLogicValue.tag``: null bool int float string array map (function)."""
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "bool"
    if isinstance(v, int):
        return "int"
    if isinstance(v, float):
        return "float"
    if isinstance(v, str):
        return "string"
    if isinstance(v, (list, tuple)):
        return "array"
    if isinstance(v, Mapping):
        return "map"
    if isinstance(v, _Fn):
        return "function"
    raise JlvmError(f"not a JLVM value: {type(v).__name__}")


def is_truthy(value: Any) -> bool:
    """Falsy: null, false, 0, 0.0, "", [], {} (and callbacks); everything else is truthy."""
    if value is None or isinstance(value, _Fn):
        return False
    if isinstance(value, (bool, int, float, str, list, tuple, Mapping)):
        return bool(value)
    raise JlvmError(f"not a JLVM value: {type(value).__name__}")


def strict_equals(a: Any, b: Any) -> bool:
    """``===``: same type tag and deeply equal; ``1 === 1.0`` and ``true === 1`` are false."""
    if a is b:
        return True
    ta = type_of(a)
    if ta != type_of(b):
        return False
    if ta in ("array", "map"):
        interner = _Interner()
        return interner.id_of(a) == interner.id_of(b)
    if ta == "function":
        return False
    return bool(a == b)


class _Interner:
    """Structural ids with :func:`strict_equals`' equality: two values get one id exactly when they are ``===``.

    Containers are memoised by identity, so a sub-value shared many times over is read once: the work is
    linear in the objects actually held, not in the size of the value written out.  ``visited`` counts
    the values looked at (a flat array of n scalars: n), which is what the callers charge as gas.
    """

    __slots__ = ("_by_object", "_ids", "visited")

    def __init__(self) -> None:
        self._ids: dict[Any, int] = {}
        self._by_object: dict[int, int] = {}
        self.visited = 0

    def id_of(self, v: Any) -> int:
        self.visited += 1
        if not isinstance(v, (list, dict)):
            tag = type_of(v)
            return self._ids.setdefault((tag, id(v) if tag == "function" else v), len(self._ids))
        known = self._by_object.get(id(v))
        if known is not None:
            return known
        key: tuple[Any, ...]
        if isinstance(v, list):
            key = ("array", tuple(self.id_of(x) for x in v))
        else:
            key = ("map", frozenset((k, self.id_of(x)) for k, x in v.items()))
        found = self._ids.setdefault(key, len(self._ids))
        self._by_object[id(v)] = found
        return found


def _normalize_float(f: float) -> int | float:
    if not math.isfinite(f):
        raise JlvmError(f"non-finite number {f!r} is not valid JSON")
    # MK decodes every JSON number via toBigIntExact: whole numbers become IntValue.  Go via
    # the shortest repr so 1e30 becomes 10**30 (what the JSON text said), not the binary value.
    return int(_float_to_decimal(f)) if f.is_integer() else f


def to_jlvm_value(value: Any) -> Any:
    """Deep-copy JSON-like data into JLVM form: whole floats -> int, tuples -> lists."""
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return _normalize_float(value)
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise JlvmError(f"non-finite number {value!r} is not valid JSON")
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, (list, tuple)):
        return [to_jlvm_value(x) for x in value]
    if isinstance(value, Mapping):
        out: dict[str, Any] = {}
        for k, v in value.items():
            if not isinstance(k, str):
                raise JlvmError(f"map keys must be strings, got {k!r}")
            out[k] = to_jlvm_value(v)
        return out
    raise JlvmError(f"unsupported value type {type(value).__name__}")


def _materialise(vm: _VM, v: Any) -> Any:
    """Fresh containers for results, so callers never alias each other or the input.

    Charged one unit per element copied, before the copy: a result that shares sub-values (cheap to
    build) is as expensive to write out as it is large, and runs out of gas instead of memory.
    """
    if isinstance(v, list):
        vm.charge(len(v))
        return [_materialise(vm, x) for x in v]
    if isinstance(v, dict):
        vm.charge(len(v))
        return {k: _materialise(vm, x) for k, x in v.items()}
    return v


# --------------------------------------------------------------------------------------------
# Numbers: int = MK IntResult, Decimal = MK FloatResult
# --------------------------------------------------------------------------------------------

_Num = int | Decimal
_DecOp = Callable[[Decimal, Decimal], Decimal]


def _dec(n: _Num) -> Decimal:
    return Decimal(n) if isinstance(n, int) else n


def _float_to_decimal(f: float) -> Decimal:
    # repr gives the shortest round-tripping digits: the decimal the JSON text held.
    return Decimal(repr(f))


def _is_whole(d: Decimal) -> bool:
    return d.is_finite() and d == d.to_integral_value()


def _fits_long(d: _Num) -> bool:
    return _LONG_MIN <= d <= _LONG_MAX


def _to_float(d: Decimal) -> float:
    f = float(d)
    if math.isinf(f):
        # Deviation: MK keeps an unbounded BigDecimal; a Python float cannot hold it.
        raise JlvmError(f"numeric result {d} is out of float range")
    return f + 0.0  # BigDecimal has no negative zero


def _int_or_float(d: Decimal, all_int: bool) -> int | float:
    # MK combineNumeric/reduceNumeric: Int only if every input was Int and the result is
    # whole and fits in a signed 64-bit long; otherwise Float.
    if all_int and _is_whole(d) and _fits_long(d):
        return int(d)
    return _to_float(d)


def _parse_int(s: str) -> int | None:
    if not _INT_RE.fullmatch(s):
        return None
    try:
        return int(s)
    except ValueError:  # beyond Python's int/str digit limit
        return None


def _parse_decimal(s: str) -> Decimal | None:
    return Decimal(s) if _DECIMAL_RE.fullmatch(s) else None


def _promote(v: Any) -> _Num:
    """MK NumericOps.promoteToNumeric."""
    if isinstance(v, bool):
        return int(v)
    if isinstance(v, int):
        return v
    if isinstance(v, float):
        return _float_to_decimal(v)
    if v is None:
        return 0
    if isinstance(v, str):
        if v == "":
            return 0
        n = _parse_int(v)
        if n is not None:
            return n
        d = _parse_decimal(v)
        if d is not None:
            return d
        raise JlvmError(f"cannot convert string {_show(v)} to number")
    if isinstance(v, list):
        if not v:
            return 0
        if len(v) == 1:
            return _promote(v[0])
        raise JlvmError(f"cannot convert multi-element array {_show(v)} to number")
    if isinstance(v, dict):
        if not v:
            return 0
        if len(v) == 1:
            return _promote(next(iter(v.values())))
        raise JlvmError(f"cannot convert multi-key map with keys {_show(list(v))} to number")
    raise JlvmError("cannot convert a callback to number")


def _combine(fn: _DecOp, left: _Num, right: _Num) -> int | float:
    try:
        result = fn(_dec(left), _dec(right))
    except DecimalException as exc:
        raise JlvmError(f"arithmetic error: {exc!r}") from exc
    return _int_or_float(result, isinstance(left, int) and isinstance(right, int))


def _reduce_numeric(values: Sequence[Any], fn: _DecOp) -> int | float:
    nums = [_promote(v) for v in values]
    acc = _dec(nums[0])
    try:
        for n in nums[1:]:
            acc = fn(acc, _dec(n))
    except DecimalException as exc:
        raise JlvmError(f"arithmetic error: {exc!r}") from exc
    return _int_or_float(acc, all(isinstance(n, int) for n in nums))


def _format_float(f: float) -> str:
    # MK+ floatToPlainString: a whole value prints without a decimal point ("5"), any other as its
    # plain decimal expansion, never in exponent form ("0.0000001", not rc.9's "1E-7").
    if f.is_integer():
        return str(int(_float_to_decimal(f)))
    return format(_float_to_decimal(f).normalize(), "f")


def _to_text(v: Any) -> str:
    """MK toString of a primitive (cat / in / join / missing)."""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float):
        return _format_float(v)
    return str(v)


# --------------------------------------------------------------------------------------------
# Loose equality (MK CoercionOps)
# --------------------------------------------------------------------------------------------


def _coerce(v: Any) -> tuple[str, Any]:
    if v is None:
        return ("null", None)
    if isinstance(v, bool):
        return ("bool", v)
    if isinstance(v, int):
        return ("int", v)
    if isinstance(v, float):
        return ("float", _float_to_decimal(v))
    if isinstance(v, str):
        if v == "":
            return ("int", 0)  # "" == 0, as in JavaScript
        n = _parse_int(v) if len(v) <= _MAX_NUMERIC_STRING else None
        return ("int", n) if n is not None else ("str", v)
    if isinstance(v, (list, dict)):
        items = list(v.values()) if isinstance(v, dict) else v
        if not items:
            return ("int", 0)
        if len(items) == 1:
            return _coerce(items[0])
        raise JlvmError(f"cannot coerce multi-element collection {_show(v)} to a primitive")
    raise JlvmError("cannot coerce a callback to a primitive")


def _string_to_bool(s: str) -> bool | None:
    # Scala StringOps.toBooleanOption is case-insensitive.
    low = s.lower()
    return True if low == "true" else False if low == "false" else None


def _loose_equals(a: Any, b: Any) -> bool:
    (lt, lv), (rt, rv) = _coerce(a), _coerce(b)
    if lt == "null" or rt == "null":
        return lt == rt  # null equals only null
    if lt == "str" and rt == "str":
        return bool(lv == rv)
    if lt == "str" or rt == "str":
        sv, (ot, ov) = (lv, (rt, rv)) if lt == "str" else (rv, (lt, lv))
        if ot == "bool":
            return _string_to_bool(sv) == ov  # "true" == true
        if ot == "int":
            return False  # an integer string already coerced to int: "1.0" stays a string
        d = _parse_decimal(sv) if len(sv) <= _MAX_NUMERIC_STRING else None
        return d is not None and d == ov
    # bool / int / float compare numerically (true == 1, 1 == 1.0)
    return bool(_dec(int(lv) if lt == "bool" else lv) == _dec(int(rv) if rt == "bool" else rv))


# --------------------------------------------------------------------------------------------
# AST (MK JsonLogicExpression)
# --------------------------------------------------------------------------------------------


class Expr:
    """A parsed JLVM expression node."""

    __slots__ = ()

    def eval(self, vm: _VM, ctx: Any) -> Any:
        raise NotImplementedError


class _Const(Expr):
    __slots__ = ("value",)

    def __init__(self, value: Any) -> None:
        self.value = value

    def eval(self, vm: _VM, ctx: Any) -> Any:
        return self.value


class _Array(Expr):
    __slots__ = ("items",)

    def __init__(self, items: list[Expr]) -> None:
        self.items = items

    def eval(self, vm: _VM, ctx: Any) -> Any:
        return [item.eval(vm, ctx) for item in self.items]


class _MapLit(Expr):
    __slots__ = ("entries",)

    def __init__(self, entries: dict[str, Expr]) -> None:
        self.entries = entries

    def eval(self, vm: _VM, ctx: Any) -> Any:
        return {k: v.eval(vm, ctx) for k, v in self.entries.items()}


class _Var(Expr):
    __slots__ = ("default", "has_default", "key")

    def __init__(self, key: str | Expr, default: Any = None, has_default: bool = False) -> None:
        self.key = key
        self.default = default
        self.has_default = has_default

    def eval(self, vm: _VM, ctx: Any) -> Any:
        if isinstance(self.key, str):
            name = self.key
        else:
            # Computed path: the key expression must yield a string (or an array led by one).
            key = self.key.eval(vm, ctx)
            if isinstance(key, str):
                name = key
            elif isinstance(key, list) and key and isinstance(key[0], str):
                name = key[0]
            else:
                raise JlvmError(f"var: computed path must be a string, got {_show(key)}")
        vm.charge(2 + len(name.split(".")))
        value = vm.get_var(name, ctx)
        # The default applies only when the lookup yields null, and never for "" (whole context).
        if value is None and name != "" and self.has_default:
            return self.default
        return value


class _Apply(Expr):
    __slots__ = ("args", "tag")

    def __init__(self, tag: str, args: list[Expr]) -> None:
        self.tag = tag
        self.args = args

    def eval(self, vm: _VM, ctx: Any) -> Any:
        if self.tag == "if":
            return vm.eval_if(self.args, ctx)
        if self.tag == "let":
            return vm.eval_let(self.args, ctx)
        callback = self.tag in _CALLBACK_OPS
        values = [_Fn(arg) if callback and i == 1 else arg.eval(vm, ctx) for i, arg in enumerate(self.args)]
        vm.charge(_BASE_COST[self.tag])
        result = _HANDLERS[self.tag](vm, values)
        vm.charge(_surcharge(self.tag, values, result))
        return result


def parse_expression(expr: Any) -> Expr:
    """Parse JSON-like data into an expression tree (MK decodeJsonLogicExpr)."""
    if isinstance(expr, Expr):
        return expr
    try:
        return _parse(expr)
    except RecursionError as exc:
        raise JlvmError("expression nested too deeply to parse") from exc


def _parse(j: Any) -> Expr:
    if j is None or isinstance(j, (bool, str)):
        return _Const(j)
    if isinstance(j, (int, float, Decimal)):
        return _Const(to_jlvm_value(j))
    if isinstance(j, (list, tuple)):
        if j and isinstance(j[0], str):
            head = j[0]
            # ["var", path, default?]; a bare ["var"] is an ordinary array.
            if head == "var" and len(j) > 1:
                var = _parse_var(j[1])
                return _Var(var.key, to_jlvm_value(j[2]), True) if len(j) > 2 else var
            # ⚠ any array led by an op tag is an op call, even if meant as data.
            if head in OPERATORS:
                return _Apply(head, [_parse(x) for x in j[1:]])
        return _Array([_parse(x) for x in j])
    if isinstance(j, Mapping):
        if not j:
            return _Const({})
        if len(j) == 1:
            ((key, value),) = j.items()
            if key in ("", "var"):
                return _parse_var(value)
            if key in OPERATORS:
                # A non-array argument is wrapped: {"!": x} == {"!": [x]}.
                items = value if isinstance(value, (list, tuple)) else [value]
                return _Apply(key, [_parse(x) for x in items])
        entries: dict[str, Expr] = {}
        for key, value in j.items():
            if not isinstance(key, str):
                raise JlvmError(f"map keys must be strings, got {key!r}")
            entries[key] = _parse(value)
        # Anything else -- including unknown lone keys such as `size`, `let`, `?:` -- is data.
        return _MapLit(entries)
    raise JlvmError(f"unsupported expression type {type(j).__name__}")


def _parse_var(j: Any) -> _Var:
    """MK VarExpression.decodeVarExpr: path | [path] | [path, default, ...] | expression."""
    if isinstance(j, (list, tuple)) and j:
        key = _parse_var_key(j[0])
        return _Var(key, to_jlvm_value(j[1]), True) if len(j) > 1 else _Var(key)
    return _Var(_parse_var_key(j))


def _let_parts(args: list[Expr]) -> tuple[list[tuple[str, Expr]], Expr]:
    """MK+ normalizeLetArgs: ``[[[name, expr], ...], result]`` or ``[{name: expr, ...}, result]``.

    The array form keeps its order; the object form runs in RFC 8785 key order (UTF-16 code units),
    since a JSON object's member order is not part of its value.
    """
    if len(args) == 2:
        head, result = args
        if isinstance(head, _MapLit):
            keys = sorted(head.entries, key=lambda k: k.encode("utf-16-be", "surrogatepass"))
            return [(k, head.entries[k]) for k in keys], result
        if isinstance(head, _Const) and head.value == {}:
            return [], result
        if isinstance(head, _Array):
            pairs: list[tuple[str, Expr]] = []
            for item in head.items:
                if not (
                    isinstance(item, _Array)
                    and len(item.items) == 2
                    and isinstance(item.items[0], _Const)
                    and isinstance(item.items[0].value, str)
                ):
                    raise JlvmError("let binding must be [name, expr]")
                pairs.append((item.items[0].value, item.items[1]))
            return pairs, result
    raise JlvmError("let requires [[bindings...], resultExpr] or [{bindings}, resultExpr]")


def _parse_var_key(j: Any) -> str | Expr:
    if isinstance(j, str):
        return j
    if isinstance(j, (int, float)) and not isinstance(j, bool):
        return str(j) if isinstance(j, int) else repr(j)  # numbers are stringified paths
    return _parse(j)  # computed path (null, bools, objects, arrays evaluate at run time)


# --------------------------------------------------------------------------------------------
# Evaluator
# --------------------------------------------------------------------------------------------


def _index(segment: str) -> int | None:
    # Scala String.toLongOption; negative or out-of-range indices yield null later.
    n = _parse_int(segment)
    return n if n is not None and _fits_long(n) else None


def _child(parent: Any, segment: str) -> Any:
    if isinstance(parent, dict):
        return parent.get(segment)
    if isinstance(parent, list):
        i = _index(segment)
        return parent[i] if i is not None and 0 <= i < len(parent) else None
    return None  # paths into primitives resolve to null, never an error


def _first_child(root: Any, ctx: Any, segment: str) -> Any:
    """First path step over MK combineState(root, ctx), without materialising the merge."""
    if ctx is _NO_CTX or ctx is None or _is_primitive(ctx):
        return _child(root, segment)  # a primitive element leaves the root visible
    if isinstance(root, dict) and isinstance(ctx, dict):
        return ctx[segment] if segment in ctx else root.get(segment)  # element over root
    if isinstance(root, list) and isinstance(ctx, list):
        return _child(root + ctx, segment)  # MK concatenates root ++ element
    return _child(ctx, segment)


class _VM:
    __slots__ = ("gas_limit", "gas_used", "root")

    def __init__(self, root: Any, gas_limit: int) -> None:
        self.root = root
        self.gas_limit = gas_limit
        self.gas_used = 0

    def charge(self, amount: int) -> None:
        self.gas_used += amount
        if self.gas_used > self.gas_limit:
            raise GasExhaustedError(f"gas exhausted: used {self.gas_used}, limit {self.gas_limit}")

    def get_var(self, key: str, ctx: Any = _NO_CTX) -> Any:
        if key == "":
            return self.root if ctx is _NO_CTX else ctx  # "" is the element / whole context
        if key.endswith("."):
            return None
        segments = key.split(".")
        value = _first_child(self.root, ctx, segments[0])
        for segment in segments[1:]:
            value = _child(value, segment)
        return value

    def call(self, fn: _Fn, element: Any) -> Any:
        # Callbacks see the element (merged over the root when both are maps) -- not the
        # enclosing callback's element: MK re-evaluates with the root vars and a fresh ctx.
        return fn.node.eval(self, element)

    def eval_if(self, args: list[Expr], ctx: Any) -> Any:
        # MK runtime: lazy; [c1, t1, c2, t2, ..., else?]; no match and no else -> null.
        self.charge(_BASE_COST["if"])
        if len(args) < 2:
            raise JlvmError(f"if: expected at least 2 arguments, got {len(args)}")
        i = 0
        while True:
            if is_truthy(args[i].eval(self, ctx)):
                return args[i + 1].eval(self, ctx)
            rest = len(args) - (i + 2)
            if rest == 0:
                return None
            if rest == 1:
                return args[i + 2].eval(self, ctx)
            i += 2

    def eval_let(self, args: list[Expr], ctx: Any) -> Any:
        # MK+ runtime: lazy like `if`; bindings run in order, each seeing the ones before it, and the
        # result sees them all.  Callbacks inside start from their element again (MK re-evaluates
        # callbacks with a fresh ctx), so a binding is not visible in a map/filter body.
        self.charge(_BASE_COST["let"])
        bindings, result = _let_parts(args)
        bound: dict[str, Any] = {}
        for name, expr in bindings:
            bound[name] = expr.eval(self, self._let_scope(ctx, bound, final=False))
        return result.eval(self, self._let_scope(ctx, bound, final=True))

    def _let_scope(self, ctx: Any, bound: dict[str, Any], *, final: bool) -> Any:
        """The context a binding or the result is evaluated in (MK+ letCtx / bindingCtx)."""
        if ctx is _NO_CTX:
            # At the top level the first binding still sees the plain root; later ones and the
            # result see the bindings over the root (`{"var": ""}` is then the bindings map).
            return dict(bound) if bound or final else _NO_CTX
        if isinstance(ctx, dict):
            self.charge(len(ctx) + len(bound))  # the merged scope is a copy: charge what it holds
            return {**ctx, **bound}
        return {**bound, "": ctx}  # a non-map element stays reachable as `{"var": ""}`


def evaluate_metered(expr: Any, data: Any, *, gas_limit: int = DEFAULT_GAS_LIMIT) -> tuple[Any, int]:
    """Evaluate ``expr`` against ``data``; return ``(result, gas_used)``.

    Every failure is a :class:`JlvmError` whose ``gas_used`` is the gas spent until it happened.
    """
    node = parse_expression(expr)
    vm = _VM(None, gas_limit)
    try:
        vm.root = to_jlvm_value(data)
        result = _materialise(vm, node.eval(vm, _NO_CTX))
    except JlvmError as exc:
        exc.gas_used = vm.gas_used
        raise
    except RecursionError as exc:
        error = JlvmError("value or expression nested too deeply to evaluate")
        error.gas_used = vm.gas_used
        raise error from exc
    except (ArithmeticError, ValueError) as exc:
        error = JlvmError(f"evaluation error: {_show(exc)}")
        error.gas_used = vm.gas_used
        raise error from exc
    return result, vm.gas_used


def evaluate(expr: Any, data: Any, *, gas_limit: int = DEFAULT_GAS_LIMIT) -> Any:
    """Evaluate ``expr`` against the context ``data`` and return the result."""
    return evaluate_metered(expr, data, gas_limit=gas_limit)[0]


# --------------------------------------------------------------------------------------------
# Static validation (OC FiberRules.noReservedOperatorFieldNames + CommonRules depth check)
# --------------------------------------------------------------------------------------------


def validate_expression(expr: Any) -> list[str]:
    """Static problems that make OttoChain reject a guard/effect at create time."""
    try:
        root = parse_expression(expr)
    except JlvmError as exc:
        return [f"unparseable expression: {exc}"]
    problems: list[str] = []
    too_deep = False
    stack: list[tuple[Expr, int, str]] = [(root, 0, "$")]
    while stack:
        node, depth, path = stack.pop()
        if depth > MAX_EXPRESSION_DEPTH and not too_deep:
            too_deep = True
            problems.append(f"expression depth exceeds {MAX_EXPRESSION_DEPTH} at {path}")
        if isinstance(node, _MapLit):
            for key in node.entries:
                if key in OPERATORS:
                    problems.append(
                        f"map key {key!r} at {path} equals a JSON-Logic operator tag; "
                        "OttoChain rejects reserved operator names as field names"
                    )
            stack.extend((v, depth + 1, f"{path}.{k}") for k, v in node.entries.items())
        elif isinstance(node, _Apply):
            stack.extend((a, depth + 1, f"{path}.{node.tag}[{i}]") for i, a in enumerate(node.args))
        elif isinstance(node, _Array):
            stack.extend((a, depth + 1, f"{path}[{i}]") for i, a in enumerate(node.items))
        elif isinstance(node, _Var) and not isinstance(node.key, str):
            stack.append((node.key, depth + 1, f"{path}.var"))
    return problems


# --------------------------------------------------------------------------------------------
# Operators (MK JsonLogicSemantics handlers); each takes (vm, evaluated args)
# --------------------------------------------------------------------------------------------

_Handler = Callable[[_VM, list[Any]], Any]


def _bad(tag: str, args: list[Any]) -> JlvmError:
    return JlvmError(f"unexpected input for `{tag}`: {_show(args)}")


def _expect(tag: str, args: list[Any], *counts: int) -> None:
    if len(args) not in counts:
        raise _bad(tag, args)


def _safe_int64(n: int, what: str) -> int:
    # MK+ substr / slice take any 64-bit index (rc.9 refused beyond a 32-bit Int).
    if not _fits_long(n):
        raise JlvmError(f"{what} value {n} exceeds Long range")
    return n


def _safe_int32(n: int, what: str) -> int:
    if not _INT32_MIN <= n <= _INT32_MAX:
        raise JlvmError(f"{what} value {n} exceeds Int range")
    return n


def _unwrap_single_array(args: list[Any]) -> list[Any]:
    # MK: `case ArrayValue(arr) :: Nil => impl(arr)` for variadic numeric ops.
    return args[0] if len(args) == 1 and isinstance(args[0], list) else args


# -- control flow / logic --


def _op_noop(vm: _VM, args: list[Any]) -> Any:
    raise JlvmError("got unexpected NoOp")


def _op_default(vm: _VM, args: list[Any]) -> Any:
    return next((v for v in args if v is not None and is_truthy(v)), None)


def _op_not(vm: _VM, args: list[Any]) -> bool:
    _expect("!", args, 1)
    return not is_truthy(args[0])


def _op_not_not(vm: _VM, args: list[Any]) -> bool:
    _expect("!!", args, 1)
    return is_truthy(args[0])


def _op_or(vm: _VM, args: list[Any]) -> Any:
    # Returns a value, not a bool; every argument was already evaluated (not lazy in MK).
    if not args:
        return False
    return next((v for v in args if is_truthy(v)), args[-1])


def _op_and(vm: _VM, args: list[Any]) -> Any:
    if not args:
        return True
    return next((v for v in args if not is_truthy(v)), args[-1])


# -- comparison --


def _op_eq(vm: _VM, args: list[Any]) -> bool:
    _expect("==", args, 2)
    return _loose_equals(args[0], args[1])


def _op_ne(vm: _VM, args: list[Any]) -> bool:
    _expect("!=", args, 2)
    return not _loose_equals(args[0], args[1])


def _op_strict_eq(vm: _VM, args: list[Any]) -> bool:
    # MK rc.9 matches exactly two values; any other arity falls to `case _ => false`.
    return len(args) == 2 and strict_equals(args[0], args[1])


def _op_strict_ne(vm: _VM, args: list[Any]) -> bool:
    # MK+ `!==` is the negation of `===`: mixed types (1 vs "1", null vs 0) are strictly unequal.
    # (rc.9 gave false for mixed types.)  ⚠ The newer Scala code lists no null/null case and so
    # answers true there; its own comment, the Rust and the TypeScript evaluators say false.
    return not _op_strict_eq(vm, args)


def _comparison(tag: str, test: Callable[[_Num, _Num], bool], allow_between: bool) -> _Handler:
    def op(vm: _VM, args: list[Any]) -> bool:
        _expect(tag, args, *((2, 3) if allow_between else (2,)))
        nums = [_promote(v) for v in args]
        return all(test(x, y) for x, y in itertools.pairwise(nums))

    return op


# -- arithmetic --


def _op_add(vm: _VM, args: list[Any]) -> int | float:
    values = _unwrap_single_array(args)
    if not values:
        raise JlvmError("`+`: list cannot be empty")
    if len(values) == 1 and isinstance(values[0], str):
        n = _promote(values[0])  # unary + parses a numeric string, keeping its exact value
        return n if isinstance(n, int) else _to_float(n)
    return _reduce_numeric(values, _DEC.add)


def _op_mul(vm: _VM, args: list[Any]) -> int | float:
    values = _unwrap_single_array(args)
    if not values:
        raise JlvmError("`*`: list cannot be empty")
    return _reduce_numeric(values, _DEC.multiply)


def _op_sub(vm: _VM, args: list[Any]) -> int | float:
    _expect("-", args, 1, 2)
    if len(args) == 1:
        return _combine(lambda a, _: _DEC.minus(a), _promote(args[0]), 0)
    return _combine(_DEC.subtract, _promote(args[0]), _promote(args[1]))


def _op_div(vm: _VM, args: list[Any]) -> int | float:
    _expect("/", args, 2)
    left, right = _promote(args[0]), _promote(args[1])
    if right == 0:
        raise JlvmError("division by zero")
    # ⚠ exact DECIMAL128 division, not truncation: 7/2 = 3.5, 10/2 = 5 (int).
    return _combine(_DEC.divide, left, right)


def _op_mod(vm: _VM, args: list[Any]) -> int | float:
    _expect("%", args, 2)
    left, right = _promote(args[0]), _promote(args[1])
    if right == 0:
        raise JlvmError("division by zero in modulo operation")
    # BigDecimal remainder truncates toward zero (-7 % 3 = -1), unlike Python's floored %.
    return _combine(_DEC.remainder, left, right)


def _extremum(tag: str, pick: Callable[[Iterable[_Num]], _Num]) -> _Handler:
    def op(vm: _VM, args: list[Any]) -> int | float:
        values = _unwrap_single_array(args)
        if not values:
            raise JlvmError(f"`{tag}`: list cannot be empty")
        nums = [_promote(v) for v in values]
        best = pick(nums)
        if all(isinstance(n, int) for n in nums):
            return int(best)  # MK+ an Int at any size (it is one of the inputs, so nothing grows)
        return _to_float(_dec(best))

    return op


def _op_abs(vm: _VM, args: list[Any]) -> int | float:
    _expect("abs", args, 1)
    n = _promote(args[0])
    return abs(n) if isinstance(n, int) else _to_float(_DEC.abs(n))


def _rounding(tag: str, mode: str) -> _Handler:
    def op(vm: _VM, args: list[Any]) -> int | float:
        _expect(tag, args, 1)
        n = _promote(args[0])
        if isinstance(n, int):
            return n
        # MK+ always an Int, whatever its size (rc.9 kept a whole Float beyond a long).
        return int(n.to_integral_value(rounding=mode))

    return op


def _op_pow(vm: _VM, args: list[Any]) -> int | float:
    _expect("pow", args, 2)
    base, exp = args
    if _is_int(base) and _is_int(exp) and exp > _MAX_POW_EXPONENT:
        raise JlvmError(f"exponent {exp} exceeds maximum safe value {_MAX_POW_EXPONENT}")
    b, e = _promote(base), _promote(exp)
    # MK+ deterministic exponentiation: the exponent must be whole (rc.9 fell back to Math.pow, so
    # 4^0.5 was 2 and 2^-1 an IEEE double); a negative one gives the exact inverse.
    if not _is_whole(_dec(e)):
        raise JlvmError(f"exponent must be an integer for deterministic exponentiation, got {_show(exp)}")
    n = int(e)
    if abs(n) > _MAX_POW_EXPONENT:
        raise JlvmError(f"exponent magnitude {abs(n)} exceeds maximum safe value {_MAX_POW_EXPONENT}")
    bd = _dec(b)
    if n < 0 and bd == 0:
        raise JlvmError("zero cannot be raised to a negative power")
    if n >= 0 and _is_whole(bd):
        # Exact big integer; an Int unless the base was a Float (a whole float base stays a Float).
        powed = int(bd) ** n
        return powed if isinstance(b, int) else _to_float(Decimal(powed))
    try:
        result = _DEC.power(bd, n) if n >= 0 else _DEC.divide(Decimal(1), _DEC.power(bd, -n))
    except DecimalException as exc:
        raise JlvmError(f"arithmetic error: {exc!r}") from exc
    return _to_float(result)


# -- arrays and callbacks --


def _callback_args(tag: str, args: list[Any]) -> tuple[list[Any], _Fn]:
    if len(args) == 2 and isinstance(args[0], list) and isinstance(args[1], _Fn):
        return args[0], args[1]
    raise _bad(tag, args)


def _op_map(vm: _VM, args: list[Any]) -> list[Any]:
    arr, fn = _callback_args("map", args)
    return [vm.call(fn, el) for el in arr]


def _op_filter(vm: _VM, args: list[Any]) -> list[Any]:
    arr, fn = _callback_args("filter", args)
    return [el for el in arr if is_truthy(vm.call(fn, el))]


def _op_find(vm: _VM, args: list[Any]) -> Any:
    arr, fn = _callback_args("find", args)
    return next((el for el in arr if is_truthy(vm.call(fn, el))), None)


def _op_all(vm: _VM, args: list[Any]) -> bool:
    if len(args) == 2 and args[0] is None and isinstance(args[1], _Fn):
        return False  # all(null) = false
    arr, fn = _callback_args("all", args)
    if not arr:
        return False  # MK+ `all` over [] is false (JSON Logic reference), not vacuously true as in rc.9
    # Every element is evaluated (MK traverses fully): errors anywhere propagate and all gas is
    # charged, so the results are collected before `all` looks at them (no short-circuit).
    results = [is_truthy(vm.call(fn, el)) for el in arr]
    return all(results)


def _op_none(vm: _VM, args: list[Any]) -> bool:
    arr, fn = _callback_args("none", args)
    results = [is_truthy(vm.call(fn, el)) for el in arr]  # evaluated in full, as for `all`
    return not any(results)


def _op_some(vm: _VM, args: list[Any]) -> bool:
    threshold = 1
    if len(args) == 3 and _is_int(args[2]):
        threshold = _safe_int32(args[2], "some threshold")
        args = args[:2]
    arr, fn = _callback_args("some", args)
    return sum(is_truthy(vm.call(fn, el)) for el in arr) >= threshold


def _op_count(vm: _VM, args: list[Any]) -> int:
    if len(args) == 1 and isinstance(args[0], list):
        return len(args[0])
    arr, fn = _callback_args("count", args)
    return sum(is_truthy(vm.call(fn, el)) for el in arr)


def _op_reduce(vm: _VM, args: list[Any]) -> Any:
    if len(args) == 3 and _is_primitive(args[2]):
        arr, fn = _callback_args("reduce", args[:2])
        acc, items = args[2], arr
    else:
        # The initial value must be a primitive (null, arrays and maps are rejected);
        # without one the first element seeds the fold and [] gives null.
        arr, fn = _callback_args("reduce", args)
        if not arr:
            return None
        acc, items = arr[0], arr[1:]
    for item in items:
        acc = vm.call(fn, {"current": item, "accumulator": acc})
    return acc


def _op_merge(vm: _VM, args: list[Any]) -> Any:
    if all(isinstance(v, dict) for v in args):
        merged: dict[str, Any] = {}
        for m in args:
            merged.update(m)  # shallow, later wins; note merge() with no args is {}
        return merged
    values = args[0] if len(args) == 1 and isinstance(args[0], list) else args
    out: list[Any] = []
    for v in values:
        out.extend(v) if isinstance(v, list) else out.append(v)
    return out


def _op_in(vm: _VM, args: list[Any]) -> bool:
    _expect("in", args, 2)
    needle, haystack = args
    if needle is None:
        return False
    if isinstance(haystack, str) and _is_primitive(needle):
        return _to_text(needle) in haystack
    if isinstance(haystack, list):
        interner = _Interner()
        target = interner.id_of(needle)
        found = any(interner.id_of(x) == target for x in haystack)
        _charge_nested(vm, interner, 1 + len(haystack))
        return found
    raise _bad("in", args)  # includes a null haystack


def _op_intersect(vm: _VM, args: list[Any]) -> bool:
    _expect("intersect", args, 2)
    a, b = args
    if a is None:
        return True  # empty set is a subset of anything
    if isinstance(a, list) and b is None:
        return False
    if isinstance(a, list) and isinstance(b, list):
        interner = _Interner()
        keys = {interner.id_of(x) for x in b}
        result = all(interner.id_of(x) in keys for x in a)
        _charge_nested(vm, interner, len(a) + len(b))
        return result
    raise _bad("intersect", args)


def _op_unique(vm: _VM, args: list[Any]) -> list[Any]:
    if len(args) != 1 or not isinstance(args[0], list):
        raise _bad("unique", args)
    interner = _Interner()
    seen: dict[int, Any] = {}
    for v in args[0]:
        seen.setdefault(interner.id_of(v), v)
    _charge_nested(vm, interner, len(args[0]))
    return list(seen.values())


def _charge_nested(vm: _VM, interner: _Interner, flat: int) -> None:
    """Gas for the values compared beyond the ``flat`` ones the op's surcharge already covers."""
    vm.charge(max(0, interner.visited - flat))


def _slice_index(i: int, length: int) -> int:
    return max(0, length + i) if i < 0 else i


def _op_slice(vm: _VM, args: list[Any]) -> list[Any]:
    if len(args) in (2, 3) and isinstance(args[0], list) and all(_is_int(v) for v in args[1:]):
        arr = args[0]
        start = _slice_index(_safe_int64(args[1], "slice start"), len(arr))
        if len(args) == 2:
            return arr[start:]
        return arr[start : _slice_index(_safe_int64(args[2], "slice end"), len(arr))]
    raise _bad("slice", args)


def _array_op(tag: str, fn: Callable[[list[Any]], Any]) -> _Handler:
    def op(vm: _VM, args: list[Any]) -> Any:
        if len(args) != 1 or not isinstance(args[0], list):
            raise _bad(tag, args)
        return fn(args[0])

    return op


def _flatten(arr: list[Any]) -> list[Any]:
    out: list[Any] = []
    for v in arr:
        out.extend(v) if isinstance(v, list) else out.append(v)
    return out


# -- strings --


def _op_cat(vm: _VM, args: list[Any]) -> str:
    parts = []
    for v in args:
        if v is None:
            parts.append("")
        elif isinstance(v, (list, dict, _Fn)):
            raise _bad("cat", args)  # ⚠ collections are rejected, not stringified
        else:
            parts.append(_to_text(v))
    return "".join(parts)


def _op_substr(vm: _VM, args: list[Any]) -> str:
    if not (len(args) in (2, 3) and isinstance(args[0], str) and all(_is_int(v) for v in args[1:])):
        raise _bad("substr", args)
    s = args[0]
    start = _safe_int64(args[1], "substr start")
    length = _safe_int64(args[2], "substr length") if len(args) == 3 else len(s)
    n = len(s)
    begin = max(0, min(n + start if start < 0 else start, n))
    end = min(begin + length, n) if length >= 0 else max(0, n + length)
    return "" if begin >= n or end <= begin else s[begin:end]


def _string_op(tag: str, fn: Callable[[str], Any]) -> _Handler:
    def op(vm: _VM, args: list[Any]) -> Any:
        if len(args) != 1 or not isinstance(args[0], str):
            raise _bad(tag, args)
        return fn(args[0])

    return op


def _op_join(vm: _VM, args: list[Any]) -> str:
    if len(args) != 2 or not isinstance(args[0], list) or not isinstance(args[1], str):
        raise _bad("join", args)
    # Nested collections and nulls render as "".
    return args[1].join("" if v is None or isinstance(v, (list, dict)) else _to_text(v) for v in args[0])


def _op_split(vm: _VM, args: list[Any]) -> list[str]:
    if len(args) != 2 or not isinstance(args[0], str) or not isinstance(args[1], str):
        raise _bad("split", args)
    if args[1] == "":
        raise JlvmError("split separator cannot be empty")
    return args[0].split(args[1])  # keeps trailing empty strings, like split(quote(sep), -1)


def _affix(tag: str, test: Callable[[str, str], bool]) -> _Handler:
    def op(vm: _VM, args: list[Any]) -> bool:
        if len(args) == 2:
            s, affix = args
            if isinstance(s, str) and isinstance(affix, str):
                return test(s, affix)
            if s is None or (isinstance(s, str) and affix is None):
                return False  # null string or null affix
        raise _bad(tag, args)

    return op


# -- maps --


def _map_op(tag: str, fn: Callable[[dict[str, Any]], Any], null_ok: bool = False) -> _Handler:
    def op(vm: _VM, args: list[Any]) -> Any:
        if not args:
            return None  # MK+ keys() / values() / entries() with no argument = null
        if len(args) == 1 and null_ok and args[0] is None:
            return None  # keys(null) / values(null) = null
        if len(args) != 1 or not isinstance(args[0], dict):
            raise _bad(tag, args)
        return fn(args[0])

    return op


def _op_get(vm: _VM, args: list[Any]) -> Any:
    # MK+ [map, key] gives null for a missing key (rc.9 raised); [map, key, default] gives the default.
    # A key present with a null value is returned as null, not replaced by the default.
    if len(args) not in (2, 3) or not isinstance(args[0], dict) or not isinstance(args[1], str):
        raise _bad("get", args)
    m, key = args[0], args[1]
    return m[key] if key in m else (args[2] if len(args) == 3 else None)


def _op_has(vm: _VM, args: list[Any]) -> bool:
    if len(args) != 2 or not isinstance(args[0], dict) or not isinstance(args[1], str):
        raise _bad("has", args)
    return args[1] in args[0]


# -- utility --


def _op_length(vm: _VM, args: list[Any]) -> int:
    if len(args) == 1 and isinstance(args[0], list):
        return len(args[0])
    if len(args) == 1 and isinstance(args[0], str):
        return len(args[0].encode("utf-16-le", "surrogatepass")) // 2  # Java counts UTF-16 units
    raise _bad("length", args)


def _op_exists(vm: _VM, args: list[Any]) -> bool:
    values = args[0] if len(args) == 1 and isinstance(args[0], list) else args
    return all(v is not None for v in values)


def _is_missing(vm: _VM, field: Any) -> bool:
    # Paths resolve against the root only (MK calls getVar without the callback ctx);
    # non-path values (null, bool, collections) always count as missing.
    if isinstance(field, str):
        return vm.get_var(field) is None
    if _is_int(field) or isinstance(field, float):
        return vm.get_var(_to_text(field)) is None
    return True


def _op_missing(vm: _VM, args: list[Any]) -> list[Any]:
    fields = args[0] if len(args) == 1 and isinstance(args[0], list) else args
    return [f for f in fields if _is_missing(vm, f)]


def _op_missing_some(vm: _VM, args: list[Any]) -> list[Any]:
    if len(args) == 1 and isinstance(args[0], list):
        minimum, fields = 1, args[0]
    elif len(args) == 2 and _is_int(args[0]) and args[0] > 0 and isinstance(args[1], list):
        minimum, fields = _safe_int32(args[0], "missing_some min"), args[1]
    else:
        raise _bad("missing_some", args)
    missing = [f for f in fields if _is_missing(vm, f)]
    return [] if len(fields) - len(missing) >= minimum else missing


def _op_typeof(vm: _VM, args: list[Any]) -> str:
    _expect("typeof", args, 1)
    return type_of(args[0])


_HANDLERS: dict[str, _Handler] = {
    "noop": _op_noop,
    "default": _op_default,
    "!": _op_not,
    "!!": _op_not_not,
    "or": _op_or,
    "and": _op_and,
    "==": _op_eq,
    "!=": _op_ne,
    "===": _op_strict_eq,
    "!==": _op_strict_ne,
    "<": _comparison("<", lambda a, b: a < b, allow_between=True),
    "<=": _comparison("<=", lambda a, b: a <= b, allow_between=True),
    ">": _comparison(">", lambda a, b: a > b, allow_between=False),
    ">=": _comparison(">=", lambda a, b: a >= b, allow_between=False),
    "+": _op_add,
    "-": _op_sub,
    "*": _op_mul,
    "/": _op_div,
    "%": _op_mod,
    "max": _extremum("max", max),
    "min": _extremum("min", min),
    "abs": _op_abs,
    "round": _rounding("round", ROUND_HALF_UP),
    "floor": _rounding("floor", ROUND_FLOOR),
    "ceil": _rounding("ceil", ROUND_CEILING),
    "pow": _op_pow,
    "map": _op_map,
    "filter": _op_filter,
    "reduce": _op_reduce,
    "merge": _op_merge,
    "all": _op_all,
    "some": _op_some,
    "none": _op_none,
    "find": _op_find,
    "count": _op_count,
    "in": _op_in,
    "intersect": _op_intersect,
    "unique": _op_unique,
    "slice": _op_slice,
    "reverse": _array_op("reverse", lambda arr: arr[::-1]),
    "flatten": _array_op("flatten", _flatten),
    "cat": _op_cat,
    "substr": _op_substr,
    "lower": _string_op("lower", str.lower),
    "upper": _string_op("upper", str.upper),
    "join": _op_join,
    "split": _op_split,
    "trim": _string_op("trim", lambda s: s.strip(_JAVA_TRIM_CHARS)),
    "startsWith": _affix("startsWith", str.startswith),
    "endsWith": _affix("endsWith", str.endswith),
    "values": _map_op("values", lambda m: list(m.values()), null_ok=True),
    "keys": _map_op("keys", lambda m: list(m), null_ok=True),
    "get": _op_get,
    "has": _op_has,
    "entries": _map_op("entries", lambda m: [[k, v] for k, v in m.items()]),
    "length": _op_length,
    "exists": _op_exists,
    "missing": _op_missing,
    "missing_some": _op_missing_some,
    "typeof": _op_typeof,
}

# MK GasConfig.Default.  `missing` is charged like `exists` (MK getOpCost maps it there).
_BASE_COST: dict[str, int] = {
    "noop": 0, "if": 10, "default": 5, "let": 10,
    "!": 1, "!!": 1, "or": 2, "and": 2,
    "==": 3, "===": 2, "!=": 3, "!==": 2, "<": 3, "<=": 3, ">": 3, ">=": 3,
    "+": 5, "-": 5, "*": 8, "/": 10, "%": 10, "max": 5, "min": 5,
    "abs": 2, "round": 3, "floor": 3, "ceil": 3, "pow": 20,
    "map": 10, "filter": 10, "reduce": 15, "merge": 5, "all": 10, "some": 10, "none": 10,
    "find": 10, "count": 5, "in": 8, "intersect": 15, "unique": 20, "slice": 5,
    "reverse": 5, "flatten": 10,
    "cat": 5, "substr": 8, "lower": 3, "upper": 3, "join": 10, "split": 15, "trim": 5,
    "startsWith": 5, "endsWith": 5,
    "values": 5, "keys": 5, "get": 3, "has": 3, "entries": 10,
    "length": 1, "exists": 5, "missing": 5, "missing_some": 15, "typeof": 1,
}  # fmt: skip


def _surcharge(tag: str, args: list[Any], result: Any) -> int:
    """Size-proportional gas (MK GasAwareSemantics.getAdditionalCost)."""
    first = args[0] if args else None
    if tag in ("cat", "join", "substr", "merge", "flatten", "slice"):
        return len(result) if isinstance(result, (str, list, dict)) else 0
    if tag in ("split", "entries") and isinstance(result, list):
        return 2 * len(result)
    if tag in _CALLBACK_OPS or tag in ("unique", "reverse"):
        return len(first) if isinstance(first, list) else 0
    if tag in ("+", "*", "-"):
        if len(args) == 1 and isinstance(first, list):
            return len(first)
        return max(len(args) - 1, 0)
    if tag in ("max", "min"):
        return len(first) if len(args) == 1 and isinstance(first, list) else len(args)
    if tag == "pow" and len(args) == 2 and (_is_int(args[1]) or isinstance(args[1], float)):
        return int(abs(args[1]))
    if tag == "in" and len(args) == 2:
        haystack = args[1]
        if isinstance(haystack, list):
            return len(haystack)
        return len(haystack) // 10 if isinstance(haystack, str) else 0
    if tag == "intersect" and len(args) == 2 and all(isinstance(a, list) for a in args):
        return len(args[0]) + len(args[1])
    if tag in ("values", "keys") and isinstance(first, dict):
        return len(first)
    return 0
