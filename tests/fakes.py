"""A small in-memory Runtype, served through httpx2.MockTransport.

It keeps just enough state for the core tools, records every request it received, and can
be told to fail the next matching requests (status, headers, body, or a transport error).
"""

from __future__ import annotations

import csv
import email.parser
import email.policy
import io
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
        self.results: dict[str, list[dict[str, Any]]] = {}  # record id -> run results
        self.uploads: list[dict[str, tuple[str | None, str | None, bytes]]] = []  # multipart parts

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
        for method, pattern, name in sorted(ROUTES, key=lambda r: "(" in r[1]):  # literal paths first
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

    # --- records: bulk, data and results (tools/records_bulk.py, records_data.py, record_results.py)

    def _matching(self, record_type: str | None, where: dict[str, Any] | None) -> list[dict[str, Any]]:
        return [
            r
            for r in self.records.values()
            if (record_type is None or r["type"] == record_type) and (where is None or _matches(r, where))
        ]

    @route("DELETE", r"/records/([^/]+)")
    def _delete_record(self, request: httpx2.Request, rid: str) -> httpx2.Response:
        if self.records.pop(rid, None) is None:
            return _json(404, {"error": "Record not found"})
        return _json(200, {"success": True})

    @route("POST", r"/records/bulk-delete")
    def _bulk_delete(self, request: httpx2.Request) -> httpx2.Response:
        ids = json.loads(request.content)["ids"]
        gone = [i for i in ids if self.records.pop(i, None) is not None]
        missing = [i for i in ids if i not in gone]
        return _json(200, {"success": True, "deleted": len(gone), "deletedIds": gone, "notFoundIds": missing})

    @route("POST", r"/records/bulk-edit")
    def _bulk_edit(self, request: httpx2.Request) -> httpx2.Response:
        body = json.loads(request.content)
        if "recordIds" in body:
            targets = [self.records[i] for i in body["recordIds"] if i in self.records]
        elif "recordFilter" in body:
            targets = self._matching(body["recordFilter"]["type"], body["recordFilter"].get("where"))
        else:
            targets = list(self.records.values())
        data = []
        for rec in targets:
            after = {**rec["metadata"], **body.get("updates", {})}
            for key in body.get("deleteFields", []):
                after.pop(key, None)
            data.append({"id": rec["id"], "before": dict(rec["metadata"]), "after": after})
            if not body.get("dryRun"):
                rec["metadata"] = after
        return _json(200, {"data": data, "recordIds": [r["id"] for r in targets]})

    @route("GET", r"/records/export")
    def _export(self, request: httpx2.Request) -> httpx2.Response:
        q = request.url.params
        spec = json.loads(q["recordFilter"]) if q.get("recordFilter") else {}
        rows = self._matching(q.get("type"), spec.get("where"))
        if not rows:
            return httpx2.Response(204)
        keys = sorted({k for r in rows for k in r["metadata"]})
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(["id", "type", "name", *keys])
        for r in rows:
            writer.writerow([r["id"], r["type"], r["name"], *(r["metadata"].get(k, "") for k in keys)])
        return httpx2.Response(200, content=out.getvalue().encode(), headers={"content-type": "text/csv"})

    @route("GET", r"/records/field-values")
    def _field_values(self, request: httpx2.Request) -> httpx2.Response:
        q = request.url.params
        counts: dict[str, int] = {}
        for r in self._matching(q["type"], None):
            if q["field"] in r["metadata"]:
                value = r["metadata"][q["field"]]
                counts[value] = counts.get(value, 0) + 1
        limit = int(q.get("limit", "20"))
        ranked = sorted(counts.items(), key=lambda kv: -kv[1])
        values = [{"value": v, "count": c} for v, c in ranked[:limit]]
        return _json(
            200, {"type": q["type"], "field": q["field"], "values": values, "truncated": len(ranked) > limit}
        )

    @route("POST", r"/records/preview-filter")
    def _preview_filter(self, request: httpx2.Request) -> httpx2.Response:
        body = json.loads(request.content)
        rows = self._matching(body["type"], body.get("where"))
        samples = [{"id": r["id"], "name": r["name"], "metadata": r["metadata"]} for r in rows[:5]]
        return _json(
            200,
            {"type": body["type"], "matchedCount": len(rows), "truncated": len(rows) > 5, "samples": samples},
        )

    @route("GET", r"/records/schema")
    def _schema(self, request: httpx2.Request) -> httpx2.Response:
        q = request.url.params
        rows = self._matching(q["type"], None)
        keys = sorted({k for r in rows for k in r["metadata"]})
        fields = [
            {
                "name": k,
                "type": "string",
                "required": all(k in r["metadata"] for r in rows),
                "example": "x" * 500,
            }
            for k in keys
        ]
        return _json(
            200,
            {
                "type": q["type"],
                "totalRecords": len(rows),
                "sampledRecords": len(rows),
                "sampledAt": "2026-11-01T00:00:00Z",
                "fields": fields,
            },
        )

    @route("POST", r"/records/upload-csv")
    def _upload_csv(self, request: httpx2.Request) -> httpx2.Response:
        parts = _multipart(request)
        self.uploads.append(parts)
        if "file" not in parts or parts["file"][0] is None:
            return _json(400, {"error": "file part is required"})
        fields = {k: v[2].decode() for k, v in parts.items() if k != "file"}
        reader = csv.DictReader(io.StringIO(parts["file"][2].decode("utf-8-sig")))
        created, errors = [], []
        for n, row in enumerate(reader, start=2):
            name = row.get(fields["nameColumn"])
            if not name:
                errors.append(f"Row {n}: Missing required field {fields['nameColumn']}")
                continue
            type_ = fields.get("typeValue") or row.get(fields.get("typeColumn", ""), "")
            meta = {k: v for k, v in row.items() if k not in {fields["nameColumn"], fields.get("typeColumn")}}
            created.append(self.add_record(type_, name, meta))
        out: dict[str, Any] = {
            "success": True,
            "message": f"Created {len(created)} records",
            "created": len(created),
            "errors": len(errors),
            "errorDetails": errors,
            "records": [{k: r[k] for k in ("id", "type", "name", "metadata")} for r in created],
        }
        if reader.fieldnames and "First Name" in reader.fieldnames:
            out["warnings"] = [{"code": "KEY_RENAMED", "from": "First Name", "to": "first_name"}]
        return _json(200, out)

    @route("GET", r"/records/([^/]+)/costs")
    def _costs(self, request: httpx2.Request, rid: str) -> httpx2.Response:
        if rid not in self.records:
            return _json(404, {"error": "Record not found"})
        return _json(
            200,
            {
                "totalCost": 0.0123,
                "promptTokens": 100,
                "completionTokens": 50,
                "totalTokens": 150,
                "executionCount": 2,
                "modelBreakdown": [{"model": "gpt-x", "count": 2, "tokens": 150, "cost": 0.0123}],
            },
        )

    @route("GET", r"/records/([^/]+)/results")
    def _results(self, request: httpx2.Request, rid: str) -> httpx2.Response:
        if rid not in self.records:
            return _json(404, {"error": "Record not found"})
        q = request.url.params
        rows = [r for r in self.results.get(rid, []) if not q.get("status") or r["status"] == q["status"]]
        page, limit = int(q.get("page", "1")), int(q.get("limit", "20"))
        chunk = rows[(page - 1) * limit : page * limit]
        more = page * limit < len(rows)
        pagination = {"page": page, "limit": limit, "hasMore": more, "hasPrev": page > 1, "hasNextPage": more}
        return _json(200, {"data": chunk, "pagination": pagination})

    @route("DELETE", r"/records/([^/]+)/results")
    def _delete_result(self, request: httpx2.Request, rid: str) -> httpx2.Response:
        result_id = json.loads(request.content)["resultId"]
        rows = self.results.get(rid, [])
        if rid not in self.records or not any(r["id"] == result_id for r in rows):
            return _json(404, {"error": "Result not found"})
        self.results[rid] = [r for r in rows if r["id"] != result_id]
        return httpx2.Response(204)

    @route("GET", r"/records/([^/]+)/step-results")
    def _record_step_results(self, request: httpx2.Request, rid: str) -> httpx2.Response:
        if rid not in self.records:
            return _json(404, {"error": "Record not found"})
        q = request.url.params
        rows = [r for r in self.step_results if r.get("recordId") == rid]
        offset, limit = int(q.get("offset", "0")), int(q.get("limit", "20"))
        page = rows[offset : offset + limit]
        more = offset + limit < len(rows)
        pagination = {"hasMore": more, "limit": limit, "offset": offset, "returned": len(page)}
        return _json(200, {"data": page, "pagination": pagination})


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


