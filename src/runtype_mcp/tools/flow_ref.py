"""What a model reads before it writes a flow: step types, the save-time check on demand, versions."""

from __future__ import annotations

import json
from typing import Annotated, Any

from mcp.types import CallToolResult
from pydantic import Field

from runtype_mcp.errors import APIError, ArgumentError, BadResponse, Detail, TransportFailure, clean, quote
from runtype_mcp.flow_check import check_steps, did_you_mean
from runtype_mcp.models.outputs_flows import (
    FlowCheckOut,
    FlowVersionsOut,
    ModelRow,
    ModelsOut,
    StepTypesOut,
    VersionRow,
)
from runtype_mcp.step_reference import DOC_MIME, DOC_TOPIC, STEP_TYPES, reference
from runtype_mcp.tools.flow_state import catalogue, read_state
from runtype_mcp.tools.flows import StepIn, _steps_body, flows, steps_like_create
from runtype_mcp.tools.params import FlowId, check_json_size
from runtype_mcp.tools.registry import Ctx, client_of, result, settings_of

_UNAVAILABLE = (APIError, BadResponse, TransportFailure)
PLATFORM_DOCS_LIMIT = 4000


@flows.tool(title="Get step types", kind="read")
async def get_step_types(
    ctx: Ctx,
    type: Annotated[str | None, Field(max_length=50, description="One step type; omit for all.")] = None,
) -> Annotated[CallToolResult, StepTypesOut]:
    """Step types for create_flow/update_flow: config keys (required, optional), an example, what
    each writes; template scope and the when/condition syntax."""
    if type is not None and type not in STEP_TYPES:
        guess = did_you_mean(type, STEP_TYPES)
        hint = f"did you mean {quote(guess, 40)}? " if guess else ""
        raise ArgumentError(
            [Detail("type", f"unknown step type {quote(type, 60)}", hint + "omit it to list all")]
        )
    built_in = reference(type)
    topic = f"{DOC_TOPIC}:{type}" if type else DOC_TOPIC
    try:
        doc = await client_of(ctx).documentation(topic)
    except _UNAVAILABLE:
        return result(
            StepTypesOut(source="built-in reference (Runtype's documentation did not answer)", **built_in)
        )
    content = doc.get("content")
    if doc.get("mimeType") == DOC_MIME and isinstance(content, str):
        try:
            served = json.loads(content)
        except ValueError:
            served = None
        if isinstance(served, dict) and isinstance(served.get("step_types"), list):
            return result(
                StepTypesOut(
                    source="Runtype documentation",
                    step_types=served["step_types"],
                    scope=served.get("scope") if isinstance(served.get("scope"), dict) else built_in["scope"],
                )
            )
    excerpt = clean(content, PLATFORM_DOCS_LIMIT) if isinstance(content, str) and content.strip() else None
    return result(
        StepTypesOut(source="built-in reference + Runtype documentation", platform_docs=excerpt, **built_in)
    )


@flows.tool(title="Validate flow", kind="read")
async def validate_flow(
    ctx: Ctx,
    flow_id: FlowId | None = None,
    steps: Annotated[
        list[StepIn] | None, Field(max_length=100), steps_like_create("Steps as in create_flow, unsaved.")
    ] = None,
) -> Annotated[CallToolResult, FlowCheckOut]:
    """Check a saved flow's draft, or steps without saving: create_flow's checks, then Runtype's
    validator."""
    if (flow_id is None) == (steps is None):
        raise ArgumentError([Detail("(arguments)", "pass exactly one of flow_id or steps", None)])
    client = client_of(ctx)
    name = "(unsaved)"
    if steps is not None:
        check_json_size([s.config for s in steps], "steps")
        body_steps = _steps_body(steps)
    else:
        assert flow_id is not None
        flow = await client.get_flow(flow_id)
        name = flow.name or flow_id
        state = await read_state(client, flow_id)
        body_steps = (
            state.steps
            if state.steps is not None
            else [s.model_dump(by_alias=True, exclude_none=True) for s in flow.flow_steps]
        )
    found = check_steps(body_steps)
    errors = [d.line().removeprefix("- ") for d in found.errors]
    warnings = list(found.warnings)
    try:
        api = await client.validate_flow({"name": name, "steps": body_steps})
        api_said = _api_findings(api, errors, warnings)
    except _UNAVAILABLE:
        api_said = "did not answer: checked locally only"
    valid = not errors
    return result(
        FlowCheckOut(
            valid=valid,
            errors=errors,
            warnings=warnings,
            api_validator=api_said,
            next="Valid: save it with create_flow/update_flow."
            if valid and steps is not None
            else "Valid."
            if valid
            else "Fix the errors (get_step_types shows each type's keys), then validate again.",
        )
    )


