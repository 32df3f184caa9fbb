"""Argument validation failures (raised by the SDK before a tool runs) in the same format as API 400s.

No library URLs, no `input_value=` echo (values may be large or private): the path in the
tool's own terms, the problem, and what to send instead.
"""

from __future__ import annotations

import re
from typing import Any

from pydantic import ValidationError
from pydantic_core import ErrorDetails

from runtype_mcp.errors import ArgumentError, Detail, api_path_to_arg, render, shown_path

# Parts of a pydantic `loc` that name a union member, not a field.
_TYPE_TAG = re.compile(
    r"^(str|int|float|bool|dict|list|none|json-or-python|function-\w+|literal|where-\w+)\b|\["
)

_HINTS = {
    "missing": "add this argument",
    "extra_forbidden": "drop this key",
    "string_too_short": None,
    "string_too_long": None,
    "literal_error": None,
    "int_parsing": "send a whole number",
    "int_type": "send a whole number",
    "float_parsing": "send a number",
    "bool_parsing": "send true or false",
    "bool_type": "send true or false",
    "string_type": "send a string",
    "dict_type": "send a JSON object",
    "model_type": "send a JSON object",
    "list_type": "send a JSON array",
    "json_invalid": "send valid JSON",
}


def _detail(err: ErrorDetails) -> Detail:
    loc = [part for part in err["loc"] if not (isinstance(part, str) and _TYPE_TAG.search(part))]
    path = shown_path(api_path_to_arg(loc)) if loc else "(arguments)"
    kind = err["type"]
    message = err["msg"].removeprefix("Value error, ")
    ctx: dict[str, Any] = dict(err.get("ctx") or {})
    hint = _HINTS.get(kind)
    unit = "characters" if kind.startswith("string") else "items"
    if kind in {"string_too_short", "too_short"} and ctx.get("min_length") == 1:
        hint = "must not be empty" if unit == "characters" else "send at least one item"
    elif kind in {"string_too_short", "too_short"} and "min_length" in ctx:
        hint = f"send at least {ctx['min_length']} {unit}"
    elif kind in {"string_too_long", "too_long"} and "max_length" in ctx:
        hint = f"send at most {ctx['max_length']} {unit}"
    elif kind.startswith(("greater_than", "less_than")):
        bounds = {"ge": ">=", "gt": ">", "le": "<=", "lt": "<"}
        hint = "use a value " + " and ".join(f"{op} {ctx[k]}" for k, op in bounds.items() if k in ctx)
    elif kind == "literal_error":
        message = message.replace("Input should be", "must be one of:")
    return Detail(path, message, hint)


def render_validation_error(exc: ValidationError, tool: str) -> str:
    details = _dedupe([_detail(err) for err in exc.errors(include_url=False, include_input=False)])
    return render(ArgumentError(details), tool)


def _dedupe(details: list[Detail]) -> list[Detail]:
    """A union failure reports each member; keep one line per path."""
    seen: dict[str, Detail] = {}
    for detail in details:
        seen.setdefault(detail.path, detail)
    return list(seen.values())
