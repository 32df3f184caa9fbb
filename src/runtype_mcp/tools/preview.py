"""Previews of untrusted, possibly large values (run outputs, step outputs) for a context window."""

from __future__ import annotations

import json
from typing import Any

from runtype_mcp.errors import clean


def preview(value: Any, limit: int) -> tuple[Any, bool]:
    """`value` itself when its JSON is within `limit` characters, else a cut string; and whether it was cut."""
    if value is None or isinstance(value, bool | int | float):
        return value, False
    if isinstance(value, str):
        return (value, False) if len(value) <= limit else (value[: limit - 1] + "…", True)
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=str)
    return (value, False) if len(text) <= limit else (text[: limit - 1] + "…", True)


def short_error(value: Any) -> str | None:
    if not value:
        return None
    if isinstance(value, dict):
        value = value.get("message") or value.get("error") or value
    return clean(value, 300)


CUT_NOTE = "values ending in … were cut for this view: get_record has them whole; never write them back"


def was_cut(value: Any, text: int = 60, keys: int = 12) -> bool:
    """Whether `shrink(value, text, keys)` would cut anything."""
    return bool(shrink(value, text, keys) != value)


def shrink(value: Any, text: int = 100, keys: int = 20) -> Any:
    """A JSON value with long strings cut to `text` chars and objects/lists cut to `keys` entries."""
    if isinstance(value, str):
        return clean(value, text) if len(value) > text else value
    if isinstance(value, dict):
        items = list(value.items())
        out = {str(k)[:80]: shrink(v, text, keys) for k, v in items[:keys]}
        if len(items) > keys:
            out["…"] = f"{len(items) - keys} more keys"
        return out
    if isinstance(value, list):
        head = [shrink(v, text, keys) for v in value[:keys]]
        return [*head, f"… {len(value) - keys} more"] if len(value) > keys else head
    return value
