"""``{{ }}`` template variables of flow steps (runtype-api.md §5.4), rendered offline.

Supported inside the braces (whitespace allowed): a variable path with dot segments and array indexes
(``a.b.0.c``, ``a[0]``, ``a["key with spaces"]``, ``.length`` of a list or string), and fallbacks
``a || "x"`` (used when ``a`` is falsy) and ``a ?? b`` (used when ``a`` is null or undefined) whose
operands are quoted strings, numbers, ``true``/``false``/``null`` or other paths.

Strings render as they are, null and undefined as the empty string, everything else as compact JSON.
A placeholder that resolves to undefined renders empty and its variable names are reported as
unresolved; so is ``{{secret:KEY}}`` (stored secrets do not exist offline) and any placeholder this
module cannot parse, such as a Liquid filter (``{{ name | upcase }}``): Liquid is not implemented.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final


class _Undefined:
    """JavaScript's ``undefined``: what a path that leads nowhere resolves to (distinct from null)."""

    def __repr__(self) -> str:
        return "undefined"

    def __bool__(self) -> bool:
        return False


UNDEFINED: Final = _Undefined()

_PLACEHOLDER = re.compile(r"\{\{(.*?)\}\}", re.DOTALL)
_SECRET = re.compile(r"secret:[A-Za-z0-9_]+")
_NAME = re.compile(r"[\w$-]+")
_DOT_SEGMENT = re.compile(r"\.([\w$-]+)")
_INDEX_SEGMENT = re.compile(r"\[\s*(?:([0-9]+)|\"((?:[^\"\\]|\\.)*)\"|'((?:[^'\\]|\\.)*)')\s*\]")
_QUOTED = re.compile(r"\"((?:[^\"\\]|\\.)*)\"|'((?:[^'\\]|\\.)*)'")
_NUMBER = re.compile(r"-?[0-9]+(?:\.[0-9]+)?(?![\w$-])")
_KEYWORD = re.compile(r"(true|false|null)(?![\w$-])")
_FALLBACK_OP = re.compile(r"\s*(\|\||\?\?)\s*")
_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "b": "\b", "f": "\f", "v": "\v", "0": "\0"}
_ESCAPE = re.compile(r"\\(.)", re.DOTALL)


def unescape(body: str) -> str:
    """Decode the backslash escapes of a quoted string literal (``\\n``, ``\\"``, ``\\\\`` ...)."""
    return _ESCAPE.sub(lambda m: _ESCAPES.get(m[1], m[1]), body)


def is_truthy(value: Any) -> bool:
    """JavaScript truthiness: false, 0, NaN, "", null and undefined are falsy; [] and {} are truthy."""
    if value is None or value is UNDEFINED or value is False or value == "":
        return False
    if isinstance(value, int | float) and not isinstance(value, bool):
        return bool(value) and value == value  # NaN is falsy
    return True


def to_text(value: Any) -> str:
    """How a value appears when rendered into a template."""
    if isinstance(value, str):
        return value
    if value is None or value is UNDEFINED:
        return ""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=str)


def resolve(value: Any, segments: tuple[str, ...]) -> Any:
    """Follow path segments through dicts and lists; UNDEFINED as soon as a segment leads nowhere."""
    current = value
    for segment in segments:
        if isinstance(current, Mapping) and segment in current:
            current = current[segment]
        elif isinstance(current, list) and segment.isascii() and segment.isdigit():
            index = int(segment)
            current = current[index] if index < len(current) else UNDEFINED
        elif segment == "length" and isinstance(current, list | str):
            current = len(current)
        else:
            return UNDEFINED
    return current


def parse_path(text: str, start: int = 0) -> tuple[tuple[str, ...], int] | None:
    """Read a template path at ``text[start:]``: its segments and the position after it, or None."""
    match = _NAME.match(text, start)
    if match is None:
        return None
    segments = [match[0]]
    position = match.end()
    while True:
        step = _DOT_SEGMENT.match(text, position) or _INDEX_SEGMENT.match(text, position)
        if step is None:
            return tuple(segments), position
        if step.re is _DOT_SEGMENT or step[1] is not None:
            segments.append(step[1])
        else:
            segments.append(unescape(step[2] if step[2] is not None else step[3]))
        position = step.end()


