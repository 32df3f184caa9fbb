"""What is in a record type: field values, filter previews, the schema (runtype-api.md §2.7-2.9).

The CSV export and upload tools live in `records_files.py`.
"""

from __future__ import annotations

from typing import Annotated, Any

from mcp.types import CallToolResult
from pydantic import Field

from runtype_mcp.errors import clean
from runtype_mcp.models.outputs import RecordRow
from runtype_mcp.models.outputs_records import (
    FieldValue,
    FieldValuesOut,
    FilterPreviewOut,
    SchemaField,
    SchemaOut,
)
from runtype_mcp.tools.filters import WhereArg, where_json
from runtype_mcp.tools.params import RecordType
from runtype_mcp.tools.preview import CUT_NOTE, shrink, was_cut
from runtype_mcp.tools.records import records
from runtype_mcp.tools.registry import Ctx, client_of, result
from runtype_mcp.tools.typecheck import filter_type_warnings

SHOWN_FIELDS = 50


# ---------------------------------------------------------------- field values, preview, schema


@records.tool(title="Field values", kind="read")
async def get_field_values(
    ctx: Ctx,
    type: RecordType,
    field: Annotated[str, Field(min_length=1, max_length=200, description="Metadata key, e.g. status.")],
    limit: Annotated[int, Field(ge=1, le=100, description="Values to return.")] = 20,
) -> Annotated[CallToolResult, FieldValuesOut]:
    """Top values of one metadata field, with counts: use before writing a filter."""
    body = await client_of(ctx).field_values(type=type, field=field, limit=limit)
    values = [
        FieldValue(
            value=shrink(v.get("value")), count=v.get("count") if isinstance(v.get("count"), int) else None
        )
        for v in (body.get("values") or [])[:limit]
        if isinstance(v, dict)
    ]
    truncated = bool(body.get("truncated"))
    return result(
        FieldValuesOut(
            type=type,
            field=field,
            values=values,
            truncated=truncated,
            note="More distinct values exist; raise limit to see more." if truncated else None,
        )
    )


@records.tool(title="Preview record filter", kind="read")
async def preview_record_filter(
    ctx: Ctx, type: RecordType, filter: WhereArg = None
) -> Annotated[CallToolResult, FilterPreviewOut]:
    """Count records of a type matching a filter (any owner), with samples: check filters here first."""
    body: dict[str, Any] = {"type": type}
    if filter is not None:
        body["where"] = where_json(filter)
    warnings = await filter_type_warnings(ctx, type, filter)
    out = await client_of(ctx).preview_record_filter(body)
    samples = [
        RecordRow(
            id=str(s["id"]),
            name=clean(s.get("name") or "", 200),
            metadata=shrink(s.get("metadata") or {}, 60, 12),
        )
        for s in (out.get("samples") or [])[:10]
        if isinstance(s, dict) and s.get("id")
    ]
    count = out.get("matchedCount")
    return result(
        FilterPreviewOut(
            type=type,
            matched_count=count if isinstance(count, int) else None,
            truncated=out.get("truncated") if isinstance(out.get("truncated"), bool) else None,
            samples=samples,
            warnings=warnings or None,
            note=CUT_NOTE
            if any(was_cut(s.get("metadata")) for s in (out.get("samples") or [])[:10] if isinstance(s, dict))
            else None,
            next="To change them: bulk_edit_records with the same type and filter (dry run first).",
        )
    )


def _schema_field(raw: Any) -> SchemaField | None:
    if isinstance(raw, str):
        return SchemaField(name=clean(raw, 100))
    if not isinstance(raw, dict) or not raw.get("name"):
        return None
    return SchemaField(
        name=clean(raw["name"], 100),
        type=clean(raw["type"], 40) if raw.get("type") else None,
        present_in=present if isinstance(present := raw.get("presentIn"), int) else None,
        all_sampled=True
        if raw.get("required") is True and not isinstance(raw.get("presentIn"), int)
        else None,
        format=clean(raw["format"], 40) if raw.get("format") else None,
        example=shrink(raw.get("example"), 60, 3),
        description=clean(raw["description"], 120) if raw.get("description") else None,
    )


@records.tool(title="Discover record schema", kind="read")
async def discover_record_schema(
    ctx: Ctx,
    type: RecordType,
    sample: Annotated[int | None, Field(ge=1, le=1000, description="Records to sample.")] = None,
) -> Annotated[CallToolResult, SchemaOut]:
    """A type's metadata fields: type, how many sampled records have each, an example."""
    body = await client_of(ctx).discover_record_schema(type=type, sample=sample)
    fields = [f for f in (_schema_field(raw) for raw in body.get("fields") or []) if f is not None]

    def num(key: str) -> int | None:
        value = body.get(key)
        return value if isinstance(value, int) else None

    return result(
        SchemaOut(
            type=type,
            total_records=num("totalRecords"),
            sampled_records=num("sampledRecords"),
            sampled_at=body.get("sampledAt") if isinstance(body.get("sampledAt"), str) else None,
            fields=fields[:SHOWN_FIELDS],
            fields_omitted=max(0, len(fields) - SHOWN_FIELDS) or None,
        )
    )
