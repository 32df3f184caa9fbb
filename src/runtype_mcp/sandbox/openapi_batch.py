"""OpenAPI paths and schemas of the batch API and of flows as code (ensure, pull)."""

from __future__ import annotations

from typing import Any

from .openapi_schemas import BOOL, INT, NUM, OBJ, STR, TIME, Schema, arr, nullable, obj, ref, string

JSON = "application/json"


def _json(schema: Schema, description: str) -> dict[str, Any]:
    return {"description": description, "content": {JSON: {"schema": schema}}}


def batch_schemas() -> dict[str, Schema]:
    # fmt: off
    costs = {"totalCostUsd": NUM, "selfReportedCostUsd": NUM, "billedCostUsd": NUM, "billedCostThousandthsCent": INT,
             "unpricedExecutions": INT, "executions": INT, "promptTokens": INT, "completionTokens": INT, "totalTokens": INT}
    summary_item = obj({"id": STR, "flowName": STR, "flowId": STR, "status": STR, "totalRecords": INT, "processedRecords": INT,
                        "failedRecords": INT, "progress": INT, "startedAt": TIME, "completedAt": nullable(TIME)},
                       ("id", "flowName", "status", "totalRecords", "processedRecords", "failedRecords", "progress", "startedAt"))
    definition = obj({"name": string(1, 255), "description": nullable(STR), "steps": arr(ref("FlowStepInput"))}, ("name", "steps"))
    return {
        "BatchFlowRequest": obj(
            {"flowId": STR, "flowDefinition": obj({"id": STR, "name": string(1, 255), "description": nullable(STR),
                                                   "steps": arr(ref("FlowStepInput"))}, ("name", "steps")),
             "agentId": {**STR, "description": "Refused: the sandbox runs flows only."},
             "recordIds": arr(STR, maxItems=50000),
             "records": arr(obj({"type": string(1, 255), "name": string(1, 500), "metadata": OBJ}, ("type", "name", "metadata")), maxItems=50000),
             "inputs": OBJ, "messages": {**arr(OBJ), "description": "Must be empty: the sandbox takes no conversation seed."},
             "options": {**OBJ, "description": "Runner tuning (chunkSize, recordConcurrency, timeouts, ...): type-checked, no effect in the sandbox."}},
            closed=True,
        ),
        "BatchSubmitted": obj({"batchExecutionId": STR, "status": STR, "flowId": STR, "totalRecords": INT, "statusUrl": STR},
                              ("batchExecutionId", "status")),
        "BatchSummary": obj({"activeBatches": INT, "recentlyCompleted": INT, "batches": arr(summary_item), "recent": arr(summary_item)},
                            ("activeBatches", "recentlyCompleted", "batches", "recent")),
        "BatchCancelled": obj({"success": BOOL, "message": STR, "batchExecutionId": STR, "status": STR,
                               "processedRecords": INT, "totalRecords": INT}, ("success", "message")),
        "BatchCost": obj({"batchExecutionId": STR, **costs}, ("batchExecutionId", "totalCostUsd", "selfReportedCostUsd", "unpricedExecutions")),
        "BatchRecordCost": obj({"batchExecutionId": STR, "recordId": STR, **costs},
                               ("batchExecutionId", "recordId", "totalCostUsd", "selfReportedCostUsd", "unpricedExecutions")),
        "BatchRecordSteps": obj({"data": arr(ref("StepResult"))}, ("data",)),
        "EnsureRequest": obj(
            {"name": string(1, 255), "contentHash": STR, "definition": definition, "dryRun": BOOL, "expectedRemoteHash": STR,
             "onConflict": {"type": "string", "enum": ["error", "overwrite"]}, "release": {"type": "string", "enum": ["none", "publish"]},
             "version": obj({"label": STR, "notes": STR}, closed=True)},
            ("name",), closed=True,
        ),
        "EnsureResult": obj(
            {"result": {"type": "string", "enum": ["unchanged", "created", "updated", "definitionRequired", "plan"]},
             "flowId": nullable(STR), "contentHash": STR, "versionId": nullable(STR), "changes": {"type": "string", "enum": ["none", "create", "update"]},
             "changedKeys": arr(STR), "remoteHash": nullable(STR)},
            ("result",),
        ),
        "EnsureConflict": obj({"error": STR, "code": {"type": "string", "enum": ["external_modification", "remote_changed"]},
                               "currentHash": nullable(STR), "lastModifiedSource": nullable(STR), "modifiedAt": TIME}, ("error", "code")),
        "FlowPull": obj({"flowId": STR, "contentHash": STR, "definition": definition, "lastModifiedSource": nullable(STR),
                         "updatedAt": TIME, "versionId": nullable(STR), "warnings": arr(STR)}, ("flowId", "contentHash", "definition")),
    }
    # fmt: on


def batch_paths(op: Any, param: Any) -> dict[str, dict[str, Any]]:
    """`op` and `param` are `openapi._op` and `openapi._param` (passed in to avoid an import cycle)."""
    f, r, n = "Flows", "Runs", (400, 401, 404)
    ids = (param("batchId", "path", STR, "Batch id."), param("recordId", "path", STR, "Record id."))
    # fmt: off
    return {
        "/v1/flows/ensure": {"post": op(
            "ensureFlow", "Create or update a flow by name from its definition (flows as code)", f, body="EnsureRequest", ok="EnsureResult",
            description="A hash-only probe answers unchanged or definitionRequired; a definition creates the flow or appends a version when its canonical hash differs; dryRun plans without writing; release publish re-aims the published version.",
            more={409: _json(ref("EnsureConflict"), "Edited outside ensure (onConflict: overwrite replaces it) or expectedRemoteHash is stale"),
                  422: _json(ref("Error"), "contentHash does not match the definition")})},
        "/v1/flows/pull": {"get": op(
            "pullFlow", "The canonical definition and hash of the flow with this name", f, ok="FlowPull", errors=n,
            extra_params=(param("name", "query", STR, "Flow name (exact).", True),))},
        "/v1/batch/flow": {"post": op(
            "submitBatchFlow", "Run a flow on given record ids and/or inline records in the background", r, body="BatchFlowRequest",
            ok="BatchSubmitted", status=202, errors=n,
            description="Up to 50,000 records across recordIds and records. Inline records run without being saved. Poll GET /v1/batch/status/{id}.")},
        "/v1/batch/summary": {"get": op("getBatchSummary", "Active and recent batches", r, ok="BatchSummary", errors=(401,))},
        "/v1/batch/cancel/{id}": {"post": op(
            "cancelBatch", "Cancel a scheduled or running batch", r, params=("id",), ok="BatchCancelled", errors=n,
            description="Answers once the batch has stopped, with how many records were processed; 409 when it is not active.",
            more={409: _json(ref("Error"), "The batch is not scheduled or running")})},
        "/v1/batch/{id}/cost": {"get": op("getBatchCost", "Total cost of a batch", r, params=("id",), ok="BatchCost", errors=(401, 404))},
        "/v1/batch/{batchId}/records/{recordId}/cost": {"get": op(
            "getBatchRecordCost", "Cost of one record in a batch", r, ok="BatchRecordCost", errors=(401, 404), extra_params=ids)},
        "/v1/batch/{batchId}/records/{recordId}/steps": {"get": op(
            "getBatchRecordSteps", "Step results of one record in a batch", r, ok="BatchRecordSteps", errors=(401, 404), extra_params=ids)},
    }
    # fmt: on