def _matches(record: dict[str, Any], where: dict[str, Any]) -> bool:
    """Enough of the filter language for tests: eq/in/isSet on a field, and and/or groups."""
    if "conditions" in where:
        hits = [_matches(record, c) for c in where["conditions"]]
        return all(hits) if where["op"] == "and" else any(hits)
    field_ = where["field"]
    value = record.get(field_) if field_ in {"id", "name"} else record["metadata"].get(field_)
    if where["op"] == "eq":
        return bool(value == where["value"])
    if where["op"] == "in":
        return value in where["value"]
    if where["op"] == "isSet":
        return value is not None
    raise AssertionError(f"fake filter does not support op {where['op']!r}")


def _multipart(request: httpx2.Request) -> dict[str, tuple[str | None, str | None, bytes]]:
    """name -> (filename, content type, bytes) for each part of a multipart/form-data body."""
    head = f"Content-Type: {request.headers['content-type']}\r\n\r\n".encode()
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(head + request.content)
    parts: dict[str, tuple[str | None, str | None, bytes]] = {}
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        payload = part.get_payload(decode=True)
        filename = part.get_filename()
        ctype = part.get_content_type() if part.get("content-type") else None
        parts[str(name)] = (filename, ctype, payload if isinstance(payload, bytes) else b"")
    return parts