def path_name(segments: tuple[str, ...]) -> str:
    return ".".join(segments)


@dataclass
class TemplateContext:
    """The variables of a run, plus what templates and expressions read from them during one step.

    ``used`` maps each path that resolved to its value; ``unresolved`` lists names that did not.
    """

    variables: dict[str, Any]
    unresolved: list[str] = field(default_factory=list)
    used: dict[str, Any] = field(default_factory=dict)

    def mark_unresolved(self, name: str) -> None:
        if name not in self.unresolved:
            self.unresolved.append(name)

    def lookup(self, segments: tuple[str, ...], *, report: bool = True) -> Any:
        value = resolve(self.variables, segments)
        if value is not UNDEFINED:
            self.used[path_name(segments)] = value
        elif report:
            self.mark_unresolved(path_name(segments))
        return value

    def render(self, text: str) -> str:
        return _PLACEHOLDER.sub(lambda match: to_text(self._placeholder(match[1])), text)

    def render_deep(self, value: Any) -> Any:
        """Render every string inside a JSON-like value (dict keys stay as they are)."""
        if isinstance(value, str):
            return self.render(value)
        if isinstance(value, dict):
            return {key: self.render_deep(item) for key, item in value.items()}
        if isinstance(value, list):
            return [self.render_deep(item) for item in value]
        return value

    def _placeholder(self, body: str) -> Any:
        expression = body.strip()
        if _SECRET.fullmatch(expression):
            self.mark_unresolved(expression)
            return UNDEFINED
        operands = _parse_fallbacks(expression)
        if operands is None:
            self.mark_unresolved(expression or "{{}}")
            return UNDEFINED
        missing: list[str] = []
        value: Any = UNDEFINED
        for index, (operator, operand) in enumerate(operands):
            if index and (
                is_truthy(value) if operator == "||" else value is not None and value is not UNDEFINED
            ):
                break
            if isinstance(operand, tuple):
                value = self.lookup(operand, report=False)
                if value is UNDEFINED:
                    missing.append(path_name(operand))
            else:
                value = operand.value
        if value is UNDEFINED:
            for name in missing:
                self.mark_unresolved(name)
        return value


@dataclass(frozen=True)
class _Literal:
    value: Any


def _parse_fallbacks(expression: str) -> list[tuple[str, tuple[str, ...] | _Literal]] | None:
    """``a || "x" ?? b`` as [("", path a), ("||", literal "x"), ("??", path b)]; None when unparsable."""
    operands: list[tuple[str, tuple[str, ...] | _Literal]] = []
    operator, position = "", 0
    while True:
        operand, position = _parse_operand(expression, position, first=not operands)
        if operand is None:
            return None
        operands.append((operator, operand))
        if position == len(expression):
            return operands
        joint = _FALLBACK_OP.match(expression, position)
        if joint is None:
            return None
        operator, position = joint[1], joint.end()


def _parse_operand(text: str, position: int, *, first: bool) -> tuple[tuple[str, ...] | _Literal | None, int]:
    if not first:
        quoted = _QUOTED.match(text, position)
        if quoted is not None:
            body = quoted[1] if quoted[1] is not None else quoted[2]
            return _Literal(unescape(body)), quoted.end()
        number = _NUMBER.match(text, position)
        if number is not None:
            return _Literal(json.loads(number[0])), number.end()
        keyword = _KEYWORD.match(text, position)
        if keyword is not None:
            return _Literal({"true": True, "false": False, "null": None}[keyword[1]]), keyword.end()
    return parse_path(text, position) or (None, position)


def render_template(text: str, variables: dict[str, Any]) -> tuple[str, list[str]]:
    """Render ``{{ }}`` placeholders; return the text and the names that could not be resolved."""
    context = TemplateContext(variables)
    return context.render(text), context.unresolved
