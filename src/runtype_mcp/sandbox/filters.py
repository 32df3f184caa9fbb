"""The record filter language (runtype-api.md §4): validation, SQLite compilation and Python evaluation.

``compile_where`` and ``matches`` share one meaning, with no type coercion:

- A field is *unset* when the record lacks it or holds JSON null.
- ``eq``/``in`` compare like with like: strings with strings, numbers (integer or real) with numbers,
  booleans with booleans. ``gt``/``gte``/``lt``/``lte``/``between`` order numbers numerically and
  strings by code point. A value of any other type (arrays, objects, unset) never matches.
- ``contains``/``startsWith``/``endsWith`` are case-sensitive and apply to string values only.
- ``neq``, ``notIn`` and ``isNotSet`` are the exact negations of ``eq``, ``in`` and ``isSet``, so they
  also match records where the field is unset.
- ``isTrue``/``isFalse`` match JSON booleans only.
- ``withinLastDays N`` keeps date strings at or after ``now - N days``; ``olderThanDays N`` keeps those
  before it. A date string is read as SQLite's ``julianday()`` reads it (``YYYY-MM-DD``, optionally
  ``HH:MM[:SS[.fff]]`` and ``Z`` or ``±HH:MM``); other values match neither op.

SQL leaves are wrapped in ``coalesce(..., 0)`` so NULLs never leak into ``NOT``.
"""

from __future__ import annotations

import json
import operator
import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from runtype_mcp.sandbox.filter_validation import (
    COLUMNS,
    OPS,
    FilterError,
    is_group,
    validate_where,
)

__all__ = ["OPS", "FilterError", "compile_where", "matches", "parse_date_millis", "validate_where"]

_NEGATED = {"neq": "eq", "notIn": "in", "isNotSet": "isSet"}
_ORDERINGS: dict[str, Callable[[Any, Any], Any]] = {
    "gt": operator.gt,
    "gte": operator.ge,
    "lt": operator.lt,
    "lte": operator.le,
}
# Keys JSON encoders never escape can be addressed by a SQLite JSON path; others need json_each.
_PATH_SAFE_KEY = re.compile(r"[ !#-\[\]-~]+")
_DATE_PREFIX_GLOB = "[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]*"
_WS = r"[ \t\n\v\f\r]*"
_DATE_RE = re.compile(
    rf"([0-9]{{4}})-([0-9]{{2}})-([0-9]{{2}})[ \t\n\v\f\rT]*"
    rf"(?:([0-9]{{2}}):([0-9]{{2}})(?::([0-9]{{2}})(?:\.([0-9]+))?)?"
    rf"{_WS}(?:[Zz]|([+-])([0-9]{{2}}):([0-9]{{2}}))?{_WS})?"
)


# --- shared semantics ----------------------------------------------------------------------------------


def _cutoff(now: datetime | None, days: float) -> str:
    """``now - days`` as a millisecond ISO-8601 UTC string, so SQL and Python read the same instant."""
    base = now or datetime.now(UTC)
    if base.tzinfo is None:
        base = base.replace(tzinfo=UTC)
    try:
        moment = (base - timedelta(days=days)).astimezone(UTC)
    except OverflowError:
        moment = datetime(1, 1, 1, tzinfo=UTC)
    return (
        f"{moment.year:04d}-{moment.month:02d}-{moment.day:02d}T{moment.hour:02d}:{moment.minute:02d}:"
        f"{moment.second:02d}.{moment.microsecond // 1000:03d}Z"
    )


def _days_from_civil(year: int, month: int, day: int) -> int:
    # Linear in ``day`` like SQLite, so "02-30" rolls into March exactly as julianday() does.
    year -= month <= 2
    era = year // 400
    year_of_era = year - era * 400
    day_of_year = (153 * ((month + 9) % 12) + 2) // 5 + day - 1
    return era * 146_097 + year_of_era * 365 + year_of_era // 4 - year_of_era // 100 + day_of_year - 719_468


