"""A small, safe expression language for step ``when`` predicates and ``conditional`` conditions.

Runtype evaluates these as JavaScript; the sandbox never evaluates code. It parses this subset and
interprets it with JavaScript semantics:

- literals: numbers, ``"strings"``/``'strings'``, ``true``, ``false``, ``null``, ``undefined``;
- variable paths: ``score``, ``_record.metadata.tier``, ``items[0].name``, ``tags.length``, also written
  as template placeholders (``{{_record.metadata.tier}}``); a path that leads nowhere is ``undefined``
  (no TypeError, as with ``?.``);
- operators, loosest first: ``||`` and ``??``, ``&&``, ``==`` ``!=`` ``===`` ``!==``, ``<`` ``<=`` ``>``
  ``>=``, unary ``!`` and ``-``; parentheses group.

Simplifications: loose equality between an object and a primitive is false, objects are equal only to
themselves, relational comparison of objects is false.
"""

from __future__ import annotations

import math
import operator
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from runtype_mcp.sandbox.templating import UNDEFINED, TemplateContext, is_truthy, unescape

MAX_LENGTH = 4000
MAX_NESTING = 50

_TOKEN = re.compile(
    r"""(?:
      (?P<num>[0-9]+(?:\.[0-9]*)?(?:[eE][+-]?[0-9]+)?)
    | (?P<str>"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')
    | (?P<name>[A-Za-z_$][A-Za-z0-9_$]*)
    | (?P<op>===|!==|==|!=|>=|<=|&&|\|\||\?\?|\{\{|\}\}|[<>!()\[\].-])
    )""",
    re.VERBOSE | re.DOTALL,
)
_INDEX = re.compile(r"([0-9]+)")
_NUMERIC_TEXT = re.compile(r"\s*[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?\s*")
_KEYWORDS = {"true": True, "false": False, "null": None, "undefined": UNDEFINED}
_CLOSERS = {"(": ")", "{{": "}}"}
_RELATIONS: dict[str, Callable[[Any, Any], bool]] = {
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}


class ExpressionError(ValueError):
    """The expression is not in the supported language; the message says where."""


@dataclass(frozen=True)
class _Token:
    kind: str  # num, str, name, op, end
    text: str
    position: int


@dataclass(frozen=True)
class _Literal:
    value: Any


@dataclass(frozen=True)
class _Path:
    segments: tuple[str, ...]


@dataclass(frozen=True)
class _Unary:
    op: str
    operand: _Node


@dataclass(frozen=True)
class _Binary:
    op: str
    left: _Node
    right: _Node


_Node = _Literal | _Path | _Unary | _Binary


def _skip_space(text: str, position: int) -> int:
    while position < len(text) and text[position].isspace():
        position += 1
    return position


def _tokenize(text: str) -> list[_Token]:
    tokens: list[_Token] = []
    position = _skip_space(text, 0)
    while position < len(text):
        after_dot = bool(tokens) and tokens[-1].text == "."
        match = (_INDEX.match(text, position) if after_dot else None) or _TOKEN.match(text, position)
        if match is None or match.end() == position:
            raise ExpressionError(f"unexpected character {text[position]!r} at position {position}")
        if match.re is _INDEX:
            tokens.append(_Token("name", match[1], match.start(1)))
        else:
            kind = match.lastgroup or "op"
            tokens.append(_Token(kind, match[kind], match.start(kind)))
        position = _skip_space(text, match.end())
    tokens.append(_Token("end", "", len(text)))
    return tokens


