"""Running flows and reading their progress and step results (runtype-api.md §3.8, §3.9, §6)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

import anyio
from mcp.types import CallToolResult
from pydantic import Field

from runtype_mcp.errors import APIError, ArgumentError, BadResponse, Detail, TransportFailure, clean, quote
from runtype_mcp.models.outputs import RunOnTypeOut, RunRecordOutcome
from runtype_mcp.models.outputs_flows import BatchCostOut, FlowRunOut, StepRun
from runtype_mcp.models.outputs_records import RecordStepList
from runtype_mcp.tools.flow_dry_run import dry_run_options, label, nothing_ran
from runtype_mcp.tools.flows import flows
from runtype_mcp.tools.paging import offset_from
from runtype_mcp.tools.params import BatchId, Cursor, FlowId, Limit, RecordId, RecordType, check_json_size
from runtype_mcp.tools.preview import preview, short_error
from runtype_mcp.tools.registry import Ctx, client_of, result, settings_of
from runtype_mcp.tools.run_advice import unresolved_advice
from runtype_mcp.tools.step_results import step_results_page, step_row

Version = Annotated[Literal["draft", "published"], Field(description="Which version runs.")]
MAX_RESULT_ROWS = 50
OUTPUT_PREVIEW = 400
FINAL_PREVIEW = 2000
FULL_LIMIT = 15000

RUNS_STARTED = frozenset({"scheduled", "queued", "running", "pending"})
DONE = frozenset({"completed", "failed", "cancelled", "interrupted"})


@flows.tool(title="Run flow on every record of a type", kind="run", open_world=True)
async def run_flow_on_record_type(
    ctx: Ctx, flow_id: FlowId, record_type: RecordType
) -> Annotated[CallToolResult, RunOnTypeOut]:
    """Run a flow's draft on every record of a type, one execution each (may write records, never
    retried). Up to 10 run now; more become a batch (get_batch_status)."""
    resp = await client_of(ctx).run_on_record_type(flow_id, record_type)
    if resp.http_status == 202 or (resp.status or "").lower() in RUNS_STARTED:
        follow = (
            f"Scheduled. Call get_batch_status with batch_id={quote(resp.batch_id, 120)} to follow progress; per-record "
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
    if resp.batch_id:
        await _explain(ctx, resp.batch_id, outcomes[:MAX_EXPLAINED])
    failed = sum(1 for o in outcomes if o.success is False)
    idle = sum(1 for o in outcomes if o.note == ALL_SKIPPED)
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
            next=(
                f"{idle} of {len(outcomes)} records ran no step (every step skipped: see steps). "
                if idle
                else ""
            )
            + "Read each record's output with get_record_results (record_id from results)."
            if outcomes
            else f"No records of type {record_type!r} exist; nothing ran. Check the type with list_records.",
        )
    )


MAX_EXPLAINED = 10  # records whose steps are looked up after a run-now (run-on-record-type runs <= 10 now)
ALL_SKIPPED = "every step was skipped: nothing ran for this record"


async def _explain(ctx: Ctx, batch_id: str, outcomes: list[RunRecordOutcome]) -> None:
    """Each record's steps, with why a step was skipped or failed, from the batch's per-record timeline.
    A record whose timeline cannot be read keeps its outcome without steps."""
    client = client_of(ctx)

    async def one(outcome: RunRecordOutcome) -> None:
        if not outcome.record_id:
            return
        try:
            body = await client.batch_record_steps(batch_id, str(outcome.record_id))
        except (APIError, BadResponse, TransportFailure):
            return
        rows = [step_row(r, 200) for r in body.get("data") or [] if isinstance(r, dict)]
        if not rows:
            return
        outcome.steps = [
            f"{row.step or '?'}: {row.status or '?'}"
            + (f": {row.error}" if row.status == "failed" and row.error else "")
            for row in rows
        ]
        outcome.version_id = next((row.version_id for row in rows if row.version_id), None)
        if all((row.status or "").startswith("skipped") for row in rows):
            outcome.note = ALL_SKIPPED

    async with anyio.create_task_group() as tg:
        for outcome in outcomes:
            tg.start_soon(one, outcome)


@flows.tool(title="Get batch status", kind="read")
async def get_batch_status(ctx: Ctx, batch_id: BatchId) -> Annotated[CallToolResult, BatchCostOut]:
    """Progress of a batch: status, processed, succeeded, failed, percent, and its cost so far."""
    client = client_of(ctx)
    status = await client.batch_status(batch_id)
    state = (status.status or "").lower()
    done = state in DONE
    out = BatchCostOut(
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
        next=(
            f"Finished. Each record's steps (why one was skipped or failed): list_flow_step_results with flow_id="
            f"{quote(status.flow_id, 120)} and batch_id; outputs: get_record_results."
            if status.flow_id
            else "Finished. Read outputs with get_record_results per record."
        )
        if done
        else "Still running: call get_batch_status again in a few seconds; cancel_batch stops it.",
    )
    if out.succeeded is None and out.processed is not None and out.failed is not None:
        out.succeeded = out.processed - out.failed
    try:
        cost = await client.batch_cost(batch_id)
    except (APIError, BadResponse, TransportFailure):
        out.cost_note = "Runtype did not report this batch's cost."
        return result(out)
    total = cost.get("totalCostUsd")
    out.total_cost_usd = float(total) if isinstance(total, int | float) else None
    unpriced = cost.get("unpricedExecutions")
    out.unpriced_executions = unpriced if isinstance(unpriced, int) else None
    tokens = cost.get("totalTokens")
    out.total_tokens = tokens if isinstance(tokens, int) else None
    if out.unpriced_executions:
        out.cost_note = f"{out.unpriced_executions} executions have no price yet: the total is a lower bound."
    return result(out)


@flows.tool(title="List flow step results", kind="read")
async def list_flow_step_results(
    ctx: Ctx,
    flow_id: FlowId,
    record_id: Annotated[RecordId | None, Field(description="Only this record (from list_records).")] = None,
    batch_id: Annotated[BatchId | None, Field(description="Only this batch (from a run tool).")] = None,
    status: Annotated[str | None, Field(max_length=50, description="e.g. completed or failed.")] = None,
    limit: Limit = 20,
    cursor: Cursor = None,
) -> Annotated[CallToolResult, RecordStepList]:
    """Per-step results of a flow's runs, newest first; status="failed" to diagnose."""
    offset = offset_from(cursor)
    body = await client_of(ctx).flow_step_results(
        flow_id,
        recordId=record_id,
        batchId=batch_id,
        status=status,
        limit=limit,
        offset=offset,
        sortOrder="desc",
    )
    return result(step_results_page(body, offset, limit))


