"""What is stored of a flow beyond `GET /flows/{id}`: each step's `when` (the API does not echo it) and
which version is published and which is the draft, read from the flow's versions or runtime export."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from typing import Any

from runtype_mcp.client import RuntypeClient
from runtype_mcp.errors import APIError, BadResponse, TransportFailure
from runtype_mcp.models import Flow
from runtype_mcp.models.outputs import StepOut

_READ_FAILURES = (APIError, BadResponse, TransportFailure)
NO_WHEN = (
    "Step `when` conditions cannot be read back here (Runtype does not echo them and neither the flow's "
    "versions nor its runtime export answered): steps may have conditions not shown."
)


@dataclass
class FlowState:
    steps: list[dict[str, Any]] | None = None  # stored steps, `when` included
    draft_version_id: str | None = None
    published_version_id: str | None = None
    versions: list[dict[str, Any]] | None = None

    @property
    def whens(self) -> dict[str, Any] | None:
        if self.steps is None:
            return None
        return {str(s.get("id")): s.get("when") for s in self.steps if isinstance(s, dict) and s.get("id")}

    @property
    def draft_differs(self) -> bool | None:
        if self.versions is None:
            return None
        if self.published_version_id is None:
            return True
        return self.draft_version_id != self.published_version_id


def _steps_of(body: dict[str, Any]) -> list[dict[str, Any]] | None:
    nested = body.get("flowConfig")
    config: dict[str, Any] = nested if isinstance(nested, dict) else body
    for key in ("steps", "flowSteps"):
        steps = config.get(key)
        if isinstance(steps, list):
            return [s for s in steps if isinstance(s, dict)]
    return None


async def read_state(client: RuntypeClient, flow_id: str) -> FlowState:
    state = FlowState()
    try:
        body = await client.flow_versions(flow_id)
        versions = [v for v in body.get("versions") or [] if isinstance(v, dict) and v.get("id")]
        state.versions = versions
        state.published_version_id = body.get("publishedVersionId")
        if versions:
            latest = max(versions, key=lambda v: v.get("versionNumber") or 0)
            state.draft_version_id = str(latest["id"])
            state.steps = _steps_of(await client.flow_version(flow_id, state.draft_version_id))
    except _READ_FAILURES:
        pass
    if state.steps is None:
        with contextlib.suppress(*_READ_FAILURES):
            state.steps = _steps_of(await client.export_flow_runtime(flow_id))
    return state


def step_rows(flow: Flow, whens: dict[str, Any] | None) -> list[StepOut]:
    """Every step in full, in run order; `when` from `whens` (by step id) when the API did not echo it."""
    rows = []
    for s in sorted(flow.flow_steps, key=lambda s: s.order if s.order is not None else 0):
        when = (s.model_extra or {}).get("when")
        if when is None and whens is not None and s.id is not None:
            when = whens.get(s.id)
        rows.append(
            StepOut(
                id=s.id,
                name=s.name,
                type=s.type,
                order=s.order,
                enabled=s.enabled,
                when=when if isinstance(when, str) else None,
                config=s.config,
            )
        )
    return rows


def sent_whens(flow: Flow, sent: list[dict[str, Any]]) -> dict[str, Any]:
    """The `when` of each saved step, from the steps just sent (matched by position in run order)."""
    saved = sorted(flow.flow_steps, key=lambda s: s.order if s.order is not None else 0)
    ordered = sorted(sent, key=lambda s: s.get("order") or 0)
    return {
        str(s.id): body.get("when")
        for s, body in zip(saved, ordered, strict=False)
        if s.id is not None and s.name == body.get("name")
    }


def catalogue(body: dict[str, Any]) -> list[dict[str, Any]]:
    """Models of `GET /model-configs/grouped`: id, name, providers, note."""
    models = []
    for item in body.get("data") or []:
        if not isinstance(item, dict) or not item.get("baseModel"):
            continue
        providers = [p for p in item.get("providers") or [] if isinstance(p, dict)]
        models.append(
            {
                "id": str(item["baseModel"]),
                "name": item.get("displayName"),
                "model_ids": sorted({str(p["modelId"]) for p in providers if p.get("modelId")}),
                "configured": item.get("isConfigured"),
                "note": item.get("description"),
            }
        )
    return models


async def model_names(client: RuntypeClient) -> set[str] | None:
    """Every name a prompt step may use, or None when the catalogue does not answer."""
    try:
        models = catalogue(await client.model_configs())
    except _READ_FAILURES:
        return None
    return {m["id"] for m in models} | {i for m in models for i in m["model_ids"]}
