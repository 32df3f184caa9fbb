"""Validation of the record filter language (runtype-api.md §4) with the API's 400 ``details`` format.

Use it through ``runtype_mcp.sandbox.filters``, which re-exports ``FilterError`` and ``validate_where``.
"""

from __future__ import annotations

import difflib
import math
from dataclasses import dataclass, field
from typing import Any

OPS: tuple[str, ...] = (
    "eq",
    "neq",
    "gt",
    "gte",
    "lt",
    "lte",
    "between",
    "contains",
    "startsWith",
    "endsWith",
    "in",
    "notIn",
    "isSet",
    "isNotSet",
    "isTrue",
    "isFalse",
    "withinLastDays",
    "olderThanDays",
)
GROUP_OPS: tuple[str, ...] = ("and", "or")
COLUMNS: dict[str, str] = {"id": "id", "name": "name", "createdAt": "created_at", "updatedAt": "updated_at"}
MAX_DAYS = 100_000

_CONDITION_KEYS = ("field", "op", "value")
_GROUP_KEYS = ("op", "conditions")
_NO_VALUE_OPS = frozenset({"isSet", "isNotSet", "isTrue", "isFalse"})
_VALUE_SHAPES = {
    "eq": "a string, number or boolean",
    "neq": "a string, number or boolean",
    "gt": "a number or a string",
    "gte": "a number or a string",
    "lt": "a number or a string",
    "lte": "a number or a string",
    "between": "a two-element list [low, high] of numbers or of strings",
    "contains": "a string",
    "startsWith": "a string",
    "endsWith": "a string",
    "in": "a list of strings, numbers or booleans",
    "notIn": "a list of strings, numbers or booleans",
    "withinLastDays": f"a number of days from 0 to {MAX_DAYS}",
    "olderThanDays": f"a number of days from 0 to {MAX_DAYS}",
}
_OP_ALIASES = {
    "=": "eq",
    "==": "eq",
    "equals": "eq",
    "!=": "neq",
    "ne": "neq",
    "not_equals": "neq",
    ">": "gt",
    ">=": "gte",
    "<": "lt",
    "<=": "lte",
    "nin": "notIn",
    "not_in": "notIn",
    "exists": "isSet",
    "starts_with": "startsWith",
    "ends_with": "endsWith",
}


class FilterError(Exception):
    """A ``where`` object that breaks the filter language; ``details`` use the API's 400 format."""

    details: list[dict[str, Any]]

    def __init__(self, details: list[dict[str, Any]]) -> None:
        self.details = details
        super().__init__("; ".join(f"{d['path']}: {d['message']}" for d in details))


# --- checks --------------------------------------------------------------------------------------


@dataclass
class _Problems:
    details: list[dict[str, Any]] = field(default_factory=list)

    def add(self, code: str, path: str, message: str, suggestion: str) -> None:
        self.details.append({"code": code, "message": message, "path": path, "suggestion": suggestion})


def validate_where(where: Any, *, path: str = "where") -> None:
    """Raise ``FilterError`` listing every problem in ``where``; return silently when it is valid."""
    problems = _Problems()
    _check_node(where, path, 1, problems)
    if problems.details:
        raise FilterError(problems.details)


def is_group(node: dict[str, Any]) -> bool:
    """Whether a (dict) node is an and/or group rather than a condition."""
    return "field" not in node and ("conditions" in node or node.get("op") in GROUP_OPS)


def _check_node(node: Any, path: str, depth: int, problems: _Problems) -> None:
    if not isinstance(node, dict):
        problems.add(
            "INVALID_TYPE",
            path,
            f"must be an object, got {_type_name(node)}",
            'use a condition {"field", "op", "value"} or a group {"op": "and"|"or", "conditions": [...]}',
        )
    elif is_group(node):
        _check_group(node, path, depth, problems)
    else:
        _check_condition(node, path, problems)


def _check_unknown_keys(
    node: dict[str, Any], allowed: tuple[str, ...], path: str, problems: _Problems
) -> None:
    unknown = [str(key) for key in node if key not in allowed]
    if unknown:
        problems.add(
            "UNRECOGNIZED_KEYS",
            path,
            f"unrecognized key(s): {', '.join(unknown)}",
            f"remove {', '.join(unknown)}; allowed keys here: {', '.join(allowed)}",
        )


def _check_group(node: dict[str, Any], path: str, depth: int, problems: _Problems) -> None:
    if depth > 2:
        problems.add(
            "CUSTOM_VALIDATION",
            path,
            "groups nest at most two levels deep: a group inside a group may contain only conditions",
            "move these conditions into the enclosing group, or restructure the filter",
        )
        return
    _check_unknown_keys(node, _GROUP_KEYS, path, problems)
    op = node.get("op")
    if "op" not in node:
        problems.add("MISSING_REQUIRED_FIELD", f"{path}.op", "a group needs op", 'add "op": "and" or "or"')
    elif op not in GROUP_OPS:
        problems.add("INVALID_ENUM", f"{path}.op", f"invalid group op {op!r}", "use one of: and, or")
    conditions = node.get("conditions")
    if "conditions" not in node:
        problems.add(
            "MISSING_REQUIRED_FIELD",
            f"{path}.conditions",
            "a group needs conditions",
            "add a conditions list of conditions or groups",
        )
    elif not isinstance(conditions, list):
        problems.add(
            "INVALID_TYPE",
            f"{path}.conditions",
            f"must be a list, got {_type_name(conditions)}",
            "wrap the conditions in a list",
        )
    elif not conditions:
        problems.add(
            "CUSTOM_VALIDATION",
            f"{path}.conditions",
            "a group needs at least one condition",
            "add a condition, or leave the filter out to match every record",
        )
    else:
        for index, child in enumerate(conditions):
            _check_node(child, f"{path}.conditions.{index}", depth + 1, problems)


