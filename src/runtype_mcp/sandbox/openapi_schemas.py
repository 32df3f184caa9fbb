"""JSON Schemas (OpenAPI 3.1 components) of the sandbox's request and response bodies."""

from __future__ import annotations

from typing import Any

Schema = dict[str, Any]

STR: Schema = {"type": "string"}
INT: Schema = {"type": "integer"}
BOOL: Schema = {"type": "boolean"}
NUM: Schema = {"type": "number"}
ANY: Schema = {}
OBJ: Schema = {"type": "object", "additionalProperties": True}
TIME: Schema = {"type": "string", "format": "date-time"}


def ref(name: str) -> Schema:
    return {"$ref": f"#/components/schemas/{name}"}


def nullable(schema: Schema) -> Schema:
    if "type" in schema and isinstance(schema["type"], str):
        return {**schema, "type": [schema["type"], "null"]}
    return {"anyOf": [schema, {"type": "null"}]}


def arr(items: Schema, **extra: Any) -> Schema:
    return {"type": "array", "items": items, **extra}


def obj(
    props: dict[str, Schema], required: tuple[str, ...] = (), *, closed: bool = False, **extra: Any
) -> Schema:
    schema: Schema = {"type": "object", "properties": props, **extra}
    if required:
        schema["required"] = list(required)
    if closed:
        schema["additionalProperties"] = False
    return schema


def string(min_len: int, max_len: int, **extra: Any) -> Schema:
    return {"type": "string", "minLength": min_len, "maxLength": max_len, **extra}


