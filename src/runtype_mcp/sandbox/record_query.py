"""Record selection as SQL: list/export query filters (§2.1), `recordFilter` (§4) and bulk-edit `conditions`."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from starlette.requests import Request

from . import filters
from .filter_validation import COLUMNS
from .validation import Checker, ValidationFailed, invalid, join, query_bool, query_int

CONDITION_OPERATORS = ("equals", "equals_ci", "not_equals", "contains", "not_contains")
_COLUMNS = {**COLUMNS, "type": "type"}  # top-level fields a condition may name besides metadata keys
# List/export query parameters the SDK defines whose meaning Runtype does not document: refused with
# a 400 detail rather than accepted and ignored (a silently ignored filter returns the wrong records).
UNDOCUMENTED_FILTERS = {
    "distinct": "For distinct values of one metadata field use GET /v1/records/field-values",
    "metadata_types": "Filter on a field's type with recordFilter, or list keys with GET /v1/records/schema",
    "has_large_fields": "Use min_size_kb / max_size_kb to filter on the metadata size",
}
# Names the SDK's hand-written overlay sends that the API definition does not have.
MISSPELLED = {
    "include_fields": "Use includeFields=true",
    "sort_by": "Lists are always newest first; drop sort_by (GET /v1/records has no sort parameter)",
    "sort_order": "Lists are always newest first; drop sort_order (GET /v1/records has no sort parameter)",
}
_FILTER_EXAMPLE = '{"type": "customer", "where": {"field": "tier", "op": "eq", "value": "gold"}}'


@dataclass
class SqlFilter:
    """A conjunction of trusted SQL clauses over `records`, with their parameters."""

    clauses: list[str] = field(default_factory=list)
    params: list[Any] = field(default_factory=list)
    applied: dict[str, Any] = field(default_factory=dict)

    def add(self, clause: str, *params: Any) -> None:
        self.clauses.append(clause)
        self.params.extend(params)

    @property
    def sql(self) -> str:
        return " AND ".join(f"({clause})" for clause in self.clauses)


def escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def where_sql(where: dict[str, Any] | None, path: str) -> tuple[str, list[Any]] | None:
    """Validate a §4 where object and compile it, or raise a 400 with the filter's own details."""
    if where is None:
        return None
    try:
        filters.validate_where(where, path=path)
        sql, params = filters.compile_where(where)
    except filters.FilterError as exc:
        raise ValidationFailed(exc.details) from None
    return sql, list(params)


def parse_record_filter(raw: str, path: str = "recordFilter") -> tuple[str | None, dict[str, Any] | None]:
    """`recordFilter` as JSON: either `{type?, where}` or a bare where object."""
    try:
        value = json.loads(raw)
    except ValueError:
        raise invalid(
            "INVALID_FORMAT",
            f"{path} is not valid JSON",
            path,
            f"Send URL-encoded JSON such as {_FILTER_EXAMPLE}",
        ) from None
    return split_record_filter(value, path)


def split_record_filter(value: Any, path: str) -> tuple[str | None, dict[str, Any] | None]:
    if not isinstance(value, dict):
        raise invalid(
            "INVALID_TYPE", f"{path} must be an object", path, f"Send an object such as {_FILTER_EXAMPLE}"
        )
    wrapped = "where" in value or ("type" in value and "field" not in value and "op" not in value)
    if not wrapped:
        where_sql(value, path)
        return None, value
    check = Checker()
    check.known_keys(value, ("type", "where"), path)
    record_type = check.string(value, "type", path=path, min_len=1, max_len=255)
    where = check.mapping(value, "where", path=path)
    check.done()
    where_sql(where, join(path, "where"))
    return record_type, where


