"""The hand-written OpenAPI 3.1 document served at `/openapi.json`."""

from __future__ import annotations

from typing import Any

from .docs_api import docs_paths, docs_schemas
from .openapi_batch import batch_paths, batch_schemas
from .openapi_schemas import BOOL, STR, Schema, build_schemas, ref

JSON = "application/json"
CURSOR = ("limit", "cursor", "direction", "includeCount")


def _param(name: str, where: str, schema: Schema, description: str, required: bool = False) -> dict[str, Any]:
    return {
        "name": name,
        "in": where,
        "required": required or where == "path",
        "schema": schema,
        "description": description,
    }


PARAMS: dict[str, dict[str, Any]] = {
    "limit": _param(
        "limit",
        "query",
        {"type": "integer", "minimum": 1, "maximum": 100, "default": 20},
        "Page size, 1-100.",
    ),
    "cursor": _param(
        "cursor", "query", STR, "Opaque cursor: pagination.nextCursor or prevCursor of a previous page."
    ),
    "direction": _param(
        "direction",
        "query",
        {"type": "string", "enum": ["next", "prev"]},
        "Paging direction; a prevCursor pages backwards by itself.",
    ),
    "includeCount": _param(
        "includeCount", "query", BOOL, "Also return totalCount, totalPages and currentPage."
    ),
    "view": _param(
        "view",
        "query",
        {"type": "string", "enum": ["full", "compact"]},
        "compact cuts every string over 100 characters to 100 plus an ellipsis.",
    ),
    "type": _param("type", "query", STR, "Record type (exact match)."),
    "name": _param("name", "query", STR, "Record name (exact match)."),
    "search": _param(
        "search", "query", STR, "Case-insensitive substring of the name or of the metadata JSON."
    ),
    "ownerId": _param("ownerId", "query", STR, "Owner id (exact match)."),
    "metadata_keys": _param(
        "metadata_keys", "query", STR, "Comma-separated keys; records having any of them."
    ),
    "metadata_keys_all": _param(
        "metadata_keys_all", "query", STR, "Comma-separated keys; records having all of them."
    ),
    "min_fields": _param(
        "min_fields",
        "query",
        {"type": "integer", "minimum": 0},
        "At least this many top-level metadata keys.",
    ),
    "max_fields": _param(
        "max_fields", "query", {"type": "integer", "minimum": 0}, "At most this many top-level metadata keys."
    ),
    "min_size_kb": _param(
        "min_size_kb", "query", {"type": "integer", "minimum": 0}, "Metadata JSON of at least this many KiB."
    ),
    "max_size_kb": _param(
        "max_size_kb", "query", {"type": "integer", "minimum": 0}, "Metadata JSON of at most this many KiB."
    ),
    "recordFilter": _param(
        "recordFilter",
        "query",
        STR,
        'JSON of {"type"?, "where"} or of a bare where object (§4 filter language).',
    ),
    "includeFields": _param(
        "includeFields", "query", BOOL, "Add availableFields (the metadata keys) to each item."
    ),
    "product_surface_id": _param(
        "product_surface_id",
        "query",
        STR,
        "Product surface id; sandbox records have none, so nothing matches.",
    ),
    **{
        name: _param(
            name, "query", STR, "Meaning undocumented: refused with a 400 UNSUPPORTED_IN_SANDBOX detail."
        )
        for name in ("distinct", "metadata_types", "has_large_fields")
    },
    "id": _param("id", "path", STR, "Id of the resource."),
    "flowId": _param("flowId", "path", STR, "Flow id."),
    "page": _param("page", "query", {"type": "integer", "minimum": 1, "default": 1}, "Page number, from 1."),
    "offset": _param("offset", "query", {"type": "integer", "minimum": 0, "default": 0}, "Rows to skip."),
    "stepLimit": _param(
        "limit",
        "query",
        {"type": "integer", "minimum": 1, "maximum": 100, "default": 50},
        "Page size, 1-100.",
    ),
    "from": _param(
        "from", "query", {"type": "string", "format": "date-time"}, "Created at or after this time."
    ),
    "to": _param("to", "query", {"type": "string", "format": "date-time"}, "Created at or before this time."),
    "sortOrder": _param(
        "sortOrder", "query", {"type": "string", "enum": ["asc", "desc"]}, "Sort direction (default desc)."
    ),
    "stepStatus": _param(
        "status", "query", {"type": "string", "enum": ["completed", "failed", "skipped"]}, "Step status."
    ),
    "resultStatus": _param(
        "status", "query", {"type": "string", "enum": ["completed", "failed"]}, "Result status."
    ),
    "qFlowId": _param("flowId", "query", STR, "Only results of this flow."),
    "qRecordId": _param("recordId", "query", STR, "Only results of this record."),
    "batchId": _param("batchId", "query", STR, "Only results of this batch."),
    "stepId": _param("stepId", "query", STR, "Only results of this step."),
}
# fmt: off
FILTERS = ("type", "name", "search", "ownerId", "metadata_keys", "metadata_keys_all", "min_fields", "max_fields",
           "min_size_kb", "max_size_kb", "recordFilter", "includeFields", "product_surface_id", "distinct",
           "metadata_types", "has_large_fields")