@flows.tool(title="Run flow on one record", kind="run", open_world=True)
async def run_flow(
    ctx: Ctx,
    flow_id: FlowId,
    record_id: RecordId | None = None,
    inputs: Annotated[
        dict[str, Any] | None,
        Field(description="Variables for the run, read as {{key}}."),
    ] = None,
    wait: Annotated[
        bool,
        Field(description="false: start and return an execution_id."),
    ] = True,
    execution_id: Annotated[
        str | None,
        Field(
            max_length=512,
            description="Id from run_flow(wait=false): its status.",
        ),
    ] = None,
    full_output: Annotated[bool, Field(description="Return outputs uncut (up to 15k chars).")] = False,
    version: Version = "draft",
    dry_run: Annotated[bool, Field(description="Virtual copy: store nothing, show changes.")] = False,
) -> Annotated[CallToolResult, FlowRunOut]:
    """Run a flow on one record (draft unless version=published): final output, per-step summary.
    Never retried. With execution_id: that run's status."""
    client = client_of(ctx)
    limit = FULL_LIMIT if full_output else FINAL_PREVIEW
    if execution_id is not None:
        return result(_execution_out(await client.execution_status(execution_id), flow_id, record_id, limit))
    if inputs and any(str(k).startswith("_") for k in inputs):
        bad = [k for k in inputs if str(k).startswith("_")]
        raise ArgumentError(
            [Detail(f'inputs["{bad[0]}"]', "names starting with _ are reserved", "rename the input")]
        )
    check_json_size(inputs, "inputs")
    body: dict[str, Any] = {
        "flow": {"id": flow_id},
        "options": {"streamResponse": False, "versionType": version},
    }
    before: dict[str, Any] = {}
    if dry_run:
        if record_id is None or not wait:
            raise ArgumentError(
                [Detail("dry_run", "needs record_id and wait=true", "pass the record to test on")]
            )
        before = (await client.get_record(record_id)).metadata
        body["options"].update(dry_run_options())
    if record_id is not None:
        body["record"] = {"id": record_id}
    if inputs:
        body["inputs"] = inputs
    status, out = await client.dispatch(body, run_async=not wait)
    if not wait or status == 202 or (out.get("executionId") and "events" not in out):
        return result(_labelled(_execution_out(out, flow_id, record_id, limit), version, ctx))
    ran = _labelled(_run_out(out, flow_id, record_id, limit), version, ctx)
    names = list(dict.fromkeys(v for s in ran.steps for v in s.unresolved_variables or []))
    if names:
        ran.next = await unresolved_advice(client, record_id, names)
    if dry_run:
        ran = label(ran, out.get("events") or [], record_id, before)
    return result(ran)


