"""Reusable parameter types whose descriptions say where the value comes from."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import Field, WithJsonSchema

from runtype_mcp.tools.filters import Where

RecordId = Annotated[
    str,
    Field(min_length=1, max_length=512, description="Id from list_records."),
]
FlowId = Annotated[str, Field(min_length=1, max_length=512, description="Flow id (from list_flows).")]
BatchId = Annotated[str, Field(min_length=1, max_length=512, description="batch_id returned by a run tool.")]
ResultId = Annotated[
    str, Field(min_length=1, max_length=512, description="Result id from get_record_results.")
]
Confirm = Annotated[bool, Field(description="true once the user approved the listing.")]
RecordType = Annotated[
    str,
    Field(min_length=1, max_length=255, description="Record type."),
]
RecordName = Annotated[str, Field(min_length=1, max_length=500, description="Unique per type.")]
Metadata = Annotated[dict[str, Any], Field(description='e.g. {"tier":"gold"}')]
Limit = Annotated[int, Field(ge=1, le=100, description="Rows per page.")]
Cursor = Annotated[
    str | None,
    Field(max_length=2000, description="The last next_cursor."),
]
# The same typed filter as `filters.WhereArg`, advertised by reference where a tool repeats it
# (the full grammar is spelled out once, on preview_record_filter).
FilterRef = Annotated[
    Where | None, WithJsonSchema({"type": "object", "description": "As in preview_record_filter."})
]

MAX_METADATA_BYTES = 1024 * 1024
# Deeper JSON cannot be echoed back through the MCP layer (pydantic stops serialising at ~250 levels).
MAX_JSON_DEPTH = 32


def nested_deeper_than(value: Any, limit: int) -> bool:
    """Whether a JSON value nests containers more than `limit` levels (iterative: any depth is safe)."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, level = stack.pop()
        if isinstance(item, dict | list):
            if level > limit:
                return True
            stack.extend((child, level + 1) for child in (item.values() if isinstance(item, dict) else item))
    return False


def check_json_size(value: Any, arg: str, max_bytes: int = MAX_METADATA_BYTES) -> None:
    """Reject an oversized or too deeply nested JSON argument before sending it (Runtype's own limits
    are undocumented)."""
    import json

    from runtype_mcp.errors import ArgumentError, Detail

    if nested_deeper_than(value, MAX_JSON_DEPTH):
        raise ArgumentError(
            [
                Detail(
                    arg,
                    f"is nested more than {MAX_JSON_DEPTH} levels deep",
                    "flatten it, or store the deep part as a JSON string",
                )
            ]
        )
    size = len(json.dumps(value, ensure_ascii=False, default=str).encode())
    if size > max_bytes:
        raise ArgumentError(
            [
                Detail(
                    arg,
                    f"is {size:,} bytes of JSON; the limit is {max_bytes:,}",
                    "store large content elsewhere and keep a reference or summary here",
                )
            ]
        )