# fmt: on
STEP_QUERY = ("stepStatus", "from", "to", "sortOrder", "stepLimit", "offset", "stepId", "batchId")


def _op(
    op_id: str,
    summary: str,
    tag: str,
    *,
    params: tuple[str, ...] = (),
    extra_params: tuple[dict[str, Any], ...] = (),
    body: str | None = None,
    ok: str | None = None,
    status: int = 200,
    errors: tuple[int, ...] = (400, 401),
    description: str = "",
    more: dict[int, Any] | None = None,
) -> dict[str, Any]:
    responses: dict[str, Any] = {
        str(status): {"description": "Success", **({"content": {JSON: {"schema": ref(ok)}}} if ok else {})}
    }
    messages = {400: "Validation error", 401: "Missing or invalid API key", 404: "Not found", 409: "Conflict"}
    for code in errors:
        schema = {409: ref("Conflict"), 400: {"anyOf": [ref("ValidationError"), ref("Error")]}}.get(
            code, ref("Error")
        )
        responses[str(code)] = {"description": messages[code], "content": {JSON: {"schema": schema}}}
    responses.update({str(k): v for k, v in (more or {}).items()})
    operation: dict[str, Any] = {
        "operationId": op_id,
        "summary": summary,
        "tags": [tag],
        "parameters": [PARAMS[name] for name in params] + list(extra_params),
        "responses": responses,
    }
    if description:
        operation["description"] = description
    if body:
        operation["requestBody"] = {"required": True, "content": {JSON: {"schema": ref(body)}}}
    return operation


