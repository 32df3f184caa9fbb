"""Outputs of the flow-management and run tools."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from runtype_mcp.models.outputs import BatchStatusOut, FlowOut, Out


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
    status: str | None = None  # "completed", "skipped: <why>" or "failed: <error>"
    success: bool | None = None
    duration_ms: float | None = None
    output: Any = None
    error: str | None = None
    unresolved_variables: list[str] | None = None
    tokens: int | None = None
    cost_usd: float | None = None


class WouldWrite(Out):
    step: str | None = None
    type: str | None = None
    record_id: str | None = None
    changes: dict[str, Any] | None = None  # metadata key -> {before, after}
    output: Any = None


class FlowRunOut(Out):
    status: str
    success: bool | None = None
    version: str | None = None
    dry_run: bool | None = None
    would_write: list[WouldWrite] | None = None
    flow_id: str | None = None
    record_id: str | None = None
    execution_id: str | None = None
    final_output: Any = None
    output_truncated: bool | None = None
    steps: list[StepRun] = Field(default_factory=list)
    error: str | None = None
    model_note: str | None = None
    next: str


class FlowSavedOut(FlowOut):
    """A flow as stored, with every step in full and what the save-time checks found."""

    published_version_id: str | None = None
    draft_differs: bool | None = None
    warnings: list[str] | None = None


class StepTypesOut(Out):
    source: str
    step_types: list[dict[str, Any]]
    scope: dict[str, Any]
    platform_docs: str | None = None


class FlowCheckOut(Out):
    valid: bool
    errors: list[str] = Field(default_factory=list)
    warnings: list[str] = Field(default_factory=list)
    api_validator: str
    next: str


class FlowUpdateOut(FlowSavedOut):
    replaced_steps: bool = False
    changed_step: str | None = None


class VersionRow(Out):
    id: str
    number: int | None = None
    type: str | None = None
    label: str | None = None
    step_count: int | None = None
    steps: str | None = None
    created_at: str | None = None


class FlowVersionsOut(Out):
    flow_id: str
    published_version_id: str | None = None
    draft_version_id: str | None = None
    draft_differs: bool | None = None
    versions: list[VersionRow]
    note: str


class BatchRunOut(Out):
    started: bool
    batch_id: str | None = None
    flow_id: str
    record_count: int
    excluded: int = 0
    status: str | None = None
    record_ids: list[str] | None = None
    warnings: list[str] | None = None  # a filter value whose type differs from what the field holds
    next: str


class BatchCancelOut(Out):
    cancelled: bool
    batch_id: str
    status: str | None = None
    processed: int | None = None
    total: int | None = None
    note: str


class BatchCostOut(BatchStatusOut):
    total_cost_usd: float | None = None
    unpriced_executions: int | None = None
    total_tokens: int | None = None
    cost_note: str | None = None


class ModelRow(Out):
    id: str
    name: str | None = None
    model_ids: list[str] = Field(default_factory=list)
    configured: bool | None = None
    note: str | None = None


class ModelsOut(Out):
    models: list[ModelRow]
    count: int
    note: str
