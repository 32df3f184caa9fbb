"""Outputs of the flow-management and run tools."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from runtype_mcp.models.outputs import FlowOut, Out


class FlowDeleteOut(Out):
    deleted: bool
    flow_id: str
    name: str | None = None
    step_count: int | None = None
    note: str


class FlowExportOut(Out):
    flow_id: str
    name: str | None = None
    step_count: int
    host_dependencies: list[Any] = Field(default_factory=list)
    definition: Any = None
    truncated: bool = False
    note: str | None = None


class PublishOut(Out):
    flow_id: str
    success: bool | None = None
    published_version_id: str | None = None
    message: str | None = None


class StepRun(Out):
    name: str | None = None
    type: str | None = None
    success: bool | None = None
    duration_ms: float | None = None
    output: Any = None
    error: str | None = None
    unresolved_variables: list[str] | None = None


class FlowRunOut(Out):
    status: str
    success: bool | None = None
    flow_id: str | None = None
    record_id: str | None = None
    execution_id: str | None = None
    final_output: Any = None
    output_truncated: bool | None = None
    steps: list[StepRun] = Field(default_factory=list)
    error: str | None = None
    next: str


class FlowUpdateOut(FlowOut):
    replaced_steps: bool = False
    changed_step: str | None = None
