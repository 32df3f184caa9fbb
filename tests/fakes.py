"""A small in-memory Runtype, served through httpx2.MockTransport.

It keeps just enough state for the core tools, records every request it received, and can
be told to fail the next matching requests (status, headers, body, or a transport error).
"""

from __future__ import annotations

import itertools
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote

import httpx2

API_KEY = "rt_test_SECRET_abc123_do_not_leak"

Handler = Callable[..., httpx2.Response]
ROUTES: list[tuple[str, str, str]] = []  # (method, raw-path regex after /v1, FakeRuntype method name)


def route(method: str, pattern: str) -> Callable[[Handler], Handler]:
    """Register a FakeRuntype method as the handler of METHOD /v1<pattern>."""

    def decorator(fn: Handler) -> Handler:
        ROUTES.append((method, pattern, fn.__name__))
        return fn

    return decorator


@dataclass
class Failure:
    method: str
    path: str  # regex on the path after /v1
    status: int = 500
    headers: dict[str, str] = field(default_factory=dict)
    body: Any = None
    times: int = 1
    exc: type[Exception] | None = None
    land: bool = False  # let the request take effect, then answer with the failure


class FakeRuntype:
    def __init__(self) -> None:
        self.records: dict[str, dict[str, Any]] = {}
        self.flows: dict[str, dict[str, Any]] = {}
        self.requests: list[httpx2.Request] = []
        self.failures: list[Failure] = []
        self._ids = itertools.count(1)
        self.run_status = 200
        self.step_results: list[dict[str, Any]] = []

    # --- helpers for tests

    def transport(self) -> httpx2.MockTransport:
        return httpx2.MockTransport(self.handle)

    def fail(self, method: str, path: str, status: int = 500, **kw: Any) -> None:
        self.failures.append(Failure(method, path, status, **kw))

    def add_record(self, type_: str, name: str, metadata: dict[str, Any] | None = None) -> dict[str, Any]:
        rid = f"rec_{next(self._ids)}"
        rec = {
            "id": rid,
            "type": type_,
            "name": name,
            "metadata": metadata or {},
            "messages": None,
            "ownerId": None,
            "createdAt": "2026-11-01T00:00:00Z",
            "updatedAt": "2026-11-01T00:00:00Z",
        }
        self.records[rid] = rec
        return rec

    def sent(self, method: str, path_re: str) -> list[httpx2.Request]:
        return [r for r in self.requests if r.method == method and re.fullmatch(path_re, r.url.path)]

    # --- the API

    def handle(self, request: httpx2.Request) -> httpx2.Response:
        self.requests.append(request)
        path = request.url.path
        assert path.startswith("/v1/"), path
        sub = path[3:]
        if request.headers.get("authorization") != f"Bearer {API_KEY}":
            return _json(401, {"error": "Invalid API key"}, {"WWW-Authenticate": "Bearer"})
        for failure in self.failures:
            if failure.times > 0 and failure.method == request.method and re.fullmatch(failure.path, sub):
                failure.times -= 1
                if failure.land:
                    self._route(request, sub)
                if failure.exc is not None:
                    raise failure.exc("injected", request=request)  # type: ignore[call-arg]
                body = failure.body if failure.body is not None else {"error": f"injected {failure.status}"}
                if isinstance(body, str):
                    return httpx2.Response(failure.status, text=body, headers=failure.headers)
                return _json(failure.status, body, failure.headers)
        return self._route(request, sub)

    def _route(self, request: httpx2.Request, sub: str) -> httpx2.Response:
        raw = request.url.raw_path.decode().split("?")[0][3:]
        for method, pattern, name in ROUTES:
            match = re.fullmatch(pattern, raw)
            if method == request.method and match:
                handler: Handler = getattr(self, name)
                return handler(request, *[unquote(g) for g in match.groups()])
        return _json(404, {"error": f"No route {request.method} {sub}"})

    @route("GET", r"/records")
    def _list_records(self, request: httpx2.Request) -> httpx2.Response:
        q = request.url.params
        rows = [
            r
            for r in self.records.values()
            if (not q.get("type") or r["type"] == q["type"]) and (not q.get("name") or r["name"] == q["name"])
        ]
        limit = int(q.get("limit", "20"))
        start = int(q.get("cursor") or 0)
        page = rows[start : start + limit]
        more = start + limit < len(rows)
        if q.get("view") == "compact":
            page = [_compact(r) for r in page]
        pagination = {"limit": limit, "hasMore": more, "hasPrev": start > 0, "currentOffset": start}
        if more:
            pagination["nextCursor"] = str(start + limit)
        return _json(200, {"data": page, "pagination": pagination})

    @route("POST", r"/records")
    def _create_record(self, request: httpx2.Request) -> httpx2.Response:
        body = json.loads(request.content)
        details = []
        if not body.get("name"):
            details.append({"code": "MISSING_REQUIRED_FIELD", "message": "Required", "path": "name"})
        if isinstance(body.get("metadata"), dict) and isinstance(body["metadata"].get("priority"), str):
            details.append(
                {
                    "code": "INVALID_TYPE",
                    "message": "Expected number, received string",
                    "path": "metadata.priority",
                    "suggestion": "Send priority as a number, e.g. 3",
                }
            )
        if details:
            return _json(400, {"error": "Validation error", "details": details})
        for rec in self.records.values():
            if rec["type"] == body["type"] and rec["name"] == body["name"]:
                return _json(409, {"error": "Record with this type and name already exists"})
        rec = self.add_record(body["type"], body["name"], body.get("metadata"))
        rec["ownerId"] = body.get("ownerId")
        rec["messages"] = body.get("messages")
        out = dict(rec)
        if "First Name" in rec["metadata"]:
            out["warnings"] = [{"code": "KEY_RENAMED", "from": "First Name", "to": "first_name"}]
        return _json(201, out)

    @route("GET", r"/records/([^/]+)")
    def _get_record(self, request: httpx2.Request, rid: str) -> httpx2.Response:
        if rid not in self.records:
            return _json(404, {"error": "Record not found"})
        return _json(200, self.records[rid])

    @route("PUT", r"/records/([^/]+)")
    def _update_record(self, request: httpx2.Request, rid: str) -> httpx2.Response:
        if rid not in self.records:
            return _json(404, {"error": "Record not found"})
        body = json.loads(request.content)
        rec = self.records[rid]
        for key, api in (
            ("name", "name"),
            ("type", "type"),
            ("metadata", "metadata"),
            ("messages", "messages"),
        ):
            if key in body:
                rec[api] = body[key]
        if "ownerId" in body:
            rec["ownerId"] = body["ownerId"]
        rec["updatedAt"] = "2026-11-02T00:00:00Z"
        return _json(200, rec)

    @route("GET", r"/flows")
    def _list_flows(self, request: httpx2.Request) -> httpx2.Response:
        rows = [{"id": f["id"], "name": f["name"], "updatedAt": f["updatedAt"]} for f in self.flows.values()]
        return _json(200, {"data": rows, "pagination": {"limit": 20, "hasMore": False}})

    @route("POST", r"/flows")
    def _create_flow(self, request: httpx2.Request) -> httpx2.Response:
        body = json.loads(request.content)
        fid = f"flow_{next(self._ids)}"
        steps = [{**s, "id": s.get("id") or f"step_{i}"} for i, s in enumerate(body.get("steps", []))]
        flow = {
            "id": fid,
            "name": body["name"],
            "description": body.get("description"),
            "flowSteps": steps,
            "createdAt": "2026-11-01T00:00:00Z",
            "updatedAt": "2026-11-01T00:00:00Z",
        }
        self.flows[fid] = flow
        return _json(201, flow)

    @route("GET", r"/flows/([^/]+)")
    def _get_flow(self, request: httpx2.Request, fid: str) -> httpx2.Response:
        if fid not in self.flows:
            return _json(404, {"error": "Flow not found"})
        return _json(200, self.flows[fid])

    @route("PUT", r"/flows/([^/]+)")
    def _update_flow(self, request: httpx2.Request, fid: str) -> httpx2.Response:
        if fid not in self.flows:
            return _json(404, {"error": "Flow not found"})
        body = json.loads(request.content)
        flow = self.flows[fid]
        for key in ("name", "description", "flowSteps"):
            if key in body:
                flow[key] = body[key]
        return _json(200, {**flow, "draftVersionId": "ver_draft_1"})

    @route("DELETE", r"/flows/([^/]+)")
    def _delete_flow(self, request: httpx2.Request, fid: str) -> httpx2.Response:
        if self.flows.pop(fid, None) is None:
            return _json(404, {"error": "Flow not found"})
        return httpx2.Response(204)

    @route("GET", r"/flows/([^/]+)/export-runtime")
    def _export_runtime(self, request: httpx2.Request, fid: str) -> httpx2.Response:
        if fid not in self.flows:
            return _json(404, {"error": "Flow not found"})
        flow = self.flows[fid]
        return _json(
            200, {"id": fid, "name": flow["name"], "steps": flow.get("flowSteps", []), "hostDependencies": []}
        )

    @route("POST", r"/flows/([^/]+)/publish")
    def _publish(self, request: httpx2.Request, fid: str) -> httpx2.Response:
        if fid not in self.flows:
            return _json(404, {"error": "Flow not found"})
        return _json(200, {"success": True, "message": "Published", "publishedVersionId": "ver_pub_1"})

    @route("GET", r"/flows/([^/]+)/step-results")
    def _flow_step_results(self, request: httpx2.Request, fid: str) -> httpx2.Response:
        q = request.url.params
        rows = [r for r in self.step_results if r["flowId"] == fid]
        if q.get("status"):
            rows = [r for r in rows if r["status"] == q["status"]]
        offset, limit = int(q.get("offset", "0")), int(q.get("limit", "20"))
        page = rows[offset : offset + limit]
        more = offset + limit < len(rows)
        return _json(
            200,
            {
                "data": page,
                "pagination": {"hasMore": more, "limit": limit, "offset": offset, "returned": len(page)},
            },
        )

    @route("POST", r"/dispatch")
    def _dispatch(self, request: httpx2.Request) -> httpx2.Response:
        body = json.loads(request.content)
        fid = body["flow"]["id"]
        if fid not in self.flows:
            return _json(404, {"error": "Flow not found"})
        if request.headers.get("prefer") == "respond-async":
            return _json(
                202,
                {"executionId": "exec_1", "status": "queued", "statusUrl": "/v1/executions/exec_1/status"},
            )
        name = self.records.get(body.get("record", {}).get("id", ""), {}).get("name", "?")
        events = [
            {"type": "execution_start", "executionId": "exec_0", "totalSteps": 1},
            {
                "type": "step_complete",
                "name": "Summarize",
                "stepType": "prompt",
                "success": True,
                "durationMs": 12,
                "result": f"summary of {name} " + "z" * 3000,
                "unresolvedVariables": ["colour"],
            },
            {
                "type": "execution_complete",
                "success": True,
                "finalOutput": f"summary of {name} " + "z" * 3000,
            },
        ]
        return _json(
            200, {"success": True, "status": "completed", "events": events, "totalEvents": 3, "flowId": fid}
        )

    @route("GET", r"/executions/([^/]+)/status")
    def _execution_status(self, request: httpx2.Request, eid: str) -> httpx2.Response:
        if eid != "exec_1":
            return _json(404, {"error": "Execution not found"})
        return _json(200, {"executionId": eid, "status": "completed", "result": {"answer": 42}})

    @route("POST", r"/flows/([^/]+)/run-on-record-type")
    def _run_on_type(self, request: httpx2.Request, fid: str) -> httpx2.Response:
        if fid not in self.flows:
            return _json(404, {"error": "Flow not found"})
        record_type = json.loads(request.content)["recordType"]
        targets = [r for r in self.records.values() if r["type"] == record_type]
        if len(targets) > 10:
            return _json(202, {"success": True, "batchId": "batch_1", "recordCount": len(targets)})
        results = [
            {"recordId": r["id"], "recordName": r["name"], "success": True, "executionTime": 0.1}
            for r in targets
        ]
        return _json(
            200,
            {
                "success": True,
                "batchId": "batch_inline",
                "flowId": fid,
                "recordType": record_type,
                "recordCount": len(targets),
                "status": "completed",
                "executedImmediately": True,
                "successCount": len(targets),
                "failureCount": 0,
                "results": results,
            },
        )

    @route("GET", r"/batch/status/([^/]+)")
    def _batch_status(self, request: httpx2.Request, bid: str) -> httpx2.Response:
        if bid != "batch_1":
            return _json(404, {"error": "Batch not found"})
        return _json(
            200,
            {
                "batchExecutionId": bid,
                "flowId": "flow_x",
                "status": "running",
                "totalRecords": 12,
                "processedRecords": 6,
                "failedRecords": 1,
                "progress": 50,
                "startedAt": "2026-11-01T00:00:00Z",
            },
        )


def _compact(rec: dict[str, Any]) -> dict[str, Any]:
    def cut(v: Any) -> Any:
        if isinstance(v, str) and len(v) > 100:
            return v[:100] + "…"
        if isinstance(v, dict):
            return {k: cut(x) for k, x in v.items()}
        if isinstance(v, list):
            return [cut(x) for x in v]
        return v

    return cut(rec)  # type: ignore[no-any-return]


def _json(status: int, body: Any, headers: dict[str, str] | None = None) -> httpx2.Response:
    return httpx2.Response(status, json=body, headers=headers or {})