SANDBOX_MODEL_NOTE = (
    "Sandbox echo model: prompt outputs repeat the rendered prompt; they are not real model answers "
    "(do not report them as classifications)."
)


def _labelled(out: FlowRunOut, version: str, ctx: Ctx) -> FlowRunOut:
    """State which version ran, and label the sandbox's echo model so it is never taken for a real one."""
    out.version = version
    echoed = any(
        (isinstance(s.output, str) and s.output.startswith("[sandbox model"))
        or (isinstance(s.output, dict) and "sandboxModel" in s.output)
        for s in out.steps
    )
    if echoed or settings_of(ctx).sandbox:
        out.model_note = SANDBOX_MODEL_NOTE
    return out


def _run_out(out: dict[str, Any], flow_id: str, record_id: str | None, limit: int) -> FlowRunOut:
    steps: list[StepRun] = []
    final: Any = None
    for event in out.get("events") or []:
        if not isinstance(event, dict):
            continue
        kind = event.get("type")
        if kind == "step_skip":
            why = clean(event.get("reason"), 300) if event.get("reason") else "no reason reported"
            steps.append(
                StepRun(name=event.get("name"), type=event.get("stepType"), status=f"skipped: {why}")
            )
        elif kind == "step_complete":
            output, _ = preview(event.get("result"), limit if limit > FINAL_PREVIEW else OUTPUT_PREVIEW)
            unresolved = event.get("unresolvedVariables")
            steps.append(
                StepRun(
                    name=event.get("name"),
                    type=event.get("stepType"),
                    status="completed" if event.get("success") else "failed",
                    success=event.get("success"),
                    duration_ms=event.get("durationMs"),
                    output=output,
                    error=short_error(event.get("error")),
                    unresolved_variables=[clean(v, 80) for v in unresolved]
                    if isinstance(unresolved, list) and unresolved
                    else None,
                    tokens=event.get("tokensUsed") if isinstance(event.get("tokensUsed"), int) else None,
                    cost_usd=event.get("cost") if isinstance(event.get("cost"), int | float) else None,
                )
            )
        elif kind == "execution_complete":
            final = event.get("finalOutput")
    if final is None and steps:
        final = next(
            (
                e.get("result")
                for e in reversed(out.get("events") or [])
                if isinstance(e, dict) and e.get("type") == "step_complete"
            ),
            None,
        )
    final_out, cut = preview(final, limit)
    status = str(out.get("status") or ("completed" if out.get("success") else "failed"))
    hint = "Read the stored result later with get_record_results." if record_id else "Done."
    if any(s.unresolved_variables for s in steps):
        hint = "Some {{variables}} did not resolve (see unresolved_variables): check their names, then run again."
    elif status == "failed":
        hint = "The run failed: see the failing step's error; list_flow_step_results shows earlier runs."
    ran = FlowRunOut(
        status=status,
        success=out.get("success"),
        flow_id=flow_id,
        record_id=record_id or out.get("recordId"),
        final_output=final_out,
        output_truncated=cut or None,
        steps=steps,
        error=short_error(out.get("error")),
        next=hint + (" Output was cut: call again with full_output=true for more." if cut else ""),
    )
    idle = None if status == "failed" or ran.error else nothing_ran(ran)
    if idle is not None:
        ran.next = idle if not record_id else f"{idle} {ran.next}"
    return ran


def _execution_out(out: dict[str, Any], flow_id: str, record_id: str | None, limit: int) -> FlowRunOut:
    exec_id = out.get("executionId")
    status = str(out.get("status") or "queued")
    final, cut = preview(out.get("result"), limit)
    done = status in DONE
    follow = (
        f"Finished (status {quote(status, 40)})."
        if done
        else f"Running. Call run_flow again with execution_id={quote(exec_id, 120)} (and the same flow_id) in a few seconds."
    )
    return FlowRunOut(
        status=status,
        success=None if not done else status == "completed",
        flow_id=flow_id,
        record_id=record_id,
        execution_id=exec_id,
        final_output=final,
        output_truncated=cut or None,
        error=short_error(out.get("error")),
        next=follow,
    )
