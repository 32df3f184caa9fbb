"""Evaluating a parsed expression (``expressions``) with JavaScript semantics, over JSON values only."""

from __future__ import annotations

import math
import operator
import re
from collections.abc import Callable
from typing import Any

from runtype_mcp.sandbox.expressions import (
    _Array,
    _Binary,
    _Call,
    _Literal,
    _Member,
    _Node,
    _Path,
    _Ternary,
    _Unary,
)
from runtype_mcp.sandbox.templating import UNDEFINED, TemplateContext, is_truthy, resolve, to_text

MAX_STRING = 100_000
_NUMERIC_TEXT = re.compile(r"\s*[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?\s*")
_INT_PREFIX = re.compile(r"\s*([+-]?[0-9]+)")
_FLOAT_PREFIX = re.compile(r"\s*([+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?)")
_RELATIONS: dict[str, Callable[[Any, Any], bool]] = {
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}


def evaluate_node(node: _Node, context: TemplateContext) -> Any:
    if isinstance(node, _Literal):
        return node.value
    if isinstance(node, _Path):
        return context.lookup(node.segments)
    if isinstance(node, _Member):
        key = evaluate_node(node.key, context)
        if _is_number(key) and float(key).is_integer():
            key = int(key)
        return resolve(evaluate_node(node.target, context), (to_text(key),))
    if isinstance(node, _Array):
        return [evaluate_node(item, context) for item in node.items]
    if isinstance(node, _Call):
        return _call(node, context)
    if isinstance(node, _Ternary):
        test = is_truthy(evaluate_node(node.test, context))
        return evaluate_node(node.then if test else node.otherwise, context)
    if isinstance(node, _Unary):
        operand = evaluate_node(node.operand, context)
        if node.op == "!":
            return not is_truthy(operand)
        number = _to_number(operand)
        return _tidy(-number if node.op == "-" else number)
    return _binary(node, context)


def _binary(node: _Binary, context: TemplateContext) -> Any:
    left = evaluate_node(node.left, context)
    if node.op == "&&":
        return evaluate_node(node.right, context) if is_truthy(left) else left
    if node.op == "||":
        return left if is_truthy(left) else evaluate_node(node.right, context)
    if node.op == "??":
        return evaluate_node(node.right, context) if _nullish(left) else left
    right = evaluate_node(node.right, context)
    if node.op in ("===", "!=="):
        return _strict_equal(left, right) == (node.op == "===")
    if node.op in ("==", "!="):
        return _loose_equal(left, right) == (node.op == "==")
    if node.op in _RELATIONS:
        return _compare(node.op, left, right)
    return _arithmetic(node.op, left, right)


def _arithmetic(op: str, left: Any, right: Any) -> Any:
    if op == "+" and (isinstance(left, str | list | dict) or isinstance(right, str | list | dict)):
        text = _js_text(left) + _js_text(right)
        return text[:MAX_STRING]
    a, b = _to_number(left), _to_number(right)
    if op == "+":
        return _tidy(a + b)
    if op == "-":
        return _tidy(a - b)
    if op == "*":
        return _tidy(a * b)
    if b == 0:
        return (
            math.nan
            if op == "%" or a == 0 or math.isnan(a)
            else math.copysign(math.inf, a) * math.copysign(1, b)
        )
    return _tidy(a / b if op == "/" else math.fmod(a, b))


def _call(node: _Call, context: TemplateContext) -> Any:
    args = [evaluate_node(arg, context) for arg in node.args]
    first = args[0] if args else UNDEFINED
    if node.target is None:
        if node.function == "Number":
            return _tidy(_to_number(first)) if args else 0
        if node.function == "String":
            return _js_text(first) if args else ""
        if node.function == "Boolean":
            return is_truthy(first)
        prefix = (_INT_PREFIX if node.function == "parseInt" else _FLOAT_PREFIX).match(_js_text(first))
        return _tidy(float(prefix[1])) if prefix else math.nan
    target = evaluate_node(node.target, context)
    if isinstance(target, list) and node.function in ("includes", "indexOf"):
        found = [i for i, item in enumerate(target) if _strict_equal(item, first)]
        if node.function == "includes":
            return bool(found)
        return found[0] if found else -1
    if not isinstance(target, str):
        return UNDEFINED  # a method of a missing value: undefined, as with ?.
    arg = _js_text(first)
    if node.function == "includes":
        return arg in target
    if node.function == "startsWith":
        return target.startswith(arg)
    if node.function == "endsWith":
        return target.endswith(arg)
    if node.function == "indexOf":
        return target.find(arg)
    return {"toLowerCase": target.lower, "toUpperCase": target.upper, "trim": target.strip}[node.function]()


def _js_text(value: Any) -> str:
    if value is UNDEFINED:
        return "undefined"
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if _is_number(value):
        return _number_text(float(value))
    if isinstance(value, list):
        return ",".join("" if _nullish(v) else _js_text(v) for v in value)
    if isinstance(value, dict):
        return "[object Object]"
    return str(value)


def _number_text(number: float) -> str:
    if math.isnan(number):
        return "NaN"
    if math.isinf(number):
        return "Infinity" if number > 0 else "-Infinity"
    return str(int(number)) if number.is_integer() and abs(number) < 1e21 else repr(number)


def _tidy(number: float) -> float | int:
    return int(number) if math.isfinite(number) and number.is_integer() and abs(number) < 2**53 else number


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _strict_equal(left: Any, right: Any) -> bool:
    if _is_number(left) and _is_number(right):
        return bool(left == right)
    if isinstance(left, dict | list) or isinstance(right, dict | list):
        return left is right
    return type(left) is type(right) and bool(left == right)


def _nullish(value: Any) -> bool:
    return value is None or value is UNDEFINED


def _loose_equal(left: Any, right: Any) -> bool:
    if _nullish(left) or _nullish(right):
        return _nullish(left) and _nullish(right)
    if isinstance(left, bool):
        return _loose_equal(int(left), right)
    if isinstance(right, bool):
        return _loose_equal(left, int(right))
    if _is_number(left) and isinstance(right, str):
        return bool(left == _to_number(right))
    if isinstance(left, str) and _is_number(right):
        return bool(_to_number(left) == right)
    return _strict_equal(left, right)


def _to_number(value: Any) -> float:
    if value is None or value is False:
        return 0.0
    if value is True:
        return 1.0
    if _is_number(value):
        return float(value)
    if isinstance(value, str):
        if not value.strip():
            return 0.0
        return float(value) if _NUMERIC_TEXT.fullmatch(value) else math.nan
    return math.nan


def _compare(op: str, left: Any, right: Any) -> bool:
    if isinstance(left, str) and isinstance(right, str):
        return _RELATIONS[op](left, right)
    return _RELATIONS[op](_to_number(left), _to_number(right))  # NaN compares false, as in JS
