"""Flows toolset (runtype-api.md §3, §6)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from mcp.types import CallToolResult
from pydantic import BaseModel, ConfigDict, Field

from runtype_mcp.errors import clean
from runtype_mcp.models import Flow
from runtype_mcp.models.outputs import (
    BatchStatusOut,
    FlowList,
    FlowOut,
    FlowRow,
    RunOnTypeOut,
    RunRecordOutcome,
    StepOut,
)
from runtype_mcp.tools.params import BatchId, Cursor, FlowId, Limit, RecordType
from runtype_mcp.tools.registry import Ctx, Toolset, client_of, result

flows = Toolset("flows")

StepType = Literal[
    "prompt", "crawl", "fetch-url", "retrieve-record", "get-record", "list-records", "api-call",
    "transform-data", "template", "conditional", "loop", "set-variable", "upsert-record", "send-email",
    "send-event", "send-stream", "update-record", "search", "generate-embedding", "vector-search",
    "tool-call", "wait-until", "paginate-api", "store-vector", "execute-agent", "store-asset",
    "generate-pdf", "save-memory", "recall-memory", "memory-summary",
]  # fmt: skip
MAX_RESULT_ROWS = 50


class StepIn(BaseModel):
    """One flow step. Step outputs are read by later steps as {{outputVariable}}; record fields as
    {{_record.metadata.<key>}} and {{_record.name}}."""

    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=200, description="Step display name.")
    type: StepType
    config: dict[str, Any] = Field(
        default_factory=dict,
        description="camelCase keys, e.g. prompt: {model, userPrompt, systemPrompt, outputVariable}; "
        "update-record: {updates, mergeStrategy}.",
    )
    id: str | None = Field(default=None, max_length=200)
    order: int | None = Field(
        default=None, ge=0, description="Position; filled in from list order when omitted."
    )
    enabled: bool | None = None
    when: str | None = Field(default=None, max_length=2000, description="JS predicate; falsy skips the step.")


def _steps_body(steps: list[StepIn]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    last = 0
    for step in steps:
        order = step.order if step.order is not None else last + 1
        last = max(last, order)
        out.append({**step.model_dump(exclude_none=True), "order": order})
    return out


def flow_out(flow: Flow, *, with_config: bool, note: str | None = None) -> FlowOut:
    return FlowOut(
        id=flow.id,
        name=flow.name,
        description=flow.description,
        steps=[
            StepOut(
                id=s.id,
                name=s.name,
                type=s.type,
                order=s.order,
                enabled=s.enabled,
                config=s.config if with_config else None,
            )
            for s in sorted(flow.flow_steps, key=lambda s: s.order if s.order is not None else 0)
        ],
        created_at=flow.created_at,
        updated_at=flow.updated_at,
        dashboard_url=flow.dashboard_url,
        draft_version_id=flow.draft_version_id,
        note=note,
    )


@flows.tool(title="List flows", kind="read")
async def list_flows(
    ctx: Ctx,
    search: Annotated[str | None, Field(max_length=500, description="Text to match in flow names.")] = None,
    limit: Limit = 20,
    cursor: Cursor = None,
) -> Annotated[CallToolResult, FlowList]:
    """List flows as compact rows (id, name, dates). Use it to find a flow_id; get_flow shows its steps."""
    page = await client_of(ctx).list_flows(search=search, limit=limit, cursor=cursor, view="compact")
    rows = [
        FlowRow(
            id=str(r["id"]), name=r.get("name"), updated_at=r.get("updatedAt"), last_run_at=r.get("lastRunAt")
        )
        for r in page.data
        if r.get("id")
    ]
    return result(FlowList(flows=rows, count=len(rows), has_more=page.has_more, next_cursor=page.next_cursor))


@flows.tool(title="Get flow", kind="read")
async def get_flow(ctx: Ctx, flow_id: FlowId) -> Annotated[CallToolResult, FlowOut]:
    """Get a flow with all its steps and their configs. flow_id comes from list_flows or create_flow."""
    return result(flow_out(await client_of(ctx).get_flow(flow_id), with_config=True))


@flows.tool(title="Create flow", kind="create")
async def create_flow(
    ctx: Ctx,
    name: Annotated[str, Field(min_length=1, max_length=200, description="Flow name.")],
    steps: Annotated[list[StepIn], Field(min_length=1, max_length=100, description="Steps, in run order.")],
    description: Annotated[str | None, Field(max_length=2000, description="What the flow does.")] = None,
) -> Annotated[CallToolResult, FlowOut]:
    """Create a flow: an ordered list of typed steps that runs against a record.

    Next: try it with run_flow_on_record_type (or run_flow on one record, where available).
    """
    body: dict[str, Any] = {"name": name, "steps": _steps_body(steps)}
    if description is not None:
        body["description"] = description
    flow = await client_of(ctx).create_flow(body)
    return result(flow_out(flow, with_config=False, note="Created. Run it with run_flow_on_record_type."))


@flows.tool(title="Run flow on every record of a type", kind="run", open_world=True)
async def run_flow_on_record_type(
    ctx: Ctx, flow_id: FlowId, record_type: RecordType
) -> Annotated[CallToolResult, RunOnTypeOut]:
    """Run a flow once on every record of a type. Costs one execution per record and may write records;
    it is never retried automatically. Check the record count first with list_records.

    Up to 10 records run now and each outcome is returned; more are scheduled as a batch: follow it
    with get_batch_status.
    """
    resp = await client_of(ctx).run_on_record_type(flow_id, record_type)
    if resp.http_status == 202 or (resp.status or "").lower() in {"scheduled", "queued", "running"}:
        follow = (
            f"Scheduled. Call get_batch_status with batch_id={resp.batch_id!r} to follow progress; per-record "
            "outputs appear in get_record_results."
            if resp.batch_id
            else "Scheduled, but Runtype returned no batch id: check progress with get_record_results on a record."
        )
        return result(
            RunOnTypeOut(
                status="scheduled",
                batch_id=resp.batch_id,
                flow_id=flow_id,
                record_type=record_type,
                record_count=resp.record_count,
                next=follow,
            )
        )
    outcomes = [
        RunRecordOutcome(
            record_id=r.get("recordId"),
            name=r.get("recordName"),
            success=r.get("success"),
            error=clean(r["error"], 300) if r.get("error") else None,
        )
        for r in resp.results
    ]
    failed = sum(1 for o in outcomes if o.success is False)
    return result(
        RunOnTypeOut(
            status=resp.status or "completed",
            batch_id=resp.batch_id,
            flow_id=flow_id,
            record_type=record_type,
            record_count=resp.record_count if resp.record_count is not None else len(outcomes),
            success_count=resp.success_count,
            failure_count=resp.failure_count if resp.failure_count is not None else failed,
            results=outcomes[:MAX_RESULT_ROWS],
            results_omitted=max(0, len(outcomes) - MAX_RESULT_ROWS) or None,
            next="Read each record's output with get_record_results (record_id from results)."
            if outcomes
            else f"No records of type {record_type!r} exist; nothing ran. Check the type with list_records.",
        )
    )


@flows.tool(title="Get batch status", kind="read")
async def get_batch_status(ctx: Ctx, batch_id: BatchId) -> Annotated[CallToolResult, BatchStatusOut]:
    """Progress of a scheduled run (from run_flow_on_record_type): status, processed, failed, percent."""
    status = await client_of(ctx).batch_status(batch_id)
    state = (status.status or "").lower()
    done = state in {"completed", "failed", "cancelled", "interrupted"}
    return result(
        BatchStatusOut(
            batch_id=batch_id,
            status=status.status,
            flow_id=status.flow_id,
            progress=status.progress,
            total=status.total_records,
            processed=status.processed_records,
            failed=status.failed_records,
            succeeded=status.success_count,
            started_at=status.started_at,
            completed_at=status.completed_at,
            next="Finished. Read outputs with get_record_results per record."
            if done
            else "Still running: call get_batch_status again in a few seconds.",
        )
    )
