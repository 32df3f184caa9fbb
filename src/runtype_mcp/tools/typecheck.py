"""Type-safe filters: a comparison whose value type differs from what the field holds in sampled
records matches nothing (or compares as text); say so, with what is stored and how to write it."""

from __future__ import annotations

import json
from typing import Any

from runtype_mcp.errors import RuntypeMCPError, quote
from runtype_mcp.tools.filters import Condition, Group, InnerGroup
from runtype_mcp.tools.registry import Ctx, client_of

SAMPLE = 50
TOP_LEVEL = frozenset({"id", "name", "createdAt", "updatedAt", "type"})
_ORDER = frozenset({"gt", "gte", "lt", "lte", "between"})
_TYPED = _ORDER | {"eq", "neq", "in", "notIn", "isTrue", "isFalse"}


def _conditions(where: Condition | Group | InnerGroup | None) -> list[Condition]:
    if where is None:
        return []
    if isinstance(where, Condition):
        return [where]
    return [c for item in where.conditions for c in _conditions(item)]


def _kind(value: Any) -> str:
    if isinstance(value, list):
        return _kind(value[0]) if value else "none"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    return "string" if isinstance(value, str) else "none"


def _numeric_text(value: Any) -> bool:
    values = value if isinstance(value, list) else [value]
    try:
        return all(isinstance(v, str) and float(v) == float(v) for v in values)
    except ValueError:
        return False


def _stored(kind: Any) -> str:
    return {"integer": "number", "number": "number", "string": "string", "boolean": "boolean"}.get(
        str(kind), "other"
    )


def _as(value: Any, kind: str) -> str:
    def one(v: Any) -> Any:
        if kind == "number":
            try:
                return float(v) if "." in str(v) else int(v)
            except ValueError:
                return v
        return str(v).lower() if isinstance(v, bool) else str(v)

    fixed = [one(v) for v in value] if isinstance(value, list) else one(value)
    return json.dumps(fixed, ensure_ascii=False)


def check(condition: Condition, stored: str, example: Any, present: Any) -> str | None:
    """The warning for one condition against what the field holds, if any."""
    op, value = condition.op, condition.value
    field = quote(condition.field, 80)
    held = f"field {field} holds {stored}s in {present if present is not None else 'the'} sampled records"
    if example is not None:
        held += f" (e.g. {quote(json.dumps(example, ensure_ascii=False), 60)})"
    if op in ("isTrue", "isFalse"):
        if stored != "boolean":
            return f"{held}; {op} matches only true/false booleans: use eq with the stored value instead"
        return None
    given = _kind(value)
    if stored == "string" and given in ("number", "boolean"):
        how = f"write value {_as(value, 'string')} for exact matches" if op not in _ORDER else ""
        convert = (
            "convert the field to numbers (bulk_edit_records) to compare by size" if given == "number" else ""
        )
        fix = "; ".join(x for x in (how, convert) if x) or "convert the field first"
        return f"{held}, but the filter compares it with a {given}, which never matches: {fix}"
    if stored == "number" and given == "string":
        return f"{held}, but the filter compares it with text, which never matches: write value {_as(value, 'number')}"
    if stored == "boolean" and given != "boolean" and given != "none":
        return f"{held}, but the filter compares it with a {given}: use isTrue/isFalse or value true/false"
    if stored == "string" and op in _ORDER and _numeric_text(value):
        return (
            f'{held}: {op} on text compares character by character ("100" < "70"), not by size; '
            "convert the field to numbers (bulk_edit_records) for a numeric comparison"
        )
    return None


async def filter_type_warnings(ctx: Ctx, record_type: str, where: Condition | Group | None) -> list[str]:
    """Warnings for comparisons whose value type differs from the stored type (sampled with
    discover_record_schema); none when the sample cannot be read."""
    conditions = [c for c in _conditions(where) if c.field not in TOP_LEVEL and c.op in _TYPED]
    if not conditions:
        return []
    try:
        schema = await client_of(ctx).discover_record_schema(type=record_type, sample=SAMPLE)
    except RuntypeMCPError:
        return []
    fields: dict[str, dict[str, Any]] = {}
    for item in schema.get("fields") or []:
        if isinstance(item, dict) and isinstance(item.get("name"), str):
            fields[item["name"]] = item
    out: list[str] = []
    for condition in conditions:
        info = fields.get(condition.field)
        if info is None:
            continue
        stored = _stored(info.get("type"))
        if stored == "other":
            continue
        warning = check(condition, stored, info.get("example"), info.get("presentIn"))
        if warning and warning not in out:
            out.append(warning)
    return out
