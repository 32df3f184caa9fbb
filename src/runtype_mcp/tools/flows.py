"""Flows toolset (runtype-api.md §3, §6)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Any, Literal

from mcp.server.mcpserver import Elicit, ElicitationResult, Resolve
from mcp.types import CallToolResult
from pydantic import BaseModel, ConfigDict, Field, WithJsonSchema

from runtype_mcp.errors import ArgumentError, Detail, NotFound, clean, quote
from runtype_mcp.models import Flow
from runtype_mcp.models.outputs import FlowList, FlowOut, FlowRow, StepOut
from runtype_mcp.models.outputs_flows import FlowDeleteOut, FlowExportOut, FlowUpdateOut, PublishOut
from runtype_mcp.resources import flow_link
from runtype_mcp.tools.confirm import Approval, ask, decide, not_done_note
from runtype_mcp.tools.params import Cursor, FlowId, Limit, check_json_size
from runtype_mcp.tools.preview import preview
from runtype_mcp.tools.registry import Ctx, Toolset, client_of, result

flows = Toolset("flows")

StepType = Literal[
    "prompt", "crawl", "fetch-url", "retrieve-record", "get-record", "list-records", "api-call",
    "transform-data", "template", "conditional", "loop", "set-variable", "upsert-record", "send-email",
    "send-event", "send-stream", "update-record", "search", "generate-embedding", "vector-search",
    "tool-call", "wait-until", "paginate-api", "store-vector", "execute-agent", "store-asset",
    "generate-pdf", "save-memory", "recall-memory", "memory-summary",
]  # fmt: skip


class StepIn(BaseModel):
    """Later steps read outputs as {{outputVariable}}, record fields as {{_record.metadata.<key>}}."""

    model_config = ConfigDict(extra="forbid", defer_build=True)
    name: str = Field(min_length=1, max_length=200, description="Step display name.")
    type: StepType
    config: dict[str, Any] = Field(
        default_factory=dict,
        description="camelCase keys, e.g. prompt: {model, userPrompt, systemPrompt, outputVariable}; "
        "update-record: {updates, mergeStrategy}.",
    )
    id: str | None = Field(default=None, max_length=200)
    order: int | None = Field(default=None, ge=0, description="Position (default: list order).")
    enabled: bool | None = None
    when: str | None = Field(default=None, max_length=2000, description="JS predicate; falsy skips the step.")


class StepReplace(StepIn):
    """A step of the new, complete step list."""

    type: Annotated[
        StepType, WithJsonSchema({"type": "string", "description": "A step type, as in create_flow."})
    ]


def _steps_body(steps: Sequence[StepIn]) -> list[dict[str, Any]]:
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
    """List flows (id, name, dates) to find a flow_id; get_flow shows the steps."""
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
    """Get a flow with all its steps and their configs."""
    flow = await client_of(ctx).get_flow(flow_id)
    return result(flow_out(flow, with_config=True), flow_link(flow.id, flow.name))


@flows.tool(title="Create flow", kind="create")
async def create_flow(
    ctx: Ctx,
    name: Annotated[str, Field(min_length=1, max_length=200, description="Flow name.")],
    steps: Annotated[list[StepIn], Field(min_length=1, max_length=100, description="Steps, in run order.")],
    description: Annotated[str | None, Field(max_length=2000, description="What the flow does.")] = None,
) -> Annotated[CallToolResult, FlowOut]:
    """Create a flow: ordered, typed steps that run against a record. Test it with run_flow, then
    run_flow_on_record_type."""
    check_json_size([step.config for step in steps], "steps")
    body: dict[str, Any] = {"name": name, "steps": _steps_body(steps)}
    if description is not None:
        body["description"] = description
    flow = await client_of(ctx).create_flow(body)
    out = flow_out(flow, with_config=False, note="Created. Test it on one record with run_flow.")
    return result(out, flow_link(flow.id, flow.name))


class StepPatch(BaseModel):
    """One step's changes: config keys given are set, others kept."""

    model_config = ConfigDict(extra="forbid", defer_build=True)
    step: str = Field(
        min_length=1, max_length=200, description="The step's id or exact name (from get_flow)."
    )
    config: dict[str, Any] | None = Field(default=None, description="Config keys to set on that step.")
    remove_config_keys: list[str] | None = Field(default=None, max_length=100)
    name: str | None = Field(default=None, min_length=1, max_length=200)
    enabled: bool | None = None