def _paths() -> dict[str, dict[str, Any]]:
    r, f, n = "Records", "Flows", (400, 401, 404)
    # fmt: off
    return {
        "/v1/records": {
            "get": _op("listRecords", "List and filter records (cursor paging, newest first)", r,
                       params=(*CURSOR, "view", *FILTERS), ok="RecordList"),
            "post": _op("createRecord", "Create a record", r, body="RecordCreate", ok="Record", status=201,
                        errors=(400, 401, 409), description="409 when a record with the same type and name exists; the body names existingRecordId."),
        },
        "/v1/records/bulk-delete": {"post": _op("bulkDeleteRecords", "Delete up to 1000 records by id", r, body="BulkDeleteRequest", ok="BulkDeleteResult")},
        "/v1/records/bulk-edit": {"post": _op(
            "bulkEditRecords", "Set or remove metadata keys on many records", r, body="BulkEditRequest", ok="BulkEditResult",
            description="Exactly one targeting mode. dryRun computes before/after without writing. data holds at most 1000 diffs; recordIds lists every match.")},
        "/v1/records/export": {"get": _op(
            "exportRecordsCsv", "Export matching records as CSV (streamed)", r, params=FILTERS,
            description="Columns: id,type,name,createdAt,updatedAt, then the sorted union of top-level metadata keys (nested values as compact JSON). 204 when nothing matches.",
            more={200: {"description": "CSV", "content": {"text/csv": {"schema": STR}}}, 204: {"description": "No matching records"}})},
        "/v1/records/field-values": {"get": _op(
            "getFieldValues", "Top distinct values of a metadata field", r, ok="FieldValues",
            extra_params=(_param("type", "query", STR, "Record type.", True), _param("field", "query", STR, "Metadata key.", True),
                          _param("limit", "query", {"type": "integer", "minimum": 1, "maximum": 100, "default": 20}, "How many values.")))},
        "/v1/records/preview-filter": {"post": _op(
            "previewRecordFilter", "Count and sample the records a filter matches", r, body="PreviewFilterRequest", ok="PreviewFilterResult",
            description="matchedCount is exact; truncated is true when there are more matches than samples (at most 5).")},
        "/v1/records/schema": {"get": _op(
            "discoverRecordSchema", "Discover a type's metadata fields by sampling", r, ok="RecordSchema",
            extra_params=(_param("type", "query", STR, "Record type.", True),
                          _param("sample", "query", {"type": "integer", "minimum": 1, "maximum": 1000, "default": 100}, "Newest records to sample.")))},
        "/v1/records/upload-csv": {"post": {
            **_op("uploadRecordsCsv", "Import records from a CSV file", r, ok="UploadCsvResult",
                  description="typeValue wins over typeColumn. Other columns become metadata strings; empty cells are omitted; id, createdAt and updatedAt columns are skipped. Rows are numbered as in a spreadsheet (header is row 1). Limit 20 MB."),
            "requestBody": {"required": True, "content": {"multipart/form-data": {"schema": ref("UploadCsvRequest")}}}}},
        "/v1/records/{id}": {
            "get": _op("getRecord", "Get a record", r, params=("id",), ok="Record", errors=n),
            "put": _op("updateRecord", "Update a record", r, params=("id",), body="RecordUpdate", ok="Record", errors=(400, 401, 404, 409),
                       description="metadata REPLACES the stored metadata (no merge); to set single keys use bulk-edit updates with recordIds. ownerId null clears the owner. 409 when renaming onto an existing type and name."),
            "delete": _op("deleteRecord", "Delete a record and its results", r, params=("id",), ok="DeleteResult", errors=n),
        },
        "/v1/records/{id}/costs": {"get": _op("getRecordCosts", "Token and cost totals for a record", r, params=("id",), ok="Costs", errors=n)},
        "/v1/records/{id}/results": {
            "get": _op("getRecordResults", "Execution history of a record (page paging)", r, ok="RecordResultList", errors=n,
                       params=("id", "page", "limit", "resultStatus", "qFlowId", "from", "to", "sortOrder", "includeCount"),
                       extra_params=(_param("promptId", "query", STR, "Only results of this prompt."),
                                     _param("sortBy", "query", {"type": "string", "enum": ["createdAt", "executionTimeMs", "totalTokens", "status"]}, "Sort key."))),
            "delete": _op("deleteRecordResult", "Delete one result of a record", r, params=("id",), body="DeleteResultRequest", ok="DeleteResult", errors=n),
        },
        "/v1/records/{id}/step-results": {"get": _op(
            "getRecordStepResults", "Per-step results for a record (offset paging)", r, ok="StepResultList", errors=n,
            params=("id", "qFlowId", *STEP_QUERY), extra_params=(_sort_steps(),))},
        "/v1/flows": {
            "get": _op("listFlows", "List flows (cursor paging, newest first)", f, params=(*CURSOR, "view", "search"), ok="FlowList"),
            "post": _op("createFlow", "Create a flow", f, body="FlowCreate", ok="Flow", status=201),
        },
        "/v1/flows/{id}": {
            "get": _op("getFlow", "Get a flow with its steps", f, params=("id",), ok="Flow", errors=n),
            "put": _op("updateFlow", "Update a flow; a step list replaces the whole list", f, params=("id",), body="FlowUpdate", ok="Flow", errors=n,
                       description="Records a draft version and returns draftVersionId."),
            "delete": _op("deleteFlow", "Delete a flow (cascades to step results and versions)", f, params=("id",), ok="DeleteResult", errors=n),
        },
        "/v1/flows/{id}/export-runtime": {"get": _op("exportFlowRuntime", "Export a self-contained runtime definition", f, params=("id",), ok="RuntimeExport", errors=n)},
        "/v1/flows/{id}/publish": {"post": _op("publishFlow", "Promote the latest draft version to published", f, params=("id",), ok="PublishResult", errors=n)},
        "/v1/flows/{id}/run-on-record-type": {"post": _op(
            "runFlowOnRecordType", "Run a flow on every record of a type", f, params=("id",), body="RunOnRecordTypeRequest",
            ok="RunOnRecordTypeResult", errors=n,
            description="Up to the inline limit (10) runs immediately and answers 200 with every result; more answers 202 with a scheduled batchId to poll with GET /v1/batch/status/{id}.",
            more={202: {"description": "Scheduled batch", "content": {JSON: {"schema": ref("RunOnRecordTypeResult")}}}})},
        "/v1/flows/{id}/step-results": {"get": _op(
            "listFlowStepResults", "Step results of a flow across runs (offset paging)", f, ok="StepResultList", errors=n,
            params=("id", "qRecordId", *STEP_QUERY), extra_params=(_sort_steps(),))},
        "/v1/flow-versions/{flowId}": {"get": _op(
            "listFlowVersions", "Versions of a flow", f, params=("flowId",), ok="FlowVersions", errors=n,
            extra_params=(_param("type", "query", {"type": "string", "enum": ["published", "draft", "test", "virtual"]}, "Only this version type."),))},
        "/v1/public/flows/validate": {"post": {
            **_op("validateFlow", "Validate a flow definition", f, body="ValidateRequest", ok="ValidateResult", errors=(400,)),
            "security": [{}, {"bearerAuth": []}]}},
        "/v1/dispatch": {"post": _op(
            "dispatch", "Run one flow on one record", "Runs", body="DispatchRequest", ok="DispatchResult", errors=n,
            description="options.streamResponse false answers JSON; otherwise Server-Sent Events. With the header Prefer: respond-async it answers 202 with an AsyncDispatchHandle. A record given as {type, name, metadata} is the stored record of that type and name, created when missing; options.recordMode virtual runs on it without storing anything about the record.",
            extra_params=(_param("Prefer", "header", {"type": "string", "enum": ["respond-async"]}, "respond-async runs in the background."),),
            more={202: {"description": "Accepted", "content": {JSON: {"schema": ref("AsyncDispatchHandle")}}}})},
        "/v1/executions/{id}/status": {"get": _op("getExecutionStatus", "Status of an async dispatch", "Runs", params=("id",), ok="ExecutionStatus", errors=(401, 404))},
        "/v1/batch/status/{id}": {"get": _op("getBatchStatus", "Progress of a batch", "Runs", params=("id",), ok="BatchStatus", errors=(401, 404))},
        "/v1/auth/me": {"get": _op("getMe", "The current user and organisation", "Auth", ok="Me", errors=(401,))},
        "/openapi.json": {"get": {
            "operationId": "getOpenApi", "summary": "This OpenAPI document", "tags": ["Meta"], "security": [{}], "parameters": [],
            "responses": {"200": {"description": "OpenAPI 3.1", "content": {JSON: {"schema": {"type": "object"}}}}}}},
    }
    # fmt: on


def _sort_steps() -> dict[str, Any]:
    return _param(
        "sortBy",
        "query",
        {"type": "string", "enum": ["createdAt", "durationMs", "order", "status"]},
        "Sort key.",
    )


def build_openapi(step_types: tuple[str, ...]) -> dict[str, Any]:
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Runtype sandbox API",
            "version": "1.0.0",
            "description": "An offline, Runtype-compatible subset (records, flows, runs) served by runtype-mcp. "
            "Prompt steps are answered by a deterministic sandbox model, never a real one.",
        },
        "servers": [{"url": "/"}],
        "security": [{"bearerAuth": []}],
        "tags": [{"name": name} for name in ("Records", "Flows", "Runs", "Auth", "Meta")],
        "paths": {**_paths(), **batch_paths(_op, _param), **docs_paths(_op, _param)},
        "components": {
            "securitySchemes": {"bearerAuth": {"type": "http", "scheme": "bearer"}},
            "schemas": {**build_schemas(step_types), **batch_schemas(), **docs_schemas()},
        },
    }