class _Parser:
    def __init__(self, text: str) -> None:
        self.tokens = _tokenize(text)
        self.index = 0
        self.depth = 0

    @property
    def current(self) -> _Token:
        return self.tokens[self.index]

    def take(self, *texts: str) -> str | None:
        token = self.current
        if token.kind == "op" and token.text in texts:
            self.index += 1
            return token.text
        return None

    def expect(self, text: str) -> None:
        if self.take(text) is None:
            raise self.error(f"expected {text!r}")

    def error(self, problem: str) -> ExpressionError:
        token = self.current
        found = "the end" if token.kind == "end" else repr(token.text)
        return ExpressionError(f"{problem} but found {found} at position {token.position}")

    def parse(self) -> _Node:
        node = self.binary(0)
        if self.current.kind != "end":
            raise self.error("expected an operator or the end")
        return node

    _LEVELS: tuple[tuple[str, ...], ...] = (
        ("||", "??"),
        ("&&",),
        ("==", "!=", "===", "!=="),
        ("<", "<=", ">", ">="),
    )

    def binary(self, level: int) -> _Node:
        if level == len(self._LEVELS):
            return self.unary()
        node = self.binary(level + 1)
        while (op := self.take(*self._LEVELS[level])) is not None:
            node = _Binary(op, node, self.binary(level + 1))
        return node

    def unary(self) -> _Node:
        op = self.take("!", "-")
        if op is None:
            return self.primary()
        with self.nested():
            return _Unary(op, self.unary())

    @contextmanager
    def nested(self) -> Iterator[None]:
        self.depth += 1
        if self.depth > MAX_NESTING:
            raise ExpressionError(f"expression nests deeper than {MAX_NESTING} levels")
        try:
            yield
        finally:
            self.depth -= 1

    def primary(self) -> _Node:
        token = self.current
        opener = self.take("(", "{{")
        if opener is not None:
            with self.nested():
                node = self.binary(0)
            self.expect(_CLOSERS[opener])
            return node
        self.index += 1
        if token.kind == "num":
            number = float(token.text)
            return _Literal(int(number) if number.is_integer() and token.text.isdigit() else number)
        if token.kind == "str":
            return _Literal(unescape(token.text[1:-1]))
        if token.kind == "name":
            if token.text in _KEYWORDS:
                return _Literal(_KEYWORDS[token.text])
            return self.path(token.text)
        self.index -= 1
        raise self.error("expected a value, a variable or '('")

    def path(self, first: str) -> _Path:
        segments = [first]
        while (op := self.take(".", "[")) is not None:
            token = self.current
            if op == "." and token.kind == "name":
                segments.append(token.text)
            elif op == "[" and token.kind in ("num", "str") and (token.kind == "str" or token.text.isdigit()):
                segments.append(unescape(token.text[1:-1]) if token.kind == "str" else token.text)
            else:
                raise self.error(
                    "expected a property name" if op == "." else "expected an index or a quoted key"
                )
            self.index += 1
            if op == "[":
                self.expect("]")
        return _Path(tuple(segments))


def parse(expression: str) -> _Node:
    """Parse an expression, raising ExpressionError when it is outside the language."""
    if len(expression) > MAX_LENGTH:
        raise ExpressionError(f"expression is longer than {MAX_LENGTH} characters")
    if not expression.strip():
        raise ExpressionError("expression is empty")
    return _Parser(expression).parse()


def evaluate(expression: str, context: TemplateContext) -> Any:
    """Evaluate an expression over the context's variables; undefined paths are reported as unresolved."""
    return _evaluate(parse(expression), context)


def _evaluate(node: _Node, context: TemplateContext) -> Any:
    if isinstance(node, _Literal):
        return node.value
    if isinstance(node, _Path):
        return context.lookup(node.segments)
    if isinstance(node, _Unary):
        operand = _evaluate(node.operand, context)
        return not is_truthy(operand) if node.op == "!" else -_to_number(operand)
    left = _evaluate(node.left, context)
    if node.op == "&&":
        return _evaluate(node.right, context) if is_truthy(left) else left
    if node.op == "||":
        return left if is_truthy(left) else _evaluate(node.right, context)
    if node.op == "??":
        return _evaluate(node.right, context) if _nullish(left) else left
    right = _evaluate(node.right, context)
    if node.op in ("===", "!=="):
        return _strict_equal(left, right) == (node.op == "===")
    if node.op in ("==", "!="):
        return _loose_equal(left, right) == (node.op == "==")
    return _compare(node.op, left, right)


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
