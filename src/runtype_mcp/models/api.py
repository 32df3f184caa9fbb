"""Response models for the Runtype API.

Every model allows unknown fields and treats all but identity fields as optional:
runtype-api.md §10 lists many shapes that are not confirmed, so parsing must not fail
on a field that is missing, renamed or newly added.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class _Lenient(BaseModel):
    # defer_build: schemas are built on first use, not at import (start-up time matters).
    model_config = ConfigDict(extra="allow", populate_by_name=True, defer_build=True)


class Record(_Lenient):
    id: str
    type: str | None = None
    name: str | None = None
    metadata: dict[str, Any] = Field(default_factory=dict)
    messages: list[Any] | None = None
    owner_id: str | None = Field(default=None, alias="ownerId")
    created_at: str | None = Field(default=None, alias="createdAt")
    updated_at: str | None = Field(default=None, alias="updatedAt")
    schema_valid: bool | None = Field(default=None, alias="schemaValid")
    warnings: list[Any] = Field(default_factory=list)
    schema_warnings: list[Any] = Field(default_factory=list, alias="schemaWarnings")


class Page(_Lenient):
    """One page of a cursor-paginated list (`data` + `pagination`)."""

    data: list[dict[str, Any]] = Field(default_factory=list)
    pagination: dict[str, Any] = Field(default_factory=dict)

    @property
    def next_cursor(self) -> str | None:
        cursor = self.pagination.get("nextCursor")
        return cursor if isinstance(cursor, str) and cursor else None

    @property
    def has_more(self) -> bool:
        return bool(self.pagination.get("hasMore")) and self.next_cursor is not None


class FlowStep(_Lenient):
    id: str | None = None
    name: str | None = None
    type: str | None = None
    order: int | None = None
    enabled: bool | None = None
    config: dict[str, Any] | None = None


class Flow(_Lenient):
    id: str
    name: str | None = None
    description: str | None = None
    flow_steps: list[FlowStep] = Field(default_factory=list, alias="flowSteps")
    created_at: str | None = Field(default=None, alias="createdAt")
    updated_at: str | None = Field(default=None, alias="updatedAt")
    draft_version_id: str | None = Field(default=None, alias="draftVersionId")
    dashboard_url: str | None = Field(default=None, alias="dashboardUrl")


class RunOnTypeResponse(_Lenient):
    """Both the 200 (ran inline) and the 202 (scheduled) body of run-on-record-type."""

    http_status: int = 200
    batch_id: str | None = Field(default=None, alias="batchId")
    status: str | None = None
    record_count: int | None = Field(default=None, alias="recordCount")
    success_count: int | None = Field(default=None, alias="successCount")
    failure_count: int | None = Field(default=None, alias="failureCount")
    results: list[dict[str, Any]] = Field(default_factory=list)


class BatchStatus(_Lenient):
    batch_execution_id: str | None = Field(default=None, alias="batchExecutionId")
    flow_id: str | None = Field(default=None, alias="flowId")
    status: str | None = None
    total_records: int | None = Field(default=None, alias="totalRecords")
    processed_records: int | None = Field(default=None, alias="processedRecords")
    failed_records: int | None = Field(default=None, alias="failedRecords")
    success_count: int | None = Field(default=None, alias="successCount")
    progress: float | None = None
    started_at: str | None = Field(default=None, alias="startedAt")
    completed_at: str | None = Field(default=None, alias="completedAt")
