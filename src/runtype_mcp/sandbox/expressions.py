"""The safe expression language of step ``when`` predicates and ``conditional`` conditions.

Runtype evaluates these as JavaScript; nothing here evaluates code. One parser serves the engine and
save-time validation (``runtype_mcp.flow_check``): it accepts the JavaScript a model naturally writes and
interprets it with JavaScript semantics, over the step's variables only:

- literals: numbers, ``"strings"``/``'strings'``, ``true``, ``false``, ``null``, ``undefined``, ``[a, b]``;
- variable paths: ``score``, ``_record.metadata.tier``, ``a?.b``, ``items[0].name``, ``a["key"]``, ``a[i]``,
  ``tags.length``, also inside ``{{ }}``; a path that leads nowhere is ``undefined`` (never a TypeError);
- operators, loosest first: ``a ? b : c``; ``||`` ``??``; ``&&``; ``==`` ``!=`` ``===`` ``!==``;
  ``<`` ``<=`` ``>`` ``>=``; ``+`` ``-``; ``*`` ``/`` ``%``; unary ``!`` ``-`` ``+``; parentheses;
- calls: ``Number()`` ``String()`` ``Boolean()`` ``parseInt()`` ``parseFloat()``, and the methods
  ``.includes()`` ``.startsWith()`` ``.endsWith()`` ``.toLowerCase()`` ``.toUpperCase()`` ``.trim()``
  ``.indexOf()`` of strings and arrays (a method of anything else is ``undefined``).

Nothing else is reachable: no other names are callable, no attribute of a Python object is read (only
keys of JSON objects, items of arrays and ``length``), input length and nesting are capped, and every
operation is bounded by the expression's size. Simplifications: loose equality between an object and a
primitive is false, objects are equal only to themselves, relational comparison of objects is false.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from runtype_mcp.sandbox.templating import UNDEFINED, TemplateContext, unescape

MAX_LENGTH = 4000
MAX_NESTING = 50
FUNCTIONS = ("Number", "String", "Boolean", "parseInt", "parseFloat")
METHODS = ("includes", "startsWith", "endsWith", "toLowerCase", "toUpperCase", "trim", "indexOf")
SUPPORTED = (
    "literals, variable paths (a.b, a?.b, a[0], a['k']), ! - + * / %, < <= > >=, == != === !==, && || ??, "
    f"a ? b : c, {', '.join(f + '()' for f in FUNCTIONS)}, .length and "
    f"{', '.join('.' + m + '()' for m in METHODS)}"
)

_TOKEN = re.compile(
    r"""(?:
      (?P<num>[0-9]+(?:\.[0-9]*)?(?:[eE][+-]?[0-9]+)?)
    | (?P<str>"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')
    | (?P<name>[A-Za-z_$][A-Za-z0-9_$]*)
    | (?P<op>===|!==|==|!=|>=|<=|&&|\|\||\?\?|\?\.|\{\{|\}\}|[<>!()\[\].,?:+*/%-])
    )""",
    re.VERBOSE | re.DOTALL,
)
_INDEX = re.compile(r"([0-9]+)")
_KEYWORDS = {"true": True, "false": False, "null": None, "undefined": UNDEFINED}
_CLOSERS = {"(": ")", "{{": "}}"}


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
class _Member:
    target: _Node
    key: _Node


@dataclass(frozen=True)
class _Array:
    items: tuple[_Node, ...]


@dataclass(frozen=True)
class _Call:
    function: str
    target: _Node | None  # the object of a method call
    args: tuple[_Node, ...]


@dataclass(frozen=True)
class _Unary:
    op: str
    operand: _Node


@dataclass(frozen=True)
class _Binary:
    op: str
    left: _Node
    right: _Node


@dataclass(frozen=True)
class _Ternary:
    test: _Node
    then: _Node
    otherwise: _Node


_Node = _Literal | _Path | _Member | _Array | _Call | _Unary | _Binary | _Ternary


def _skip_space(text: str, position: int) -> int:
    while position < len(text) and text[position].isspace():
        position += 1
    return position


def _tokenize(text: str) -> list[_Token]:
    tokens: list[_Token] = []
    position = _skip_space(text, 0)
    while position < len(text):
        after_dot = bool(tokens) and tokens[-1].text in (".", "?.")
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
        node = self.expression()
        if self.current.kind != "end":
            raise self.error("expected an operator or the end")
        return node

    @contextmanager
    def nested(self) -> Iterator[None]:
        self.depth += 1
        if self.depth > MAX_NESTING:
            raise ExpressionError(f"expression nests deeper than {MAX_NESTING} levels")
        try:
            yield
        finally:
            self.depth -= 1

    def expression(self) -> _Node:
        with self.nested():
            test = self.binary(0)
            if self.take("?") is None:
                return test
            then = self.expression()
            self.expect(":")
            return _Ternary(test, then, self.expression())

    _LEVELS: tuple[tuple[str, ...], ...] = (
        ("||", "??"),
        ("&&",),
        ("==", "!=", "===", "!=="),
        ("<", "<=", ">", ">="),
        ("+", "-"),
        ("*", "/", "%"),
    )

    def binary(self, level: int) -> _Node:
        if level == len(self._LEVELS):
            return self.unary()
        node = self.binary(level + 1)
        while (op := self.take(*self._LEVELS[level])) is not None:
            node = _Binary(op, node, self.binary(level + 1))
        return node

    def unary(self) -> _Node:
        op = self.take("!", "-", "+")
        if op is None:
            return self.postfix(self.primary())
        with self.nested():
            return _Unary(op, self.unary())

    def primary(self) -> _Node:
        token = self.current
        opener = self.take("(", "{{", "[")
        if opener == "[":
            return _Array(self.arguments("]"))
        if opener is not None:
            node = self.expression()
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
            if self.take("("):
                if token.text not in FUNCTIONS:
                    raise ExpressionError(
                        f"function {token.text}() is not supported (position {token.position}); "
                        f"supported: {', '.join(FUNCTIONS)}"
                    )
                return _Call(token.text, None, self.arguments(")"))
            return _Path((token.text,))
        self.index -= 1
        raise self.error("expected a value, a variable or '('")

    def arguments(self, closer: str) -> tuple[_Node, ...]:
        items: list[_Node] = []
        while self.take(closer) is None:
            if items:
                self.expect(",")
            items.append(self.expression())
        return tuple(items)

    def postfix(self, node: _Node) -> _Node:
        while (op := self.take(".", "?.", "[")) is not None:
            if op == "[":
                key = self.expression()
                self.expect("]")
                node = _extend(node, key)
                continue
            token = self.current
            if token.kind != "name":
                raise self.error("expected a property name")
            self.index += 1
            if self.take("("):
                if token.text not in METHODS:
                    raise ExpressionError(
                        f"method .{token.text}() is not supported (position {token.position}); "
                        f"supported: {', '.join('.' + m + '()' for m in METHODS)}"
                    )
                node = _Call(token.text, node, self.arguments(")"))
            else:
                node = _extend(node, _Literal(token.text))
        return node


def _extend(node: _Node, key: _Node) -> _Node:
    static = (
        isinstance(key, _Literal) and isinstance(key.value, str | int) and not isinstance(key.value, bool)
    )
    if isinstance(node, _Path) and static:
        return _Path((*node.segments, str(key.value)))  # type: ignore[union-attr]
    return _Member(node, key)


def parse(expression: str) -> _Node:
    """Parse an expression, raising ExpressionError when it is outside the language."""
    if len(expression) > MAX_LENGTH:
        raise ExpressionError(f"expression is longer than {MAX_LENGTH} characters")
    if not expression.strip():
        raise ExpressionError("expression is empty")
    return _Parser(expression).parse()


def variable_paths(node: _Node) -> Iterator[tuple[str, ...]]:
    """Every variable path an expression reads (for save-time scope checks)."""
    if isinstance(node, _Path):
        yield node.segments
    elif isinstance(node, _Member):
        yield from variable_paths(node.target)
        yield from variable_paths(node.key)
    elif isinstance(node, _Array):
        for item in node.items:
            yield from variable_paths(item)
    elif isinstance(node, _Call):
        if node.target is not None:
            yield from variable_paths(node.target)
        for arg in node.args:
            yield from variable_paths(arg)
    elif isinstance(node, _Unary):
        yield from variable_paths(node.operand)
    elif isinstance(node, _Binary):
        yield from variable_paths(node.left)
        yield from variable_paths(node.right)
    elif isinstance(node, _Ternary):
        for part in (node.test, node.then, node.otherwise):
            yield from variable_paths(part)


def evaluate(expression: str, context: TemplateContext) -> Any:
    """Evaluate an expression over the context's variables; undefined paths are reported as unresolved."""
    from runtype_mcp.sandbox.expression_eval import evaluate_node

    return evaluate_node(parse(expression), context)