@flows.tool(title="Update flow", kind="update")
async def update_flow(
    ctx: Ctx,
    flow_id: FlowId,
    name: Annotated[str | None, Field(min_length=1, max_length=200, description="New flow name.")] = None,
    description: Annotated[str | None, Field(max_length=2000)] = None,
    steps: Annotated[
        list[StepReplace] | None,
        Field(min_length=1, max_length=100, description="REPLACES all steps; steps left out are deleted."),
    ] = None,
    step_update: Annotated[
        StepPatch | None, Field(description="Change one step (read-merge-write); others untouched.")
    ] = None,
) -> Annotated[CallToolResult, FlowUpdateOut]:
    """Change a flow's name, description or steps (a draft until publish_flow). steps replaces ALL
    steps; step_update changes one."""
    if name is None and description is None and steps is None and step_update is None:
        raise ArgumentError(
            [Detail("(arguments)", "nothing to change", "pass name, description, steps or step_update")]
        )
    if steps is not None and step_update is not None:
        raise ArgumentError([Detail("step_update", "cannot be combined with steps", "send one of them")])
    check_json_size([step.config for step in steps or []], "steps")
    check_json_size(step_update.config if step_update else None, "step_update.config")
    client = client_of(ctx)
    body: dict[str, Any] = {}
    if name is not None:
        body["name"] = name
    if description is not None:
        body["description"] = description
    changed = None
    if steps is not None:
        body["flowSteps"] = _steps_body(steps)
    elif step_update is not None:
        current = await client.get_flow(flow_id)
        body["flowSteps"], changed = _patched_steps(current, step_update)
    flow = await client.update_flow(flow_id, body)
    out = flow_out(flow, with_config=False, note="Saved as a draft; call publish_flow to make it live.")
    return result(FlowUpdateOut(**out.model_dump(), replaced_steps=steps is not None, changed_step=changed))


def _patched_steps(flow: Flow, patch: StepPatch) -> tuple[list[dict[str, Any]], str]:
    raw = [s.model_dump(by_alias=True, exclude_none=True) for s in flow.flow_steps]
    matches = [s for s in raw if s.get("id") == patch.step] or [s for s in raw if s.get("name") == patch.step]
    if len(matches) != 1:
        known = (
            ", ".join(f"{quote(s.get('name'), 80)} (id {quote(s.get('id'), 80)})" for s in raw[:20]) or "none"
        )
        problem = "matches several steps; use the step id" if matches else "matches no step"
        raise ArgumentError([Detail("step_update.step", problem, f"steps are: {known}")])
    step = matches[0]
    config = {**(step.get("config") or {}), **(patch.config or {})}
    for key in patch.remove_config_keys or []:
        config.pop(key, None)
    step["config"] = config
    if patch.name is not None:
        step["name"] = patch.name
    if patch.enabled is not None:
        step["enabled"] = patch.enabled
    return raw, str(step.get("id") or step.get("name"))


async def _ask_delete_flow(flow_id: str, confirm: bool, ctx: Ctx) -> Approval | Elicit[Approval]:
    return ask(ctx, confirm, f"Delete flow {flow_id} and all its step results? This cannot be undone.")


@flows.tool(title="Delete flow", kind="delete")
async def delete_flow(
    ctx: Ctx,
    flow_id: FlowId,
    approval: Annotated[ElicitationResult[Approval], Resolve(_ask_delete_flow)],
    confirm: Annotated[
        bool, Field(description="true only after the user agreed to delete this flow.")
    ] = False,
) -> Annotated[CallToolResult, FlowDeleteOut]:
    """Delete a flow and its step results. Asks the user first, or needs confirm=true."""
    client = client_of(ctx)
    flow = await client.get_flow(flow_id)
    decision = decide(approval, ctx)
    if decision != "approved":
        return result(
            FlowDeleteOut(
                deleted=False,
                flow_id=flow_id,
                name=flow.name,
                step_count=len(flow.flow_steps),
                note=not_done_note(decision, "deleted"),
            )
        )
    try:
        await client.delete_flow(flow_id)
    except NotFound as exc:
        if exc.request.attempts <= 1:
            raise
    return result(
        FlowDeleteOut(
            deleted=True,
            flow_id=flow_id,
            name=flow.name,
            step_count=len(flow.flow_steps),
            note="Deleted with its step results.",
        )
    )


@flows.tool(title="Export flow for the runtime", kind="read")
async def export_flow_runtime(ctx: Ctx, flow_id: FlowId) -> Annotated[CallToolResult, FlowExportOut]:
    """Export a flow as a self-contained runtime definition (Enterprise/BYOC plans only)."""
    body = await client_of(ctx).export_flow_runtime(flow_id)
    raw_steps = body.get("steps")
    steps: list[Any] = raw_steps if isinstance(raw_steps, list) else []
    definition, cut = preview(body, 12000)
    deps = body.get("hostDependencies") if isinstance(body.get("hostDependencies"), list) else []
    return result(
        FlowExportOut(
            flow_id=flow_id,
            name=body.get("name"),
            step_count=len(steps),
            host_dependencies=deps,
            definition=None if cut else definition,
            truncated=cut,
            note="Definition over 12k characters: omitted here; get_flow shows the steps." if cut else None,
        )
    )


@flows.tool(title="Publish flow", kind="update")
async def publish_flow(ctx: Ctx, flow_id: FlowId) -> Annotated[CallToolResult, PublishOut]:
    """Make a flow's current draft the published (live) version."""
    body = await client_of(ctx).publish_flow(flow_id)
    return result(
        PublishOut(
            flow_id=flow_id,
            success=body.get("success"),
            published_version_id=body.get("publishedVersionId"),
            message=clean(body["message"], 300) if body.get("message") else None,
        )
    )
