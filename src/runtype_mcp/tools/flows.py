"""Flows toolset (runtype-api.md §3, §6)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Any

from mcp.server.mcpserver import Elicit, ElicitationResult, Resolve
from mcp.types import CallToolResult
from pydantic import BaseModel, ConfigDict, Field, WithJsonSchema

from runtype_mcp.errors import ArgumentError, Detail, NotFound, OperationError, clean
from runtype_mcp.flow_check import check_steps
from runtype_mcp.models import Flow
from runtype_mcp.models.outputs import FlowList, FlowRow
from runtype_mcp.models.outputs_flows import (
    FlowDeleteOut,
    FlowExportOut,
    FlowSavedOut,
    FlowUpdateOut,
    PublishOut,
)
from runtype_mcp.resources import flow_link
from runtype_mcp.tools.confirm import Approval, ask, decide, not_done_note
from runtype_mcp.tools.flow_patch import patched_steps
from runtype_mcp.tools.flow_state import NO_WHEN, FlowState, model_names, read_state, sent_whens, step_rows
from runtype_mcp.tools.params import Cursor, FlowId, Limit, check_json_size
from runtype_mcp.tools.preview import preview
from runtype_mcp.tools.registry import Ctx, Toolset, client_of, result, settings_of

flows = Toolset("flows")


class StepIn(BaseModel):
    """A flow step."""

    model_config = ConfigDict(extra="forbid", defer_build=True)
    name: str = Field(min_length=1, max_length=200)
    type: str = Field(min_length=1, max_length=50, description="Step type (get_step_types).")
    config: dict[str, Any] = Field(default_factory=dict, description="camelCase keys per type.")
    id: str | None = Field(default=None, max_length=200)
    order: int | None = Field(default=None, ge=0)
    enabled: bool | None = None
    when: str | None = Field(
        default=None, max_length=2000, description="JS expression; falsy skips the step."
    )


def steps_like_create(description: str) -> WithJsonSchema:
    """A step list advertised by reference to create_flow's (validated as StepIn all the same)."""
    return WithJsonSchema({"type": "array", "items": {"type": "object"}, "description": description})


