"""Deleting records (runtype-api.md §2.3, §2.12), each behind a confirmation.

Resolvers run before the tool body (and again on each elicitation round), so what the user is
asked about is fetched once per round and handed to the body through the same resolver: the
question and the "nothing was done" listing always describe the same records.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from mcp.server.mcpserver import Elicit, ElicitationResult, Resolve
from mcp.types import CallToolResult
from pydantic import Field

from runtype_mcp.client.parsing import expect_keys
from runtype_mcp.errors import (
    ArgumentError,
    Detail,
    NotFound,
    OperationError,
    RuntypeMCPError,
    partial_bulk_text,
    quote,
    render_marked,
)
from runtype_mcp.models.outputs import RecordRow
from runtype_mcp.models.outputs_records import BulkDeleteOut, RecordDeleteOut
from runtype_mcp.tools.confirm import Approval, ask, can_elicit, decide, not_done_note
from runtype_mcp.tools.delete_guard import check_ids, guard_type
from runtype_mcp.tools.filters import Condition, Group, where_json
from runtype_mcp.tools.params import Confirm, FilterRef, RecordId, RecordType
from runtype_mcp.tools.preview import CUT_NOTE, shrink, was_cut
from runtype_mcp.tools.preview_token import require, token
from runtype_mcp.tools.records import records
from runtype_mcp.tools.registry import Ctx, client_of, result
from runtype_mcp.tools.shaping import record_row
from runtype_mcp.tools.typecheck import filter_type_warnings

CHUNK = 100
MAX_IDS = 1000
SHOWN_IDS = 200
SHOWN_ROWS = 20
DIFFS = 20
DIFF_CHARS = 12000  # diffs stop once they reach this size; the rest are counted in diffs_omitted

Ids = Annotated[
    list[Annotated[str, Field(min_length=1, max_length=512)]], Field(min_length=1, max_length=MAX_IDS)
]


# ---------------------------------------------------------------- delete_record


async def record_preview(record_id: str, ctx: Ctx) -> RecordRow:
    """The record a destructive call is about (also turns a wrong record_id into a clear 404 first)."""
    rec = await client_of(ctx).get_record(record_id)
    return RecordRow(
        id=rec.id, name=rec.name, type=rec.type, updated_at=rec.updated_at, metadata=shrink(rec.metadata)
    )


async def _ask_delete_record(
    target: Annotated[RecordRow, Resolve(record_preview)], confirm: bool, ctx: Ctx
) -> Approval | Elicit[Approval]:
    name, kind = quote(target.name or "?", 100), quote(target.type or "?", 100)
    return ask(
        ctx,
        confirm,
        f"Delete record {name} (type {kind}, id {quote(target.id, 120)})? This cannot be undone.",
    )


@records.tool(title="Delete record", kind="delete")
async def delete_record(
    ctx: Ctx,
    record_id: RecordId,
    target: Annotated[RecordRow, Resolve(record_preview)],
    approval: Annotated[ElicitationResult[Approval], Resolve(_ask_delete_record)],
    confirm: Confirm = False,
) -> Annotated[CallToolResult, RecordDeleteOut]:
    """Delete one record. Asks the user first, or needs confirm=true."""
    decision = decide(approval, ctx)
    if decision != "approved":
        return result(RecordDeleteOut(deleted=False, record=target, note=not_done_note(decision, "deleted")))
    note = None
    try:
        await client_of(ctx).delete_record(record_id)
    except NotFound as exc:
        if exc.request.attempts <= 1:
            raise
        note = "The first attempt failed mid-way; the retry found the record gone, so it is deleted."
    brief = RecordRow(id=target.id, name=target.name, type=target.type)
    return result(RecordDeleteOut(deleted=True, record=brief, note=note))


# ---------------------------------------------------------------- bulk_delete_records


@dataclass(frozen=True)
class DeletePlan:
    ids: list[str]
    dry_run: bool
    label: str  # what the ids are, for the question and the reply
    sample: list[RecordRow] | None = None
    warnings: list[str] | None = None


async def _plan_delete(
    ids: list[str] | None,
    type: str | None,
    filter: Condition | Group | None,
    dry_run: bool | None,
    expected_count: int | None,
    confirmation: str | None,
    ctx: Ctx,
) -> DeletePlan:
    plan = await _plan_ids(ids, type, filter, dry_run, expected_count, ctx)
    if not plan.dry_run:
        require(confirmation, token(ctx, "delete", plan.ids), "bulk_delete_records", "deleted")
    return plan


async def _plan_ids(
    ids: list[str] | None,
    type: str | None,
    filter: Condition | Group | None,
    dry_run: bool | None,
    expected_count: int | None,
    ctx: Ctx,
) -> DeletePlan:
    """The exact ids a call deletes: given, or matched by type + filter now (the write deletes these
    ids and no others, so what was counted is what goes)."""
    if (ids is None and type is None) or (filter is not None and (type is None or ids is not None)):
        raise ArgumentError(
            [
                Detail(
                    "(arguments)",
                    "needs ids (+ type to guard them), or type (+ filter)",
                    "pass ids, or type with an optional filter",
                )
            ]
        )
    if ids is not None:
        unique = list(dict.fromkeys(ids))
        if type is not None:
            typed = await guard_type(ctx, unique, type)
            label = f"{len(unique)} records of type {quote(type, 100)}"
            return DeletePlan(unique, bool(dry_run), label, typed[:SHOWN_ROWS])
        checked = await check_ids(ctx, unique, None, lookups=SHOWN_ROWS if dry_run else 5)
        sample = [checked.rows[i] for i in unique if i in checked.rows]
        warnings = [f"Not found: {', '.join(checked.missing)}."] if checked.missing else None
        return DeletePlan(unique, bool(dry_run), f"{len(unique)} records", sample, warnings)
    assert type is not None
    client = client_of(ctx)
    params: dict[str, Any] = {"type": type, "limit": 100, "view": "compact"}
    if filter is not None:
        params["recordFilter"] = {"type": type, "where": where_json(filter)}
    rows = [row async for row in client.paginate("/records", params, max_items=MAX_IDS + 1)]
    matched = list(dict.fromkeys(str(r["id"]) for r in rows if r.get("id")))
    if len(matched) > MAX_IDS:
        raise OperationError(
            f"bulk_delete_records: the filter matches more than {MAX_IDS} records; nothing was deleted. "
            "Narrow the filter (preview_record_filter counts matches) and delete in parts."
        )
    label = f"{len(matched)} records of type {quote(type, 100)}" + (" matching the filter" if filter else "")
    if expected_count is not None and expected_count != len(matched) and dry_run is False:
        raise OperationError(
            f"bulk_delete_records: nothing was deleted: the filter now matches {len(matched)} records, not "
            f"expected_count={expected_count}. Call again with dry_run=true to see the current set."
        )
    sample = [record_row(r) for r in rows[:5]]
    warnings = await filter_type_warnings(ctx, type, filter)
    if any(was_cut(row.metadata, 60, 8) for row in sample if row.metadata):
        warnings.append(CUT_NOTE)
    for row in sample:
        row.metadata = shrink(row.metadata, 60, 8) if row.metadata else None
    return DeletePlan(matched, dry_run is not False, label, sample, warnings)


async def _ask_bulk_delete(
    plan: Annotated[DeletePlan, Resolve(_plan_delete)], confirm: bool, ctx: Ctx
) -> Approval | Elicit[Approval]:
    if plan.dry_run or not plan.ids:
        return Approval(approve=True)
    names = {row.id: f"{row.name} ({row.type})" for row in plan.sample or []}
    head = ", ".join(quote(names.get(i, i), 120) for i in plan.ids[:5])
    head += f" and {len(plan.ids) - 5} more" if len(plan.ids) > 5 else ""
    return ask(
        ctx,
        confirm,
        f"Delete {plan.label} ({head}), with their run results? This cannot be undone.",
    )


@records.tool(title="Delete many records", kind="delete")
async def bulk_delete_records(
    ctx: Ctx,
    plan: Annotated[DeletePlan, Resolve(_plan_delete)],
    approval: Annotated[ElicitationResult[Approval], Resolve(_ask_bulk_delete)],
    ids: Annotated[Ids | None, Field(description="From list_records.")] = None,
    type: Annotated[
        RecordType | None, Field(description="With ids: all must be this type. Or: this type (+ filter).")
    ] = None,
    filter: FilterRef = None,
    dry_run: Annotated[bool | None, Field(description="List only (default with type).")] = None,
    expected_count: Annotated[int | None, Field(ge=0, description="Dry run's count.")] = None,
    confirm: Confirm = False,
    confirmation: Annotated[str | None, Field(max_length=64, description="From the dry run.")] = None,
) -> Annotated[CallToolResult, BulkDeleteOut]:
    """Delete records and their run results, by ids or type + filter (dry run first, then as it
    says). Dialog clients ask the user; else confirm=true + confirmation once agreed."""
    unique = plan.ids
    sign = token(ctx, "delete", unique) if unique else None
    decision = "approved" if plan.dry_run else decide(approval, ctx)
    # confirm=true alone is not enough: the write must name the preview it follows (a dialog the user
    # answered in the client is that preview).
    missing_token = (
        decision == "approved" and not plan.dry_run and confirmation is None and not can_elicit(ctx)
    )
    if plan.dry_run or decision != "approved" or missing_token or not unique:
        if plan.dry_run:
            note = (
                f"Dry run: nothing deleted. Deleting also removes each record's run and step results. To delete, "
                f"call again with dry_run=false, expected_count={len(unique)} and confirmation={sign}."
            )
        elif not unique:
            note = "Nothing matched; nothing was deleted."
        elif missing_token or decision == "needs_confirmation":
            note = (
                "Nothing was deleted yet. Show the user exactly what is listed here; only after they agree, call "
                f"again with the same arguments, confirm=true and confirmation={sign} (this list's token)."
            )
        else:
            note = not_done_note(decision, "deleted")
        return result(
            BulkDeleteOut(
                deleted=False,
                requested=len(unique),
                would_delete=unique[:SHOWN_IDS],
                ids_omitted=max(0, len(unique) - SHOWN_IDS) or None,
                sample=plan.sample or None,
                warnings=plan.warnings or None,
                confirmation=sign,
                note=note,
            )
        )
    client = client_of(ctx)
    deleted: list[str] = []
    missing: list[str] = []
    count = 0
    for start in range(0, len(unique), CHUNK):
        chunk = unique[start : start + CHUNK]
        try:
            body = expect_keys(
                await client.bulk_delete_records(chunk), "bulk delete", "deletedIds", "deleted"
            )
        except RuntypeMCPError as exc:
            if start == 0:
                raise
            cause = render_marked(exc, "bulk_delete_records")
            raise OperationError(
                partial_bulk_text("bulk_delete_records", deleted, len(unique) - start, cause)
            ) from exc
        done = [i for i in body.get("deletedIds") or [] if isinstance(i, str)]
        if "deletedIds" not in body and body.get("deleted") == len(chunk):
            done = chunk  # an older body with only the count: every id in the chunk went
        deleted += done
        missing += [i for i in body.get("notFoundIds") or [] if isinstance(i, str)]
        count += body["deleted"] if isinstance(body.get("deleted"), int) else len(done)
    shown = deleted[:SHOWN_IDS]
    omitted = len(deleted) - len(shown) + max(0, len(missing) - SHOWN_IDS)
    return result(
        BulkDeleteOut(
            deleted=True,
            requested=len(unique),
            deleted_count=count,
            deleted_ids=shown,
            not_found_ids=missing[:SHOWN_IDS] or None,
            ids_omitted=omitted or None,
            note="not_found_ids were already gone or are not visible to this key." if missing else None,
        )
    )
