"""Rows of the store turned into the JSON objects of runtype-api.md (§2 Record, §3 Flow, results)."""

from __future__ import annotations

import json
import sqlite3
from typing import Any

SANDBOX_USER_ID = "user_sandbox"
SANDBOX_ORG_ID = "org_sandbox"
COMPACT_LIMIT = 100


def loads(text: str | None, default: Any = None) -> Any:
    return default if text is None else json.loads(text)


def dumps(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def compact(value: Any) -> Any:
    """`view=compact`: every string longer than 100 characters becomes its first 100 plus `…`."""
    if isinstance(value, str):
        return value[:COMPACT_LIMIT] + "…" if len(value) > COMPACT_LIMIT else value
    if isinstance(value, list):
        return [compact(item) for item in value]
    if isinstance(value, dict):
        return {key: compact(item) for key, item in value.items()}
    return value


def record(row: sqlite3.Row) -> dict[str, Any]:
    metadata = json.loads(row["metadata"])
    return {
        "id": row["id"],
        "type": row["type"],
        "name": row["name"],
        "metadata": metadata,
        "messages": loads(row["messages"]),
        "userId": row["user_id"],
        "organizationId": row["organization_id"],
        "ownerId": row["owner_id"],
        "productSurfaceId": None,
        "createdAt": row["created_at"],
        "updatedAt": row["updated_at"],
        "metadataSchema": {"keys": sorted(metadata)} if isinstance(metadata, dict) else None,
        "metadataLabels": None,
        "schemaValid": None,
    }


def public_step(step: dict[str, Any]) -> dict[str, Any]:
    """A stored step as the API echoes it: `when` is kept for the engine but never echoed."""
    return {key: step[key] for key in ("id", "type", "name", "order", "enabled", "config") if key in step}


def flow(row: sqlite3.Row) -> dict[str, Any]:
    steps = json.loads(row["steps"])
    return {
        "id": row["id"],
        "name": row["name"],
        "description": row["description"],
        "flowSteps": [public_step(step) for step in steps],
        "stepCount": len(steps),
        "userId": SANDBOX_USER_ID,
        "organizationId": SANDBOX_ORG_ID,
        "createdAt": row["created_at"],
        "updatedAt": row["updated_at"],
        "lastRunAt": row["last_run_at"],
        "lastModifiedSource": row["last_modified_source"],
        "publishedVersionId": row["published_version_id"],
    }


def flow_summary(row: sqlite3.Row) -> dict[str, Any]:
    return {
        "id": row["id"],
        "name": row["name"],
        "description": row["description"],
        "stepCount": len(json.loads(row["steps"])),
        "createdAt": row["created_at"],
        "updatedAt": row["updated_at"],
        "lastRunAt": row["last_run_at"],
        "lastModifiedSource": row["last_modified_source"],
    }


def record_result(row: sqlite3.Row) -> dict[str, Any]:
    return {
        "id": row["id"],
        "recordId": row["record_id"],
        "status": row["status"],
        "createdAt": row["created_at"],
        "flowId": row["flow_id"],
        "flowName": row["flow_name"],
        "promptId": None,
        "promptName": None,
        "batchId": row["batch_id"],
        "executionId": row["execution_id"],
        "result": loads(row["result"]),
        "error": row["error"],
        "executionTimeMs": row["execution_time_ms"],
        "totalTokens": row["total_tokens"],
        "modelUsed": row["model_used"],
        # The sandbox model is free; tool cost is unknown rather than zero, as in the API.
        "modelCost": "0",
        "estimatedCost": "0",
        "toolCost": None,
    }


def step_result(row: sqlite3.Row) -> dict[str, Any]:
    return {
        "id": row["id"],
        "userId": SANDBOX_USER_ID,
        "organizationId": SANDBOX_ORG_ID,
        "status": row["status"],
        "createdAt": row["created_at"],
        "startedAt": row["started_at"],
        "completedAt": row["completed_at"],
        "durationMs": row["duration_ms"],
        "batchExecutionId": row["batch_id"],
        "executionSessionId": row["execution_id"],
        "flowId": row["flow_id"],
        "flowVersionId": row["flow_version_id"],
        "recordId": row["record_id"],
        "recordName": row["record_name"],
        "stepId": row["step_id"],
        "stepName": row["step_name"],
        "stepType": row["step_type"],
        "order": row["step_order"],
        "stepConfig": loads(row["step_config"]),
        "inputVariables": loads(row["input_variables"]),
        "resolvedPrompt": row["resolved_prompt"],
        "unresolvedVariables": loads(row["unresolved_variables"], []),
        "modelUsed": row["model_used"],
        "outputPreview": row["output_preview"],
        "errorMessage": row["error_message"],
        "skipReason": row["skip_reason"],
        "retryCount": 0,
        "promptTokens": row["prompt_tokens"],
        "completionTokens": row["completion_tokens"],
        "totalTokens": row["total_tokens"],
        "estimatedCost": "0",
    }
