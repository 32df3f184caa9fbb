"""Running a flow on exactly the records meant (`POST /batch/flow`), and stopping a batch."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from typing import Annotated, Any

from mcp.server.mcpserver import Elicit, ElicitationResult, Resolve
from mcp.types import CallToolResult
from pydantic import Field

from runtype_mcp.errors import ArgumentError, Conflict, Detail, OperationError, quote
from runtype_mcp.models.outputs_flows import BatchCancelOut, BatchRunOut
from runtype_mcp.tools.aggregate import NOT_CSV, is_export_header
from runtype_mcp.tools.confirm import Approval, ask, decide, not_done_note
from runtype_mcp.tools.filters import Condition, Group, where_json
from runtype_mcp.tools.flows import flows
from runtype_mcp.tools.params import BatchId, Confirm, FilterRef, FlowId, RecordType
from runtype_mcp.tools.registry import Ctx, client_of, result
from runtype_mcp.tools.typecheck import filter_type_warnings

MAX_BATCH = 50_000
ASK_ABOVE = 25  # runs on more records than this need the user's approval (each run may cost money)
SHOWN_IDS = 20

Ids = Annotated[list[Annotated[str, Field(min_length=1, max_length=512)]], Field(max_length=MAX_BATCH)]


@dataclass(frozen=True)
class RunPlan:
    record_ids: list[str]
    excluded: int
    warnings: list[str] | None = None


async def _ids_matching(ctx: Ctx, type: str, filter: Condition | Group | None) -> list[str]:
    """Resolve type + filter to ids on the server side (the records export), never through the model."""
    params: dict[str, Any] = {"type": type}
    if filter is not None:
        params["recordFilter"] = {"type": type, "where": where_json(filter)}
    chunks: list[bytes] = []

    async def take(chunk: bytes) -> None:
        chunks.append(chunk)

    stats = await client_of(ctx).export_records_csv(params, take, max_rows=MAX_BATCH + 1, max_bytes=2**40)
    reader = csv.DictReader(io.StringIO(b"".join(chunks).decode("utf-8", "replace")))
    try:
        rows = list(reader)
        problem = None if not chunks or is_export_header(list(reader.fieldnames or [])) else NOT_CSV
    except csv.Error as exc:
        problem = f"a CSV row it could not read ({exc})"
    if problem:
        raise OperationError(
            f"run_flow_on_records: nothing ran: the records export answered with {problem}, so the "
            "matching records are unknown. Call again in a minute, or pass record_ids; if it persists, "
            "check RUNTYPE_BASE_URL."
        )
    if stats.capped is not None or len(rows) > MAX_BATCH:
        raise OperationError(
            f"run_flow_on_records: nothing ran: more than {MAX_BATCH:,} records match; narrow the filter."
        )
    return [row["id"] for row in rows if row.get("id")]


async def _plan_run(
    record_ids: list[str] | None,
    type: str | None,
    filter: Condition | Group | None,
    exclude_record_ids: list[str] | None,
    ctx: Ctx,
) -> RunPlan:
    if (record_ids is None) == (type is None):
        raise ArgumentError([Detail("(arguments)", "pass record_ids, or type (+ filter)", None)])
    if filter is not None and type is None:
        raise ArgumentError([Detail("filter", "needs type", "add the record type the filter applies to")])
    ids = (
        list(dict.fromkeys(record_ids))
        if record_ids is not None
        else await _ids_matching(ctx, str(type), filter)
    )
    skip = set(exclude_record_ids or ())
    kept = [i for i in ids if i not in skip]
    warnings = await filter_type_warnings(ctx, str(type), filter) if filter is not None else []
    return RunPlan(kept, len(ids) - len(kept), warnings or None)


async def _ask_run(
    flow_id: str, plan: Annotated[RunPlan, Resolve(_plan_run)], confirm: bool, ctx: Ctx
) -> Approval | Elicit[Approval]:
    if len(plan.record_ids) <= ASK_ABOVE:
        return Approval(approve=True)
    return ask(
        ctx,
        confirm,
        f"Run flow {flow_id} on {len(plan.record_ids):,} records? Each run is one execution (it may cost money "
        "and write to the records).",
    )


@flows.tool(title="Run flow on chosen records", kind="run", open_world=True)
async def run_flow_on_records(
    ctx: Ctx,
    flow_id: FlowId,
    plan: Annotated[RunPlan, Resolve(_plan_run)],
    approval: Annotated[ElicitationResult[Approval], Resolve(_ask_run)],
    record_ids: Annotated[Ids | None, Field(description="Ids from list_records.")] = None,
    type: Annotated[RecordType | None, Field(description="Or: this type (+ filter).")] = None,
    filter: FilterRef = None,
    exclude_record_ids: Annotated[Ids | None, Field(description="Skip these.")] = None,
    confirm: Confirm = False,
) -> Annotated[CallToolResult, BatchRunOut]:
    """Run a flow's draft on exactly these records as a batch (a filter like "category not set" skips
    done ones); over 25 asks the user."""
    count = len(plan.record_ids)
    if count == 0:
        return result(BatchRunOut(started=False, flow_id=flow_id, record_count=0, excluded=plan.excluded,
                                  warnings=plan.warnings, next="No record matches: nothing ran."))  # fmt: skip
    if count > ASK_ABOVE:
        decision = decide(approval, ctx)
        if decision != "approved":
            return result(
                BatchRunOut(
                    started=False,
                    flow_id=flow_id,
                    record_count=count,
                    excluded=plan.excluded,
                    record_ids=plan.record_ids[:SHOWN_IDS],
                    warnings=plan.warnings,
                    next=not_done_note(decision, "run"),
                )
            )
    body = await client_of(ctx).submit_batch({"flowId": flow_id, "recordIds": plan.record_ids})
    batch_id = str(body.get("batchExecutionId") or body.get("batchId"))  # the client requires one
    status = body.get("status")
    return result(
        BatchRunOut(
            started=True,
            batch_id=batch_id,
            flow_id=flow_id,
            record_count=count,
            excluded=plan.excluded,
            status=status if isinstance(status, str) else "scheduled",
            warnings=plan.warnings,
            next=f"Follow with get_batch_status(batch_id={quote(batch_id, 120)}); cancel_batch stops it.",
        )
    )


@flows.tool(title="Cancel batch", kind="update")
async def cancel_batch(ctx: Ctx, batch_id: BatchId) -> Annotated[CallToolResult, BatchCancelOut]:
    """Stop a scheduled or running batch; says how many records had already run (their writes stay)."""
    try:
        body = await client_of(ctx).cancel_batch(batch_id)
    except Conflict:
        status = await client_of(ctx).batch_status(batch_id)
        return result(
            BatchCancelOut(
                cancelled=False,
                batch_id=batch_id,
                status=status.status,
                processed=status.processed_records,
                total=status.total_records,
                note=f"The batch is already {quote(status.status, 40)}, not running: nothing to cancel.",
            )
        )
    processed = body.get("processedRecords")
    return result(
        BatchCancelOut(
            cancelled=bool(body.get("success", True)),
            batch_id=batch_id,
            status=body.get("status"),
            processed=processed if isinstance(processed, int) else None,
            total=body.get("totalRecords") if isinstance(body.get("totalRecords"), int) else None,
            note="Cancelled. Records that had already run keep their results and writes.",
        )
    )
