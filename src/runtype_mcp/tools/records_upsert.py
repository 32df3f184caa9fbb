"""Create-or-update by (type, name): `upsert_record` and `upsert_records`.

Runtype has no upsert on ordinary plans (runtype-api.md §2.2), so each row is a lookup by type and
name, then a create or a server-side merge. A create that meets a 409 (someone created it between
the lookup and the create) turns into an update; a create that fails unsure (5xx, timeout) is looked
up before any retry. Either way no row is ever created twice.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

import anyio
from mcp.types import CallToolResult
from pydantic import BaseModel, ConfigDict, Field, WithJsonSchema

from runtype_mcp.boundary import closed
from runtype_mcp.errors import (
    ArgumentError,
    AuthError,
    ConfigError,
    Conflict,
    Detail,
    OperationError,
    RuntypeMCPError,
    ServerError,
    TransportFailure,
    clean,
    quote,
    render,
    render_marked,
)
from runtype_mcp.errors import BadResponse as _BadResponse
from runtype_mcp.models import Record
from runtype_mcp.models.outputs_scale import Outcome, UpsertManyOut, UpsertOut, UpsertRow
from runtype_mcp.resources import record_link
from runtype_mcp.tools.params import Metadata, RecordName, RecordType, check_json_size
from runtype_mcp.tools.records import MetadataMode, records, recover_create, server_merge
from runtype_mcp.tools.registry import Ctx, client_of, result
from runtype_mcp.tools.shaping import record_out, write_warnings

MAX_ROWS = 500
PARALLEL = 8
_ABSENT = object()
SAFE_AGAIN = "upserting again never creates a (type, name) twice"
SHOWN_FAILURES = 5


class UpsertItem(BaseModel):
    model_config = ConfigDict(extra="forbid", defer_build=True)
    name: RecordName
    metadata: dict[str, Any] = Field(default_factory=dict)


async def upsert_one(
    ctx: Ctx, rtype: str, name: str, metadata: dict[str, Any], mode: Literal["merge", "replace"]
) -> tuple[Outcome, Record, str | None]:
    client = client_of(ctx)
    existing = await client.find_record(rtype, name)
    note = None
    if existing is None:
        body = {"name": name, "type": rtype, "metadata": metadata}
        try:
            return "created", await client.create_record(body), None
        except Conflict:
            existing = await client.find_record(rtype, name)
            if existing is None:
                raise
            note = "created by someone else a moment ago; updated instead"
        except (ServerError, TransportFailure, _BadResponse) as first:
            record, note = await recover_create(ctx, body, first)
            return "created", record, note
    if mode == "merge":
        if all(existing.metadata.get(k, _ABSENT) == v for k, v in metadata.items()):
            return "unchanged", existing, note
        before, after = await server_merge(ctx, existing.id, metadata, [])
        outcome: Outcome = "updated" if before != after else "unchanged"
        return outcome, existing.model_copy(update={"metadata": after}), note
    if existing.metadata == metadata:
        return "unchanged", existing, note
    return "updated", await client.update_record(existing.id, {"metadata": metadata}), note


@records.tool(title="Upsert record", kind="update", idempotent=True)
async def upsert_record(
    ctx: Ctx,
    type: RecordType,
    name: RecordName,
    metadata: Metadata,
    metadata_mode: MetadataMode = "merge",
) -> Annotated[CallToolResult, UpsertOut]:
    """Create or update the record with this (type, name): created, updated or unchanged; no duplicates."""
    check_json_size(metadata, "metadata")
    outcome, record, note = await upsert_one(ctx, type, name, metadata, metadata_mode)
    out = UpsertOut(outcome=outcome, record=record_out(record), warnings=write_warnings(record), note=note)
    return result(out, record_link(record.id, record.name))


@records.tool(title="Upsert records", kind="update", idempotent=True)
async def upsert_records(
    ctx: Ctx,
    type: RecordType,
    records: Annotated[
        list[UpsertItem],
        Field(min_length=1, max_length=MAX_ROWS),
        WithJsonSchema({"type": "array", "description": "[{name, metadata}], names unique, <= 500."}),
    ],
) -> Annotated[CallToolResult, UpsertManyOut]:
    """upsert_record (merge) for many records of one type, in one call."""
    seen: dict[str, int] = {}
    problems: list[Detail] = []
    for index, item in enumerate(records):
        if item.name in seen:
            problems.append(
                Detail(f"records[{index}].name", f"repeats records[{seen[item.name]}]", "merge the two rows")
            )
        seen.setdefault(item.name, index)
        check_json_size(item.metadata, f"records[{index}].metadata")
    if problems:
        raise ArgumentError(problems)
    rows: list[UpsertRow | None] = [None] * len(records)
    fatal: list[RuntypeMCPError] = []
    failures: list[tuple[str, RuntypeMCPError]] = []
    limiter = anyio.CapacityLimiter(PARALLEL)
    done = 0

    async def one(index: int, item: UpsertItem) -> None:
        nonlocal done
        async with limiter:
            if fatal:
                rows[index] = UpsertRow(name=item.name, outcome="failed", error="not tried (see note)")
                return
            try:
                outcome, record, _ = await upsert_one(ctx, type, item.name, item.metadata, "merge")
                rows[index] = UpsertRow(name=item.name, outcome=outcome, id=record.id)
            except (AuthError, ConfigError) as exc:
                fatal.append(exc)
                rows[index] = UpsertRow(name=item.name, outcome="failed", error="not tried (see note)")
            except RuntypeMCPError as exc:
                failures.append((item.name, exc))
                rows[index] = UpsertRow(
                    name=item.name, outcome="failed", error=clean(render(exc, "upsert_records"), 300)
                )
        done += 1
        if done % 25 == 0 or done == len(records):
            await ctx.report_progress(done, len(records), f"{done}/{len(records)} records")

    async with anyio.create_task_group() as tg:
        for index, item in enumerate(records):
            tg.start_soon(one, index, item)
    if fatal and not any(r and r.outcome != "failed" for r in rows):
        raise fatal[0]
    if failures and all(r is not None and r.outcome == "failed" for r in rows):
        raise _all_failed(failures, len(records))
    final = [r for r in rows if r is not None]
    counts = {
        k: sum(1 for r in final if r.outcome == k) for k in ("created", "updated", "unchanged", "failed")
    }
    note = None
    if fatal:
        note = f"stopped early: {closed(clean(render_marked(fatal[0], 'upsert_records'), 300))}"
    elif counts["failed"]:
        note = f"fix the failed rows and call again with just those rows: {SAFE_AGAIN}"
    out = UpsertManyOut(type=type, rows=final, note=note, **counts)
    view: dict[str, Any] = {"type": type, **counts}
    for kind in ("created", "updated", "unchanged"):
        named = {r.name: r.id for r in final if r.outcome == kind}
        if named:
            view[kind + "_ids"] = named
    errors = {r.name: r.error for r in final if r.outcome == "failed"}
    if errors:
        view["failed_rows"] = errors
    if note:
        view["note"] = note
    return result(out, text_view=view)


def _all_failed(failures: list[tuple[str, RuntypeMCPError]], total: int) -> RuntypeMCPError:
    """No row succeeded: an error, not a success with zero rows done (the first cause, then others)."""
    if total == 1:
        return failures[0][1]
    lines = [f"upsert_records: all {total} rows failed (each error says whether it may have landed):"]
    for name, exc in failures[:SHOWN_FAILURES]:
        lines.append(f"- {quote(name, 80)}: {closed(clean(render_marked(exc, 'upsert_records'), 300))}")
    if len(failures) > SHOWN_FAILURES:
        lines.append(f"- ... and {len(failures) - SHOWN_FAILURES} more rows")
    lines.append(f"Fix the cause, then call upsert_records again with the same rows: {SAFE_AGAIN}.")
    return OperationError("\n".join(lines))