def _api_findings(api: dict[str, Any], errors: list[str], warnings: list[str]) -> str:
    """Add Runtype's validator findings (quoted: upstream text) and summarise its verdict."""
    for key, into in (("errors", errors), ("warnings", warnings), ("recommendations", warnings)):
        for issue in (api.get(key) or [])[:20]:
            if isinstance(issue, dict):
                path = clean(issue.get("path") or "", 120)
                into.append(
                    f"Runtype said{f' at {path}' if path else ''}: {quote(issue.get('message'), 300)}"
                )
    verdict = api.get("valid")
    return "valid" if verdict is True else "invalid" if verdict is False else "answered"


@flows.tool(title="List flow versions", kind="read")
async def list_flow_versions(ctx: Ctx, flow_id: FlowId) -> Annotated[CallToolResult, FlowVersionsOut]:
    """A flow's saved versions, newest first: which is published (live) and which is the draft."""
    body = await client_of(ctx).flow_versions(flow_id)
    rows = sorted(
        (v for v in body.get("versions") or [] if isinstance(v, dict) and v.get("id")),
        key=lambda v: v.get("versionNumber") or 0,
        reverse=True,
    )
    published = body.get("publishedVersionId")
    draft = str(rows[0]["id"]) if rows else None
    versions = [
        VersionRow(
            id=str(v["id"]),
            number=v.get("versionNumber"),
            type=v.get("versionType"),
            label=clean(v["label"], 80) if v.get("label") else None,
            step_count=v.get("stepCount"),
            steps=clean(v["stepSummary"], 300) if v.get("stepSummary") else None,
            created_at=v.get("createdAt"),
        )
        for v in rows[:50]
    ]
    if published is None:
        note = "Nothing published yet: runs use the draft (the newest version); publish_flow makes it live."
    elif published == draft:
        note = "The newest version is the published one: draft and published are the same."
    else:
        note = "The draft (newest) differs from the published version; publish_flow makes it live."
    return result(
        FlowVersionsOut(
            flow_id=flow_id,
            published_version_id=published,
            draft_version_id=draft,
            draft_differs=None if draft is None else draft != published,
            versions=versions,
            note=note,
        )
    )


@flows.tool(title="List models", kind="read")
async def list_models(ctx: Ctx) -> Annotated[CallToolResult, ModelsOut]:
    """Models available to prompt steps: use an id as config.model."""
    rows = [
        ModelRow(
            id=clean(m["id"], 120),
            name=clean(m["name"], 120) if m["name"] else None,
            model_ids=[clean(i, 120) for i in m["model_ids"][:10]],
            configured=m["configured"] if isinstance(m["configured"], bool) else None,
            note=clean(m["note"], 200) if m["note"] else None,
        )
        for m in catalogue(await client_of(ctx).model_configs())[:200]
    ]
    sandbox = settings_of(ctx).sandbox
    note = (
        "Sandbox: its one model echoes the prompt; real models need a Runtype account."
        if sandbox
        else "Set a prompt step's config.model to an id (or one of its model_ids)."
    )
    return result(ModelsOut(models=rows, count=len(rows), note=note))