def _steps_body(steps: Sequence[StepIn]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    last = 0
    for step in steps:
        order = step.order if step.order is not None else last + 1
        last = max(last, order)
        out.append({**step.model_dump(exclude_none=True), "order": order})
    return out


SANDBOX_PROMPTS = (
    "Sandbox: prompt steps are answered by an echo model that repeats the prompt, not a real model."
)


async def checked(ctx: Ctx, steps: list[dict[str, Any]], path: str = "steps") -> list[str]:
    """Refuse steps with errors (nothing is sent); return the warnings, including prompt models the
    catalogue (list_models) does not list. The sandbox's echo model answers any name: not checked there."""
    found = check_steps(steps, path=path)
    if found.errors:
        raise ArgumentError(found.errors)
    named = any(s.get("type") == "prompt" and (s.get("config") or {}).get("model") for s in steps)
    if named and not settings_of(ctx).sandbox:
        models = await model_names(client_of(ctx))
        if models:
            return check_steps(steps, models=models, path=path).warnings
    return found.warnings


def flow_out(flow: Flow, whens: dict[str, Any] | None, *, note: str | None = None) -> FlowSavedOut:
    return FlowSavedOut(
        id=flow.id,
        name=flow.name,
        description=flow.description,
        steps=step_rows(flow, whens),
        created_at=flow.created_at,
        updated_at=flow.updated_at,
        dashboard_url=flow.dashboard_url,
        draft_version_id=flow.draft_version_id,
        note=note or None,
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
async def get_flow(ctx: Ctx, flow_id: FlowId) -> Annotated[CallToolResult, FlowSavedOut]:
    """Get a flow: every step in full (config, when), the published and draft versions."""
    client = client_of(ctx)
    flow = await client.get_flow(flow_id)
    state = await read_state(client, flow_id)
    out = flow_out(flow, state.whens, note=_version_note(state))
    out.published_version_id = state.published_version_id
    out.draft_version_id = state.draft_version_id or flow.draft_version_id
    out.draft_differs = state.draft_differs
    if settings_of(ctx).sandbox and any(step.type == "prompt" for step in out.steps):
        out.warnings = [SANDBOX_PROMPTS]
    return result(out, flow_link(flow.id, flow.name))


def _version_note(state: FlowState) -> str:
    parts = [] if state.steps is not None else [NO_WHEN]
    if state.versions is not None:
        if state.published_version_id is None:
            parts.append("Not published: runs use the draft shown here; publish_flow makes it live.")
        elif state.draft_differs:
            parts.append(
                "The draft shown here differs from the published version; publish_flow makes it live."
            )
        else:
            parts.append("The published version is this draft.")
    return " ".join(parts)


@flows.tool(title="Create flow", kind="create")
async def create_flow(
    ctx: Ctx,
    name: Annotated[str, Field(min_length=1, max_length=200, description="Flow name.")],
    steps: Annotated[list[StepIn], Field(min_length=1, max_length=100, description="Steps, in run order.")],
    description: Annotated[str | None, Field(max_length=2000, description="What the flow does.")] = None,
) -> Annotated[CallToolResult, FlowSavedOut]:
    """Create a flow of typed steps run against a record; get_step_types lists types, config keys and
    the when syntax. Checked before saving. Test with run_flow."""
    check_json_size([step.config for step in steps], "steps")
    sent = _steps_body(steps)
    warnings = await checked(ctx, sent)
    body: dict[str, Any] = {"name": name, "steps": sent}
    if description is not None:
        body["description"] = description
    flow = await client_of(ctx).create_flow(body)
    out = flow_out(
        flow, sent_whens(flow, sent), note="Created as a draft. Test it on one record with run_flow."
    )
    out.warnings = warnings or None
    return result(out, flow_link(flow.id, flow.name))


class StepPatch(BaseModel):
    """Fields given are set; others kept."""

    model_config = ConfigDict(extra="forbid", defer_build=True)
    step: str = Field(min_length=1, max_length=200, description="The step's id or exact name (get_flow).")
    config: dict[str, Any] | None = Field(default=None, description="Config keys to set.")
    remove_config_keys: list[str] | None = Field(default=None, max_length=100)
    name: str | None = Field(default=None, min_length=1, max_length=200)
    type: str | None = Field(default=None, max_length=50)
    enabled: bool | None = None
    when: str | None = Field(default=None, max_length=2000, description='"" removes it.')
    remove: bool = Field(default=False, description="Delete this step.")
    insert: Annotated[
        StepIn | None,
        WithJsonSchema({"type": "object", "description": "A step as in create_flow, put after this one."}),
    ] = None


@flows.tool(title="Update flow", kind="update")
async def update_flow(
    ctx: Ctx,
    flow_id: FlowId,
    name: Annotated[str | None, Field(min_length=1, max_length=200, description="New flow name.")] = None,
    description: Annotated[str | None, Field(max_length=2000)] = None,
    steps: Annotated[
        list[StepIn] | None,
        Field(min_length=1, max_length=100),
        steps_like_create("As in create_flow; REPLACES all steps (those left out are deleted)."),
    ] = None,
    step_update: Annotated[
        StepPatch | None, Field(description="Edit, remove or insert after one step; others kept.")
    ] = None,
) -> Annotated[CallToolResult, FlowUpdateOut]:
    """Change a flow's name, description or steps, checked as in create_flow and saved as the draft.
    steps replaces ALL steps; step_update changes one."""
    if name is None and description is None and steps is None and step_update is None:
        raise ArgumentError(
            [Detail("(arguments)", "nothing to change", "pass name, description, steps or step_update")]
        )
    if steps is not None and step_update is not None:
        raise ArgumentError([Detail("step_update", "cannot be combined with steps", "send one of them")])
    check_json_size([step.config for step in steps or []], "steps")
    check_json_size(step_update.model_dump(exclude_none=True) if step_update else None, "step_update")
    client = client_of(ctx)
    body: dict[str, Any] = {}
    if name is not None:
        body["name"] = name
    if description is not None:
        body["description"] = description
    changed, warnings = None, []
    if steps is not None:
        body["flowSteps"] = _steps_body(steps)
        warnings = await checked(ctx, body["flowSteps"])
    elif step_update is not None:
        current = await client.get_flow(flow_id)
        state = await read_state(client, flow_id)
        if state.whens is None and not any(
            s.model_dump(exclude_none=True).get("when") for s in current.flow_steps
        ):
            # The whole step list is sent back: unread conditions would be erased from every step.
            raise OperationError(
                f"update_flow: nothing was saved: {NO_WHEN} A step_update sends every step back and would "
                "erase them. Call again in a moment, or pass steps= with every step (and its when) from get_flow."
            )
        body["flowSteps"], changed = patched_steps(current, step_update, state.whens)
        warnings = await checked(ctx, body["flowSteps"], "(steps after step_update)")
    flow = await client.update_flow(flow_id, body)
    whens = (
        sent_whens(flow, body["flowSteps"])
        if "flowSteps" in body
        else (await read_state(client, flow_id)).whens
    )
    out = flow_out(
        flow, whens, note="Saved as the draft; runs use it now, publish_flow makes it the live version."
    )
    return result(
        FlowUpdateOut(
            **out.model_dump(exclude={"warnings"}),
            warnings=warnings or None,
            replaced_steps=steps is not None,
            changed_step=changed,
        )
    )


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