def from_query(request: Request) -> SqlFilter:
    """The filter set shared by `GET /v1/records` and `GET /v1/records/export`."""
    query = request.query_params
    check = Checker()
    for name, suggestion in UNDOCUMENTED_FILTERS.items():
        if name in query:
            check.add(
                "UNSUPPORTED_IN_SANDBOX",
                f"{name} is not supported by the sandbox: its meaning is undocumented",
                name,
                suggestion,
            )
    for name, suggestion in MISSPELLED.items():
        if name in query:
            check.add("UNKNOWN_PARAMETER", f"{name} is not a parameter of this endpoint", name, suggestion)
    check.done()
    result = SqlFilter()
    if "product_surface_id" in query:
        # Sandbox records belong to no product surface (productSurfaceId is always null).
        result.add("0")
        result.applied["product_surface_id"] = query["product_surface_id"]
    if query_bool(request, "includeFields"):
        result.applied["includeFields"] = True
    for name, column in (("type", "type"), ("name", "name"), ("ownerId", "owner_id")):
        if value := query.get(name):
            result.add(f"{column} = ?", value)
            result.applied[name] = value
    if search := query.get("search"):
        pattern = f"%{escape_like(search)}%"
        result.add("name LIKE ? ESCAPE '\\' OR metadata LIKE ? ESCAPE '\\'", pattern, pattern)
        result.applied["search"] = search
    for name, joiner in (("metadata_keys", " OR "), ("metadata_keys_all", " AND ")):
        keys = [key.strip() for key in query.get(name, "").split(",") if key.strip()]
        if keys:
            exists = "EXISTS (SELECT 1 FROM json_each(records.metadata) AS j WHERE j.key = ?)"
            result.add(joiner.join([exists] * len(keys)), *keys)
            result.applied[name] = keys
    for name, operator in (("min_fields", ">="), ("max_fields", "<=")):
        if query.get(name):
            bound = query_int(request, name, default=0, low=0, high=None)
            result.add(f"field_count {operator} ?", bound)
            result.applied[name] = bound
    for name, operator in (("min_size_kb", ">="), ("max_size_kb", "<=")):
        if query.get(name):
            kilobytes = query_int(request, name, default=0, low=0, high=None)
            result.add(f"length(CAST(metadata AS BLOB)) {operator} ?", kilobytes * 1024)
            result.applied[name] = kilobytes
    if raw := query.get("recordFilter"):
        record_type, where = parse_record_filter(raw)
        if record_type is not None:
            result.add("type = ?", record_type)
        compiled = where_sql(where, "recordFilter")
        if compiled is not None:
            result.add(compiled[0], *compiled[1])
        result.applied["recordFilter"] = {"type": record_type, "where": where}
    return result


def conditions_sql(conditions: list[Any], path: str = "conditions") -> tuple[str, list[Any]]:
    """The older bulk-edit language: `[{field, operator, value}]`, all of which must hold."""
    check = Checker()
    parts: list[str] = []
    params: list[Any] = []
    for index, item in enumerate(conditions):
        where = join(path, index)
        if not isinstance(item, dict):
            check.wrong_type(where, "an object", item)
            continue
        check.known_keys(item, ("field", "operator", "value"), where)
        name = check.string(item, "field", path=where, required=True, min_len=1, max_len=255)
        operator = check.enum(item, "operator", CONDITION_OPERATORS, path=where, required=True)
        value = item.get("value")
        if not isinstance(value, str | int | float | bool):
            check.add(
                "INVALID_TYPE",
                f"{join(where, 'value')} must be a string, number or boolean",
                join(where, "value"),
            )
            continue
        if name is None or operator is None:
            continue
        sql, args = _condition(name, operator, value)
        parts.append(sql)
        params.extend(args)
    check.done()
    return " AND ".join(f"({part})" for part in parts) or "1", params


def _condition(name: str, operator: str, value: str | int | float | bool) -> tuple[str, list[Any]]:
    args: list[Any]
    negate = operator.startswith("not_")
    text = str(value).lower()
    if name in _COLUMNS:
        column = _COLUMNS[name]
        if operator in ("contains", "not_contains"):
            sql, args = f"instr(lower({column}), ?) > 0", [text]
        elif operator == "equals_ci":
            sql, args = f"lower({column}) = ?", [text]
        else:
            sql, args = f"{column} = ?", [str(value)]
    else:
        if isinstance(value, bool):
            match, args = "j.type = ?", ["true" if value else "false"]
        elif isinstance(value, int | float):
            match, args = "j.type IN ('integer', 'real') AND j.atom = ?", [value]
        elif operator in ("contains", "not_contains"):
            match, args = "j.type = 'text' AND instr(lower(j.atom), ?) > 0", [text]
        elif operator == "equals_ci":
            match, args = "j.type = 'text' AND lower(j.atom) = ?", [text]
        else:
            match, args = "j.type = 'text' AND j.atom = ?", [value]
        sql = f"EXISTS (SELECT 1 FROM json_each(records.metadata) AS j WHERE j.key = ? AND {match})"
        args = [name, *args]
    return (f"NOT ({sql})" if negate else sql), args