def parse_date_millis(text: str) -> int | None:
    """Milliseconds since the Unix epoch, mirroring SQLite's julianday() for strings starting YYYY-MM-DD."""
    match = _DATE_RE.fullmatch(text)
    if match is None:
        return None
    year, month, day = int(match[1]), int(match[2]), int(match[3])
    if not (1 <= month <= 12 and 1 <= day <= 31):
        return None
    millis = _days_from_civil(year, month, day) * 86_400_000
    if match[4] is None:
        return millis
    hour, minute, second = int(match[4]), int(match[5]), int(match[6] or 0)
    if hour > 24 or minute > 59 or second > 59:
        return None
    fraction, scale = 0.0, 1.0
    for digit in match[7] or "":
        fraction = fraction * 10.0 + (ord(digit) - 48)
        scale *= 10.0
    millis += hour * 3_600_000 + minute * 60_000 + int((second + fraction / scale) * 1000.0 + 0.5)
    if match[8] is not None:
        tz_hour, tz_minute = int(match[9]), int(match[10])
        if tz_hour > 14 or tz_minute > 59:
            return None
        millis -= (1 if match[8] == "+" else -1) * (tz_hour * 60 + tz_minute) * 60_000
    return millis


# --- SQL -----------------------------------------------------------------------------------------------

_Frag = tuple[str, list[Any]]


def _cat(*parts: str | _Frag) -> _Frag:
    sql: list[str] = []
    params: list[Any] = []
    for part in parts:
        if isinstance(part, str):
            sql.append(part)
        else:
            sql.append(part[0])
            params.extend(part[1])
    return "".join(sql), params


def _param(value: Any) -> _Frag:
    return "?", [value]


def compile_where(where: dict[str, Any] | None, *, now: datetime | None = None) -> tuple[str, list[Any]]:
    """Validate ``where`` and return a parenthesised SQLite boolean expression and its ``?`` parameters.

    The expression reads the columns ``id``, ``name``, ``created_at``, ``updated_at`` and ``metadata``.
    """
    if where is None:
        return "1", []
    validate_where(where)
    return _compile_node(where, now)


def _compile_node(node: dict[str, Any], now: datetime | None) -> _Frag:
    if is_group(node):
        parts = [_compile_node(child, now) for child in node["conditions"]]
        joiner = " AND " if node["op"] == "and" else " OR "
        sql = joiner.join(part[0] for part in parts)
        return f"({sql})", [param for part in parts for param in part[1]]
    op = node["op"]
    negate = op in _NEGATED
    sql, params = _compile_leaf(_NEGATED.get(op, op), node["field"], node.get("value"), now)
    return f"({'NOT ' if negate else ''}coalesce({sql}, 0))", params


def _field_sql(name: str) -> tuple[_Frag, _Frag]:
    """SQL for the JSON type (as json_type() names it; NULL or 'null' when unset) and value of a field."""
    if name in COLUMNS:
        column = COLUMNS[name]
        return (f"typeof({column})", []), (column, [])
    if _PATH_SAFE_KEY.fullmatch(name):
        path = f'$."{name}"'
        return ("json_type(metadata, ?)", [path]), ("json_extract(metadata, ?)", [path])
    return (
        ("(SELECT type FROM json_each(metadata) WHERE key = ?)", [name]),
        ("(SELECT value FROM json_each(metadata) WHERE key = ?)", [name]),
    )


def _kind_sql(type_sql: _Frag, value: Any) -> _Frag:
    return _cat(type_sql, " = 'text'" if isinstance(value, str) else " IN ('integer', 'real')")


def _compile_leaf(op: str, name: str, value: Any, now: datetime | None) -> _Frag:
    kind, val = _field_sql(name)
    comparisons = {"eq": " = ", "gt": " > ", "gte": " >= ", "lt": " < ", "lte": " <= "}
    if op == "eq" and isinstance(value, bool):
        return _cat(kind, " = 'true'" if value else " = 'false'")
    if op in comparisons:
        return _cat(_kind_sql(kind, value), " AND ", val, comparisons[op], _param(value))
    if op == "between":
        low, high = value
        return _cat(_kind_sql(kind, low), " AND ", val, " BETWEEN ", _param(low), " AND ", _param(high))
    if op == "contains":
        return _cat(kind, " = 'text' AND instr(", val, ", ", _param(value), ") > 0")
    if op == "startsWith":
        return _cat(kind, " = 'text' AND instr(", val, ", ", _param(value), ") = 1")
    if op == "endsWith":
        if not value:
            return _cat(kind, " = 'text'")
        return _cat(kind, " = 'text' AND substr(", val, ", ", _param(-len(value)), ") = ", _param(value))
    if op == "in":
        return _compile_in(kind, val, value)
    if op == "isSet":
        return _cat("coalesce(", kind, ", 'null') <> 'null'")
    if op in ("isTrue", "isFalse"):
        return _cat(kind, " = 'true'" if op == "isTrue" else " = 'false'")
    # withinLastDays / olderThanDays
    compare = " >= " if op == "withinLastDays" else " < "
    return _cat(
        kind,
        " = 'text' AND ",
        val,
        f" GLOB '{_DATE_PREFIX_GLOB}' AND julianday(",
        val,
        f"){compare}julianday(",
        _param(_cutoff(now, value)),
        ")",
    )


