"""The batch API (SDK `batch` group): submit a flow on given records, summary, cancel, costs and steps.

`POST /v1/batch/flow` reuses the background runner of run-on-record-type on explicit record ids
and inline records; costs are summed from the stored record and step results (the sandbox model
is free, so every amount is 0 and no execution is unpriced); cancel stops a running batch and
answers once its final counts are stored.
"""

from __future__ import annotations

import json
import sqlite3
from typing import Any

import anyio
from starlette.requests import Request
from starlette.responses import Response

from . import shapes
from .batches import batch_status, by_ids, insert_batch, start_batch
from .flow_steps import check_steps
from .flows_api import draft_version_id, get_flow_row
from .ids import new_id
from .responses import Endpoint, SandboxContext, json_response, route
from .runs import FlowTarget
from .store import fetch_all, fetch_one, placeholders
from .validation import ApiError, Checker, join, read_json_object

MAX_RECORDS = 50_000
CHUNK = 500
RECENT = 10
ACTIVE = ("scheduled", "running")
BATCH_KEYS = ("agentId", "flowDefinition", "flowId", "inputs", "messages", "options", "recordIds", "records")
OPTION_INTS: tuple[str, ...] = ("chunkSize", "flowTimeoutMs", "maxRetries", "progressFlushSize")
OPTION_INTS += ("recordConcurrency", "stepTimeoutMs", "timeoutMs")
OPTION_KEYS = (*OPTION_INTS, "modelOverride", "skipCacheWarm")


def _missing_ids(conn: sqlite3.Connection, ids: list[str]) -> list[str]:
    found: set[str] = set()
    for start in range(0, len(ids), CHUNK):
        chunk = ids[start : start + CHUNK]
        rows = conn.execute(f"SELECT id FROM records WHERE id IN ({placeholders(chunk)})", chunk)
        found.update(row["id"] for row in rows)
    return [record_id for record_id in ids if record_id not in found]


def _check_options(check: Checker, options: dict[str, Any]) -> None:
    """Tuning knobs of the hosted runner: type-checked, with no effect on what the sandbox computes."""
    check.known_keys(options, OPTION_KEYS, "options")
    for key in OPTION_INTS:
        value = options.get(key)
        if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 0):
            check.wrong_type(join("options", key), "a non-negative integer", value)
    check.string(options, "modelOverride", path="options", min_len=1, max_len=255)
    check.boolean(options, "skipCacheWarm", path="options")


def _check_inline(check: Checker, records: list[Any]) -> list[dict[str, Any]]:
    inline = []
    for index, item in enumerate(records):
        where = join("records", index)
        if not isinstance(item, dict):
            check.wrong_type(where, "an object {type, name, metadata}", item)
            continue
        check.known_keys(item, ("type", "name", "metadata"), where)
        record_type = check.string(item, "type", path=where, required=True, min_len=1, max_len=255)
        name = check.string(item, "name", path=where, required=True, min_len=1, max_len=500)
        metadata = check.mapping(item, "metadata", path=where, required=True)
        inline.append({"type": record_type, "name": name, "metadata": metadata})
    return inline


