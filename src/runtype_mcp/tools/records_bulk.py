"""Bulk-changing records (runtype-api.md §2.4); writing to every record asks first.

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
    OperationError,
    clean,
    quote,
)
from runtype_mcp.models import Record
from runtype_mcp.models.outputs_records import BulkEditOut, EditDiff
from runtype_mcp.tools.confirm import Approval, ask, can_elicit, decide, not_done_note
from runtype_mcp.tools.filters import Condition, Group, where_json
from runtype_mcp.tools.params import Confirm, FilterRef, RecordType, check_json_size
from runtype_mcp.tools.preview import shrink
from runtype_mcp.tools.preview_token import require, token
from runtype_mcp.tools.records import records
from runtype_mcp.tools.registry import Ctx, client_of, result
from runtype_mcp.tools.shaping import write_warnings
from runtype_mcp.tools.typecheck import filter_type_warnings

CHUNK = 100
MAX_IDS = 1000
SHOWN_IDS = 200
DIFFS = 20
DIFF_CHARS = 12000  # diffs stop once they reach this size; the rest are counted in diffs_omitted

Ids = Annotated[
    list[Annotated[str, Field(min_length=1, max_length=512)]], Field(min_length=1, max_length=MAX_IDS)
]


# ---------------------------------------------------------------- bulk_edit_records


@dataclass(frozen=True)
class EditPlan:
    body: dict[str, Any]
    needs_approval: bool
    preview: dict[str, Any] | None = None  # the dry run shown when approval is needed
    warnings: tuple[str, ...] = ()
    missing_token: bool = False  # dry_run=false without the dry run's confirmation: run as a dry run


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
    expected_count: int | None,
    confirmation: str | None,
    ctx: Ctx,
) -> EditPlan:
    body = _edit_body(record_ids, type, filter, apply_to_all, updates, delete_fields, dry_run)
    warnings = tuple(await filter_type_warnings(ctx, type, filter)) if type is not None else ()
    preview = None
    if not dry_run and confirmation is None and not (apply_to_all and can_elicit(ctx)):
        # A write names the dry run it follows (a dialog the user answered is that dry run): without
        # it, this call is that dry run.
        return EditPlan({**body, "dryRun": True}, needs_approval=False, warnings=warnings, missing_token=True)
    explicit = body.get("recordIds")
    if not dry_run and (apply_to_all or expected_count is not None or explicit is None):
        preview = await client_of(ctx).bulk_edit_records({**body, "dryRun": True})
    if not dry_run:
        ids = _target(body, preview or {})
        if explicit is None and len(ids) != _count(preview or {}):
            raise OperationError(
                f"bulk_edit_records: nothing was changed: Runtype's dry run listed {len(ids)} of the "
                f"{_count(preview or {})} matched ids, so the write cannot be pinned to them. Pass record_ids "
                "(from list_records with the same type and filter) instead."
            )
        require(confirmation, token(ctx, "edit", ids, _change(body)), "bulk_edit_records", "changed")
        if explicit is None:  # bound to the preview: the write changes exactly the records it was made for
            body = {k: v for k, v in body.items() if k not in ("recordFilter", "applyToAll")}
            body["recordIds"] = ids
    if preview is not None and expected_count is not None and _matched(preview) != expected_count:
        raise OperationError(
            f"bulk_edit_records: nothing was changed: the target now matches {_matched(preview)} records, "
            f"not expected_count={expected_count}. Call again with dry_run=true to see the current set."
        )
    return EditPlan(body, needs_approval=apply_to_all and not dry_run, preview=preview, warnings=warnings)


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
    record_ids: Annotated[Ids | None, Field(description="From list_records.")] = None,
    type: Annotated[RecordType | None, Field(description="Or: this type (+ filter).")] = None,
    filter: FilterRef = None,
    apply_to_all: Annotated[bool, Field(description="Or: every record (asks).")] = False,
    updates: Annotated[dict[str, Any] | None, Field(description="Keys to set.")] = None,
    delete_fields: Annotated[list[str] | None, Field(max_length=100, description="Keys to remove.")] = None,
    dry_run: Annotated[bool, Field(description="Only show the diff.")] = True,
    expected_count: Annotated[int | None, Field(ge=0, description="Dry run's matched.")] = None,
    confirm: Confirm = False,
    confirmation: Annotated[str | None, Field(max_length=64, description="From the dry run.")] = None,
) -> Annotated[CallToolResult, BulkEditOut]:
    """Set or remove metadata keys on many records (record_ids, type + filter, or apply_to_all); a dry
    run (diff) by default, then what it says."""
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
    if plan.missing_token and expected_count is not None and _matched(out) != expected_count:
        raise OperationError(
            f"bulk_edit_records: nothing was changed: the target now matches {_matched(out)} records, "
            f"not expected_count={expected_count}. Call again with dry_run=true to see the current set."
        )
    if dry_run or plan.missing_token:
        sign = token(ctx, "edit", _target(plan.body, out), _change(plan.body))
        every = "confirm=true, " if plan.body.get("applyToAll") else ""
        then = f"dry_run=false, {every}expected_count={_matched(out)} and confirmation={sign}"
        note = (
            f"Nothing was written: dry_run=false needs this dry run's confirmation. Show the user the diff; "
            f"only after they agree, call again with the same arguments, {then}."
            if plan.missing_token
            else f"Dry run: nothing written. To write, call again with {then}."
        )
        edit = _edit_out(out, dry_run=True, note=note)
        edit.confirmation = sign
    else:
        edit = _edit_out(out, dry_run=False, note="Written.")
    edit.warnings[:0] = plan.warnings
    return result(edit)


def _ids(body: dict[str, Any]) -> list[str]:
    ids = body.get("recordIds")
    if isinstance(ids, list):
        return [str(i) for i in ids]
    return [str(r.get("id")) for r in body.get("data") or [] if isinstance(r, dict)]


def _target(body: dict[str, Any], preview: dict[str, Any]) -> list[str]:
    """The ids a confirmation is made for: the ids given, else the ones the dry run matched."""
    given = body.get("recordIds")
    return [str(i) for i in given] if isinstance(given, list) else _ids(preview)


def _count(preview: dict[str, Any]) -> int:
    """How many records a dry run matched: its own count when it gives one."""
    count = preview.get("matchedCount")
    return count if isinstance(count, int) and not isinstance(count, bool) else _matched(preview)


def _change(body: dict[str, Any]) -> dict[str, Any]:
    return {"updates": body.get("updates") or {}, "deleteFields": sorted(body.get("deleteFields") or [])}


def _matched(body: dict[str, Any]) -> int:
    ids = body.get("recordIds")
    data = body.get("data")
    if isinstance(ids, list):
        return len(ids)
    if isinstance(data, list):
        return len(data)
    count = body.get("matchedCount")  # an answer with only the count
    return count if isinstance(count, int) and not isinstance(count, bool) else 0


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
                removed=[k for k in keys if k in before and k not in after] or None,
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
