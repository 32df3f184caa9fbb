"""`aggregate_records` and `list_record_types`: answers computed in the server from a streamed CSV
export (runtype-api.md §2.5), so no record reaches the model, only a small table."""

from __future__ import annotations

import time
from typing import Annotated, Any

from mcp.types import CallToolResult
from pydantic import Field

from runtype_mcp.errors import ArgumentError, Detail, quote
from runtype_mcp.models.outputs_scale import AggregateOut, RecordTypeCount, RecordTypesOut
from runtype_mcp.tools.aggregate import Fold, Metric, parse_metrics
from runtype_mcp.tools.filters import Condition, Group, where_json
from runtype_mcp.tools.params import FilterRef, RecordType
from runtype_mcp.tools.records import records
from runtype_mcp.tools.registry import Ctx, client_of, result, settings_of
from runtype_mcp.tools.typecheck import filter_type_warnings

MAX_GROUPS = 100
PROGRESS_EVERY = 1.0  # seconds between progress notifications

FieldName = Annotated[str, Field(min_length=1, max_length=200)]


async def fold_export(ctx: Ctx, params: dict[str, Any], fold: Fold) -> bool:
    """Stream the export through `fold`; True when it stopped at the row cap (RUNTYPE_EXPORT_MAX_ROWS)."""
    settings = settings_of(ctx)
    last = time.monotonic()

    async def take(chunk: bytes) -> None:
        nonlocal last
        fold.feed(chunk)
        now = time.monotonic()
        if now - last >= PROGRESS_EVERY:
            last = now
            await ctx.report_progress(fold.scanned, None, f"{fold.scanned:,} records scanned")

    stats = await client_of(ctx).export_records_csv(
        params, take, max_rows=settings.export_max_rows, max_bytes=2**40
    )
    fold.finish(complete=stats.capped is None)
    await ctx.report_progress(fold.scanned, fold.scanned, f"{fold.scanned:,} records scanned")
    return stats.capped is not None


@records.tool(title="Aggregate records", kind="read")
async def aggregate_records(
    ctx: Ctx,
    type: RecordType,
    metrics: Annotated[
        list[Annotated[str, Field(max_length=220)]],
        Field(min_length=1, max_length=10, description="count, or sum|avg|min|max|count_distinct:FIELD"),
    ],
    filter: FilterRef = None,
    group_by: Annotated[list[FieldName] | None, Field(max_length=3, description="Up to 3 fields.")] = None,
) -> Annotated[CallToolResult, AggregateOut]:
    """Count/sum/avg/min/max/count_distinct per group over matching records, in the server (up to
    RUNTYPE_EXPORT_MAX_ROWS rows)."""
    parsed: list[Metric] = parse_metrics(metrics)
    keys = list(dict.fromkeys(group_by or []))
    if len(keys) != len(group_by or []):
        raise ArgumentError([Detail("group_by", "repeats a field", "name each field once")])
    params: dict[str, Any] = {"type": type}
    where: Condition | Group | None = filter
    if where is not None:
        params["recordFilter"] = {"type": type, "where": where_json(where)}
    warnings = await filter_type_warnings(ctx, type, where)
    fold = Fold(keys, parsed)
    capped = await fold_export(ctx, params, fold)
    columns, rows, omitted = fold.table(MAX_GROUPS)
    for name in fold.missing_fields if fold.scanned else []:
        warnings.append(
            f"no matched record has field {quote(name, 80)}: check the name with discover_record_schema"
        )
    if not fold.scanned:
        notes = [
            "no record matched: check the type with list_record_types"
            + (" and the filter with preview_record_filter" if where is not None else "")
        ]
    else:
        empty = any(v in (None, "") for row in rows for v in row[: len(keys)])
        notes = ["empty group value: the field is absent or null"] if empty else []
    if capped:
        notes.append(
            f"stopped at the row cap after {fold.scanned:,} records (RUNTYPE_EXPORT_MAX_ROWS); narrow the filter"
        )
    if omitted:
        notes.append(f"{omitted} more groups not shown; add a filter or group by fewer fields")
    out = AggregateOut(
        type=type,
        scanned=fold.scanned,
        groups=len(fold.groups),
        columns=columns,
        rows=rows,
        skipped_non_numeric=fold.skipped or None,
        groups_omitted=omitted or None,
        capped=capped or None,
        warnings=warnings,
        note="; ".join(notes) or None,
    )
    return result(out)


@records.tool(title="List record types", kind="read")
async def list_record_types(ctx: Ctx) -> Annotated[CallToolResult, RecordTypesOut]:
    """Every record type in the account, with counts."""
    fold = Fold(["type"], [Metric("count", "count", None)])
    capped = await fold_export(ctx, {}, fold)
    _, rows, _ = fold.table(10**6)
    types = [RecordTypeCount(type=str(r[0] or ""), count=int(r[1])) for r in rows]
    note = f"counted up to the row cap of {fold.scanned:,} records" if capped else None
    source = "counted by streaming the export (the API has no documented list of types)"
    return result(RecordTypesOut(types=types, source=source, note=note))