def _check_condition(node: dict[str, Any], path: str, problems: _Problems) -> None:
    _check_unknown_keys(node, _CONDITION_KEYS, path, problems)
    name = node.get("field")
    if "field" not in node:
        problems.add(
            "MISSING_REQUIRED_FIELD",
            f"{path}.field",
            "a condition needs field",
            f"add field: one of {', '.join(COLUMNS)} or a top-level metadata key",
        )
    elif not isinstance(name, str) or not name:
        problems.add(
            "INVALID_TYPE",
            f"{path}.field",
            f"must be a non-empty string, got {_type_name(name)}",
            f"use one of {', '.join(COLUMNS)} or a top-level metadata key",
        )
    elif name.startswith("metadata."):
        problems.add(
            "CUSTOM_VALIDATION",
            f"{path}.field",
            "metadata keys are named bare, without a metadata. prefix",
            f'use "field": "{name.removeprefix("metadata.")}"',
        )
    op = node.get("op")
    if "op" not in node:
        problems.add("MISSING_REQUIRED_FIELD", f"{path}.op", "a condition needs op", _ops_hint(None))
    elif not isinstance(op, str) or op not in OPS:
        problems.add("INVALID_ENUM", f"{path}.op", f"invalid op {op!r}", _ops_hint(op))
    else:
        _check_value(op, node, f"{path}.value", problems)


def _ops_hint(op: Any) -> str:
    hint = f"use one of: {', '.join(OPS)}"
    if isinstance(op, str):
        by_lower = {candidate.lower(): candidate for candidate in OPS}
        guess = _OP_ALIASES.get(op) or by_lower.get(op.lower().replace("_", ""))
        if guess is None:
            close = difflib.get_close_matches(op, OPS, n=1)
            guess = close[0] if close else None
        if guess is not None:
            return f'did you mean "{guess}"? {hint}'
    return hint


def _check_value(op: str, node: dict[str, Any], path: str, problems: _Problems) -> None:
    value = node.get("value")
    if op in _NO_VALUE_OPS:
        if value is not None:
            problems.add("CUSTOM_VALIDATION", path, f"{op} takes no value", "remove value")
        return
    shape = _VALUE_SHAPES[op]
    if "value" not in node:
        problems.add("MISSING_REQUIRED_FIELD", path, f"{op} needs a value", f"add value: {shape}")
        return
    if op in ("eq", "neq"):
        ok = _is_scalar(value)
    elif op in ("gt", "gte", "lt", "lte"):
        ok = isinstance(value, str) or _is_number(value)
    elif op in ("contains", "startsWith", "endsWith"):
        ok = isinstance(value, str)
    elif op == "between":
        _check_between(value, path, problems)
        return
    elif op in ("in", "notIn"):
        _check_list(value, path, problems)
        return
    else:
        _check_days(value, path, problems)
        return
    if not ok:
        hint = f"use {shape}"
        if value is None:
            hint += "; to match a missing or null field use isNotSet"
        problems.add("INVALID_TYPE", path, f"{op} needs {shape}, got {_type_name(value)}", hint)


def _check_between(value: Any, path: str, problems: _Problems) -> None:
    shape = _VALUE_SHAPES["between"]
    if not isinstance(value, list):
        problems.add("INVALID_TYPE", path, f"between needs {shape}, got {_type_name(value)}", f"use {shape}")
    elif len(value) != 2:
        problems.add(
            "CUSTOM_VALIDATION", path, f"between needs exactly 2 values, got {len(value)}", f"use {shape}"
        )
    elif all(_is_number(bound) for bound in value) or all(isinstance(bound, str) for bound in value):
        return
    elif all(_is_number(bound) or isinstance(bound, str) for bound in value):
        problems.add(
            "CUSTOM_VALIDATION",
            path,
            "between bounds mix a number and a string",
            "make both numbers or both strings",
        )
    else:
        for index, bound in enumerate(value):
            if not (_is_number(bound) or isinstance(bound, str)):
                problems.add(
                    "INVALID_TYPE",
                    f"{path}.{index}",
                    f"a between bound must be a number or a string, got {_type_name(bound)}",
                    f"use {shape}",
                )


def _check_list(value: Any, path: str, problems: _Problems) -> None:
    shape = _VALUE_SHAPES["in"]
    if not isinstance(value, list):
        problems.add("INVALID_TYPE", path, f"needs {shape}, got {_type_name(value)}", f"use {shape}")
        return
    for index, item in enumerate(value):
        if not _is_scalar(item):
            problems.add(
                "INVALID_TYPE",
                f"{path}.{index}",
                f"list items must be strings, numbers or booleans, got {_type_name(item)}",
                f"use {shape}",
            )


def _check_days(value: Any, path: str, problems: _Problems) -> None:
    shape = _VALUE_SHAPES["withinLastDays"]
    if not _is_number(value):
        problems.add("INVALID_TYPE", path, f"needs {shape}, got {_type_name(value)}", f"use {shape}")
    elif not 0 <= value <= MAX_DAYS:
        problems.add("OUT_OF_RANGE", path, f"{value} days is out of range", f"use {shape}")


def _is_number(value: Any) -> bool:
    if isinstance(value, bool):
        return False
    if isinstance(value, int):
        return -(2**63) <= value < 2**63
    return isinstance(value, float) and math.isfinite(value)


def _is_scalar(value: Any) -> bool:
    return isinstance(value, str | bool) or _is_number(value)


def _type_name(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "list"
    if isinstance(value, dict):
        return "object"
    return type(value).__name__
