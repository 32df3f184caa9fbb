"""Compact tool outputs: what the model reads. Built by us, so they always validate."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict


class Out(BaseModel):
    model_config = ConfigDict(extra="forbid", defer_build=True)


class RecordOut(Out):
    id: str
    type: str | None = None
    name: str | None = None
    metadata: dict[str, Any] = {}
    owner_id: str | None = None
    created_at: str | None = None
    updated_at: str | None = None
    message_count: int | None = None
    messages: list[Any] | None = None
    schema_valid: bool | None = None


class RecordWrite(Out):
    record: RecordOut
    warnings: list[str] = []
    note: str | None = None


class RecordRow(Out):
    id: str
    name: str | None = None
    type: str | None = None
    updated_at: str | None = None
    metadata: dict[str, Any] | None = None


class RecordList(Out):
    records: list[RecordRow]
    count: int
    has_more: bool
    next_cursor: str | None = None
    note: str | None = None


class StepOut(Out):
    id: str | None = None
    name: str | None = None
    type: str | None = None
    order: int | None = None
    enabled: bool | None = None
    when: str | None = None
    config: dict[str, Any] | None = None


class FlowOut(Out):
    id: str
    name: str | None = None
    description: str | None = None
    steps: list[StepOut] = []
    created_at: str | None = None
    updated_at: str | None = None
    dashboard_url: str | None = None
    draft_version_id: str | None = None
    note: str | None = None


class FlowRow(Out):
    id: str
    name: str | None = None
    updated_at: str | None = None
    last_run_at: str | None = None


class FlowList(Out):
    flows: list[FlowRow]
    count: int
    has_more: bool
    next_cursor: str | None = None


class RunRecordOutcome(Out):
    record_id: str | None = None
    name: str | None = None
    success: bool | None = None
    error: str | None = None
    steps: list[str] | None = None  # "<step>: <status, with why when skipped or failed>", in order
    version_id: str | None = None  # the flow version that ran
    note: str | None = None  # e.g. every step was skipped


class RunOnTypeOut(Out):
    status: str
    batch_id: str | None = None
    flow_id: str
    record_type: str
    record_count: int | None = None
    success_count: int | None = None
    failure_count: int | None = None
    results: list[RunRecordOutcome] | None = None
    results_omitted: int | None = None
    next: str


class BatchStatusOut(Out):
    batch_id: str
    status: str | None = None
    flow_id: str | None = None
    progress: float | None = None
    total: int | None = None
    processed: int | None = None
    failed: int | None = None
    succeeded: int | None = None
    started_at: str | None = None
    completed_at: str | None = None
    next: str