def _compile_in(kind: _Frag, val: _Frag, items: list[Any]) -> _Frag:
    """Uncorrelated ``IN (SELECT value FROM json_each(?))`` per kind of item: a correlated json_each
    subquery would let its own columns (it has an ``id``) shadow the record's."""
    strings = [item for item in items if isinstance(item, str)]
    numbers = [item for item in items if not isinstance(item, str | bool)]
    alternatives: list[_Frag] = []
    for members, kind_test in ((strings, " = 'text'"), (numbers, " IN ('integer', 'real')")):
        if members:
            members_json = _param(json.dumps(members))
            alternatives.append(
                _cat(kind, kind_test, " AND ", val, " IN (SELECT value FROM json_each(", members_json, "))")
            )
    for flag in (True, False):
        if any(item is flag for item in items):
            alternatives.append(_cat(kind, " = 'true'" if flag else " = 'false'"))
    if not alternatives:
        return "0", []
    return " OR ".join(f"({sql})" for sql, _ in alternatives), [
        param for _, params in alternatives for param in params
    ]


# --- Python --------------------------------------------------------------------------------------------


def matches(where: dict[str, Any] | None, record: dict[str, Any], *, now: datetime | None = None) -> bool:
    """Whether an API-shaped record ``{id, name, createdAt, updatedAt, metadata}`` satisfies ``where``."""
    if where is None:
        return True
    validate_where(where)
    return _match_node(where, record, now)


def _match_node(node: dict[str, Any], record: dict[str, Any], now: datetime | None) -> bool:
    if is_group(node):
        results = (_match_node(child, record, now) for child in node["conditions"])
        return all(results) if node["op"] == "and" else any(results)
    op = node["op"]
    name = node["field"]
    if name in COLUMNS:
        actual = record.get(name)
    else:
        metadata = record.get("metadata")
        actual = metadata.get(name) if isinstance(metadata, dict) else None
    if op in _NEGATED:
        return not _match_leaf(_NEGATED[op], actual, node.get("value"), now)
    return _match_leaf(op, actual, node.get("value"), now)


def _kind(value: Any) -> str | None:
    """Python twin of the SQL kind tests: 'text', 'number', 'true', 'false', 'other' or None (unset)."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "text"
    return "other"


def _same(actual: Any, expected: Any) -> bool:
    kind = _kind(actual)
    return kind is not None and kind == _kind(expected) and actual == expected


def _match_leaf(op: str, actual: Any, value: Any, now: datetime | None) -> bool:
    kind = _kind(actual)
    if op == "eq":
        return _same(actual, value)
    if op == "in":
        return any(_same(actual, item) for item in value)
    if op == "isSet":
        return kind is not None
    if op == "isTrue":
        return kind == "true"
    if op == "isFalse":
        return kind == "false"
    if op in ("gt", "gte", "lt", "lte", "between"):
        reference = value[0] if op == "between" else value
        if kind is None or kind != _kind(reference):
            return False
        if op == "between":
            return bool(value[0] <= actual <= value[1])
        return bool(_ORDERINGS[op](actual, value))
    if kind != "text":
        return False
    if op == "contains":
        return value in actual
    if op == "startsWith":
        return bool(actual.startswith(value))
    if op == "endsWith":
        return bool(actual.endswith(value))
    moment = parse_date_millis(actual)
    cutoff = parse_date_millis(_cutoff(now, value))
    if moment is None or cutoff is None:
        return False
    return moment >= cutoff if op == "withinLastDays" else moment < cutoff
