"""Outputs of the bulk, data and result tools of the records toolset (compact, always bounded)."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from runtype_mcp.models.outputs import Out, RecordRow


class RecordDeleteOut(Out):
    deleted: bool
    record: RecordRow
    note: str | None = None


class BulkDeleteOut(Out):
    deleted: bool
    requested: int
    deleted_count: int | None = None
    deleted_ids: list[str] | None = None
    not_found_ids: list[str] | None = None
    would_delete: list[str] | None = None
    ids_omitted: int | None = None
    sample: list[RecordRow] | None = None
    warnings: list[str] | None = None
    confirmation: str | None = None  # pass to the write: it refuses if the ids differ
    note: str | None = None


class EditDiff(Out):
    id: str
    before: dict[str, Any]
    after: dict[str, Any]
    removed: list[str] | None = None  # keys the edit deletes (absent from `after`)


class BulkEditOut(Out):
    dry_run: bool
    written: bool
    matched: int
    changed: int
    diffs: list[EditDiff]
    diffs_omitted: int | None = None
    warnings: list[str] = Field(default_factory=list)
    confirmation: str | None = None  # pass to the write: it refuses if the records or change differ
    next: str


class ExportOut(Out):
    written: bool
    path: str
    bytes: int = 0
    row_count: int | None = None
    columns: list[str] = Field(default_factory=list)
    columns_omitted: int | None = None
    preview_rows: list[list[str]] = Field(default_factory=list)
    truncated: bool | None = None  # an export cap was hit: the file holds whole rows up to it
    note: str | None = None


class ExportInlineOut(Out):
    """Streamable HTTP: the CSV travels back as an embedded `text/csv` resource, not a server file."""

    uri: str | None = None
    bytes: int = 0
    row_count: int = 0
    columns: list[str] = Field(default_factory=list)
    columns_omitted: int | None = None
    preview_rows: list[list[str]] = Field(default_factory=list)
    truncated: bool | None = None
    note: str | None = None


class UploadRow(Out):
    id: str | None = None
    name: str | None = None
    type: str | None = None


class UploadOut(Out):
    success: bool | None = None
    created: int
    errors: int
    error_details: list[str] = Field(default_factory=list)
    error_details_omitted: int | None = None
    records: list[UploadRow] = Field(default_factory=list)
    records_omitted: int | None = None
    warnings: list[str] = Field(default_factory=list)
    message: str | None = None
    # The checked import (on_conflict): every created and updated record as name -> id, bounded.
    dry_run: bool | None = None
    column_types: dict[str, str] | None = None
    created_ids: dict[str, str] | None = None
    updated: int | None = None
    updated_ids: dict[str, str] | None = None
    unchanged: int | None = None
    skipped: list[str] | None = None
    next: str


class FieldValue(Out):
    value: Any = None
    count: int | None = None


class FieldValuesOut(Out):
    type: str
    field: str
    values: list[FieldValue]
    truncated: bool
    note: str | None = None


class FilterPreviewOut(Out):
    type: str
    matched_count: int | None = None
    truncated: bool | None = None
    samples: list[RecordRow]
    warnings: list[str] | None = None
    note: str | None = None
    next: str


class SchemaField(Out):
    name: str
    type: str | None = None
    present_in: int | None = (
        None  # how many sampled records have the field (a sample says nothing of "required")
    )
    all_sampled: bool | None = None  # the API said required, i.e. present in every sampled record
    format: str | None = None
    example: Any = None
    description: str | None = None


class SchemaOut(Out):
    type: str
    total_records: int | None = None
    sampled_records: int | None = None
    sampled_at: str | None = None
    fields: list[SchemaField]
    fields_omitted: int | None = None


class ModelCost(Out):
    model: str | None = None
    count: int | None = None
    tokens: int | None = None
    cost: float | str | None = None


class CostsOut(Out):
    record_id: str
    total_cost: float | str | None = None
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    total_tokens: int | None = None
    execution_count: int | None = None
    models: list[ModelCost] = Field(default_factory=list)


class ResultRow(Out):
    id: str | None = None
    status: str | None = None
    created_at: str | None = None
    flow_id: str | None = None
    flow_name: str | None = None
    prompt_id: str | None = None
    prompt_name: str | None = None
    output: str | None = None
    output_chars: int | None = None  # set only when output was cut: the full length
    execution_time_ms: float | None = None
    total_tokens: int | None = None
    model: str | None = None
    model_cost: str | None = None
    tool_cost: str | None = None


class ResultList(Out):
    results: list[ResultRow]
    count: int
    has_more: bool
    next_cursor: str | None = None
    note: str | None = None


class ResultDeleteOut(Out):
    deleted: bool
    record_id: str
    result_id: str
    record_name: str | None = None
    note: str | None = None


class RecordStepRow(Out):
    id: str | None = None
    step: str | None = None
    type: str | None = None
    status: str | None = None  # with why: "skipped: <reason>", "failed: <error>"
    flow_id: str | None = None
    version_id: str | None = None
    record_id: str | None = None
    record_name: str | None = None
    batch_id: str | None = None
    created_at: str | None = None
    duration_ms: float | None = None
    model: str | None = None
    total_tokens: int | None = None
    output: str | None = None
    output_chars: int | None = None  # set only when output was cut: the full length
    error: str | None = None


class RecordStepList(Out):
    step_results: list[RecordStepRow]
    count: int
    has_more: bool
    next_cursor: str | None = None
    note: str | None = None
