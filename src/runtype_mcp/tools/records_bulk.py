"""Deleting and bulk-changing records (runtype-api.md §2.3, §2.4, §2.12), each behind a confirmation.

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
    clean,
    partial_bulk_text,
    quote,
    render,
)
from runtype_mcp.models import Record
from runtype_mcp.models.outputs import RecordRow
from runtype_mcp.models.outputs_records import BulkDeleteOut, BulkEditOut, EditDiff, RecordDeleteOut
from runtype_mcp.tools.confirm import Approval, ask, decide, not_done_note
from runtype_mcp.tools.filters import Condition, Group, where_json
from runtype_mcp.tools.params import Confirm, FilterRef, RecordId, RecordType, check_json_size
from runtype_mcp.tools.preview import shrink
from runtype_mcp.tools.records import records
from runtype_mcp.tools.registry import Ctx, client_of, result
from runtype_mcp.tools.shaping import write_warnings

CHUNK = 100
MAX_IDS = 1000
SHOWN_IDS = 200
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


async def _ask_bulk_delete(ids: list[str], confirm: bool, ctx: Ctx) -> Approval | Elicit[Approval]:
    unique = list(dict.fromkeys(ids))
    head = ", ".join(unique[:5]) + (f" and {len(unique) - 5} more" if len(unique) > 5 else "")
    return ask(ctx, confirm, f"Delete {len(unique)} records ({head})? This cannot be undone.")


@records.tool(title="Delete many records", kind="delete")
async def bulk_delete_records(
    ctx: Ctx,
    ids: Annotated[Ids, Field(description="Record ids from list_records.")],
    approval: Annotated[ElicitationResult[Approval], Resolve(_ask_bulk_delete)],
    confirm: Confirm = False,
) -> Annotated[CallToolResult, BulkDeleteOut]:
    """Delete records by id (from list_records or preview_record_filter); reports deleted and not-found
    ids. Asks the user first, or needs confirm=true.
    """
    unique = list(dict.fromkeys(ids))
    decision = decide(approval, ctx)
    if decision != "approved":
        return result(
            BulkDeleteOut(
                deleted=False,
                requested=len(unique),
                would_delete=unique[:SHOWN_IDS],
                ids_omitted=max(0, len(unique) - SHOWN_IDS) or None,
                note=not_done_note(decision, "deleted"),
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
            cause = render(exc, "bulk_delete_records")
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


# ---------------------------------------------------------------- bulk_edit_records


@dataclass(frozen=True)
class EditPlan:
    body: dict[str, Any]
    needs_approval: bool
    preview: dict[str, Any] | None = None  # the dry run shown when approval is needed


def _edit_body(
    record_ids: list[str] | None,
    type: str | None,
    filter: Condition | Group | None,
    apply_to_all: bool,
    updates: dict[str, Any] | None,
    delete_fields: list[str] | None,
    dry_run: bool,
) -> dict[str, Any]:
    problems: list[Detail] = []
    if filter is not None and type is None:
        problems.append(Detail("filter", "needs type", "add the record type the filter applies to"))
    modes = [
        m for m, on in (("record_ids", record_ids), ("type", type), ("apply_to_all", apply_to_all)) if on
    ]
    if len(modes) != 1:
        problems.append(
            Detail(
                "(arguments)",
                f"exactly one target is needed, got {', '.join(modes) or 'none'}",
                "pass record_ids, or type (+ filter), or apply_to_all=true",
            )
        )
    if not updates and not delete_fields:
        problems.append(Detail("updates", "nothing to change", "pass updates and/or delete_fields"))
    if problems:
        raise ArgumentError(problems)
    if updates:
        check_json_size(updates, "updates")
    body: dict[str, Any] = {"dryRun": dry_run}
    if record_ids:
        body["recordIds"] = list(dict.fromkeys(record_ids))
    elif type is not None:
        body["recordFilter"] = {"type": type, **({"where": where_json(filter)} if filter is not None else {})}
    else:
        body["applyToAll"] = True
    if updates:
        body["updates"] = updates
    if delete_fields:
        body["deleteFields"] = delete_fields
    return body


async def _plan_edit(
    record_ids: list[str] | None,
    type: str | None,
    filter: Condition | Group | None,
    apply_to_all: bool,
    updates: dict[str, Any] | None,
    delete_fields: list[str] | None,
    dry_run: bool,
    ctx: Ctx,
) -> EditPlan:
    body = _edit_body(record_ids, type, filter, apply_to_all, updates, delete_fields, dry_run)
    if not (apply_to_all and not dry_run):
        return EditPlan(body, needs_approval=False)
    preview = await client_of(ctx).bulk_edit_records({**body, "dryRun": True})
    return EditPlan(body, needs_approval=True, preview=preview)


async def _ask_edit(
    plan: Annotated[EditPlan, Resolve(_plan_edit)], confirm: bool, ctx: Ctx
) -> Approval | Elicit[Approval]:
    if not plan.needs_approval:
        return Approval(approve=True)
    matched = _matched(plan.preview or {})
    keys = [*plan.body.get("updates", {}), *plan.body.get("deleteFields", [])]
    head = ", ".join(clean(k, 40) for k in keys[:8]) + (" …" if len(keys) > 8 else "")
    return ask(
        ctx,
        confirm,
        f"Change metadata keys {head} on ALL {matched} records of every type? This cannot be undone.",
    )


@records.tool(title="Bulk edit records", kind="update")
async def bulk_edit_records(
    ctx: Ctx,
    plan: Annotated[EditPlan, Resolve(_plan_edit)],
    approval: Annotated[ElicitationResult[Approval], Resolve(_ask_edit)],
    record_ids: Annotated[Ids | None, Field(description="Target these ids (from list_records).")] = None,
    type: Annotated[RecordType | None, Field(description="Target all records of this type.")] = None,
    filter: FilterRef = None,
    apply_to_all: Annotated[bool, Field(description="Target every record (asks the user).")] = False,
    updates: Annotated[dict[str, Any] | None, Field(description="Metadata keys to set.")] = None,
    delete_fields: Annotated[
        list[str] | None, Field(max_length=100, description="Metadata keys to remove.")
    ] = None,
    dry_run: Annotated[bool, Field(description="true: only show the diff.")] = True,
    confirm: Confirm = False,
) -> Annotated[CallToolResult, BulkEditOut]:
    """Set or remove metadata keys on many records. Target one of: record_ids, type (+ filter; check it
    with preview_record_filter), apply_to_all. Dry run by default: a before/after diff.
    """
    client = client_of(ctx)
    if plan.needs_approval:
        decision = decide(approval, ctx)
        if decision != "approved":
            return result(
                _edit_out(plan.preview or {}, dry_run=True, note=not_done_note(decision, "changed"))
            )
    out = expect_keys(
        await client.bulk_edit_records(plan.body), "bulk edit", "data", "recordIds", "matchedCount"
    )
    if dry_run:
        return result(
            _edit_out(
                out, dry_run=True, note="Dry run: nothing written. Call again with dry_run=false to write."
            )
        )
    return result(_edit_out(out, dry_run=False, note="Written."))


def _matched(body: dict[str, Any]) -> int:
    ids = body.get("recordIds")
    data = body.get("data")
    return len(ids) if isinstance(ids, list) else len(data) if isinstance(data, list) else 0


def _edit_out(body: dict[str, Any], *, dry_run: bool, note: str) -> BulkEditOut:
    diffs: list[EditDiff] = []
    changed = 0
    budget = DIFF_CHARS
    for row in body.get("data") or []:
        if not isinstance(row, dict):
            continue
        before: dict[str, Any] = row["before"] if isinstance(row.get("before"), dict) else {}
        after: dict[str, Any] = row["after"] if isinstance(row.get("after"), dict) else {}
        keys = [k for k in {**before, **after} if before.get(k, ...) != after.get(k, ...)]
        if not keys:
            continue
        changed += 1
        if len(diffs) < DIFFS and budget > 0:
            diff = EditDiff(
                id=str(row.get("id")),
                before=shrink({k: before[k] for k in keys if k in before}, 100, 10),
                after=shrink({k: after[k] for k in keys if k in after}, 100, 10),
            )
            budget -= len(diff.model_dump_json())
            diffs.append(diff)
    warnings = write_warnings(Record.model_validate({"id": "-", "warnings": body.get("warnings") or []}))
    for item in (body.get("schemaWarnings") or [])[:10]:
        if isinstance(item, dict):
            for err in (item.get("errors") or [])[:3]:
                if isinstance(err, dict):
                    warnings.append(
                        f"record {quote(item.get('recordId'), 80)}: schema warning on "
                        f"{quote(err.get('field') or '?', 80)}: Runtype said {quote(err.get('message') or err, 200)}"
                    )
    return BulkEditOut(
        dry_run=dry_run,
        written=not dry_run,
        matched=_matched(body),
        changed=changed,
        diffs=diffs,
        diffs_omitted=max(0, changed - len(diffs)) or None,
        warnings=warnings,
        next=note,
    )