class BatchApi:
    def __init__(self, ctx: SandboxContext) -> None:
        self.ctx = ctx

    def routes(self) -> list[Endpoint]:
        return [
            route("/v1/batch/flow", self.submit, "POST"),
            route("/v1/batch/summary", self.summary, "GET"),
            route("/v1/batch/cancel/{id}", self.cancel, "POST"),
            route("/v1/batch/{id}/cost", self.cost, "GET"),
            route("/v1/batch/{batchId}/records/{recordId}/cost", self.record_cost, "GET"),
            route("/v1/batch/{batchId}/records/{recordId}/steps", self.record_steps, "GET"),
        ]

    async def submit(self, request: Request) -> Response:
        body = await read_json_object(request)
        check = Checker()
        check.known_keys(body, BATCH_KEYS)
        if body.get("agentId") is not None:
            check.add(
                "UNSUPPORTED_IN_SANDBOX",
                "agentId is not supported by the sandbox",
                "agentId",
                "The sandbox runs flows only; send flowId or flowDefinition",
            )
        flow_id = check.string(body, "flowId", min_len=1, max_len=255)
        definition = check.mapping(body, "flowDefinition")
        if (flow_id is None) == (definition is None) and body.get("agentId") is None:
            check.add(
                "CUSTOM_VALIDATION",
                "Send exactly one of flowId and flowDefinition",
                "flowId",
                "flowId runs a saved flow; flowDefinition {name, steps} runs an inline one",
            )
        steps = None
        if definition is not None:
            check.known_keys(definition, ("id", "name", "description", "steps"), "flowDefinition")
            check.string(definition, "name", path="flowDefinition", required=True, min_len=1, max_len=255)
            steps = check_steps(check, definition.get("steps"), "flowDefinition.steps")
        record_ids = check.string_list(body, "recordIds", max_items=MAX_RECORDS) or []
        inline = _check_inline(check, check.array(body, "records", max_items=MAX_RECORDS) or [])
        if not record_ids and not inline:
            check.add(
                "MISSING_REQUIRED_FIELD",
                "recordIds or records must be non-empty",
                "recordIds",
                "Send saved record ids in recordIds and/or inline {type, name, metadata} in records",
            )
        elif len(record_ids) + len(inline) > MAX_RECORDS:
            check.add("OUT_OF_RANGE", f"At most {MAX_RECORDS} records per batch", "recordIds")
        inputs = check.mapping(body, "inputs") or {}
        for key in inputs:
            if key.startswith("_"):
                check.add(
                    "INVALID_FORMAT", f"Input '{key}' starts with '_', which is reserved", join("inputs", key)
                )
        if check.array(body, "messages"):
            check.add(
                "UNSUPPORTED_IN_SANDBOX",
                "messages (a conversation seed) is not supported by the sandbox",
                "messages",
                "Pass values to the flow in inputs instead",
            )
        _check_options(check, check.mapping(body, "options") or {})
        check.done()
        target = await self._target(flow_id, definition, steps)
        ids = list(record_ids)
        missing = await self.ctx.db.run(lambda conn: _missing_ids(conn, ids))
        if missing:
            check.add(
                "NOT_FOUND",
                f"{len(missing)} record id(s) do not exist, e.g. {', '.join(missing[:5])}",
                "recordIds",
                "Send ids of existing records (list_records), or inline records in records",
            )
            check.done()
        batch_id = new_id("batch")
        total = len(ids) + len(inline)
        await self.ctx.db.write(lambda conn: insert_batch(conn, batch_id, target, "", total, "scheduled"))
        start_batch(self.ctx, target, batch_id, by_ids(self.ctx.db, batch_id, ids, inline), inputs)
        return json_response(
            {
                "batchExecutionId": batch_id,
                "status": "scheduled",
                "flowId": target.flow_id or "",
                "totalRecords": total,
                "statusUrl": f"/v1/batch/status/{batch_id}",
            },
            status=202,
        )

    async def _target(
        self, flow_id: str | None, definition: dict[str, Any] | None, steps: list[dict[str, Any]] | None
    ) -> FlowTarget:
        if flow_id is None:
            assert definition is not None
            assert steps is not None
            return FlowTarget(None, str(definition["name"]), None, steps)
        row, draft = await self.ctx.db.run(
            lambda conn: (get_flow_row(conn, flow_id), draft_version_id(conn, flow_id))
        )
        return FlowTarget(flow_id, row["name"], draft, json.loads(row["steps"]))

    async def _batch(self, batch_id: str) -> sqlite3.Row:
        row = await self.ctx.db.run(fetch_one("SELECT * FROM batches WHERE id = ?", (batch_id,)))
        if row is None:
            raise ApiError(404, f"Batch {batch_id} not found")
        return row

    async def summary(self, request: Request) -> Response:
        def read(conn: sqlite3.Connection) -> tuple[list[sqlite3.Row], list[sqlite3.Row]]:
            active = conn.execute(
                f"SELECT * FROM batches WHERE status IN ({placeholders(ACTIVE)}) ORDER BY created_at DESC",
                ACTIVE,
            ).fetchall()
            recent = conn.execute(
                f"SELECT * FROM batches WHERE status NOT IN ({placeholders(ACTIVE)})"
                " ORDER BY coalesce(completed_at, created_at) DESC LIMIT ?",
                (*ACTIVE, RECENT),
            ).fetchall()
            return active, recent

        active, recent = await self.ctx.db.run(read)
        return json_response(
            {
                "activeBatches": len(active),
                "recentlyCompleted": sum(1 for row in recent if row["status"] == "completed"),
                "batches": [_summary_item(row) for row in active],
                "recent": [_summary_item(row) for row in recent],
            }
        )

    async def cancel(self, request: Request) -> Response:
        batch_id = request.path_params["id"]
        row = await self._batch(batch_id)
        run = self.ctx.batch_runs.get(batch_id)
        if run is None or row["status"] not in ACTIVE:
            raise ApiError(
                409,
                f"Batch {batch_id} is {row['status']}; only a scheduled or running batch can be cancelled",
                code="BATCH_NOT_ACTIVE",
                batchStatus=row["status"],
            )
        run.scope.cancel()
        with anyio.fail_after(30):
            await run.done.wait()
        row = await self._batch(batch_id)
        done, total = row["processed_records"], row["total_records"]
        return json_response(
            {
                "success": True,
                "message": f"Batch cancelled: {done} of {total} records were processed",
                "batchExecutionId": batch_id,
                "status": row["status"],
                "processedRecords": done,
                "totalRecords": total,
            }
        )

    async def cost(self, request: Request) -> Response:
        batch_id = request.path_params["id"]
        await self._batch(batch_id)
        return json_response({"batchExecutionId": batch_id, **await self._costs("batch_id = ?", [batch_id])})

    async def record_cost(self, request: Request) -> Response:
        batch_id, record_id = request.path_params["batchId"], request.path_params["recordId"]
        await self._batch(batch_id)
        costs = await self._costs("batch_id = ? AND record_id = ?", [batch_id, record_id])
        if not costs["executions"]:
            raise ApiError(404, f"Record {record_id} has no result in batch {batch_id}")
        return json_response({"batchExecutionId": batch_id, "recordId": record_id, **costs})

    async def _costs(self, where: str, params: list[Any]) -> dict[str, Any]:
        row = await self.ctx.db.run(
            fetch_one(
                "SELECT count(*) AS n, coalesce(sum(prompt_tokens), 0) AS p, coalesce(sum(completion_tokens), 0) AS c"
                f" FROM record_results WHERE {where}",
                params,
            )
        )
        assert row is not None
        return {
            "totalCostUsd": 0.0,
            "selfReportedCostUsd": 0.0,
            "billedCostUsd": 0.0,
            "billedCostThousandthsCent": 0,
            "unpricedExecutions": 0,  # the sandbox model has a price: zero
            "executions": row["n"],
            "promptTokens": row["p"],
            "completionTokens": row["c"],
            "totalTokens": row["p"] + row["c"],
        }

    async def record_steps(self, request: Request) -> Response:
        batch_id, record_id = request.path_params["batchId"], request.path_params["recordId"]
        await self._batch(batch_id)
        rows = await self.ctx.db.run(
            fetch_all(
                "SELECT * FROM step_results WHERE batch_id = ? AND record_id = ? ORDER BY seq",
                (batch_id, record_id),
            )
        )
        return json_response({"data": [shapes.step_result(row) for row in rows]})


def _summary_item(row: sqlite3.Row) -> dict[str, Any]:
    status = batch_status(row)
    return {
        "id": row["id"],
        "flowName": row["flow_name"] or "",
        "status": row["status"],
        "totalRecords": status["totalRecords"],
        "processedRecords": status["processedRecords"],
        "failedRecords": status["failedRecords"],
        "progress": status["progress"],
        "startedAt": status["startedAt"],
        "completedAt": row["completed_at"],
        "flowId": row["flow_id"],
    }
