"""What ran against a record: costs, results (page paging) and step results (offset paging).

Outputs are written by models and others, so they are untrusted and can be huge: every one is
bounded with `clean` and the result says what was cut and how to read more.
"""

from __future__ import annotations

from typing import Annotated, Any

from mcp.server.mcpserver import Elicit, ElicitationResult, Resolve
from mcp.types import CallToolResult
from pydantic import Field

from runtype_mcp.errors import NotFound, clean, quote
from runtype_mcp.models.outputs import RecordRow
from runtype_mcp.models.outputs_records import (
    CostsOut,
    ModelCost,
    RecordStepList,
    ResultDeleteOut,
    ResultList,
    ResultRow,
)
from runtype_mcp.tools.confirm import Approval, ask, decide, not_done_note
from runtype_mcp.tools.paging import next_page, offset_from, page_from
from runtype_mcp.tools.params import Confirm, Cursor, FlowId, RecordId, ResultId
from runtype_mcp.tools.records import records
from runtype_mcp.tools.records_delete import record_preview
from runtype_mcp.tools.registry import Ctx, client_of, result
from runtype_mcp.tools.step_results import (
    PREVIEW,
    fit,
    int_of,
    num_of,
    step_results_page,
    str_of,
    text_of,
)

FULL = 12000  # output characters shared by the rows when full_output=true

Status = Annotated[str | None, Field(max_length=50, description="e.g. completed or failed.")]
RowLimit = Annotated[int, Field(ge=1, le=25, description="Rows per page.")]


@records.tool(title="Record costs", kind="read")
async def get_record_costs(ctx: Ctx, record_id: RecordId) -> Annotated[CallToolResult, CostsOut]:
    """Total cost and tokens of every run on a record, split by model."""
    body = await client_of(ctx).record_costs(record_id)
    models = [
        ModelCost(
            model=str_of(m.get("model")),
            count=int_of(m.get("count")),
            tokens=int_of(m.get("tokens")),
            cost=num_of(m.get("cost")) if num_of(m.get("cost")) is not None else str_of(m.get("cost"), 40),
        )
        for m in (body.get("modelBreakdown") or [])[:30]
        if isinstance(m, dict)
    ]
    total = body.get("totalCost")
    return result(
        CostsOut(
            record_id=record_id,
            total_cost=num_of(total) if num_of(total) is not None else str_of(total, 40),
            prompt_tokens=int_of(body.get("promptTokens")),
            completion_tokens=int_of(body.get("completionTokens")),
            total_tokens=int_of(body.get("totalTokens")),
            execution_count=int_of(body.get("executionCount")),
            models=models,
        )
    )


@records.tool(title="Record results", kind="read")
async def get_record_results(
    ctx: Ctx,
    record_id: RecordId,
    flow_id: FlowId | None = None,
    status: Status = None,
    limit: RowLimit = 10,
    cursor: Cursor = None,
    full_output: Annotated[bool, Field(description="Longer outputs (use limit=1).")] = False,
) -> Annotated[CallToolResult, ResultList]:
    """A record's run history, newest first: flow, status, tokens, cost, output preview."""
    page = page_from(cursor)
    body = await client_of(ctx).record_results(
        record_id, page=page, limit=limit, status=status, flowId=flow_id, sortOrder="desc"
    )
    raw = [r for r in body.get("data") or [] if isinstance(r, dict)][:limit]
    paging = body.get("pagination") if isinstance(body.get("pagination"), dict) else {}
    more = bool(paging.get("hasMore") or paging.get("hasNextPage")) if paging else len(raw) >= limit

    def build(width: int) -> ResultList:
        rows = [_result_row(r, width) for r in raw]
        cut = sum(1 for r in rows if r.output_chars)
        note = None
        if cut:
            note = f"{cut} output(s) cut to {width} chars (output_chars is the full length)." + (
                ""
                if full_output and len(raw) == 1
                else " For more of one: limit=1, full_output=true, page with cursor."
            )
        return ResultList(
            results=rows, count=len(rows), has_more=more, next_cursor=next_page(page, more), note=note
        )

    start = max(PREVIEW, FULL // max(1, len(raw))) if full_output else PREVIEW
    return result(fit(build, start))


def _result_row(r: dict[str, Any], width: int) -> ResultRow:
    text = text_of(r.get("result"))
    over = text is not None and len(text) > width
    return ResultRow(
        id=str_of(r.get("id"), 200),
        status=str_of(r.get("status"), 40),
        created_at=str_of(r.get("createdAt"), 40),
        flow_id=str_of(r.get("flowId"), 200),
        flow_name=str_of(r.get("flowName")),
        prompt_id=str_of(r.get("promptId"), 200),
        prompt_name=str_of(r.get("promptName")),
        output=clean(text, width) if text is not None else None,
        output_chars=len(text) if over and text is not None else None,
        execution_time_ms=num_of(r.get("executionTimeMs")),
        total_tokens=int_of(r.get("totalTokens")),
        model=str_of(r.get("modelUsed"), 80),
        model_cost=str_of(r.get("modelCost") or r.get("estimatedCost"), 40),
        tool_cost=str_of(r.get("toolCost"), 40),
    )


async def _ask_delete_result(
    target: Annotated[RecordRow, Resolve(record_preview)], result_id: str, confirm: bool, ctx: Ctx
) -> Approval | Elicit[Approval]:
    name = quote(target.name or "?", 100)
    return ask(
        ctx,
        confirm,
        f"Delete result {quote(result_id, 120)} of record {name} (id {quote(target.id, 120)})? The record stays; "
        "this cannot be undone.",
    )


@records.tool(title="Delete record result", kind="delete")
async def delete_record_result(
    ctx: Ctx,
    record_id: RecordId,
    result_id: ResultId,
    target: Annotated[RecordRow, Resolve(record_preview)],
    approval: Annotated[ElicitationResult[Approval], Resolve(_ask_delete_result)],
    confirm: Confirm = False,
) -> Annotated[CallToolResult, ResultDeleteOut]:
    """Delete one run result of a record (the record stays). Asks the user, or needs confirm=true."""
    decision = decide(approval, ctx)
    out = ResultDeleteOut(deleted=False, record_id=record_id, result_id=result_id, record_name=target.name)
    if decision != "approved":
        return result(out.model_copy(update={"note": not_done_note(decision, "deleted")}))
    note = None
    try:
        await client_of(ctx).delete_record_result(record_id, result_id)
    except NotFound as exc:
        if exc.request.attempts <= 1:
            raise
        note = "The first attempt failed mid-way; the retry found the result gone, so it is deleted."
    return result(out.model_copy(update={"deleted": True, "note": note}))


@records.tool(title="Record step results", kind="read")
async def get_record_step_results(
    ctx: Ctx,
    record_id: RecordId,
    flow_id: FlowId | None = None,
    status: Status = None,
    limit: RowLimit = 20,
    cursor: Cursor = None,
) -> Annotated[CallToolResult, RecordStepList]:
    """Per-step results of a record's runs, newest first: status, duration, output, error."""
    offset = offset_from(cursor)
    body = await client_of(ctx).record_step_results(
        record_id,
        flowId=flow_id,
        status=status,
        limit=limit,
        offset=offset,
        sortOrder="desc",
    )
    return result(step_results_page(body, offset, limit))