def build_schemas(step_types: tuple[str, ...]) -> dict[str, Schema]:
    # fmt: off
    condition = obj({"field": STR, "op": {"type": "string", "enum": [
        "eq", "neq", "gt", "gte", "lt", "lte", "between", "contains", "startsWith", "endsWith", "in", "notIn",
        "isSet", "isNotSet", "isTrue", "isFalse", "withinLastDays", "olderThanDays"]}, "value": ANY}, ("field", "op"))
    group = obj({"op": {"type": "string", "enum": ["and", "or"]}, "conditions": arr(ANY)}, ("op", "conditions"))
    step_input = obj(
        {"id": STR, "name": string(1, 255), "type": {"type": "string", "enum": list(step_types)},
         "order": INT, "enabled": BOOL, "config": OBJ, "when": nullable(STR)},
        ("name", "type"), closed=True,
    )
    step = obj({"id": STR, "name": STR, "type": STR, "order": INT, "enabled": BOOL, "config": OBJ}, ("id", "type"))
    return {
        "Error": obj({"error": STR, "code": STR}, ("error",)),
        "ValidationDetail": obj({"code": {"type": "string", "enum": [
            "MISSING_REQUIRED_FIELD", "INVALID_TYPE", "INVALID_ENUM", "OUT_OF_RANGE", "INVALID_FORMAT",
            "UNRECOGNIZED_KEYS", "INVALID_UNION", "CUSTOM_VALIDATION", "VALIDATION_ERROR"]},
            "message": STR, "path": STR, "suggestion": STR}, ("code", "message", "path")),
        "ValidationError": obj({"error": {"const": "Validation error"}, "details": arr(ref("ValidationDetail"))}, ("error", "details")),
        "Conflict": obj({"error": STR, "code": {"const": "RECORD_CONFLICT"}, "existingRecordId": STR}, ("error", "code", "existingRecordId")),
        "WhereCondition": condition,
        "WhereGroup": group,
        "Where": {"anyOf": [ref("WhereCondition"), ref("WhereGroup")]},
        "RecordFilter": obj({"type": string(1, 255), "where": ref("Where")}, ("type",)),
        "Message": obj({"role": {"type": "string", "enum": ["user", "assistant"]}, "content": {"anyOf": [STR, arr(ANY)]}}, ("role", "content")),
        "Record": obj(
            {"id": STR, "type": STR, "name": STR, "metadata": OBJ, "messages": nullable(arr(ANY)), "userId": STR,
             "organizationId": nullable(STR), "ownerId": nullable(STR), "productSurfaceId": nullable(STR),
             "createdAt": TIME, "updatedAt": TIME, "metadataSchema": nullable(OBJ), "metadataLabels": nullable(OBJ),
             "schemaValid": nullable(BOOL), "warnings": arr(OBJ), "schemaWarnings": arr(OBJ), "availableFields": arr(STR)},
            ("id", "type", "name", "metadata", "createdAt", "updatedAt"),
        ),
        "RecordCreate": obj(
            {"name": string(1, 500), "type": string(1, 255), "metadata": OBJ,
             "messages": nullable(arr(ref("Message"))), "ownerId": nullable(string(1, 255))},
            ("name", "type"), closed=True,
        ),
        "RecordUpdate": obj(
            {"name": string(1, 500), "type": string(1, 255),
             "metadata": {**OBJ, "description": "Replaces the whole metadata object (it does not merge)."},
             "messages": nullable(arr(ref("Message"))), "ownerId": nullable(string(1, 255))},
            closed=True,
        ),
        "CursorPagination": obj(
            {"limit": INT, "hasMore": BOOL, "hasPrev": BOOL, "currentOffset": INT, "nextCursor": STR,
             "prevCursor": STR, "totalCount": INT, "totalPages": INT, "currentPage": INT},
            ("limit", "hasMore", "hasPrev", "currentOffset"),
        ),
        "PagePagination": obj(
            {"page": INT, "limit": INT, "hasMore": BOOL, "hasPrev": BOOL, "total": nullable(INT),
             "totalPages": nullable(INT), "hasNextPage": BOOL, "hasPrevPage": BOOL},
            ("page", "limit", "hasMore", "hasPrev"),
        ),
        "OffsetPagination": obj({"hasMore": BOOL, "limit": INT, "offset": INT, "returned": INT}, ("hasMore", "limit", "offset", "returned")),
        "RecordList": obj({"data": arr(ref("Record")), "pagination": ref("CursorPagination"), "filtersApplied": OBJ}, ("data", "pagination")),
        "DeleteResult": obj({"success": BOOL, "id": STR}, ("success", "id")),
        "BulkDeleteRequest": obj({"ids": arr(STR, minItems=1, maxItems=1000)}, ("ids",), closed=True),
        "BulkDeleteResult": obj({"success": BOOL, "deleted": INT, "deletedIds": arr(STR), "notFoundIds": arr(STR)}, ("success", "deleted", "deletedIds")),
        "BulkEditRequest": obj(
            {"recordIds": arr(STR, maxItems=1000), "recordFilter": ref("RecordFilter"),
             "conditions": arr(obj({"field": STR, "operator": {"type": "string", "enum": [
                 "equals", "equals_ci", "not_equals", "contains", "not_contains"]},
                 "value": {"type": ["string", "number", "boolean"]}}, ("field", "operator", "value"))),
             "applyToAll": BOOL, "updates": OBJ, "deleteFields": arr(STR), "dryRun": BOOL},
            closed=True,
            description="Exactly one targeting mode (recordIds, recordFilter, conditions or applyToAll: true).",
        ),
        "BulkEditResult": obj(
            {"data": arr(obj({"id": STR, "before": OBJ, "after": OBJ}, ("id", "before", "after"))),
             "recordIds": arr(STR), "matchedCount": INT, "truncated": BOOL, "dryRun": BOOL,
             "warnings": arr(OBJ), "notFoundIds": arr(STR)},
            ("data", "recordIds"),
        ),
        "FieldValues": obj({"type": STR, "field": STR, "values": arr(obj({"value": ANY, "count": INT}, ("value", "count"))), "truncated": BOOL}, ("type", "field", "values", "truncated")),
        "PreviewFilterRequest": obj({"type": string(1, 255), "where": ref("Where")}, ("type",), closed=True),
        "PreviewFilterResult": obj(
            {"type": STR, "matchedCount": INT, "truncated": BOOL,
             "samples": arr(obj({"id": STR, "name": STR, "metadata": OBJ}, ("id", "name", "metadata")), maxItems=5)},
            ("type", "matchedCount", "truncated", "samples"),
        ),
        "RecordSchema": obj(
            {"type": STR, "totalRecords": INT, "sampledRecords": INT, "sampledAt": TIME,
             "fields": arr(obj({"name": STR, "type": STR, "required": BOOL, "example": ANY, "format": STR, "presentIn": INT}, ("name", "type", "required")))},
            ("type", "totalRecords", "sampledRecords", "sampledAt", "fields"),
        ),
        "UploadCsvRequest": obj(
            {"file": {"type": "string", "contentMediaType": "text/csv",
                      "description": "The CSV file part, or a plain form field holding the CSV text (as is, or JSON-encoded as a string, as the SDK sends it)"},
             "nameColumn": STR, "typeColumn": STR, "typeValue": string(1, 255)},
            ("file", "nameColumn"),
        ),
        "UploadCsvResult": obj(
            {"success": BOOL, "message": STR, "created": INT, "errors": INT, "errorDetails": arr(STR),
             "records": arr(obj({"id": STR, "type": STR, "name": STR, "metadata": OBJ})), "warnings": arr(OBJ)},
            ("success", "message", "created", "errors", "errorDetails", "records"),
        ),
        "Costs": obj(
            {"recordId": STR, "totalCost": NUM, "promptTokens": INT, "completionTokens": INT, "totalTokens": INT,
             "executionCount": INT, "modelBreakdown": arr(obj({"model": STR, "count": INT, "tokens": INT, "cost": NUM}))},
            ("totalCost", "promptTokens", "completionTokens", "totalTokens", "executionCount", "modelBreakdown"),
        ),
        "RecordResult": obj(
            {"id": STR, "recordId": STR, "status": {"type": "string", "enum": ["completed", "failed"]},
             "createdAt": TIME, "flowId": nullable(STR), "flowName": nullable(STR), "result": ANY,
             "error": nullable(STR), "executionTimeMs": nullable(INT), "totalTokens": nullable(INT),
             "modelUsed": nullable(STR), "modelCost": nullable(STR), "toolCost": nullable(STR)},
            ("id", "recordId", "status", "createdAt"),
        ),
        "RecordResultList": obj({"data": arr(ref("RecordResult")), "pagination": ref("PagePagination")}, ("data", "pagination")),
        "DeleteResultRequest": obj({"resultId": string(1, 255)}, ("resultId",), closed=True),
        "StepResult": obj(
            {"id": STR, "status": {"type": "string", "enum": ["completed", "failed", "skipped"]}, "createdAt": TIME,
             "flowId": nullable(STR), "recordId": nullable(STR), "batchExecutionId": nullable(STR),
             "stepId": nullable(STR), "stepName": nullable(STR), "stepType": nullable(STR), "order": nullable(INT),
             "durationMs": nullable(INT), "outputPreview": nullable(STR), "errorMessage": nullable(STR),
             "unresolvedVariables": arr(STR), "modelUsed": nullable(STR)},
            ("id", "status", "createdAt"),
        ),
        "StepResultList": obj({"data": arr(ref("StepResult")), "pagination": ref("OffsetPagination")}, ("data", "pagination")),
        "FlowStepInput": step_input,
        "FlowStep": step,
        "Flow": obj(
            {"id": STR, "name": STR, "description": nullable(STR), "flowSteps": arr(ref("FlowStep")), "stepCount": INT,
             "userId": STR, "organizationId": nullable(STR), "createdAt": TIME, "updatedAt": TIME,
             "lastRunAt": nullable(TIME), "lastModifiedSource": nullable(STR), "publishedVersionId": nullable(STR),
             "draftVersionId": STR},
            ("id", "name", "flowSteps", "createdAt", "updatedAt"),
        ),
        "FlowCreate": obj(
            {"name": string(1, 255), "description": nullable(STR), "steps": arr(ref("FlowStepInput")),
             "flowSteps": arr(ref("FlowStepInput"))},
            ("name",), closed=True, description="Send steps or flowSteps, not both.",
        ),
        "FlowUpdate": obj(
            {"name": string(1, 255), "description": nullable(STR),
             "flowSteps": {**arr(ref("FlowStepInput")), "description": "Replaces the whole step list."},
             "steps": {**arr(ref("FlowStepInput")), "description": "Alias of flowSteps."}},
            closed=True,
        ),
        "FlowSummary": obj({"id": STR, "name": STR, "description": nullable(STR), "stepCount": INT, "createdAt": TIME, "updatedAt": TIME, "lastRunAt": nullable(TIME), "lastModifiedSource": nullable(STR)}, ("id", "name")),
        "FlowList": obj({"data": arr(ref("FlowSummary")), "pagination": ref("CursorPagination")}, ("data", "pagination")),
        "RuntimeExport": obj({"id": STR, "name": STR, "description": nullable(STR), "steps": arr(OBJ), "agents": OBJ, "dependencyRefs": OBJ, "hostDependencies": arr(obj({"kind": STR, "interface": STR, "reason": STR, "steps": arr(STR)}))}, ("id", "name", "steps", "hostDependencies")),
        "PublishResult": obj({"success": BOOL, "message": STR, "publishedVersionId": STR}, ("success", "message", "publishedVersionId")),
        "FlowVersions": obj(
            {"flowId": STR, "publishedVersionId": nullable(STR),
             "versions": arr(obj({"id": STR, "versionNumber": INT, "versionType": STR, "label": nullable(STR), "notes": nullable(STR), "stepCount": INT, "stepSummary": STR, "createdAt": TIME}))},
            ("flowId", "versions"),
        ),
        "RunOnRecordTypeRequest": obj({"recordType": string(1, 255)}, ("recordType",), closed=True),
        "RunOnRecordTypeResult": obj(
            {"success": BOOL, "batchId": STR, "flowId": STR, "recordType": STR, "recordCount": INT,
             "status": {"type": "string", "enum": ["completed", "scheduled"]}, "executedImmediately": BOOL,
             "successCount": INT, "failureCount": INT, "completedAt": TIME,
             "results": arr(obj({"recordId": STR, "recordName": STR, "success": BOOL, "executionId": STR,
                                 "executionTime": NUM, "promptsExecuted": INT, "error": nullable(STR)}))},
            ("success", "batchId", "flowId", "recordType", "recordCount", "status", "executedImmediately",
             "successCount", "failureCount", "completedAt", "results"),
        ),
        "BatchStatus": obj(
            {"batchExecutionId": STR, "flowId": {**STR, "description": "Empty for a batch of an inline flowDefinition."},
             "flowName": nullable(STR), "recordType": nullable(STR),
             "status": {"type": "string", "enum": ["scheduled", "running", "completed", "failed", "interrupted", "cancelled"]},
             "totalRecords": INT, "processedRecords": INT, "failedRecords": INT, "successCount": INT,
             "progress": {"type": "integer", "minimum": 0, "maximum": 100}, "createdAt": TIME,
             "startedAt": {**TIME, "description": "When it started; the submission time until then."},
             "completedAt": nullable(TIME), "error": nullable(STR)},
            ("batchExecutionId", "flowId", "status", "totalRecords", "processedRecords", "failedRecords", "startedAt"),
        ),
        "DispatchRequest": obj(
            {"flow": {"anyOf": [obj({"id": STR}, ("id",)), obj({"name": STR, "description": STR, "steps": arr(ref("FlowStepInput"))}, ("name",))]},
             "record": {"anyOf": [obj({"id": STR}, ("id",)), obj({"type": STR, "name": STR, "metadata": OBJ, "ownerId": nullable(STR)}, ("type", "name"))]},
             "inputs": OBJ, "messages": arr(ref("Message")), "secrets": OBJ,
             "conversationId": string(1, 255), "endUser": OBJ, "tenant": OBJ,
             "history": {"type": "string", "enum": ["inline"], "description": "'stored' is refused: the sandbox keeps no conversations."},
             **{key: {"description": "Defined by the API; refused by the sandbox with a 400 UNSUPPORTED_IN_SANDBOX detail."}
                for key in ("agent", "clientTools", "clientToolsPolicy", "credentialProxies", "identityProof")},
             "options": obj({"streamResponse": BOOL, "storeResults": BOOL, "recordMode": {"type": "string", "enum": ["existing", "create", "virtual"]},
                             "versionType": {"type": "string", "enum": ["published", "draft", "test", "virtual"]}, "flowVersionId": STR})},
            ("flow",), closed=True,
        ),
        "DispatchResult": obj(
            {"success": BOOL, "status": {"type": "string", "enum": ["completed", "failed", "paused"]},
             "events": arr(obj({"type": STR, "seq": INT, "executionId": STR}, ("type", "seq", "executionId"))),
             "totalEvents": INT, "flowId": nullable(STR), "conversationId": STR, "endUser": OBJ, "tenant": OBJ,
             "recordId": nullable(STR), "executionId": STR, "executionSummary": OBJ, "error": STR},
            ("success", "status", "events", "totalEvents"),
        ),
        "AsyncDispatchHandle": obj({"executionId": STR, "statusUrl": STR, "eventsUrl": nullable(STR), "status": STR, "targetKind": STR, "targetId": nullable(STR), "createdAt": TIME}, ("executionId", "statusUrl", "status", "targetKind")),
        "ExecutionStatus": obj(
            {"executionId": STR, "status": {"type": "string", "enum": ["queued", "running", "paused", "completed", "failed", "cancelled", "interrupted"]},
             "targetKind": STR, "targetId": nullable(STR), "result": ref("DispatchResult"), "error": nullable(STR),
             "httpStatus": nullable(INT), "createdAt": TIME, "startedAt": nullable(TIME), "completedAt": nullable(TIME)},
            ("executionId", "status", "targetKind", "createdAt"),
        ),
        "ValidateRequest": obj({"name": STR, "steps": arr(OBJ), "flowSteps": arr(OBJ)}),
        "ValidateResult": obj(
            {"valid": BOOL, "errors": arr(OBJ), "warnings": arr(OBJ), "recommendations": arr(OBJ),
             "context": obj({"authenticated": BOOL, "accountChecksPerformed": BOOL, "accountChecksSkipped": BOOL, "skippedChecks": arr(STR)},
                            ("authenticated", "accountChecksPerformed", "accountChecksSkipped"))},
            ("valid", "errors", "warnings", "recommendations", "context"),
        ),
        "Me": obj({"id": STR, "userId": STR, "hasOrganization": BOOL, "orgId": STR, "orgRole": STR, "email": STR, "name": STR,
                   "organizationId": STR, "organization": OBJ, "scopes": arr(STR), "sandbox": BOOL}, ("id", "userId", "hasOrganization")),
    }
    # fmt: on
