"""Running flows over HTTP: run-on-record-type (§3.8), dispatch and executions (§6.1), batch status (§6.3)."""

from __future__ import annotations

import json
import logging
import sqlite3
from collections.abc import AsyncIterator
from typing import Any

import anyio
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from . import engine, records_store, shapes
from .batches import batch_status, run_on_record_type
from .flow_steps import check_steps
from .flows_api import draft_version_id, get_flow_row
from .ids import new_id, now_iso
from .responses import Endpoint, SandboxContext, json_response, route
from .run_events import DISPATCH_LABELS, DISPATCH_UNSUPPORTED, dispatch_labels, events, summary
from .runs import FlowTarget, RunContext, run_flow
from .store import fetch_one
from .validation import ApiError, Checker, join, read_json_object

logger = logging.getLogger("runtype_mcp.sandbox")
DISPATCH_KEYS = ("flow", "record", "inputs", "messages", "options", "secrets")
VERSION_TYPES = ("published", "draft", "test", "virtual")
RECORD_MODES = ("existing", "create", "virtual")


class RunsApi:
    def __init__(self, ctx: SandboxContext) -> None:
        self.ctx = ctx

    def routes(self) -> list[Endpoint]:
        return [
            route("/v1/flows/{id}/run-on-record-type", self.run_on_record_type, "POST"),
            route("/v1/batch/status/{id}", self.batch_status, "GET"),
            route("/v1/dispatch", self.dispatch, "POST"),
            route("/v1/executions/{id}/status", self.execution_status, "GET"),
        ]

    async def _saved_flow(
        self, flow_id: str, version_id: str | None = None, version_type: str | None = None
    ) -> FlowTarget:
        def read(conn: sqlite3.Connection) -> FlowTarget:
            flow = get_flow_row(conn, flow_id)
            wanted = version_id or (flow["published_version_id"] if version_type == "published" else None)
            if version_type == "published" and wanted is None:
                raise ApiError(
                    404,
                    f"Flow {flow_id} has no published version; publish it first",
                    code="NO_PUBLISHED_VERSION",
                )
            if wanted is None:
                draft = draft_version_id(conn, flow_id)
                return FlowTarget(flow_id, flow["name"], draft, json.loads(flow["steps"]))
            version = conn.execute(
                "SELECT steps FROM flow_versions WHERE id = ? AND flow_id = ?", (wanted, flow_id)
            ).fetchone()
            if version is None:
                raise ApiError(404, f"Flow version {wanted} not found for flow {flow_id}")
            return FlowTarget(flow_id, flow["name"], wanted, json.loads(version["steps"]))

        return await self.ctx.db.run(read)

    async def run_on_record_type(self, request: Request) -> Response:
        flow_id = request.path_params["id"]
        body = await read_json_object(request)
        check = Checker()
        check.known_keys(body, ("recordType",))
        record_type = check.string(body, "recordType", required=True, min_len=1, max_len=255)
        check.done()
        assert record_type is not None
        target = await self._saved_flow(flow_id)
        status, payload = await run_on_record_type(self.ctx, target, record_type)
        return json_response(payload, status=status)

    async def batch_status(self, request: Request) -> Response:
        batch_id = request.path_params["id"]
        row = await self.ctx.db.run(fetch_one("SELECT * FROM batches WHERE id = ?", (batch_id,)))
        if row is None:
            raise ApiError(404, f"Batch {batch_id} not found")
        return json_response(batch_status(row))

    async def dispatch(self, request: Request) -> Response:
        body = await read_json_object(request)
        check = Checker()
        check.known_keys(body, (*DISPATCH_KEYS, *DISPATCH_LABELS, "history", *DISPATCH_UNSUPPORTED))
        labels = dispatch_labels(check, body)
        flow = check.mapping(body, "flow", required=True)
        record = check.mapping(body, "record")
        inputs = check.mapping(body, "inputs") or {}
        options = check.mapping(body, "options") or {}
        version_type = check.enum(options, "versionType", VERSION_TYPES, path="options")
        version_id = check.string(options, "flowVersionId", path="options", min_len=1)
        record_mode = check.enum(options, "recordMode", RECORD_MODES, path="options") or "existing"
        stream = check.boolean(options, "streamResponse", path="options")
        # recordMode virtual or storeResults false: the run works on a copy; nothing it does is stored.
        store = (
            check.boolean(options, "storeResults", path="options") is not False and record_mode != "virtual"
        )
        for key in inputs:
            if key.startswith("_"):
                check.add(
                    "INVALID_FORMAT",
                    f"Input '{key}' starts with '_', which is reserved",
                    join("inputs", key),
                    "Rename the input so it does not start with '_'",
                )
        if record is not None and "id" not in record:
            check.string(record, "type", path="record", required=True, min_len=1, max_len=255)
            check.string(record, "name", path="record", required=True, min_len=1, max_len=500)
            check.mapping(record, "metadata", path="record")
        steps = None
        if flow is not None and "id" not in flow:
            check.string(flow, "name", path="flow", required=True, min_len=1, max_len=255)
            steps = check_steps(check, flow.get("steps", []), "flow.steps")
        check.done()
        assert flow is not None
        if body.get("secrets"):
            raise ApiError(
                400,
                "Transient secrets are not supported; store secrets and use {{secret:KEY}}",
                code="RUNTIME_FLOW_TRANSIENT_SECRETS_UNSUPPORTED",
            )
        if steps is None:
            target = await self._saved_flow(str(flow["id"]), version_id, version_type)
        else:
            target = FlowTarget(None, str(flow["name"]), None, steps)
        subject = await self._record(record, record_mode) if record is not None else None
        execution_id = new_id("exec")
        if "respond-async" in request.headers.get("prefer", ""):
            return await self._dispatch_async(execution_id, target, subject, inputs, store)
        started_at = now_iso()
        outcome = await self._run(execution_id, target, subject, inputs, store)
        if stream is False:
            return json_response({**self._body(execution_id, target, subject, outcome, started_at), **labels})
        return StreamingResponse(
            self._sse(events(target, execution_id, _id(subject), outcome, started_at)),
            media_type="text/event-stream",
        )

    async def _record(self, spec: dict[str, Any], mode: str) -> dict[str, Any]:
        if "id" in spec:
            record_id = str(spec["id"])
            row = await self.ctx.db.run(lambda conn: records_store.get_row(conn, record_id))
            if row is None:
                raise ApiError(404, f"Record {record_id} not found")
            return shapes.record(row)
        record_type, name, metadata = str(spec["type"]), str(spec["name"]), spec.get("metadata") or {}
        if mode == "virtual":
            now = now_iso()
            return {
                "id": None,
                "type": record_type,
                "name": name,
                "metadata": metadata,
                "createdAt": now,
                "updatedAt": now,
            }

        def find_or_create(conn: sqlite3.Connection) -> dict[str, Any]:
            row = records_store.find_row(conn, record_type, name)
            if row is not None:
                return shapes.record(row)
            return records_store.insert(conn, record_type=record_type, name=name, metadata=metadata)

        return await self.ctx.db.write(find_or_create)

    async def _run(
        self,
        execution_id: str,
        target: FlowTarget,
        record: dict[str, Any] | None,
        inputs: dict[str, Any],
        store: bool = True,
    ) -> engine.RunOutcome:
        outcome, _ = await run_flow(
            self.ctx.db, RunContext(target, execution_id), record, inputs, store=store
        )
        return outcome

    def _body(
        self,
        execution_id: str,
        target: FlowTarget,
        record: dict[str, Any] | None,
        outcome: engine.RunOutcome,
        started_at: str,
    ) -> dict[str, Any]:
        stream = events(target, execution_id, _id(record), outcome, started_at)
        body: dict[str, Any] = {
            "success": bool(outcome.success),
            "status": "completed" if outcome.success else "failed",
            "events": stream,
            "totalEvents": len(stream),
            "flowId": target.flow_id,
            "recordId": _id(record),
            "executionId": execution_id,
            "executionSummary": {"executionId": execution_id, **summary(outcome)},
        }
        if not outcome.success:
            body["error"] = str(outcome.error)
        return body

    @staticmethod
    async def _sse(stream: list[dict[str, Any]]) -> AsyncIterator[str]:
        for event in stream:
            yield f"event: {event['type']}\ndata: {shapes.dumps(event)}\n\n"

    async def _dispatch_async(
        self,
        execution_id: str,
        target: FlowTarget,
        record: dict[str, Any] | None,
        inputs: dict[str, Any],
        store: bool = True,
    ) -> Response:
        db = self.ctx.db
        await db.write(
            lambda conn: conn.execute(
                "INSERT INTO executions (id, status, target_kind, target_id, created_at) VALUES (?, 'queued', 'flow', ?, ?)",
                (execution_id, target.flow_id, now_iso()),
            )
        )

        async def work() -> None:
            try:
                await db.write(lambda conn: _finish(conn, execution_id, "running", None))
                started_at = now_iso()
                outcome = await self._run(execution_id, target, record, inputs, store)
                result = self._body(execution_id, target, record, outcome, started_at)
                await db.write(
                    lambda conn: _finish(
                        conn, execution_id, "completed" if outcome.success else "failed", result
                    )
                )
            except anyio.get_cancelled_exc_class():
                with anyio.CancelScope(shield=True):
                    await db.write(lambda conn: _finish(conn, execution_id, "interrupted", None))
                raise
            except Exception as exc:
                logger.exception("sandbox.execution_failed execution=%s", execution_id)
                message = f"Sandbox error: {exc}"
                await db.write(lambda conn: _finish(conn, execution_id, "failed", None, message))

        self.ctx.tg.start_soon(work)
        handle = {
            "executionId": execution_id,
            "statusUrl": f"/v1/executions/{execution_id}/status",
            "eventsUrl": None,
            "status": "queued",
            "targetKind": "flow",
            "targetId": target.flow_id,
            "createdAt": now_iso(),
        }
        return json_response(handle, status=202)

    async def execution_status(self, request: Request) -> Response:
        execution_id = request.path_params["id"]
        row = await self.ctx.db.run(fetch_one("SELECT * FROM executions WHERE id = ?", (execution_id,)))
        if row is None:
            raise ApiError(404, f"Execution {execution_id} not found")
        body = {
            "executionId": row["id"],
            "status": row["status"],
            "targetKind": row["target_kind"],
            "targetId": row["target_id"],
            "error": row["error"],
            "httpStatus": row["http_status"],
            "createdAt": row["created_at"],
            "startedAt": row["started_at"],
            "completedAt": row["completed_at"],
        }
        if row["result"] is not None:
            body["result"] = shapes.loads(row["result"])
        return json_response(body)


def _id(record: dict[str, Any] | None) -> str | None:
    return None if record is None else record.get("id")


def _finish(
    conn: sqlite3.Connection,
    execution_id: str,
    status: str,
    result: dict[str, Any] | None,
    error: str | None = None,
) -> None:
    column = "started_at" if status == "running" else "completed_at"
    conn.execute(
        f"UPDATE executions SET status = ?, result = ?, error = ?, http_status = ?, {column} = ? WHERE id = ?",
        (
            status,
            None if result is None else shapes.dumps(result),
            error,
            200 if result else None,
            now_iso(),
            execution_id,
        ),
    )
